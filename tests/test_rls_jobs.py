"""Issue 19: the jobs role does what the jobs do and nothing else, and the email and job tables
are written by whom the app lets write them; asked of PostgreSQL itself, connected directly as
each role (the jobs, a rep, a manager, a technician, the gateway before it takes a role), with
no app code between. Each role's forbidden writes are tried one by one and must all be refused;
the writes the app makes for it must go through."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from db_roles import assert_no_rows_changed, assert_refused, connect_as, role_of
from factories import Desk, fixed_id
from sqlalchemy.engine import URL

from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE

TESS = fixed_id(61, 1)  # a technician
EQUIPMENT = fixed_id(1, 61)
TICKET_EOL, TICKET_OPEN = fixed_id(1, 62), fixed_id(2, 62)
OUT_QUEUED, OUT_SENT, OUT_BLAST = (fixed_id(n, 63) for n in (1, 2, 3))
BLAST = fixed_id(1, 64)
EVENT = fixed_id(1, 65)
RUN_DONE, RUN_RUNNING = fixed_id(1, 66), fixed_id(2, 66)
T_DUE, T_DONE, T_ALL_DAY, T_REMINDED = (fixed_id(n, 67) for n in (1, 2, 3, 4))
NOTICE = fixed_id(1, 68)
NEW = fixed_id(99, 69)  # the id of a row a test tries to insert

_SEED = """
INSERT INTO users (id, login, name, role) VALUES (%(tess)s, 'tess', 'Tess Tech', 'technician');
UPDATE customers SET email = 'hank@example.com' WHERE id = %(hank)s;
UPDATE customers SET email = 'peggy@example.com', email_opt_out = true, opted_out_at = now()
 WHERE id = %(peggy)s;
INSERT INTO equipment (id, customer_id, kind, installed_on)
VALUES (%(equipment)s, %(hank)s, 'Furnace', '2005-01-01');
INSERT INTO tickets (id, customer_id, equipment_id, technician_id, status, summary, resolution,
                     closed_at)
VALUES (%(ticket_eol)s, %(hank)s, %(equipment)s, %(tess)s, 'closed', 'No heat',
        'Equipment End of Life', now()),
       (%(ticket_open)s, %(hank)s, %(equipment)s, %(tess)s, 'open', 'Noisy', NULL, NULL);
INSERT INTO blasts (id, content_key, definition, subject, body, created_by)
VALUES (%(blast)s, 'seeded', '{}', 'Hello', 'Hi there', %(dana)s);
INSERT INTO email_outbox (id, idempotency_key, customer_id, to_email, subject, body_text,
                          is_campaign, status, created_by, blast_id, sent_at)
VALUES (%(out_queued)s, 'nurture:queued', %(hank)s, 'hank@example.com', 'Checking in', 'Hi',
        false, 'queued', %(system)s, NULL, NULL),
       (%(out_sent)s, 'nurture:sent', %(hank)s, 'hank@example.com', 'Checking in', 'Hi',
        false, 'sent', %(system)s, NULL, now()),
       (%(out_blast)s, 'blast:' || %(blast)s || ':' || %(hank)s, %(hank)s, 'hank@example.com',
        'Hello', 'Hi there', true, 'sent', %(dana)s, %(blast)s, now());
INSERT INTO email_events (id, provider, event_key, kind, email, outbox_id, customer_id,
                          blast_id, occurred_at)
VALUES (%(event)s, 'postmark', 'seeded', 'delivered', 'hank@example.com', %(out_blast)s,
        %(hank)s, %(blast)s, now());
INSERT INTO email_sync_marks (provider, feed, synced_until) VALUES ('postmark', 'bounces', now());
INSERT INTO job_runs (id, job, status, finished_at)
VALUES (%(run_done)s, 'nurture', 'ok', now()), (%(run_running)s, 'upsell', 'running', NULL);
INSERT INTO job_runners (name, host, pid, version, jobs, started_at, seen_at)
VALUES ('runner-a', 'host-a', 4121, '1', 'nurture', now(), now());
INSERT INTO job_leases (job, holder, expires_at)
VALUES ('suppressions', 'runner-a:1', now() + interval '1 hour');
INSERT INTO automation_marks (name, at) VALUES ('upsell', now());
INSERT INTO tasks (id, customer_id, title, due_at, all_day, assignee_id, created_by, done_at,
                   reminded_at)
VALUES (%(t_due)s, %(hank)s, 'Call back', now() - interval '1 hour', false, %(sam)s, %(sam)s,
        NULL, NULL),
       (%(t_done)s, %(hank)s, 'Called', now() - interval '1 hour', false, %(sam)s, %(sam)s,
        now(), NULL),
       (%(t_all_day)s, %(hank)s, 'Some day', now() - interval '1 hour', true, %(sam)s,
        %(sam)s, NULL, NULL),
       (%(t_reminded)s, %(hank)s, 'Told', now() - interval '1 hour', false, %(sam)s, %(sam)s,
        NULL, now());
INSERT INTO notifications (id, user_id, kind, title, dedupe_key)
VALUES (%(notice)s, %(sam)s, 'upsell', 'For Sam', 'seeded');
"""


@dataclass(frozen=True)
class Seeded:
    db_url: URL
    params: dict[str, Any]  # the ids the statements below name

    def connect(self, who: str) -> psycopg.Connection:
        """A connection as a SalesEngine role by name, or as the user `who`'s own role."""
        if who in (JOBS_ROLE, GATEWAY_ROLE):
            return connect_as(self.db_url, who)
        return connect_as(self.db_url, role_of(self.db_url, who))

    def admin(self) -> psycopg.Connection:
        return connect_as(self.db_url, self.db_url.username or "postgres")

    def value(self, sql: str) -> Any:
        """One value, as the tables' owner sees it."""
        with self.admin() as admin:
            row = admin.execute(sql, self.params).fetchone()
        assert row is not None
        return row[0]


@pytest.fixture
def seeded(db_url: URL, desk: Desk) -> Iterator[Seeded]:
    with connect_as(db_url, db_url.username or "postgres") as admin:
        system = admin.execute("SELECT id FROM users WHERE role = 'system'").fetchone()
        estimate = admin.execute(
            "SELECT id, stage_id FROM estimates ORDER BY number LIMIT 1"
        ).fetchone()
        first_stage = admin.execute(
            "SELECT s.id FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id "
            "WHERE p.name = 'Residential Replacements' ORDER BY s.position LIMIT 1"
        ).fetchone()
        empty_stage = admin.execute(
            "SELECT id FROM deal_stages s "
            "WHERE NOT EXISTS (SELECT 1 FROM estimates e WHERE e.stage_id = s.id) LIMIT 1"
        ).fetchone()
        assert system and estimate and first_stage and empty_stage
        params = dict(
            tess=TESS, equipment=EQUIPMENT, ticket_eol=TICKET_EOL, ticket_open=TICKET_OPEN,
            out_queued=OUT_QUEUED, out_sent=OUT_SENT, out_blast=OUT_BLAST, blast=BLAST,
            event=EVENT, run_done=RUN_DONE, run_running=RUN_RUNNING, t_due=T_DUE,
            t_done=T_DONE, t_all_day=T_ALL_DAY, t_reminded=T_REMINDED, notice=NOTICE, new=NEW,
            system=system[0], dana=desk.manager.id, sam=desk.rep.id,
            hank=desk.customers["Hank Hill"].id, peggy=desk.customers["Peggy Hill"].id,
            estimate=estimate[0], estimate_stage=estimate[1], first_stage=first_stage[0],
            empty_stage=empty_stage[0],
        )  # fmt: skip
        for statement in _SEED.split(";")[:-1]:
            admin.execute(statement, params)
        admin.commit()
    yield Seeded(db_url, params)


def all_refused(conn: psycopg.Connection, cases: dict[str, str], params: dict[str, Any]) -> None:
    """Every case is refused outright, or (a case whose name begins with "nothing:") changes
    no row; the failure names every case PostgreSQL let through."""
    through = []
    for name, sql in cases.items():
        try:
            if name.startswith("nothing:"):
                assert_no_rows_changed(conn, sql, params)
            else:
                assert_refused(conn, sql, params)
        except (AssertionError, pytest.fail.Exception):
            through.append(name)
    assert not through, f"let through: {through}"


# --- the jobs -------------------------------------------------------------------------------

_NOT_FOR_THE_JOBS = {
    # People and the desk's set-up: never the jobs'.
    "insert a user": "INSERT INTO users (id, login, name, role) "
    "VALUES (%(new)s, 'newbie', 'New Bie', 'manager')",
    "promote a user": "UPDATE users SET role = 'manager' WHERE id = %(sam)s",
    "deactivate a user": "UPDATE users SET active = false WHERE id = %(sam)s",
    "delete a user": "DELETE FROM users WHERE id = %(tess)s",
    "rename a pipeline": "UPDATE deal_pipelines SET name = name || ' (mine)'",
    "add a pipeline": "INSERT INTO deal_pipelines (name) VALUES ('Mine')",
    "change a stage": "UPDATE deal_stages SET probability = 1",
    "delete a stage": "DELETE FROM deal_stages WHERE id = %(empty_stage)s",
    "save a segment": "INSERT INTO segments (name, definition) VALUES ('Mine', '{}')",
    "send a blast": "INSERT INTO blasts (content_key, definition, subject, body) "
    "VALUES ('k', '{}', 'Hi', 'Hello')",
    "change a blast": "UPDATE blasts SET subject = 'Changed'",
    "delete a blast": "DELETE FROM blasts",
    "read the audit trail": "SELECT * FROM audit_log",
    # Customers: only the email columns, and the opt-out only ever on.
    "add a customer": "INSERT INTO customers (name) VALUES ('Somebody')",
    "rename a customer": "UPDATE customers SET name = 'Changed' WHERE id = %(hank)s",
    "reassign a customer": "UPDATE customers SET owner_id = %(sam)s WHERE id = %(hank)s",
    "change a status": "UPDATE customers SET status = 'churned' WHERE id = %(hank)s",
    "change an address": "UPDATE customers SET email = 'x@example.com' WHERE id = %(hank)s",
    "opt a customer back in": "UPDATE customers SET email_opt_out = false, opted_out_at = NULL "
    "WHERE id = %(peggy)s",
    "delete a customer": "DELETE FROM customers WHERE id = %(hank)s",
    "change equipment": "UPDATE equipment SET kind = 'Boiler'",
    "close a ticket": "UPDATE tickets SET status = 'closed', closed_at = now(), "
    "resolution = 'Done' WHERE id = %(ticket_open)s",
    # Deals: the upsell's opportunities, inserted; nothing else.
    "open a deal not from a ticket": "INSERT INTO estimates (customer_id, title, amount, status, "
    "stage_id, stage_entered_at) VALUES (%(hank)s, 'Made up', 1, 'draft', %(first_stage)s, "
    "now())",
    "open a deal from an open ticket": "INSERT INTO estimates (customer_id, title, amount, "
    "status, stage_id, stage_entered_at, source_ticket_id) VALUES (%(hank)s, 'Made up', 1, "
    "'draft', %(first_stage)s, now(), %(ticket_open)s)",
    "open a deal for another customer": "INSERT INTO estimates (customer_id, title, amount, "
    "status, stage_id, stage_entered_at, source_ticket_id) VALUES (%(peggy)s, 'Made up', 1, "
    "'draft', %(first_stage)s, now(), %(ticket_eol)s)",
    "move a deal": "UPDATE estimates SET stage_id = %(first_stage)s WHERE id = %(estimate)s",
    "change a deal's value": "UPDATE estimates SET amount = 1 WHERE id = %(estimate)s",
    "delete a deal": "DELETE FROM estimates WHERE id = %(estimate)s",
    "write a deal's history": "INSERT INTO estimate_stage_history (estimate_id, to_stage_id, "
    "to_stage_name) VALUES (%(estimate)s, %(estimate_stage)s, 'New')",
    "rewrite a deal's history": "UPDATE estimate_stage_history SET to_stage_name = 'Other'",
    "delete a deal's history": "DELETE FROM estimate_stage_history",
    "record a deal change": "INSERT INTO estimate_changes (estimate_id, customer_id, field) "
    "VALUES (%(estimate)s, %(hank)s, 'title')",
    # The timeline: a sent email or a reply; never changed or deleted.
    "log a call": "INSERT INTO customer_interactions (customer_id, type, direction, created_by) "
    "VALUES (%(hank)s, 'call', 'outbound', %(system)s)",
    "log an email not sent": "INSERT INTO customer_interactions (customer_id, type, direction, "
    "created_by, outbox_id) VALUES (%(hank)s, 'email', 'outbound', %(system)s, %(out_queued)s)",
    "log a sent email in someone's name": "INSERT INTO customer_interactions (customer_id, type, "
    "direction, created_by, outbox_id) VALUES (%(hank)s, 'email', 'outbound', %(sam)s, "
    "%(out_sent)s)",
    "log a reply in someone's name": "INSERT INTO customer_interactions (customer_id, type, "
    "direction, created_by, outcome) VALUES (%(hank)s, 'email', 'inbound', %(sam)s, 'reply')",
    "change the timeline": "UPDATE customer_interactions SET notes = 'Changed'",
    "delete the timeline": "DELETE FROM customer_interactions",
    "record a status change": "INSERT INTO customer_status_changes (customer_id, from_status, "
    "to_status) VALUES (%(hank)s, 'lead', 'active')",
    "record an opt-in": "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via) "
    "VALUES (%(hank)s, false, 'provider')",
    "record a staff opt-out": "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via) "
    "VALUES (%(peggy)s, true, 'staff')",
    "record an opt-out in someone's name": "INSERT INTO customer_opt_out_changes (customer_id, "
    "opted_out, via, changed_by) VALUES (%(peggy)s, true, 'provider', %(sam)s)",
    "record an opt-out not made": "INSERT INTO customer_opt_out_changes (customer_id, opted_out, "
    "via) VALUES (%(hank)s, true, 'provider')",
    "delete an opt-out": "DELETE FROM customer_opt_out_changes",
    # Tasks: marked reminded, once, when a timed open task fell due.
    "add a task": "INSERT INTO tasks (customer_id, title, due_at) VALUES (%(hank)s, 'T', now())",
    "rename a task": "UPDATE tasks SET title = 'Changed' WHERE id = %(t_due)s",
    "complete a task": "UPDATE tasks SET done_at = now() WHERE id = %(t_due)s",
    "reassign a task": "UPDATE tasks SET assignee_id = %(dana)s WHERE id = %(t_due)s",
    "delete a task": "DELETE FROM tasks WHERE id = %(t_due)s",
    "nothing: remind of a done task": "UPDATE tasks SET reminded_at = now() WHERE id = %(t_done)s",
    "nothing: remind of an all-day task": "UPDATE tasks SET reminded_at = now() "
    "WHERE id = %(t_all_day)s",
    "nothing: remind twice": "UPDATE tasks SET reminded_at = now() WHERE id = %(t_reminded)s",
    "nothing: unmark a reminder": "UPDATE tasks SET reminded_at = NULL WHERE id = %(t_reminded)s",
    "un-remind": "UPDATE tasks SET reminded_at = NULL WHERE id = %(t_due)s",
    # Notifications: the automated ones, inserted.
    "notify without a dedupe key": "INSERT INTO notifications (user_id, kind, title) "
    "VALUES (%(sam)s, 'upsell', 'Hi')",
    "notify of another kind": "INSERT INTO notifications (user_id, kind, title, dedupe_key) "
    "VALUES (%(sam)s, 'mention', 'Hi', 'k')",
    "mark a notification read": "UPDATE notifications SET read_at = now()",
    "read a notification": "SELECT title FROM notifications",
    "delete a notification": "DELETE FROM notifications",
    # The outbox: their own emails queued; the sending state of what is queued.
    "queue a campaign": "INSERT INTO email_outbox (idempotency_key, customer_id, to_email, "
    "subject, body_text, is_campaign, created_by) VALUES ('blast:x', %(hank)s, 'a@example.com', "
    "'Buy', 'Now', true, %(system)s)",
    "queue in someone's name": "INSERT INTO email_outbox (idempotency_key, to_email, subject, "
    "body_text, created_by) VALUES ('k', 'a@example.com', 'Hi', 'Hi', %(dana)s)",
    "queue for a blast": "INSERT INTO email_outbox (idempotency_key, to_email, subject, "
    "body_text, created_by, blast_id) VALUES ('k', 'a@example.com', 'Hi', 'Hi', %(system)s, "
    "%(blast)s)",
    "queue as sent": "INSERT INTO email_outbox (idempotency_key, to_email, subject, body_text, "
    "created_by, status) VALUES ('k', 'a@example.com', 'Hi', 'Hi', %(system)s, 'sent')",
    "rewrite an email": "UPDATE email_outbox SET body_text = 'Changed' WHERE id = %(out_queued)s",
    "redirect an email": "UPDATE email_outbox SET to_email = 'x@example.com' "
    "WHERE id = %(out_queued)s",
    "make an email a campaign": "UPDATE email_outbox SET is_campaign = true "
    "WHERE id = %(out_queued)s",
    "nothing: resend a sent email": "UPDATE email_outbox SET status = 'queued' "
    "WHERE id = %(out_sent)s",
    "delete an email": "DELETE FROM email_outbox WHERE id = %(out_queued)s",
    # Events, marks, runs: stored once; the history stays.
    "change an event": "UPDATE email_events SET kind = 'bounced'",
    "delete an event": "DELETE FROM email_events",
    "delete a sync mark": "DELETE FROM email_sync_marks",
    "start a run as done": "INSERT INTO job_runs (job, status) VALUES ('nurture', 'ok')",
    "nothing: rewrite a finished run": "UPDATE job_runs SET status = 'failed' "
    "WHERE id = %(run_done)s",
    "rename a run": "UPDATE job_runs SET job = 'other' WHERE id = %(run_running)s",
    "delete a run": "DELETE FROM job_runs",
    "delete a runner": "DELETE FROM job_runners",
    "move the watermark": "UPDATE automation_marks SET at = now() - interval '10 years'",
    "delete the watermark": "DELETE FROM automation_marks",
}


def test_the_jobs_are_refused_every_write_the_jobs_never_make(seeded: Seeded) -> None:
    with seeded.connect(JOBS_ROLE) as conn:
        all_refused(conn, _NOT_FOR_THE_JOBS, seeded.params)
    # and nothing changed: the opted-out customer is still opted out, the run still finished
    assert seeded.value("SELECT email_opt_out FROM customers WHERE id = %(peggy)s") is True
    assert seeded.value("SELECT status FROM job_runs WHERE id = %(run_done)s") == "ok"


# What nurture, the upsell sync, the reminders, the outbox, the providers' events, the suppression
# pull and the runners write, statement for statement as the code writes them, in this order in
# one transaction, and how many rows each changes (or returns).
_THE_JOBS_WRITES = [
    ("start a run", "INSERT INTO job_runs (job, started_at, status, runner) "
     "VALUES ('tasks', now(), 'running', 'runner-b') RETURNING id", 1),
    ("finish it", "UPDATE job_runs SET status = 'ok', finished_at = now(), counts = '{}', "
     "error = NULL WHERE runner = 'runner-b'", 1),
    ("register a runner", "INSERT INTO job_runners AS r (name, host, pid, version, jobs, "
     "started_at, seen_at) VALUES ('runner-a', 'host-b', 7, '2', 'outbox', now(), now()) "
     "ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, "
     "started_at = now(), seen_at = now(), stopped_at = NULL RETURNING name", 1),
    ("beat", "UPDATE job_runners SET seen_at = now() WHERE name = 'runner-a'", 1),
    ("stop", "UPDATE job_runners SET stopped_at = now(), seen_at = now() "
     "WHERE name = 'runner-a'", 1),
    ("take a lease another holds", "INSERT INTO job_leases AS l (job, holder, expires_at) "
     "VALUES ('suppressions', 'runner-b:2', now() + interval '15 minutes') ON CONFLICT (job) "
     "DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
     "WHERE l.expires_at < now() RETURNING job", 0),
    ("renew a lease", "UPDATE job_leases SET expires_at = now() + interval '15 minutes' "
     "WHERE job = 'suppressions' AND holder = 'runner-a:1'", 1),
    ("let it go", "DELETE FROM job_leases WHERE job = 'suppressions' "
     "AND holder = 'runner-a:1'", 1),
    ("set a watermark", "INSERT INTO automation_marks (name, at, set_at) "
     "VALUES ('other', now(), now()) ON CONFLICT (name) DO NOTHING RETURNING at", 1),
    ("find the watermark set", "INSERT INTO automation_marks (name, at, set_at) "
     "VALUES ('upsell', now(), now()) ON CONFLICT (name) DO NOTHING RETURNING at", 0),
    ("advance a sync mark", "INSERT INTO email_sync_marks (provider, feed, synced_until, "
     "synced_at) VALUES ('postmark', 'bounces', now(), now()) ON CONFLICT (provider, feed) "
     "DO UPDATE SET synced_until = greatest(email_sync_marks.synced_until, "
     "EXCLUDED.synced_until), synced_at = EXCLUDED.synced_at RETURNING synced_until", 1),
    ("queue a follow-up", "INSERT INTO email_outbox (idempotency_key, customer_id, estimate_id, "
     "to_email, to_name, subject, body_text, is_campaign, created_by, created_at, "
     "next_attempt_at) VALUES ('nurture:new', %(hank)s, %(estimate)s, 'hank@example.com', "
     "'Hank', 'Hi', 'Hello', false, %(system)s, now(), now()) "
     "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id", 1),
    ("claim", "UPDATE email_outbox SET status = 'sending', claimed_at = now(), "
     "attempts = attempts + 1 WHERE id IN (SELECT id FROM email_outbox WHERE status = 'queued' "
     "AND id = %(out_queued)s FOR UPDATE SKIP LOCKED) RETURNING id", 1),
    ("renew the claim", "UPDATE email_outbox SET claimed_at = now() "
     "WHERE id = %(out_queued)s AND status = 'sending'", 1),
    ("mark sent", "UPDATE email_outbox SET status = 'sent', provider = 'postmark', "
     "provider_message_id = 'm1', sent_at = now(), claimed_at = NULL, last_error = NULL "
     "WHERE id = %(out_queued)s", 1),
    ("log it", "INSERT INTO customer_interactions (customer_id, type, direction, notes, outcome, "
     "created_by, created_at, outbox_id) VALUES (%(hank)s, 'email', 'outbound', 'Checking in', "
     "NULL, %(system)s, now(), %(out_queued)s) RETURNING id", 1),
    ("log a blast's email in its sender's name", "INSERT INTO customer_interactions "
     "(customer_id, type, direction, notes, outcome, created_by, created_at, outbox_id) VALUES "
     "(%(hank)s, 'email', 'outbound', 'Hello', 'campaign', %(dana)s, now(), %(out_blast)s)", 1),
    ("touch", "UPDATE customers SET last_interaction_at = greatest(last_interaction_at, now()) "
     "WHERE id = %(hank)s", 1),
    ("store an event", "INSERT INTO email_events (provider, event_key, kind, email, outbox_id, "
     "customer_id, detail, occurred_at, received_at) VALUES ('postmark', 'new', 'bounced', "
     "'hank@example.com', %(out_queued)s, %(hank)s, 'gone', now(), now()) "
     "ON CONFLICT (provider, event_key) DO NOTHING RETURNING provider, event_key", 1),
    ("suppress", "UPDATE customers SET email_suppressed_at = now(), "
     "email_suppressed_reason = 'gone' WHERE id = %(hank)s AND email_suppressed_at IS NULL "
     "RETURNING id", 1),
    ("lift", "UPDATE customers SET email_suppressed_at = NULL, email_suppressed_reason = NULL "
     "WHERE id = %(hank)s AND email_suppressed_at IS NOT NULL RETURNING id", 1),
    ("lock the link's customer", "SELECT id, email, email_opt_out FROM customers "
     "WHERE id = %(hank)s FOR UPDATE", 1),
    ("opt out", "UPDATE customers SET email_opt_out = true, opted_out_at = now(), "
     "updated_at = now() WHERE id = %(hank)s AND email_opt_out IS NOT true RETURNING id", 1),
    ("record it", "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, "
     "changed_at) VALUES (%(hank)s, true, 'spam_complaint', now()) RETURNING id", 1),
    ("log a reply", "INSERT INTO customer_interactions (customer_id, type, direction, notes, "
     "created_by, created_at, outcome) VALUES (%(hank)s, 'email', 'inbound', 'Re: Hi', "
     "%(system)s, now(), 'reply') RETURNING id", 1),
    ("notify", "INSERT INTO notifications (user_id, kind, title, dedupe_key, created_at) "
     "VALUES (%(sam)s, 'reply', 'Reply from Hank', 'reply:new', now()) "
     "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id", 1),
    ("lock a task due", "SELECT id FROM tasks WHERE id = %(t_due)s AND done_at IS NULL "
     "AND NOT all_day AND reminded_at IS NULL FOR UPDATE SKIP LOCKED", 1),
    ("remind of it", "UPDATE tasks SET reminded_at = now() WHERE id = %(t_due)s", 1),
    ("make an opportunity", "INSERT INTO estimates (customer_id, title, amount, "
     "amount_estimated, status, equipment_id, created_by, created_at, updated_at, stage_id, "
     "stage_entered_at, owner_id, source_ticket_id) VALUES (%(hank)s, 'Replace Furnace', 0, "
     "false, 'draft', %(equipment)s, %(tess)s, now(), now(), %(first_stage)s, now(), NULL, "
     "%(ticket_eol)s) ON CONFLICT (source_ticket_id) DO NOTHING RETURNING id, stage_id", 1),
    ("its first stage", "INSERT INTO estimate_stage_history (estimate_id, to_stage_id, "
     "to_stage_name, moved_by, moved_at) SELECT e.id, e.stage_id, s.name, e.created_by, now() "
     "FROM estimates e JOIN deal_stages s ON s.id = e.stage_id "
     "WHERE e.source_ticket_id = %(ticket_eol)s", 1),
    ("the status", "SELECT DISTINCT ON (job) job, status FROM job_runs "
     "ORDER BY job, started_at DESC", 3),
]  # fmt: skip


def test_the_jobs_make_the_writes_the_jobs_make(seeded: Seeded) -> None:
    with seeded.connect(JOBS_ROLE) as conn:
        for what, sql, rows in _THE_JOBS_WRITES:
            assert conn.execute(sql, seeded.params).rowcount == rows, what
        conn.commit()
    assert seeded.value("SELECT count(*) FROM estimates WHERE source_ticket_id IS NOT NULL") == 1
    assert seeded.value("SELECT reminded_at IS NOT NULL FROM tasks WHERE id = %(t_due)s") is True


# --- people and the email and job tables -----------------------------------------------------

_JOB_TABLES = ("job_runs", "job_runners", "job_leases", "automation_marks", "email_sync_marks")

_NOT_FOR_PEOPLE = {
    **{f"read {t}": f"SELECT * FROM {t}" for t in _JOB_TABLES},
    "start a run": "INSERT INTO job_runs (job, status) VALUES ('nurture', 'running')",
    "finish a run": "UPDATE job_runs SET status = 'failed'",
    "delete a run": "DELETE FROM job_runs",
    "register a runner": "INSERT INTO job_runners (name, host, pid, version, jobs, started_at, "
    "seen_at) VALUES ('mine', 'h', 1, '1', 'x', now(), now())",
    "stop a runner": "UPDATE job_runners SET stopped_at = now()",
    "delete a runner": "DELETE FROM job_runners",
    "take a lease": "INSERT INTO job_leases (job, holder, expires_at) VALUES ('x', 'me', now())",
    "hold a lease": "UPDATE job_leases SET holder = 'me'",
    "let a lease go": "DELETE FROM job_leases",
    "set a mark": "INSERT INTO automation_marks (name, at) VALUES ('x', now())",
    "move the watermark": "UPDATE automation_marks SET at = now()",
    "delete the watermark": "DELETE FROM automation_marks",
    "set a sync mark": "INSERT INTO email_sync_marks (provider, feed, synced_until) "
    "VALUES ('sendgrid', 'bounces', now())",
    "move a sync mark": "UPDATE email_sync_marks SET synced_until = now()",
    "delete a sync mark": "DELETE FROM email_sync_marks",
    # The outbox: its bookkeeping is everyone's to read; what an email says is not.
    "read an email's text": "SELECT body_text FROM email_outbox",
    "read an email's address": "SELECT to_email FROM email_outbox",
    "read an email's error": "SELECT last_error FROM email_outbox",
    "queue an email": "INSERT INTO email_outbox (idempotency_key, customer_id, to_email, "
    "subject, body_text, created_by) VALUES ('mine', %(hank)s, 'a@example.com', 'Hi', 'Hello', "
    "%(me)s)",
    "queue a campaign in the system's name": "INSERT INTO email_outbox (idempotency_key, "
    "customer_id, to_email, subject, body_text, is_campaign, created_by, blast_id) VALUES "
    "('blast:' || %(blast)s || ':' || %(peggy)s, %(peggy)s, 'a@example.com', 'Hi', 'Hello', "
    "true, %(system)s, %(blast)s)",
    "queue a campaign under another key": "INSERT INTO email_outbox (idempotency_key, "
    "customer_id, to_email, subject, body_text, is_campaign, created_by, blast_id) VALUES "
    "('nurture:' || %(peggy)s, %(peggy)s, 'a@example.com', 'Hi', 'Hello', true, %(me)s, "
    "%(blast)s)",
    "queue a campaign as sent": "INSERT INTO email_outbox (idempotency_key, customer_id, "
    "to_email, subject, body_text, is_campaign, created_by, blast_id, status) VALUES "
    "('blast:' || %(blast)s || ':' || %(peggy)s, %(peggy)s, 'a@example.com', 'Hi', 'Hello', "
    "true, %(me)s, %(blast)s, 'sent')",
    "mark an email sent": "UPDATE email_outbox SET status = 'sent' WHERE id = %(out_queued)s",
    "rewrite an email": "UPDATE email_outbox SET subject = 'Changed'",
    "delete an email": "DELETE FROM email_outbox",
    # The providers' events: read by everyone, written by the jobs alone.
    "record an event": "INSERT INTO email_events (provider, event_key, kind, occurred_at) "
    "VALUES ('postmark', 'mine', 'complained', now())",
    "change an event": "UPDATE email_events SET kind = 'bounced'",
    "delete an event": "DELETE FROM email_events",
    # Nobody but the jobs' own runner becomes the jobs.
    "become the jobs": "SET ROLE salesengine_jobs",
}

# A manager's blast queues its emails; a rep's or a technician's does not.
_BLAST_EMAIL = (
    "INSERT INTO email_outbox (idempotency_key, customer_id, to_email, to_name, subject, "
    "body_text, is_campaign, created_by, created_at, next_attempt_at, blast_id) VALUES "
    "('blast:' || %(blast)s || ':' || %(peggy)s, %(peggy)s, 'peggy@example.com', 'Peggy', 'Hi', "
    "'Hello', true, %(me)s, now(), now(), %(blast)s) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_people_are_refused_the_jobs_tables_and_the_senders_writes(
    seeded: Seeded, login: str
) -> None:
    params = {**seeded.params, "me": seeded.value(f"SELECT id FROM users WHERE login = '{login}'")}
    cases = dict(_NOT_FOR_PEOPLE)
    if login != "dana":
        cases["queue a blast's email"] = _BLAST_EMAIL
    with seeded.connect(login) as conn:
        all_refused(conn, cases, params)
    assert seeded.value("SELECT status FROM email_outbox WHERE id = %(out_queued)s") == "queued"
    assert seeded.value("SELECT count(*) FROM email_outbox") == 3


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_people_read_what_the_app_shows_of_email(seeded: Seeded, login: str) -> None:
    """A blast's progress (by its key range) and what came back of it; an email's fate."""
    with seeded.connect(login) as conn:
        progress = conn.execute(
            "SELECT status::text, count(*) FROM email_outbox "
            'WHERE idempotency_key COLLATE "C" >= %(from)s '
            'AND idempotency_key COLLATE "C" < %(to)s GROUP BY 1',
            {"from": f"blast:{BLAST}:", "to": f"blast:{BLAST};"},
        ).fetchall()
        assert progress == [("sent", 1)]
        assert conn.execute(
            "SELECT kind, detail, outbox_id FROM email_events WHERE blast_id = %s", (BLAST,)
        ).fetchall() == [("delivered", None, OUT_BLAST)]
        assert conn.execute(
            "SELECT count(*) FROM email_outbox WHERE customer_id = %s AND blast_id IS NOT NULL "
            "AND sent_at IS NOT NULL",
            (seeded.params["hank"],),
        ).fetchone() == (1,)


def test_a_managers_blast_queues_its_emails(seeded: Seeded) -> None:
    params = {**seeded.params, "me": seeded.params["dana"]}
    with seeded.connect("dana") as conn:
        assert conn.execute(_BLAST_EMAIL, params).fetchone() is not None
        conn.commit()
    assert (
        seeded.value(
            "SELECT count(*) FROM email_outbox WHERE blast_id = %(blast)s AND status = 'queued'"
        )
        == 1
    )


def test_a_managers_blast_email_goes_only_to_the_customers_own_address(seeded: Seeded) -> None:
    params = {**seeded.params, "me": seeded.params["dana"]}
    elsewhere = _BLAST_EMAIL.replace("'peggy@example.com'", "'someone@elsewhere.example'")
    with seeded.connect("dana") as conn:
        assert_refused(conn, elsewhere, params)


def test_the_gateway_itself_reads_and_writes_nothing(seeded: Seeded) -> None:
    """Before it takes a person's role the gateway holds no privilege: not even the jobs'."""
    cases = {
        **{f"read {t}": f"SELECT * FROM {t}" for t in (*_JOB_TABLES, "email_outbox",
                                                        "email_events", "customers")},
        **{k: v for k, v in _NOT_FOR_PEOPLE.items() if not k.startswith("read ")},
        "queue a blast's email": _BLAST_EMAIL,
        "claim an email": "UPDATE email_outbox SET status = 'sending'",
        "suppress a customer": "UPDATE customers SET email_suppressed_at = now()",
    }  # fmt: skip
    with seeded.connect(GATEWAY_ROLE) as conn:
        all_refused(conn, cases, {**seeded.params, "me": seeded.params["dana"]})
