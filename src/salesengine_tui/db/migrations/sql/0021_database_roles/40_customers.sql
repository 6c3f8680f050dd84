-- Customers and what hangs off them: leads and customers, their equipment and tickets, and
-- their history (interactions, status changes, opt-out changes). What people may write here,
-- as the domain decides it (access/permissions.py, customers/, usecases/customers.py and
-- leads.py); the domain's checks stay for clear messages, these are the backstop.
--
-- Reads: every screen shows every customer, with their equipment, tickets and timeline, to
-- everyone who works them, so every person reads them all (`true`: see below why not more).
--
-- Writes, by people (the jobs role's are another file's):
--   customers      reps, technicians and managers add leads (the new-lead form, a CSV import):
--                  a lead owned by themselves or by nobody; a manager gives it to anyone.
--                  Everyone works every lead and customer ("reps work leads"): contact edits,
--                  calls (the last touch), converting a lead, the email opt-out (a customer's
--                  request is honoured whoever relays it). Only managers reassign: a rep takes
--                  an unassigned lead for themselves and nothing else (the trigger below, which
--                  also keeps the one status change people make: lead -> active). The
--                  provider's suppression columns are the jobs'. Nobody deletes a customer.
--   equipment      the operations platform's: read only.
--   tickets        technicians and managers close them (status, resolution, closed_at); a
--                  closed or cancelled ticket stays as it is (the trigger below).
--   history        an interaction, a status change or an opt-out change is written beside the
--                  change it records, in the person's own name, and never changed or deleted.

-- --- customers ---------------------------------------------------------------------------

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
-- The ORM's insert names every column: INSERT is the table's, the policy checks the values.
GRANT SELECT, INSERT ON customers TO salesengine_people;
GRANT UPDATE (name, email, phone, phone_ext, address, city, state, postal_code, lead_source,
              status, owner_id, email_opt_out, opted_out_at, last_interaction_at, updated_at,
              version)
  ON customers TO salesengine_people;

-- Reads are `true`, not "an active person here": any other policy makes PostgreSQL apply it
-- before conditions on functions it does not trust to see rows early (lower(), the prefix
-- operators, text search, salesengine_phone_key), and those then lose their indexes: search
-- ran 4 to 36 times slower and a 1,000-row lead import 95 times (benchmarks/bench_rls.py).
-- Writes still need an active person; a database's CONNECT grant keeps other databases' roles out.
CREATE POLICY customers_people_select_all ON customers FOR SELECT TO salesengine_people
  USING (true);

-- A new lead, without the provider's suppression; its owner the person adding it or nobody
-- (a manager: anyone).
CREATE POLICY customers_people_insert_lead ON customers FOR INSERT TO salesengine_people
  WITH CHECK (
    (SELECT salesengine_my_role()) IS NOT NULL
    AND status = 'lead'
    AND email_suppressed_at IS NULL AND email_suppressed_reason IS NULL
    AND (owner_id IS NULL OR owner_id = (SELECT salesengine_me())
         OR (SELECT salesengine_is_manager()))
  );

CREATE POLICY customers_people_update_all ON customers FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_my_role()) IS NOT NULL)
  WITH CHECK ((SELECT salesengine_my_role()) IS NOT NULL);

-- What a policy cannot see (the row before the change), for reps and technicians: the owner
-- changes only from nobody to the rep themselves (taking a lead); the status only from lead
-- to active (a conversion, a won deal). Managers, the jobs role and the schema's owner pass.
CREATE FUNCTION salesengine_customer_people_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  my_role text := salesengine_my_role();
BEGIN
  IF my_role IS NULL OR my_role = 'manager' THEN
    RETURN NEW;
  END IF;
  IF OLD.owner_id IS DISTINCT FROM NEW.owner_id
     AND NOT (my_role = 'rep' AND OLD.owner_id IS NULL
              AND NEW.owner_id IS NOT DISTINCT FROM salesengine_me()) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('only managers may reassign customers; a %s can take an unassigned '
                       'lead for themselves (a rep) and nothing else', my_role),
      HINT = 'ask a manager to reassign it';
  END IF;
  IF OLD.status IS DISTINCT FROM NEW.status
     AND NOT (OLD.status = 'lead' AND NEW.status = 'active') THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('a %s changes a customer''s status only from lead to active '
                       '(converting a lead); %s to %s is a manager''s',
                       my_role, OLD.status, NEW.status);
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER customers_people_change BEFORE UPDATE OF owner_id, status ON customers
  FOR EACH ROW
  WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION salesengine_customer_people_change();

-- --- equipment ---------------------------------------------------------------------------

ALTER TABLE equipment ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON equipment TO salesengine_people;

CREATE POLICY equipment_people_select_all ON equipment FOR SELECT TO salesengine_people
  USING (true);

-- --- tickets -----------------------------------------------------------------------------

ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON tickets TO salesengine_people;
GRANT UPDATE (status, resolution, closed_at) ON tickets TO salesengine_people;

CREATE POLICY tickets_people_select_all ON tickets FOR SELECT TO salesengine_people
  USING (true);

-- Closing (technicians and managers): the row comes out closed, with its resolution. The
-- USING shows every ticket to them, so that closing a closed one (under FOR UPDATE) reads it
-- and says so rather than "no such ticket".
CREATE POLICY tickets_people_update_close ON tickets FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_my_role()) IN ('technician', 'manager'))
  WITH CHECK ((SELECT salesengine_my_role()) IN ('technician', 'manager')
              AND status = 'closed' AND resolution IS NOT NULL);

CREATE FUNCTION salesengine_ticket_people_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.status IN ('closed', 'cancelled') AND salesengine_my_role() IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('ticket #%s is already %s: it stays as it was closed', OLD.number,
                       OLD.status);
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER tickets_people_change BEFORE UPDATE ON tickets
  FOR EACH ROW WHEN (OLD.status IN ('closed', 'cancelled'))
  EXECUTE FUNCTION salesengine_ticket_people_change();

-- --- history: interactions, status changes, opt-out changes --------------------------------

ALTER TABLE customer_interactions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON customer_interactions TO salesengine_people;

CREATE POLICY customer_interactions_people_select_all ON customer_interactions
  FOR SELECT TO salesengine_people
  USING (true);

-- A call, email, text or meeting logged by the person themselves; a sent email's entry (an
-- outbox row's) is the sender's (the jobs role), never a person's.
CREATE POLICY customer_interactions_people_insert_own ON customer_interactions
  FOR INSERT TO salesengine_people
  WITH CHECK (created_by = (SELECT salesengine_me()) AND outbox_id IS NULL);

ALTER TABLE customer_status_changes ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON customer_status_changes TO salesengine_people;

CREATE POLICY customer_status_changes_people_select_all ON customer_status_changes
  FOR SELECT TO salesengine_people
  USING (true);

-- In the person's name, recording the status the customer now has (written after the change).
CREATE POLICY customer_status_changes_people_insert_own ON customer_status_changes
  FOR INSERT TO salesengine_people
  WITH CHECK (
    changed_by = (SELECT salesengine_me())
    AND from_status <> to_status
    AND EXISTS (SELECT 1 FROM customers c WHERE c.id = customer_id AND c.status = to_status)
  );

ALTER TABLE customer_opt_out_changes ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON customer_opt_out_changes TO salesengine_people;

CREATE POLICY customer_opt_out_changes_people_select_all ON customer_opt_out_changes
  FOR SELECT TO salesengine_people
  USING (true);

-- Recording the opt-out the customer now has: by the person on the profile ('staff', either
-- way), or a customer's own request relayed by anyone (`salesengine unsubscribe`: an opt-out
-- by the link, in nobody's name).
CREATE POLICY customer_opt_out_changes_people_insert_own ON customer_opt_out_changes
  FOR INSERT TO salesengine_people
  WITH CHECK (
    (SELECT salesengine_my_role()) IS NOT NULL
    AND ((changed_by = (SELECT salesengine_me()) AND via = 'staff')
         OR (changed_by IS NULL AND opted_out AND via = 'unsubscribe_link'))
    AND EXISTS (SELECT 1 FROM customers c
                 WHERE c.id = customer_id AND c.email_opt_out = opted_out)
  );
