-- Every function of ours that names a table reads it from this schema, never from pg_temp.
-- Anyone may create temporary tables (the lead import does, as the person), and PostgreSQL
-- looks in pg_temp first for an unqualified table unless the search path names it last: a
-- temporary `users` table could make a rep a manager to every policy, and a temporary
-- `pg_roles` could make the role trigger attach a superuser. Pinned here for every
-- salesengine_* function (policies' helpers, triggers, the definers), whoever's file made it;
-- IMMUTABLE ones (pure text functions behind indexes, revision 0015) read no table and stay
-- inlinable.
DO $pin$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS sig
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = current_schema() AND p.proname LIKE 'salesengine\_%'
       AND p.provolatile <> 'i'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f.sig, current_schema());
  END LOOP;
END
$pin$;
