"""Issue 19: PostgreSQL itself refuses what a role may not write to people's daily work (users,
tasks, notifications, saved segments, blasts), connected directly as each role with no app
code between; and lets each person make the writes the app makes for them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from db_roles import assert_no_rows_changed, assert_refused, connect_as, role_of
from factories import Desk, fixed_id
from sqlalchemy.engine import URL

from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE

# Who the rows below belong to (dana: the desk's manager, sam: its rep).
TESS, RITA, OLGA = fixed_id(31, 1), fixed_id(32, 1), fixed_id(33, 1)
# Tasks: sam's (made by dana), rita's (made by sam), nobody's, one sam completed.
T_SAM, T_RITA, T_NONE, T_DONE = (fixed_id(n, 41) for n in (1, 2, 3, 4))
N_SAM, N_DANA, N_RITA = (fixed_id(n, 42) for n in (1, 2, 3))
S_SAM, S_RITA, S_NONE = (fixed_id(n, 43) for n in (1, 2, 3))
BLAST = fixed_id(1, 44)
NEW = fixed_id(99, 45)  # the id of a row a test tries to insert


@dataclass(frozen=True)
class Work:
    db_url: URL
    customer: uuid.UUID
    dana: uuid.UUID
    sam: uuid.UUID

    def count(self, table: str) -> int:
        """How many rows `table` holds (as its owner sees it)."""
        with connect_as(self.db_url, self.db_url.username or "postgres") as admin:
            row = admin.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return row[0]

    def connect(self, login: str) -> psycopg.Connection:
        """A connection as the user `login`'s own role, or as a SalesEngine role by name."""
        if login in (JOBS_ROLE, GATEWAY_ROLE):
            return connect_as(self.db_url, login)
        return connect_as(self.db_url, role_of(self.db_url, login))


_SEED = """
INSERT INTO users (id, login, name, role, active) VALUES
  (%(tess)s, 'tess', 'Tess Tech', 'technician', true),
  (%(rita)s, 'rita', 'Rita Rep', 'rep', true),
  (%(olga)s, 'olga', 'Olga Gone', 'rep', false);
INSERT INTO tasks (id, customer_id, title, due_at, assignee_id, created_by, done_at, done_by)
VALUES
  (%(t_sam)s, %(customer)s, 'Sam''s call', now() + interval '1 day', %(sam)s, %(dana)s,
   NULL, NULL),
  (%(t_rita)s, %(customer)s, 'Rita''s call', now() + interval '1 day', %(rita)s, %(sam)s,
   NULL, NULL),
  (%(t_none)s, %(customer)s, 'Anyone''s call', now() + interval '1 day', NULL, %(dana)s,
   NULL, NULL),
  (%(t_done)s, %(customer)s, 'Called', now(), %(sam)s, %(sam)s, now(), %(sam)s);
INSERT INTO notifications (id, user_id, kind, title) VALUES
  (%(n_sam)s, %(sam)s, 'test', 'For Sam'),
  (%(n_dana)s, %(dana)s, 'test', 'For Dana'),
  (%(n_rita)s, %(rita)s, 'test', 'For Rita');
INSERT INTO segments (id, name, definition, created_by, owner_id) VALUES
  (%(s_sam)s, 'Sam''s leads', '{}', %(sam)s, %(sam)s),
  (%(s_rita)s, 'Rita''s leads', '{}', %(rita)s, %(rita)s),
  (%(s_none)s, 'Nobody''s leads', '{}', NULL, NULL);
INSERT INTO blasts (id, content_key, definition, subject, body, created_by) VALUES
  (%(blast)s, 'seeded', '{}', 'Hello', 'Hi there', %(dana)s);
"""


@pytest.fixture
def work(db_url: URL, desk: Desk) -> Iterator[Work]:
    customer = desk.customers["Hank Hill"].id
    params = dict(
        tess=TESS, rita=RITA, olga=OLGA, customer=customer, sam=desk.rep.id,
        dana=desk.manager.id, t_sam=T_SAM, t_rita=T_RITA, t_none=T_NONE, t_done=T_DONE,
        n_sam=N_SAM, n_dana=N_DANA, n_rita=N_RITA, s_sam=S_SAM, s_rita=S_RITA,
        s_none=S_NONE, blast=BLAST,
    )  # fmt: skip
    with connect_as(db_url, db_url.username or "postgres") as admin:
        for statement in _SEED.split(";")[:-1]:
            admin.execute(statement, {k: v for k, v in params.items() if f"%({k})s" in statement})
    yield Work(db_url, customer, desk.manager.id, desk.rep.id)


def changed(conn: psycopg.Connection, sql: str, params: object = None) -> int:
    """How many rows an allowed write changed (rolled back after)."""
    try:
        return conn.execute(sql, params).rowcount
    finally:
        conn.rollback()


def one(conn: psycopg.Connection, sql: str, params: object = None) -> object:
    try:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]
    finally:
        conn.rollback()


def _task_insert(customer: uuid.UUID, assignee: uuid.UUID | None, by: uuid.UUID) -> tuple:
    return (
        "INSERT INTO tasks (id, customer_id, title, due_at, assignee_id, created_by, updated_by) "
        "VALUES (%s, %s, 'New', now() + interval '1 day', %s, %s, %s)",
        (NEW, customer, assignee, by, by),
    )


# --- users --------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_every_person_reads_every_user(work: Work, login: str) -> None:
    with work.connect(login) as conn:
        assert one(conn, "SELECT count(*) FROM users") == work.count("users")


@pytest.mark.parametrize("login", ["sam", "tess"])
def test_only_managers_add_or_change_users(work: Work, login: str) -> None:
    me = work.sam if login == "sam" else TESS
    with work.connect(login) as conn:
        assert_refused(
            conn,
            "INSERT INTO users (login, name, role) VALUES ('mallory', 'Mallory', 'manager')",
        )
        assert_no_rows_changed(conn, "UPDATE users SET active = false WHERE id = %s", (RITA,))
        assert_no_rows_changed(conn, "UPDATE users SET name = 'Boss' WHERE id = %s", (work.dana,))
        # Not their own row either: no promotion, no changing their own name behind the app.
        assert_no_rows_changed(conn, "UPDATE users SET role = 'manager' WHERE id = %s", (me,))
        assert_no_rows_changed(conn, "UPDATE users SET db_role = 'x' WHERE id = %s", (me,))


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_nobody_deletes_a_user(work: Work, login: str) -> None:
    with work.connect(login) as conn:
        assert_refused(conn, "DELETE FROM users WHERE id = %s", (OLGA,))


def test_a_manager_never_changes_their_own_role_or_activity_nor_a_database_role(work: Work) -> None:
    with work.connect("dana") as conn:
        for change in ("role = 'rep'", "active = false"):
            message = assert_refused(conn, f"UPDATE users SET {change} WHERE id = %s", (work.dana,))
            assert "their own role or activity" in message
        # Nobody's database role changes once the user is added: not their own, nor anyone's.
        for user in (work.dana, RITA):
            assert_refused(conn, "UPDATE users SET db_role = 'se_other' WHERE id = %s", (user,))
        # Their own name they may correct.
        assert changed(conn, "UPDATE users SET name = 'Dana R.' WHERE id = %s", (work.dana,)) == 1


def test_a_manager_never_touches_the_system_user_nor_makes_one(work: Work) -> None:
    with work.connect("dana") as conn:
        assert_no_rows_changed(conn, "UPDATE users SET name = 'Robot' WHERE role = 'system'")
        assert_refused(
            conn, "INSERT INTO users (login, name, role) VALUES ('bot2', 'Bot', 'system')"
        )
        assert_refused(conn, "UPDATE users SET role = 'system' WHERE id = %s", (RITA,))
        # A login is how the app and the SSH keys know a user: nobody renames it.
        assert_refused(conn, "UPDATE users SET login = 'rita2' WHERE id = %s", (RITA,))


def test_a_manager_adds_deactivates_and_changes_a_user(work: Work) -> None:
    with work.connect("dana") as conn:
        added = "INSERT INTO users (login, name, role) VALUES ('newbie', 'New Bie', 'rep')"
        assert changed(conn, added) == 1
        assert changed(conn, "UPDATE users SET active = false WHERE id = %s", (RITA,)) == 1
        assert changed(conn, "UPDATE users SET role = 'manager' WHERE id = %s", (RITA,)) == 1


# --- tasks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_every_person_reads_every_task(work: Work, login: str) -> None:
    with work.connect(login) as conn:
        assert one(conn, "SELECT count(*) FROM tasks") == work.count("tasks")


@pytest.mark.parametrize("login", ["sam", "tess"])
def test_a_rep_or_technician_creates_tasks_for_themselves_or_nobody_in_their_own_name(
    work: Work, login: str
) -> None:
    me = work.sam if login == "sam" else TESS
    with work.connect(login) as conn:
        assert_refused(conn, *_task_insert(work.customer, RITA, me))  # for someone else
        assert_refused(conn, *_task_insert(work.customer, me, work.dana))  # in someone's name
        assert_refused(
            conn,
            "INSERT INTO tasks (customer_id, title, due_at, assignee_id, created_by, updated_by, "
            "done_at, done_by) VALUES (%s, 'Done', now(), %s, %s, %s, now(), %s)",
            (work.customer, me, me, me, me),
        )
        assert changed(conn, *_task_insert(work.customer, None, me)) == 1
        assert changed(conn, *_task_insert(work.customer, me, me)) == 1


@pytest.mark.parametrize("login", ["sam", "tess"])
def test_a_rep_or_technician_never_changes_someone_elses_task(work: Work, login: str) -> None:
    me = work.sam if login == "sam" else TESS
    others = (T_RITA,) if login == "sam" else (T_RITA, T_SAM)
    with work.connect(login) as conn:
        for task in others:
            message = assert_refused(
                conn,
                "UPDATE tasks SET title = 'Mine now', updated_by = %s WHERE id = %s",
                (me, task),
            )
            assert "a rep works their own and unassigned tasks" in message
            assert_refused(  # taking it
                conn,
                "UPDATE tasks SET assignee_id = %s, updated_by = %s WHERE id = %s",
                (me, me, task),
            )
            assert_refused(  # completing it
                conn,
                "UPDATE tasks SET done_at = now(), done_by = %s, updated_by = %s WHERE id = %s",
                (me, me, task),
            )


def test_a_rep_gives_no_task_to_someone_else_and_changes_tasks_in_their_own_name(
    work: Work,
) -> None:
    sam = work.sam
    with work.connect("sam") as conn:
        for task in (T_SAM, T_NONE):
            assert_refused(
                conn,
                "UPDATE tasks SET assignee_id = %s, updated_by = %s WHERE id = %s",
                (RITA, sam, task),
            )
            assert_refused(conn, "UPDATE tasks SET title = 'x' WHERE id = %s", (task,))
            assert_refused(
                conn,
                "UPDATE tasks SET title = 'x', updated_by = %s WHERE id = %s",
                (work.dana, task),
            )
            assert_refused(  # completed "by" someone else
                conn,
                "UPDATE tasks SET done_at = now(), done_by = %s, updated_by = %s WHERE id = %s",
                (RITA, sam, task),
            )
        # Whose customer or deal a task is for, who created it: nobody changes them.
        for column, value in (("created_by", sam), ("customer_id", work.customer)):
            assert_refused(conn, f"UPDATE tasks SET {column} = %s WHERE id = %s", (value, T_SAM))


def test_a_rep_works_their_own_and_unassigned_tasks(work: Work) -> None:
    sam = work.sam
    complete = "UPDATE tasks SET done_at = now(), done_by = %s, updated_by = %s WHERE id = %s"
    with work.connect("sam") as conn:
        assert changed(conn, complete, (sam, sam, T_SAM)) == 1
        assert changed(conn, complete, (sam, sam, T_NONE)) == 1
        take = "UPDATE tasks SET assignee_id = %s, updated_by = %s WHERE id = %s"
        assert changed(conn, take, (sam, sam, T_NONE)) == 1
        assert changed(conn, take, (None, sam, T_SAM)) == 1  # given back
        reopen = "UPDATE tasks SET done_at = NULL, done_by = NULL, updated_by = %s WHERE id = %s"
        assert changed(conn, reopen, (sam, T_DONE)) == 1
        # The domain locks a task before it says whose it is: every task can be locked.
        locked = one(conn, "SELECT count(*) FROM (SELECT 1 FROM tasks FOR UPDATE) t")
        assert locked == work.count("tasks")


def test_a_rep_deletes_only_the_open_tasks_they_created(work: Work) -> None:
    with work.connect("sam") as conn:
        assert_no_rows_changed(conn, "DELETE FROM tasks WHERE id = %s", (T_SAM,))  # dana's
        assert_no_rows_changed(conn, "DELETE FROM tasks WHERE id = %s", (T_NONE,))
        assert_no_rows_changed(conn, "DELETE FROM tasks WHERE id = %s", (T_DONE,))  # done
        assert changed(conn, "DELETE FROM tasks WHERE id = %s", (T_RITA,)) == 1  # made by sam
    with work.connect("tess") as conn:
        assert_no_rows_changed(conn, "DELETE FROM tasks")


def test_a_manager_works_every_task_in_their_own_name(work: Work) -> None:
    dana = work.dana
    with work.connect("dana") as conn:
        assert_refused(conn, *_task_insert(work.customer, work.sam, work.sam))
        assert_refused(
            conn, "UPDATE tasks SET title = 'x', updated_by = %s WHERE id = %s", (RITA, T_RITA)
        )
        assert_refused(conn, "UPDATE tasks SET created_by = %s WHERE id = %s", (dana, T_RITA))
        assert_no_rows_changed(conn, "DELETE FROM tasks WHERE id = %s", (T_DONE,))
        assert changed(conn, *_task_insert(work.customer, RITA, dana)) == 1
        reassign = "UPDATE tasks SET assignee_id = %s, updated_by = %s WHERE id = %s"
        assert changed(conn, reassign, (work.sam, dana, T_RITA)) == 1
        assert changed(conn, "DELETE FROM tasks WHERE id = %s", (T_RITA,)) == 1


# --- notifications ------------------------------------------------------------------------------


@pytest.mark.parametrize(("login", "own"), [("sam", N_SAM), ("dana", N_DANA)])
def test_a_person_marks_only_their_own_notifications_read(
    work: Work, login: str, own: uuid.UUID
) -> None:
    with work.connect(login) as conn:
        assert_no_rows_changed(
            conn, "UPDATE notifications SET read_at = now() WHERE id = %s", (N_RITA,)
        )
        assert_no_rows_changed(
            conn, "UPDATE notifications SET read_at = now() WHERE id <> %s", (own,)
        )
        assert changed(conn, "UPDATE notifications SET read_at = now() WHERE id = %s", (own,)) == 1
        # Marking read is all: not what it says, nor whose it is.
        assert_refused(conn, "UPDATE notifications SET title = 'x' WHERE id = %s", (own,))
        assert_refused(conn, "UPDATE notifications SET user_id = %s WHERE id = %s", (RITA, own))


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_no_person_writes_or_deletes_a_notification(work: Work, login: str) -> None:
    with work.connect(login) as conn:
        assert_refused(
            conn,
            "INSERT INTO notifications (user_id, kind, title) VALUES (%s, 'test', 'Fake')",
            (RITA,),
        )
        assert_refused(conn, "DELETE FROM notifications")


def test_people_read_their_own_notifications_and_managers_everyones(work: Work) -> None:
    with work.connect("sam") as conn:
        assert one(conn, "SELECT array_agg(id) FROM notifications") == [N_SAM]
    with work.connect("tess") as conn:
        assert one(conn, "SELECT count(*) FROM notifications") == 0
    with work.connect("dana") as conn:
        assert one(conn, "SELECT count(*) FROM notifications") == work.count("notifications")


# --- saved segments -----------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["sam", "tess"])
def test_a_rep_or_technician_changes_only_their_own_saved_segments(work: Work, login: str) -> None:
    me = work.sam if login == "sam" else TESS
    theirs = (S_RITA, S_NONE) if login == "sam" else (S_RITA, S_NONE, S_SAM)
    with work.connect(login) as conn:
        # Everyone's, to use or copy.
        assert one(conn, "SELECT count(*) FROM segments") == work.count("segments")
        for segment in theirs:
            assert_refused(conn, "UPDATE segments SET name = 'Mine' WHERE id = %s", (segment,))
            assert_no_rows_changed(conn, "DELETE FROM segments WHERE id = %s", (segment,))
        insert = (
            "INSERT INTO segments (name, definition, created_by, owner_id) "
            "VALUES ('New', '{}', %s, %s)"
        )
        assert_refused(conn, insert, (me, RITA))  # saved as someone else's
        assert_refused(conn, insert, (me, None))  # nobody's: managers' alone
        assert_refused(conn, insert, (work.dana, me))
        assert changed(conn, insert, (me, me)) == 1


def test_the_owner_renames_changes_and_deletes_a_saved_segment_but_never_gives_it_away(
    work: Work,
) -> None:
    with work.connect("sam") as conn:
        assert_refused(conn, "UPDATE segments SET owner_id = NULL WHERE id = %s", (S_SAM,))
        assert_refused(conn, "UPDATE segments SET created_by = NULL WHERE id = %s", (S_SAM,))
        rename = "UPDATE segments SET name = 'Mine', definition = '{}' WHERE id = %s"
        assert changed(conn, rename, (S_SAM,)) == 1
        assert changed(conn, "DELETE FROM segments WHERE id = %s", (S_SAM,)) == 1
        # The domain locks a segment before it says whose it is: every one can be locked.
        locked = one(conn, "SELECT count(*) FROM (SELECT 1 FROM segments FOR UPDATE) s")
        assert locked == work.count("segments")


def test_a_manager_changes_every_saved_segment_but_saves_only_their_own(work: Work) -> None:
    with work.connect("dana") as conn:
        assert changed(conn, "UPDATE segments SET name = 'Renamed' WHERE id = %s", (S_RITA,)) == 1
        assert changed(conn, "DELETE FROM segments WHERE id = %s", (S_NONE,)) == 1
        assert_refused(conn, "UPDATE segments SET owner_id = %s WHERE id = %s", (work.dana, S_NONE))
        assert_refused(
            conn,
            "INSERT INTO segments (name, definition, created_by, owner_id) "
            "VALUES ('New', '{}', %s, %s)",
            (work.dana, work.sam),
        )


# --- blasts -------------------------------------------------------------------------------------

_BLAST = (
    "INSERT INTO blasts (content_key, definition, subject, body, created_by) "
    "VALUES ('new', '{}', 'Hi', 'Hello', %s)"
)


@pytest.mark.parametrize("login", ["sam", "tess"])
def test_only_managers_send_blasts_and_everyone_reads_them(work: Work, login: str) -> None:
    me = work.sam if login == "sam" else TESS
    with work.connect(login) as conn:
        # The segments screen lists the latest.
        assert one(conn, "SELECT count(*) FROM blasts") == work.count("blasts")
        assert_refused(conn, _BLAST, (me,))
        assert_refused(conn, _BLAST, (work.dana,))


@pytest.mark.parametrize("login", ["sam", "tess", "dana"])
def test_nobody_changes_or_deletes_a_blast(work: Work, login: str) -> None:
    with work.connect(login) as conn:
        assert_refused(conn, "UPDATE blasts SET recipients = 0")
        assert_refused(conn, "DELETE FROM blasts")


def test_a_manager_sends_a_blast_in_their_own_name(work: Work) -> None:
    with work.connect("dana") as conn:
        assert_refused(conn, _BLAST, (work.sam,))
        assert changed(conn, _BLAST, (work.dana,)) == 1


# --- no person here: a deactivated user's role, the jobs, the gateway ---------------------------


def test_a_deactivated_users_role_reads_and_writes_none_of_it(work: Work) -> None:
    with work.connect("olga") as conn:
        for table in ("tasks", "notifications", "segments", "blasts"):
            assert one(conn, f"SELECT count(*) FROM {table}") == 0
        assert_refused(conn, *_task_insert(work.customer, OLGA, OLGA))
        assert_no_rows_changed(conn, "UPDATE tasks SET title = 'x', updated_by = %s", (OLGA,))
        assert_refused(
            conn,
            "INSERT INTO segments (name, definition, created_by, owner_id) "
            "VALUES ('New', '{}', %s, %s)",
            (OLGA, OLGA),
        )
        assert_no_rows_changed(conn, "UPDATE users SET active = true WHERE id = %s", (OLGA,))


def test_the_jobs_write_no_users_segments_blasts_nor_change_peoples_tasks(work: Work) -> None:
    with work.connect(JOBS_ROLE) as conn:
        assert_refused(conn, "INSERT INTO users (login, name, role) VALUES ('bot', 'B', 'manager')")
        assert_no_rows_changed(conn, "UPDATE users SET active = false")
        assert_no_rows_changed(conn, "DELETE FROM users WHERE id = %s", (OLGA,))
        assert_refused(
            conn,
            "INSERT INTO segments (name, definition, owner_id) VALUES ('J', '{}', %s)",
            (work.sam,),
        )
        assert_no_rows_changed(conn, "UPDATE segments SET name = name || '!'")
        assert_no_rows_changed(conn, "DELETE FROM segments")
        assert_refused(conn, _BLAST, (work.dana,))
        assert_no_rows_changed(conn, "UPDATE blasts SET recipients = 0")
        assert_no_rows_changed(conn, "DELETE FROM blasts")
        # Tasks: the jobs only mark reminders; they make, give, finish and delete none.
        assert_refused(conn, *_task_insert(work.customer, work.sam, work.dana))
        for change in ("title = 'x'", "assignee_id = NULL", "done_at = now()"):
            assert_no_rows_changed(conn, f"UPDATE tasks SET {change}")
        assert_no_rows_changed(conn, "DELETE FROM tasks")
        # Notifications: written by the jobs, read and marked read by their person alone.
        assert_no_rows_changed(conn, "UPDATE notifications SET read_at = now()")
        assert_no_rows_changed(conn, "DELETE FROM notifications")


@pytest.mark.parametrize("table", ["users", "tasks", "notifications", "segments", "blasts"])
def test_the_gateway_itself_reads_and_writes_nothing(work: Work, table: str) -> None:
    with work.connect(GATEWAY_ROLE) as conn:
        assert_refused(conn, f"SELECT count(*) FROM {table}")
        assert_refused(conn, f"UPDATE {table} SET id = id")
        assert_refused(conn, f"DELETE FROM {table}")
    with work.connect(GATEWAY_ROLE) as conn:
        assert_refused(conn, "INSERT INTO users (login, name, role) VALUES ('gw', 'G', 'manager')")
        assert_refused(conn, _BLAST, (work.dana,))
