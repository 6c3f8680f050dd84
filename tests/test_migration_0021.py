"""Revision 0021 (database roles, row-level security, the audit trail) on a database that
already holds a desk's work: a database at 0020 with people (a manager, two reps, a
technician, a deactivated rep, the system user), leads owned and unowned, customers with
equipment and tickets, deals on stages with their history, tasks, notifications, a saved
segment and a sent blast, all written with plain SQL as 0020 stored them.

Upgraded to head, every row is still there, unchanged in every column it had; every person
has a role of their own, in their group and reachable by the gateway; every table a role may
write has row-level security on; a rep connected directly (no app code) reads the desk and
changes their own lead and deal but not a colleague's. Downgraded, nothing of 0021 is left
but the roles (the cluster's); upgraded again, the roles already there are taken up. A login
too long for a role name stops the upgrade with a message naming it, and changes nothing.

The checks ask the catalog about every table, so they hold whatever each area's SQL file
grants or adds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import sqlalchemy.exc
from db_roles import connect_as
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE

BEFORE = "0020_job_runners"
ROLE_PREFIX = "se_"
MAX_ROLE_NAME = 63  # PostgreSQL's NAMEDATALEN - 1
GROUPS = (
    "salesengine_people",
    "salesengine_rep",
    "salesengine_manager",
    "salesengine_technician",
    JOBS_ROLE,
    GATEWAY_ROLE,
)
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000021-0000-4000-8000-{n:012x}")


# Rows the checks name; the rest of the seed only has to be there.
MONA, RITA, REX, TINA, GONE, LONG = (_id(n) for n in range(1, 7))
LEAD_RITA, LEAD_REX, LEAD_MONA, LEAD_FREE, CUSTOMER = (_id(n) for n in range(11, 16))
DEAL_RITA, DEAL_REX, DEAL_MONA, DEAL_FREE = (_id(n) for n in range(21, 25))
NOTE_RITA, NOTE_MONA = _id(31), _id(32)
SEGMENT, BLAST, OUTBOX, EQUIPMENT = _id(41), _id(42), _id(43), _id(44)

SEED = """
INSERT INTO users (id, login, name, email, role, initials, active) VALUES
  (%(mona)s, %(l_mona)s, 'Mona Manager', 'mona@example.com', 'manager', 'MM', true),
  (%(rita)s, %(l_rita)s, 'Rita Rep', 'rita@example.com', 'rep', 'RR', true),
  (%(rex)s, %(l_rex)s, 'Rex Rep', 'rex@example.com', 'rep', 'RX', true),
  (%(tina)s, %(l_tina)s, 'Tina Tech', NULL, 'technician', 'TT', true),
  (%(gone)s, %(l_gone)s, 'Gary Gone', NULL, 'rep', 'GG', false),
  (%(long)s, %(l_long)s, 'Lena Longname', NULL, 'rep', 'LL', true);

INSERT INTO customers (id, name, email, phone, city, status, lead_source, owner_id,
                       email_opt_out, opted_out_at, last_interaction_at) VALUES
  (%(lead_rita)s, 'Rita''s Lead', 'rl@example.com', '+12145550101', 'Plano', 'lead', 'Website',
   %(rita)s, false, NULL, now() - interval '2 days'),
  (%(lead_rex)s, 'Rex''s Lead', 'xl@example.com', NULL, 'Dallas', 'lead', 'Referral', %(rex)s,
   false, NULL, NULL),
  (%(lead_mona)s, 'Mona''s Lead', NULL, '+12145550103', 'Plano', 'lead', 'Yelp', %(mona)s,
   false, NULL, NULL),
  (%(lead_free)s, 'Nobody''s Lead', 'nl@example.com', NULL, 'Frisco', 'lead', 'Website', NULL,
   true, now() - interval '1 day', NULL),
  (%(customer)s, 'Hank Customer', 'hank@example.com', '+12145550105', 'Arlen', 'active', NULL,
   %(rita)s, false, NULL, now() - interval '5 days');

INSERT INTO equipment (id, customer_id, kind, brand, installed_on) VALUES
  (%(equipment)s, %(customer)s, 'furnace', 'Lennox', DATE '2008-05-01');

INSERT INTO tickets (customer_id, equipment_id, technician_id, status, summary, resolution,
                     closed_at) VALUES
  (%(customer)s, %(equipment)s, %(tina)s, 'closed', 'No heat', 'Equipment End of Life', now()),
  (%(customer)s, NULL, NULL, 'booked', 'Tune-up', NULL, NULL);

CREATE TEMP TABLE mig_stage AS
  SELECT s.name, s.id FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
   WHERE p.name = 'Residential Replacements';

INSERT INTO estimates (id, customer_id, title, amount, status, stage_id, stage_entered_at,
                       owner_id, created_by, updated_by, expected_close_on) VALUES
  (%(deal_rita)s, %(customer)s, 'Heat pump', 9000, 'sent',
   (SELECT id FROM mig_stage WHERE name = 'New'), now(), %(rita)s, %(rita)s, %(rita)s,
   current_date + 30),
  (%(deal_rex)s, %(lead_rex)s, 'Furnace', 4000, 'sent',
   (SELECT id FROM mig_stage WHERE name = 'Proposal Sent'), now(), %(rex)s, %(rex)s, %(rex)s,
   NULL),
  (%(deal_mona)s, %(lead_mona)s, 'Boiler', 7000, 'sent',
   (SELECT id FROM mig_stage WHERE name = 'Negotiation'), now(), %(mona)s, %(mona)s, %(mona)s,
   NULL),
  (%(deal_free)s, %(lead_free)s, 'Mini-split', 3000, 'draft',
   (SELECT id FROM mig_stage WHERE name = 'New'), now(), NULL, %(mona)s, %(mona)s, NULL);

INSERT INTO estimate_stage_history (estimate_id, from_stage_id, to_stage_id, from_stage_name,
                                    to_stage_name, moved_by) VALUES
  (%(deal_rex)s, (SELECT id FROM mig_stage WHERE name = 'New'),
   (SELECT id FROM mig_stage WHERE name = 'Proposal Sent'), 'New', 'Proposal Sent', %(rex)s);
INSERT INTO estimate_changes (estimate_id, customer_id, field, old_value, new_value, changed_by)
  VALUES (%(deal_rita)s, %(customer)s, 'amount', '8000', '9000', %(rita)s);

INSERT INTO customer_interactions (customer_id, type, direction, notes, outcome, created_by,
                                   estimate_id) VALUES
  (%(lead_rita)s, 'call', 'outbound', 'Wants a quote', 'connected', %(rita)s, NULL),
  (%(customer)s, 'meeting', 'outbound', 'Site visit', NULL, %(rita)s, %(deal_rita)s);
INSERT INTO customer_status_changes (customer_id, from_status, to_status, changed_by, reason)
  VALUES (%(customer)s, 'lead', 'active', %(rita)s, 'converted');
INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) VALUES
  (%(lead_free)s, true, 'staff', %(mona)s);

INSERT INTO tasks (customer_id, estimate_id, kind, title, due_at, all_day, assignee_id,
                   created_by, updated_by, done_at, done_by) VALUES
  (%(lead_rita)s, NULL, 'call', 'Call back', now() + interval '1 day', true, %(rita)s,
   %(rita)s, %(rita)s, NULL, NULL),
  (%(lead_free)s, NULL, 'todo', 'Find an owner', now(), false, NULL, %(mona)s, %(mona)s, NULL,
   NULL),
  (%(lead_rex)s, %(deal_rex)s, 'email', 'Sent the quote', now() - interval '3 days', true,
   %(rex)s, %(rex)s, %(rex)s, now() - interval '3 days', %(rex)s);

INSERT INTO notifications (id, user_id, kind, title, customer_id, estimate_id, dedupe_key) VALUES
  (%(note_rita)s, %(rita)s, 'task_due', 'Call back Rita''s Lead', %(lead_rita)s, NULL,
   'task_due:1'),
  (%(note_mona)s, %(mona)s, 'upsell', 'Upsell: Hank Customer', %(customer)s, %(deal_rita)s,
   'upsell:1');

INSERT INTO segments (id, name, definition, created_by, owner_id) VALUES
  (%(segment)s, 'Plano leads', '{"field": "city", "op": "=", "value": "Plano"}', %(rita)s,
   %(rita)s);
INSERT INTO blasts (id, content_key, segment_id, segment_name, definition, subject, body,
                    recipients, created_by) VALUES
  (%(blast)s, 'spring-tune-up', %(segment)s, 'Plano leads',
   '{"field": "city", "op": "=", "value": "Plano"}', 'Spring tune-up', 'Book now', 1, %(mona)s);
INSERT INTO email_outbox (id, idempotency_key, customer_id, to_email, subject, body_text,
                          is_campaign, status, attempts, created_by, sent_at, blast_id,
                          provider, provider_message_id) VALUES
  (%(outbox)s, 'blast:' || %(blast)s || ':' || %(lead_rita)s, %(lead_rita)s, 'rl@example.com',
   'Spring tune-up', 'Book now', true, 'sent', 1, %(mona)s, now(), %(blast)s, 'postmark',
   'pm-1');
INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by, outbox_id)
  VALUES (%(lead_rita)s, 'email', 'outbound', 'Spring tune-up', %(mona)s, %(outbox)s);
INSERT INTO email_events (provider, event_key, kind, email, outbox_id, customer_id, blast_id,
                          occurred_at) VALUES
  ('postmark', 'pm-1:delivered', 'delivered', 'rl@example.com', %(outbox)s, %(lead_rita)s,
   %(blast)s, now());
INSERT INTO email_sync_marks (provider, feed, synced_until) VALUES
  ('postmark', 'suppressions', now());

INSERT INTO job_runs (job, status, finished_at, counts, runner) VALUES
  ('nurture', 'ok', now(), '{"notified": 1}', 'runner-1');
INSERT INTO job_runners (name, host, pid, version, jobs, started_at, seen_at) VALUES
  ('runner-1', 'box', 4242, '0.20', 'all', now(), now());
INSERT INTO job_leases (job, holder, expires_at) VALUES
  ('suppressions', 'runner-1', now() + interval '1 minute');
INSERT INTO automation_marks (name, at) VALUES ('upsell', now() - interval '1 day');
"""


@dataclass(frozen=True)
class Seeded:
    engine: Engine
    url: URL
    logins: dict[uuid.UUID, str]  # user id -> login
    before: dict[str, object]  # catalog_state() at 0020


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: URL) -> psycopg.Connection:
    return psycopg.connect(_conninfo(url), autocommit=True)


def _columns(conn: psycopg.Connection) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN pg_tables t ON t.tablename = c.table_name AND t.schemaname = c.table_schema"
        " WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def _rows(conn: psycopg.Connection, columns: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """Per table: how many rows, and a digest of every row in the columns given."""
    out = {}
    for table, names in columns.items():
        if table == "alembic_version":
            continue
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
            " FROM (SELECT {} FROM {}) r"
        ).format(sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table))
        count, digest = conn.execute(query).fetchone()
        out[table] = (count, digest)
    return out


def catalog_state(url: URL) -> dict[str, object]:
    """What a downgrade must give back exactly: tables and columns, triggers, functions,
    privileges, row-level security switches and policies, and every row."""
    with _admin(url) as conn:
        columns = _columns(conn)

        def listed(query: str) -> list[tuple]:
            return conn.execute(query).fetchall()

        return {
            "columns": columns,
            "rows": _rows(conn, columns),
            "triggers": listed(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
                " WHERE NOT tgisinternal ORDER BY 1, 2"
            ),
            "functions": listed(
                "SELECT p.oid::regprocedure::text, p.proconfig::text, p.prosecdef FROM pg_proc p"
                " WHERE p.pronamespace = current_schema()::regnamespace ORDER BY 1"
            ),
            "acl": listed(
                # No ACL is the owner's default one: the same privileges, read as such.
                "SELECT relname, coalesce(relacl, acldefault("
                "  CASE relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\", relowner))::text"
                " FROM pg_class"
                " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'S')"
                " ORDER BY 1"
            ),
            "schema_acl": listed(
                "SELECT coalesce(nspacl, acldefault('n', nspowner))::text FROM pg_namespace"
                " WHERE nspname = current_schema()"
            ),
            "rls": listed(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND (relrowsecurity OR relforcerowsecurity) ORDER BY 1"
            ),
            "policies": listed(
                "SELECT tablename, policyname FROM pg_policies"
                " WHERE schemaname = current_schema() ORDER BY 1, 2"
            ),
        }


def _logins(tag: str) -> dict[str, str]:
    # The role of the longest login that fits: 'se_' + 60 characters, exactly 63.
    long_login = f"lena.{tag}.".ljust(MAX_ROLE_NAME - len(ROLE_PREFIX), "x")
    return {
        "l_mona": f"mona.{tag}",
        "l_rita": f"rita.{tag}",
        "l_rex": f"rex.{tag}",
        "l_tina": f"tina.{tag}",
        "l_gone": f"gary.{tag}",
        "l_long": long_login,
    }


@pytest.fixture
def at_0020(empty_db_url: URL) -> Iterator[Seeded]:
    """A database at 0020 with a desk's work in it. Logins are new to the cluster (roles are
    the cluster's, shared by every test database of this worker): the upgrade makes them."""
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine, BEFORE)
        logins = _logins(uuid.uuid4().hex[:8])
        params = {
            **logins,
            "mona": MONA, "rita": RITA, "rex": REX, "tina": TINA, "gone": GONE, "long": LONG,
            "lead_rita": LEAD_RITA, "lead_rex": LEAD_REX, "lead_mona": LEAD_MONA,
            "lead_free": LEAD_FREE, "customer": CUSTOMER, "deal_rita": DEAL_RITA,
            "deal_rex": DEAL_REX, "deal_mona": DEAL_MONA, "deal_free": DEAL_FREE,
            "note_rita": NOTE_RITA, "note_mona": NOTE_MONA, "segment": SEGMENT, "blast": BLAST,
            "outbox": OUTBOX, "equipment": EQUIPMENT,
        }  # fmt: skip
        with _admin(empty_db_url) as conn, conn.transaction():
            for statement in SEED.split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
        before = catalog_state(empty_db_url)
        # Every table holds rows, so "every row is still there" says something of each.
        empty = [t for t, (count, _) in before["rows"].items() if count == 0]
        assert empty == [], f"the seed leaves these tables empty: {empty}"
        ids = (MONA, RITA, REX, TINA, GONE, LONG)
        yield Seeded(engine, empty_db_url, dict(zip(ids, logins.values(), strict=True)), before)
    finally:
        engine.dispose()


def _people(url: URL) -> list[tuple[str, str, str | None]]:
    """(login, role, db_role) of every user."""
    with _admin(url) as conn:
        return conn.execute(
            "SELECT login, role::text, db_role FROM users ORDER BY login"
        ).fetchall()


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def assert_every_person_has_a_role(seeded: Seeded) -> dict[str, str]:
    """Each person (active or not) has 'se_<login>', a login role in the group of their
    SalesEngine role, reachable by the gateway; the system user has none. Returns
    login -> role."""
    roles = {}
    with _admin(seeded.url) as conn:
        for login, role, db_role in _people(seeded.url):
            if role == "system":
                assert db_role is None, f"the system user has a database role: {db_role}"
                continue
            assert db_role == ROLE_PREFIX + login, (login, db_role)
            can_login, member, reachable = conn.execute(
                "SELECT rolcanlogin, pg_has_role(rolname, %s, 'MEMBER'),"
                " pg_has_role(%s, rolname, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                (f"salesengine_{role}", GATEWAY_ROLE, db_role),
            ).fetchone() or (None, None, None)
            assert (can_login, member, reachable) == (True, True, True), (
                f"{db_role}: login {can_login}, in salesengine_{role} {member}, "
                f"reachable by the gateway {reachable}"
            )
            roles[login] = db_role
    assert set(seeded.logins.values()) == set(roles)
    return roles


def _unchanged_rows(seeded: Seeded) -> None:
    """Every table of 0020 has the rows it had, equal in every column it had then."""
    with _admin(seeded.url) as conn:
        now = _rows(conn, seeded.before["columns"])
    changed = {
        t: (seeded.before["rows"][t], now[t]) for t in now if now[t] != seeded.before["rows"][t]
    }
    assert changed == {}, f"rows changed (before, after): {changed}"


def test_the_upgrade_keeps_every_row_and_gives_every_person_a_role(at_0020: Seeded) -> None:
    migrate.upgrade(at_0020.engine)
    assert migrate.current_revision(at_0020.engine) == migrate.head_revision(at_0020.engine)
    _unchanged_rows(at_0020)
    roles = assert_every_person_has_a_role(at_0020)
    assert len(roles[at_0020.logins[LONG]]) == MAX_ROLE_NAME  # not cut short

    # The gateway takes a person's role (SET ROLE), and then is that person.
    gateway = connect_as(at_0020.url, GATEWAY_ROLE)
    try:
        with gateway.transaction():
            gateway.execute(
                sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(roles[at_0020.logins[RITA]]))
            )
            me = gateway.execute("SELECT salesengine_me(), salesengine_my_role()").fetchone()
        assert me == (RITA, "rep")
    finally:
        gateway.close()


def test_every_table_a_role_may_write_has_row_level_security(at_0020: Seeded) -> None:
    """A write privilege on a table without row-level security would let its holder write
    every row. Listed: the tables left without it; each must be writable by the owner alone
    (no person role, group, jobs or gateway role, nor PUBLIC, may write it)."""
    migrate.upgrade(at_0020.engine)
    roles = list(assert_every_person_has_a_role(at_0020).values())
    with _admin(at_0020.url) as conn:
        tables = conn.execute(
            "SELECT relname, relrowsecurity FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')"
            " ORDER BY 1"
        ).fetchall()
        without = [t for t, rls in tables if not rls]
        print("tables without row-level security:", without)
        writers: dict[str, list[str]] = {}
        for table, role, may in conn.execute(
            "SELECT c.relname, r.role, string_agg(w.p, ', ' ORDER BY w.p)"
            "  FROM pg_class c CROSS JOIN unnest(%s::text[]) r(role)"
            "  CROSS JOIN unnest(%s::text[]) w(p)"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')"
            "   AND (has_table_privilege(r.role, c.oid, w.p)"
            "        OR CASE WHEN w.p IN ('INSERT', 'UPDATE')"
            "                THEN has_any_column_privilege(r.role, c.oid, w.p) END)"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            ([*GROUPS, *roles], list(WRITES)),
        ):
            writers.setdefault(table, []).append(f"{role}: {may}")
        owners = conn.execute(
            "SELECT relname, pg_get_userbyid(relowner) FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')"
            " AND pg_get_userbyid(relowner) = ANY(%s)",
            (list(GROUPS) + roles,),
        ).fetchall()
    assert owners == [], f"tables owned by an acting role (the owner bypasses RLS): {owners}"
    unguarded = {t: writers[t] for t in without if t in writers}
    assert unguarded == {}, f"written without row-level security: {unguarded}"
    # Every table a person writes is among those with row-level security (at least the desk's).
    assert {"customers", "estimates", "tasks", "users"} <= set(writers) - set(without)
    assert "alembic_version" in without  # the revision: the migrations' alone


def _refused(conn: psycopg.Connection, statement: str, params: object = None) -> None:
    """PostgreSQL refuses it: an error, or no row changed. Rolled back either way."""
    try:
        cur = conn.execute(statement, params)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.CheckViolation):
        pass
    else:
        assert cur.rowcount == 0, f"{cur.rowcount} row(s) changed by: {statement} {params}"
    finally:
        conn.rollback()


def _lead_and_deal(url: URL) -> dict[uuid.UUID, tuple]:
    with _admin(url) as conn:
        rows = conn.execute(
            "SELECT id, owner_id, name, version FROM customers"
            " UNION ALL SELECT id, owner_id, title, version FROM estimates"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


TAKE_LEAD = "UPDATE customers SET owner_id = %s, version = version + 1 WHERE id = %s"
GIVE_LEAD = "UPDATE customers SET owner_id = %s WHERE id = %s"
MOVE_DEAL = (
    "UPDATE estimates SET stage_id = (SELECT s.id FROM deal_stages s"
    "  WHERE s.pipeline_id = (SELECT pipeline_id FROM deal_stages WHERE id = estimates.stage_id)"
    "    AND s.name = 'Negotiation'),"
    " stage_entered_at = now(), updated_by = %s, updated_at = now(), version = version + 1"
    " WHERE id = %s"
)
EDIT_DEAL = "UPDATE estimates SET title = 'Mine now', updated_by = %s WHERE id = %s"


def test_a_rep_connected_directly_reads_the_desk_and_changes_only_their_own(
    at_0020: Seeded,
) -> None:
    migrate.upgrade(at_0020.engine)
    roles = assert_every_person_has_a_role(at_0020)
    with _admin(at_0020.url) as conn:
        everything = {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()
            for t in ("customers", "estimates", "users", "deal_stages", "tasks", "segments")
        }
    before = _lead_and_deal(at_0020.url)

    rita = connect_as(at_0020.url, roles[at_0020.logins[RITA]])
    try:
        # The desk, as the board and the inbox show it to everyone.
        for table, count in everything.items():
            seen = rita.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            assert seen.fetchone() == count, table
        # Notifications: her own, not her manager's.
        assert rita.execute("SELECT id FROM notifications").fetchall() == [(NOTE_RITA,)]
        rita.rollback()

        # Theirs: a contact edit of her lead, taking the unassigned lead, moving her deal.
        edits = (
            ("UPDATE customers SET phone = '+12145550199', version = version + 1"
             " WHERE id = %s", (LEAD_RITA,)),
            (TAKE_LEAD, (RITA, LEAD_FREE)),
            (MOVE_DEAL, (RITA, DEAL_RITA)),
        )  # fmt: skip
        for statement, params in edits:
            assert rita.execute(statement, params).rowcount == 1, statement
        rita.commit()

        # Not theirs: a colleague's or the manager's lead taken, her own given away, their
        # deals moved or edited.
        for lead in (LEAD_REX, LEAD_MONA):
            _refused(rita, TAKE_LEAD, (RITA, lead))
        _refused(rita, GIVE_LEAD, (REX, LEAD_RITA))
        for deal in (DEAL_REX, DEAL_MONA):
            _refused(rita, MOVE_DEAL, (RITA, deal))
            _refused(rita, EDIT_DEAL, (RITA, deal))
        # Nor in someone else's name.
        _refused(rita, MOVE_DEAL, (REX, DEAL_RITA))
    finally:
        rita.close()

    after = _lead_and_deal(at_0020.url)
    assert after[LEAD_RITA][0] == RITA and after[LEAD_RITA][2] == before[LEAD_RITA][2] + 1
    assert after[LEAD_FREE][0] == RITA
    assert after[DEAL_RITA][2] == before[DEAL_RITA][2] + 1
    for untouched in (LEAD_REX, LEAD_MONA, DEAL_REX, DEAL_MONA):
        assert after[untouched] == before[untouched]


def test_the_downgrade_leaves_no_trace_and_the_upgrade_runs_again(at_0020: Seeded) -> None:
    migrate.upgrade(at_0020.engine)
    first = assert_every_person_has_a_role(at_0020)

    migrate.downgrade(at_0020.engine, BEFORE)
    assert migrate.current_revision(at_0020.engine) == BEFORE
    after = catalog_state(at_0020.url)
    for part, was in at_0020.before.items():
        assert after[part] == was, f"{part} differs after the downgrade"
    assert after["policies"] == [] and after["rls"] == []
    assert "db_role" not in after["columns"]["users"]
    # The roles stay: they are the cluster's (other databases on the server may use them).
    with _admin(at_0020.url) as conn:
        assert all(_role_exists(conn, role) for role in first.values())

    # Up again with the roles already there: taken up, not made (nor an error).
    migrate.upgrade(at_0020.engine)
    assert assert_every_person_has_a_role(at_0020) == first
    _unchanged_rows(at_0020)
    rita = connect_as(at_0020.url, first[at_0020.logins[RITA]])
    try:
        assert rita.execute(MOVE_DEAL, (RITA, DEAL_RITA)).rowcount == 1
        rita.rollback()
        _refused(rita, MOVE_DEAL, (RITA, DEAL_REX))
    finally:
        rita.close()


def test_a_login_too_long_for_a_role_stops_the_upgrade_naming_it(empty_db_url: URL) -> None:
    """'se_' and a login of 61 characters (logins may have 63) is no PostgreSQL role name: the
    upgrade stops with a message naming the login, and the database stays at 0020 as it was
    (no column, no role made for anyone). Once the login is shortened, it upgrades."""
    tag = uuid.uuid4().hex[:8]
    long_login = f"ludwig.{tag}.".ljust(MAX_ROLE_NAME - len(ROLE_PREFIX) + 1, "x")
    assert len(long_login) == 61
    fine = f"fred.{tag}"
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine, BEFORE)
        with _admin(empty_db_url) as conn:
            conn.execute(
                "INSERT INTO users (login, name, role, initials) VALUES"
                " (%s, 'Fred Fine', 'rep', 'FF'), (%s, 'Ludwig Long', 'manager', 'LL')",
                (fine, long_login),
            )
        before = catalog_state(empty_db_url)

        with pytest.raises((psycopg.Error, sqlalchemy.exc.DBAPIError)) as caught:
            migrate.upgrade(engine)
        message = str(caught.value)
        print("the upgrade said:", message)
        assert long_login in message
        assert migrate.current_revision(engine) == BEFORE
        assert catalog_state(empty_db_url) == before
        with _admin(empty_db_url) as conn:
            assert not _role_exists(conn, ROLE_PREFIX + fine)
            assert not _role_exists(conn, ROLE_PREFIX + long_login)
            conn.execute(
                "UPDATE users SET login = %s WHERE login = %s", (f"ludwig.{tag}", long_login)
            )

        migrate.upgrade(engine)
        assert [(login, db_role) for login, _, db_role in _people(empty_db_url)] == [
            (fine, ROLE_PREFIX + fine),
            (f"ludwig.{tag}", f"se_ludwig.{tag}"),
            ("system", None),
        ]
    finally:
        engine.dispose()
