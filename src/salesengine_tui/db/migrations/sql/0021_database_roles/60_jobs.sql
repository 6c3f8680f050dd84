-- The jobs: what `salesengine_jobs` may do, and the email and job tables whole (people too).
--
-- Who the jobs are: the use-case groups Jobs (nurture, the upsell sync and its backfill, task
-- reminders, the suppression pull, the runners' registry, the status), Email (the outbox
-- drain, `salesengine unsubscribe`) and Outreach (the providers' webhooks, the one-click
-- unsubscribe), acting for nobody: every transaction of theirs takes `SET LOCAL ROLE
-- salesengine_jobs`. They get exactly what that code writes, and read what it reads:
--
--   estimates            upsell: an opportunity from a ticket closed as end of life (insert only)
--   estimate_stage_history  upsell: the new opportunity's entry into its first stage
--   customers            the address suppressed or lifted (the provider's word), the opt-out by
--                        the customer's own request (link, provider, complaint, reply: never
--                        back in, the trigger below), the last touch of a sent email or a reply
--   customer_interactions  a sent email (outbound, its outbox row sent) or a reply (inbound)
--   customer_opt_out_changes  the opt-outs above, in nobody's name
--   tasks                reminders: a timed open task that fell due is marked reminded, once
--   notifications        the automated ones, each with its dedupe key (call instead, upsell,
--                        task due, a reply, the provider refusing our credentials)
--   email_outbox         follow-ups and managers' emails queued (never a campaign: a blast is
--                        a manager's); claiming, sending, failing, retrying what is queued
--   email_events         each provider event stored once (never changed)
--   email_sync_marks     how far each suppression feed has been read
--   job_runs             a run started, and finished once (a finished run is history)
--   job_runners          the runners' names and heartbeats
--   job_leases           a job held across transactions (taken, renewed, let go)
--   automation_marks     the upsell watermark, set once by the first run (never moved)
--   reads                users, equipment, tickets, pipelines and stages, what the above read
--
-- and nothing else: no user, pipeline, stage, segment or blast; no business row deleted; no
-- column of the rows above changed beyond what the code changes (column grants).
--
-- People and these tables (mirroring the app): a manager's blast queues its campaign emails in
-- the outbox, in their own name; everyone sees a blast's progress and outcomes (the dashboard,
-- the segments screen) and an email's fate on the timeline, so everyone reads the outbox's
-- bookkeeping (not the emails' addresses, text or errors) and the providers' events. The job
-- tables are the jobs' alone: the app shows their status only through `salesengine-jobs status`,
-- which runs as the jobs.

-- --- reading what the jobs read -------------------------------------------------------------

-- The runner checks the schema's revision when it logs in to a server of its own.
GRANT SELECT ON alembic_version TO salesengine_jobs;

GRANT SELECT ON users, equipment, tickets, deal_pipelines, deal_stages TO salesengine_jobs;
CREATE POLICY users_jobs_select_all ON users FOR SELECT TO salesengine_jobs USING (true);
CREATE POLICY equipment_jobs_select_all ON equipment FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY tickets_jobs_select_all ON tickets FOR SELECT TO salesengine_jobs USING (true);
CREATE POLICY deal_pipelines_jobs_select_all ON deal_pipelines FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY deal_stages_jobs_select_all ON deal_stages FOR SELECT TO salesengine_jobs
  USING (true);

-- --- estimates: the upsell sync's opportunities ---------------------------------------------

GRANT SELECT ON estimates TO salesengine_jobs;
GRANT INSERT (customer_id, title, amount, amount_estimated, status, equipment_id, created_by,
              created_at, updated_at, stage_id, stage_entered_at, owner_id, source_ticket_id)
  ON estimates TO salesengine_jobs;

CREATE POLICY estimates_jobs_select_all ON estimates FOR SELECT TO salesengine_jobs
  USING (true);

-- A draft for the customer of a ticket closed as end of life (one per ticket: the unique
-- source_ticket_id).
CREATE POLICY estimates_jobs_insert_upsell ON estimates FOR INSERT TO salesengine_jobs
  WITH CHECK (
    status = 'draft'
    AND EXISTS (SELECT 1 FROM tickets t
                 WHERE t.id = estimates.source_ticket_id
                   AND t.customer_id = estimates.customer_id
                   AND t.status = 'closed' AND t.resolution = 'Equipment End of Life')
  );

GRANT INSERT (estimate_id, to_stage_id, to_stage_name, moved_by, moved_at)
  ON estimate_stage_history TO salesengine_jobs;

-- The entry of an upsell opportunity into the stage it was made in (no stage it came from).
CREATE POLICY estimate_stage_history_jobs_insert_upsell ON estimate_stage_history
  FOR INSERT TO salesengine_jobs
  WITH CHECK (
    EXISTS (SELECT 1 FROM estimates e
             WHERE e.id = estimate_stage_history.estimate_id
               AND e.source_ticket_id IS NOT NULL
               AND e.stage_id = estimate_stage_history.to_stage_id)
  );

-- --- customers: suppression, opt-outs asked for, the last touch -------------------------------

GRANT SELECT ON customers TO salesengine_jobs;
GRANT UPDATE (email_suppressed_at, email_suppressed_reason, email_opt_out, opted_out_at,
              last_interaction_at, updated_at)
  ON customers TO salesengine_jobs;

CREATE POLICY customers_jobs_select_all ON customers FOR SELECT TO salesengine_jobs
  USING (true);
-- Any customer (an address is suppressed for every customer with it); which columns, the
-- grant above says; the opt-out only ever on, the trigger below.
CREATE POLICY customers_jobs_update_email ON customers FOR UPDATE TO salesengine_jobs
  USING (true) WITH CHECK (true);

-- A customer asked to stop (the link, the provider, a complaint, a reply): the jobs opt out,
-- never back in; only a person at the desk does that, with the customer's consent. Whoever
-- holds the jobs' privileges is held, whether by SET ROLE or as a member; the tables' owner
-- (and a superuser) is not.
CREATE FUNCTION salesengine_customers_jobs_opt_out_only() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $fn$
BEGIN
  IF pg_has_role(current_user, 'salesengine_jobs', 'USAGE')
     AND NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                         'USAGE') THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'the jobs opt customers out of email, never back in',
      HINT = 'a person opts a customer back in on the profile, with their consent';
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER customers_jobs_opt_out_only BEFORE UPDATE OF email_opt_out ON customers
  FOR EACH ROW WHEN (OLD.email_opt_out AND NOT NEW.email_opt_out)
  EXECUTE FUNCTION salesengine_customers_jobs_opt_out_only();

-- The id alone: what a single row's insert returns.
GRANT SELECT (id) ON customer_opt_out_changes TO salesengine_jobs;
GRANT INSERT (customer_id, opted_out, via, changed_by, changed_at)
  ON customer_opt_out_changes TO salesengine_jobs;

CREATE POLICY customer_opt_out_changes_jobs_select_all ON customer_opt_out_changes
  FOR SELECT TO salesengine_jobs USING (true);

-- The opt-out the customer now has, asked by the customer, in nobody's name.
CREATE POLICY customer_opt_out_changes_jobs_insert_asked ON customer_opt_out_changes
  FOR INSERT TO salesengine_jobs
  WITH CHECK (
    opted_out AND changed_by IS NULL
    AND via IN ('unsubscribe_link', 'provider', 'spam_complaint', 'reply')
    AND EXISTS (SELECT 1 FROM customers c
                 WHERE c.id = customer_opt_out_changes.customer_id AND c.email_opt_out)
  );

-- --- customer_interactions: a sent email, a reply ---------------------------------------------

-- The id alone: what the inserts return.
GRANT SELECT (id) ON customer_interactions TO salesengine_jobs;
GRANT INSERT (customer_id, type, direction, notes, outcome, created_by, created_at, outbox_id,
              estimate_id)
  ON customer_interactions TO salesengine_jobs;

CREATE POLICY customer_interactions_jobs_select_all ON customer_interactions
  FOR SELECT TO salesengine_jobs USING (true);

-- An email the sender sent, on its own customer's timeline in the name of whoever queued it
-- (else the system); or a customer's reply, in the system's name.
CREATE POLICY customer_interactions_jobs_insert_email ON customer_interactions
  FOR INSERT TO salesengine_jobs
  WITH CHECK (
    type = 'email'
    AND ((direction = 'outbound'
          AND EXISTS (SELECT 1 FROM email_outbox o
                       WHERE o.id = customer_interactions.outbox_id AND o.status = 'sent'
                         AND o.customer_id = customer_interactions.customer_id
                         AND (customer_interactions.created_by = o.created_by
                              OR (o.created_by IS NULL
                                  AND customer_interactions.created_by IN
                                      (SELECT u.id FROM users u WHERE u.role = 'system')))))
         OR (direction = 'inbound' AND outcome = 'reply'
             AND created_by IN (SELECT u.id FROM users u WHERE u.role = 'system')))
  );

-- --- tasks: reminders ------------------------------------------------------------------------

GRANT SELECT ON tasks TO salesengine_jobs;
GRANT UPDATE (reminded_at) ON tasks TO salesengine_jobs;

CREATE POLICY tasks_jobs_select_all ON tasks FOR SELECT TO salesengine_jobs USING (true);
-- A timed open task not announced yet becomes announced (also what FOR UPDATE may lock).
CREATE POLICY tasks_jobs_update_remind ON tasks FOR UPDATE TO salesengine_jobs
  USING (done_at IS NULL AND NOT all_day AND reminded_at IS NULL)
  WITH CHECK (reminded_at IS NOT NULL);

-- --- notifications: the automated ones --------------------------------------------------------

-- What the set-based inserts return (the id) and find a conflict on (the dedupe key).
GRANT SELECT (id, dedupe_key) ON notifications TO salesengine_jobs;
GRANT INSERT (user_id, kind, title, body, customer_id, estimate_id, dedupe_key, created_at)
  ON notifications TO salesengine_jobs;

CREATE POLICY notifications_jobs_select_all ON notifications FOR SELECT TO salesengine_jobs
  USING (true);
-- Unread, each once (its dedupe key), of the kinds the jobs write.
CREATE POLICY notifications_jobs_insert_automated ON notifications
  FOR INSERT TO salesengine_jobs
  WITH CHECK (
    dedupe_key IS NOT NULL
    AND kind IN ('call-instead', 'upsell', 'task_due', 'reply', 'email-auth')
  );

-- --- email_outbox ---------------------------------------------------------------------------

ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY;

-- The jobs: read it all; queue their own emails (never a campaign, in the system's name);
-- change only a queued or claimed row's sending state, never what it says or to whom.
GRANT SELECT ON email_outbox TO salesengine_jobs;
GRANT INSERT (idempotency_key, customer_id, estimate_id, to_email, to_name, subject, body_text,
              is_campaign, created_by, created_at, next_attempt_at)
  ON email_outbox TO salesengine_jobs;
GRANT UPDATE (status, attempts, claimed_at, next_attempt_at, sent_at, provider,
              provider_message_id, last_error)
  ON email_outbox TO salesengine_jobs;

CREATE POLICY email_outbox_jobs_select_all ON email_outbox FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY email_outbox_jobs_insert_own ON email_outbox FOR INSERT TO salesengine_jobs
  WITH CHECK (
    NOT is_campaign
    AND created_by IN (SELECT u.id FROM users u WHERE u.role = 'system')
  );
CREATE POLICY email_outbox_jobs_update_sending ON email_outbox FOR UPDATE TO salesengine_jobs
  USING (status IN ('queued', 'sending'))
  WITH CHECK (true);

-- People: the bookkeeping of every email (a blast's progress, what came back of it), not its
-- address, text or errors.
GRANT SELECT (id, idempotency_key, customer_id, estimate_id, blast_id, is_campaign, status,
              created_by, created_at, sent_at)
  ON email_outbox TO salesengine_people;
GRANT INSERT (idempotency_key, customer_id, to_email, to_name, subject, body_text, blast_id,
              is_campaign, created_by, created_at, next_attempt_at)
  ON email_outbox TO salesengine_people;

CREATE POLICY email_outbox_people_select_all ON email_outbox FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_my_role()) IS NOT NULL);
-- A manager's blast: one campaign email per recipient, keyed by the blast and the customer,
-- in the manager's own name.
CREATE POLICY email_outbox_people_insert_blast ON email_outbox FOR INSERT TO salesengine_people
  WITH CHECK (
    (SELECT salesengine_is_manager())
    AND created_by = (SELECT salesengine_me())
    AND is_campaign
    AND blast_id IS NOT NULL AND customer_id IS NOT NULL
    AND idempotency_key = 'blast:' || blast_id::text || ':' || customer_id::text
    -- their own blast, to the customer's own address
    AND EXISTS (SELECT 1 FROM blasts b
                 WHERE b.id = blast_id AND b.created_by = (SELECT salesengine_me()))
    AND EXISTS (SELECT 1 FROM customers c
                 WHERE c.id = customer_id AND lower(c.email) = lower(to_email))
  );

-- --- email_events ----------------------------------------------------------------------------

ALTER TABLE email_events ENABLE ROW LEVEL SECURITY;

GRANT SELECT ON email_events TO salesengine_jobs;
GRANT INSERT (provider, event_key, kind, email, outbox_id, customer_id, blast_id, estimate_id,
              detail, occurred_at, received_at)
  ON email_events TO salesengine_jobs;

CREATE POLICY email_events_jobs_select_all ON email_events FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY email_events_jobs_insert_all ON email_events FOR INSERT TO salesengine_jobs
  WITH CHECK (true);

-- People read them (an email's fate on the timeline, a blast's outcomes); nobody writes.
GRANT SELECT ON email_events TO salesengine_people;
CREATE POLICY email_events_people_select_all ON email_events FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_my_role()) IS NOT NULL);

-- --- email_sync_marks ----------------------------------------------------------------------

ALTER TABLE email_sync_marks ENABLE ROW LEVEL SECURITY;

GRANT SELECT, INSERT ON email_sync_marks TO salesengine_jobs;
GRANT UPDATE (synced_until, synced_at) ON email_sync_marks TO salesengine_jobs;

CREATE POLICY email_sync_marks_jobs_select_all ON email_sync_marks FOR SELECT
  TO salesengine_jobs USING (true);
CREATE POLICY email_sync_marks_jobs_insert_all ON email_sync_marks FOR INSERT
  TO salesengine_jobs WITH CHECK (true);
CREATE POLICY email_sync_marks_jobs_update_all ON email_sync_marks FOR UPDATE
  TO salesengine_jobs USING (true) WITH CHECK (true);

-- --- job_runs ------------------------------------------------------------------------------

ALTER TABLE job_runs ENABLE ROW LEVEL SECURITY;

GRANT SELECT ON job_runs TO salesengine_jobs;
GRANT INSERT (job, started_at, status, runner) ON job_runs TO salesengine_jobs;
GRANT UPDATE (status, finished_at, counts, error) ON job_runs TO salesengine_jobs;

CREATE POLICY job_runs_jobs_select_all ON job_runs FOR SELECT TO salesengine_jobs USING (true);
-- A run starts running, and is finished once: a finished run is history.
CREATE POLICY job_runs_jobs_insert_running ON job_runs FOR INSERT TO salesengine_jobs
  WITH CHECK (status = 'running');
CREATE POLICY job_runs_jobs_update_unfinished ON job_runs FOR UPDATE TO salesengine_jobs
  USING (finished_at IS NULL) WITH CHECK (true);

-- --- job_runners, job_leases, automation_marks -----------------------------------------------

ALTER TABLE job_runners ENABLE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE ON job_runners TO salesengine_jobs;

CREATE POLICY job_runners_jobs_select_all ON job_runners FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY job_runners_jobs_insert_all ON job_runners FOR INSERT TO salesengine_jobs
  WITH CHECK (true);
CREATE POLICY job_runners_jobs_update_all ON job_runners FOR UPDATE TO salesengine_jobs
  USING (true) WITH CHECK (true);

ALTER TABLE job_leases ENABLE ROW LEVEL SECURITY;

-- A lease is let go by deleting it: the one row the jobs delete.
GRANT SELECT, INSERT, UPDATE, DELETE ON job_leases TO salesengine_jobs;

CREATE POLICY job_leases_jobs_select_all ON job_leases FOR SELECT TO salesengine_jobs
  USING (true);
CREATE POLICY job_leases_jobs_insert_all ON job_leases FOR INSERT TO salesengine_jobs
  WITH CHECK (true);
CREATE POLICY job_leases_jobs_update_all ON job_leases FOR UPDATE TO salesengine_jobs
  USING (true) WITH CHECK (true);
CREATE POLICY job_leases_jobs_delete_all ON job_leases FOR DELETE TO salesengine_jobs
  USING (true);

ALTER TABLE automation_marks ENABLE ROW LEVEL SECURITY;

-- Set once by the first run; moving a mark is an administrator's decision (no UPDATE).
GRANT SELECT, INSERT ON automation_marks TO salesengine_jobs;

CREATE POLICY automation_marks_jobs_select_all ON automation_marks FOR SELECT
  TO salesengine_jobs USING (true);
CREATE POLICY automation_marks_jobs_insert_all ON automation_marks FOR INSERT
  TO salesengine_jobs WITH CHECK (true);
