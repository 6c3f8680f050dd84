-- Undoes 10_roles.sql, and (running last) takes away every policy, row-level security switch
-- and grant the other files made, whatever they were. The roles stay: they are the cluster's.
DO $down$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = current_schema()
  LOOP
    EXECUTE format('DROP POLICY %I ON %I', t.policyname, t.tablename);
  END LOOP;
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t.tablename);
    EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t.tablename);
    EXECUTE format('REVOKE ALL ON %I FROM salesengine_people, salesengine_rep, '
                   'salesengine_manager, salesengine_technician, salesengine_jobs, '
                   'salesengine_gateway', t.tablename);
  END LOOP;
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM salesengine_people, '
                 'salesengine_jobs', current_schema());
  EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM salesengine_people, salesengine_jobs',
                 current_schema());
END
$down$;

DROP TRIGGER users_db_role ON users;
DROP FUNCTION salesengine_user_db_role();
DROP FUNCTION salesengine_acting_role();
DROP FUNCTION salesengine_gateway_person(text);
DROP FUNCTION salesengine_is_manager();
DROP FUNCTION salesengine_my_role();
DROP FUNCTION salesengine_me();
ALTER TABLE users DROP CONSTRAINT uq_users_db_role;
ALTER TABLE users DROP COLUMN db_role;
