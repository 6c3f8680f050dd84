-- Undoes 80_audit.sql: the audit triggers, their function and the trail itself (its policy
-- goes with the table).
DO $triggers$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'customers', 'equipment', 'tickets', 'estimates',
                           'deal_pipelines', 'deal_stages', 'customer_interactions', 'tasks',
                           'segments', 'blasts'] LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_audit_insert', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_audit_update', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_audit_delete', t);
  END LOOP;
END
$triggers$;
DROP FUNCTION salesengine_audit();
DROP TABLE audit_log;
