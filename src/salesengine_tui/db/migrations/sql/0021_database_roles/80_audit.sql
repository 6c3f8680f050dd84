-- The audit trail: what a person (or the jobs) changed, kept by the database itself.
--
-- Statement-level AFTER triggers on the tables people change write one row per changed row
-- into `audit_log`: who (the acting role and its user), when (the transaction's time), what
-- (insert: the new row; update: only the changed columns as {"col": [old, new]}; delete: the
-- old row) and from where (the origin the app set: "ssh key SHA256:... from 10.0.0.5", the
-- client's address, its application_name). The trigger function is SECURITY DEFINER: it
-- writes the trail as the schema's owner; nobody else may write, change or delete it, nor
-- switch the triggers off (ALTER TABLE needs the owner; session_replication_role, a
-- superuser). Managers read it.
--
-- What it trusts: the acting role (SET ROLE needs membership, a login needs the password or
-- the socket) and the client address are PostgreSQL's knowledge. `origin` is what the
-- client says: through the gateway (SSH) the app sets it from the SSH key that logged in; a
-- person connected as themselves may write anything there, and their own role is still
-- named beside it.
--
-- Left out: statements by a superuser or by the tables' owner. That is administration (the
-- migrations, `salesengine demo` seeding a million rows, an operator in psql), which runs
-- as the owner and bypasses row-level security too; auditing it would put the demo's seed
-- in the trail and cost it minutes. Persons and the jobs role are recorded.
--
-- Not audited (volume): the outbox, email events, notifications, the jobs' own tables and
-- the history tables the audited ones already imply (stage history, deal changes).

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at timestamptz NOT NULL DEFAULT now(),  -- the transaction's time
  user_id uuid,                           -- the acting person (NULL: the jobs)
  login text,
  db_role text NOT NULL,                  -- the acting role (a person's, or the jobs')
  session_role text NOT NULL,             -- the login role: the person's own, or the gateway
  table_name text NOT NULL,
  row_id text,
  op text NOT NULL,
  changes jsonb,
  origin text,                            -- salesengine.origin, as the client set it
  client_addr inet,                       -- NULL over a unix socket
  application_name text,
  txid bigint,
  CONSTRAINT pk_audit_log PRIMARY KEY (id),
  CONSTRAINT ck_audit_log_op CHECK (op IN ('insert', 'update', 'delete'))
);
-- Newest first (the CLI's listing, --days), and one row's history.
CREATE INDEX ix_audit_log_at_id ON audit_log (at, id);
CREATE INDEX ix_audit_log_table_name_row_id_at ON audit_log (table_name, row_id, at);

-- One function for every audited table and event; the trigger's arguments name columns left
-- out of `changes` (bulky derived ones; the audited tables have none today: search works on
-- expression indexes, not stored tsvector columns). Its search_path is pinned below.
CREATE FUNCTION salesengine_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $fn$
DECLARE
  acting text := salesengine_acting_role();
  skip text[] := coalesce(TG_ARGV::text[], '{}');
  who_id uuid;
  who_login text;
  place text := nullif(current_setting('salesengine.origin', true), '');
BEGIN
  -- Inside this function current_user is its owner; who acts is the SET ROLE'd role (the
  -- app's SET LOCAL ROLE) or the login role.
  IF acting = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
     OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = acting), false) THEN
    RETURN NULL;  -- administration: see the top of this file
  END IF;
  SELECT id, login INTO who_id, who_login FROM users WHERE db_role = acting;
  -- Each row's JSON is made once (MATERIALIZED: left inline, the planner would make it again
  -- for every use, and for every column compared).
  IF TG_OP = 'INSERT' THEN
    WITH r AS MATERIALIZED (SELECT to_jsonb(n) - skip AS j FROM new_rows n)
    INSERT INTO audit_log (user_id, login, db_role, session_role, table_name, row_id, op,
                           changes, origin, client_addr, application_name, txid)
    SELECT who_id, who_login, acting, session_user, TG_TABLE_NAME, r.j ->> 'id', 'insert',
           r.j, place, inet_client_addr(), current_setting('application_name'),
           txid_current()
      FROM r;
  ELSIF TG_OP = 'DELETE' THEN
    WITH r AS MATERIALIZED (SELECT to_jsonb(o) - skip AS j FROM old_rows o)
    INSERT INTO audit_log (user_id, login, db_role, session_role, table_name, row_id, op,
                           changes, origin, client_addr, application_name, txid)
    SELECT who_id, who_login, acting, session_user, TG_TABLE_NAME, r.j ->> 'id', 'delete',
           r.j, place, inet_client_addr(), current_setting('application_name'),
           txid_current()
      FROM r;
  ELSE
    -- Old and new paired by id (a full join: a changed id still leaves both sides); only
    -- the columns that changed, and no row for an update that changed nothing.
    WITH a AS MATERIALIZED (SELECT to_jsonb(n) - skip AS j FROM new_rows n),
         b AS MATERIALIZED (SELECT to_jsonb(o) - skip AS j FROM old_rows o)
    INSERT INTO audit_log (user_id, login, db_role, session_role, table_name, row_id, op,
                           changes, origin, client_addr, application_name, txid)
    SELECT who_id, who_login, acting, session_user, TG_TABLE_NAME,
           coalesce(a.j ->> 'id', b.j ->> 'id'), 'update', d.changes, place,
           inet_client_addr(), current_setting('application_name'), txid_current()
      FROM a FULL JOIN b ON (a.j -> 'id') = (b.j -> 'id')
      CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(k, jsonb_build_array(b.j -> k, a.j -> k)) AS changes
          FROM jsonb_object_keys(coalesce(a.j, b.j)) AS k
         WHERE (b.j -> k) IS DISTINCT FROM (a.j -> k)
      ) d
     WHERE d.changes IS NOT NULL;
  END IF;
  RETURN NULL;
END
$fn$;
-- The search path it runs with: this schema, then the caller's temporary schema LAST. Left
-- implicit, pg_temp is searched FIRST for tables: anyone may create a temporary table, and a
-- temporary `audit_log` (or `users`) would take the trail (or fake who acted).
DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION salesengine_audit() SET search_path = %I, pg_temp',
                 current_schema());
END
$pin$;
-- A trigger function cannot be called but as a trigger; nobody needs EXECUTE on it.
REVOKE ALL ON FUNCTION salesengine_audit() FROM PUBLIC;

-- One trigger per event per table: a trigger with transition tables has one event.
DO $triggers$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'customers', 'equipment', 'tickets', 'estimates',
                           'deal_pipelines', 'deal_stages', 'customer_interactions', 'tasks',
                           'segments', 'blasts'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION salesengine_audit()',
                   t || '_audit_insert', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I '
                   'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION salesengine_audit()',
                   t || '_audit_update', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION salesengine_audit()',
                   t || '_audit_delete', t);
  END LOOP;
END
$triggers$;

-- Read by managers only; written by the trigger function alone (as the owner): no INSERT,
-- UPDATE, DELETE or TRUNCATE for anyone, and nothing at all for the jobs or the gateway.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON audit_log FROM PUBLIC;
GRANT SELECT ON audit_log TO salesengine_people;
CREATE POLICY audit_log_people_select_managers ON audit_log FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_is_manager()));
