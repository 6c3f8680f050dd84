-- Functions older than revision 0021 go back to the caller's search path (the newer ones
-- are dropped by their own files).
DO $unpin$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS sig
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = current_schema() AND p.proname LIKE 'salesengine\_%'
       AND p.provolatile <> 'i'
  LOOP
    EXECUTE format('ALTER FUNCTION %s RESET search_path', f.sig);
  END LOOP;
END
$unpin$;
