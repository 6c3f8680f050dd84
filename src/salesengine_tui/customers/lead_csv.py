"""Lead import from CSV and export to CSV. No Textual; the CLI drives it (`desk.leads`).

Import streams the file (`csv_rows`: bounded memory, a size limit): every row is validated as
it is read (the same rules as the contact form) and the good ones go into a temporary table
with COPY, which runs the database's own checks on each row (a refusal names the file's
line). Duplicates are then found in SQL (inside the file, and against existing customers by
email or phone), and the rest go into `customers` with one statement, all inside the caller's
transaction: a failure midway leaves nothing half-imported. A dry run does exactly the same
inside a savepoint it rolls back, so it refuses what the import refuses. Problems are reported
with the file's line numbers.
"""

from __future__ import annotations

import contextlib
import csv
import re
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

import psycopg
import sqlalchemy as sa
from sqlmodel import Session

from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import Customer, CustomerStatus, User
from .csv_rows import Record, lines, records
from .phones import DEFAULT_REGION
from .profile import CONTACT_FIELDS, CONTACT_MAX, clean_contact

MAX_BYTES = 50_000_000  # the default of the setting leads_import_max_mb
MAX_ROWS = 1_000_000
PROBLEMS_KEPT = 1000  # of each kind, first lines first; the rest are counted
COPY_COLUMNS = (
    "name, email, phone, phone_ext, address, city, state, postal_code, lead_source, owner_id, "
    "status, created_at, updated_at"
)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass
class ImportReport:
    rows: int = 0  # data rows read
    imported: int = 0  # with dry_run: what would be imported
    duplicates: list[Problem] = field(default_factory=list)  # the first PROBLEMS_KEPT
    invalid: list[Problem] = field(default_factory=list)  # the first PROBLEMS_KEPT
    duplicate_count: int = 0
    invalid_count: int = 0
    dry_run: bool = False

    def refuse(self, line: int, message: str) -> None:
        self.invalid_count += 1
        if len(self.invalid) < PROBLEMS_KEPT:
            self.invalid.append(Problem(line, message))


def import_leads(
    session: Session,
    path: Path,
    *,
    now: datetime,
    source: str | None = None,
    owner_login: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    region: str = DEFAULT_REGION,
) -> ImportReport:
    """Validate, de-duplicate and import the leads in `path` in the caller's transaction;
    phones without a country code are read in `region`'s."""
    source = validation.one_line_text(source, "--source", max_len=CONTACT_MAX)
    owner_id = _owner(session, owner_login)
    report = ImportReport(dry_run=dry_run)
    savepoint = session.begin_nested() if dry_run else None
    try:
        with _opened(path) as raw:
            rows = records(lines(raw, path, max_bytes=max_bytes))
            _stage(session, rows, source, region, report, progress)
        _mark_duplicates(session, report)
        report.imported = _insert(session, owner_id, now)
        if progress:
            progress("importing", report.imported, report.imported)
    finally:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
    return report


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    with raw:
        yield raw


def _owner(session: Session, login: str | None) -> uuid.UUID | None:
    if login is None:
        return None
    found = session.execute(
        sa.select(User.id).where(User.login == login, User.active)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no active user with login {login!r} (see `salesengine users list`)")
    return found


_STORED = (*CONTACT_FIELDS, "phone_ext")  # what `clean_contact` gives
_STAGED = ("line", *_STORED)


def _cleaned(record: Record, source: str | None, region: str) -> dict[str, str | None]:
    """The row as `customers` takes it; UserError says what is wrong (and where)."""
    if record.error:
        raise UserError(record.error)
    row: dict[str, str | None] = {"name": "", **record.row}  # a blank name is an error
    if source and not row.get("lead_source"):
        row["lead_source"] = source
    try:
        return clean_contact(row, region=region)
    except UserError as error:
        if record.end > record.line:
            raise UserError(
                f"{error} (the row runs from line {record.line} to {record.end}: "
                "a quote left open?)"
            ) from None
        raise


def _stage(
    session: Session,
    rows: Iterator[Record],
    source: str | None,
    region: str,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    """Every good row into the temporary table `lead_import` (the database checks each);
    bad rows are counted as problems."""
    session.execute(
        sa.text(
            "CREATE TEMP TABLE lead_import (LIKE customers INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS) ON COMMIT DROP"
        )
    )
    session.execute(
        sa.text(
            "ALTER TABLE lead_import ADD COLUMN line integer, ADD COLUMN why text, "
            "ADD COLUMN what text"
        )
    )
    staged = array("L")  # the file line of each COPY line, to name it when one is refused
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(_STAGED)
    try:
        with cursor.copy(f"COPY lead_import ({columns}) FROM STDIN") as copy:
            for record in rows:
                report.rows += 1
                if report.rows > MAX_ROWS:
                    raise UserError(f"the file has more than {MAX_ROWS:,} rows; split it")
                if progress and report.rows % 5000 == 0:
                    progress("checking", report.rows, 0)
                try:
                    row = _cleaned(record, source, region)
                except UserError as error:
                    report.refuse(record.line, str(error))
                    continue
                copy.write_row((record.line, *(row.get(f) for f in _STORED)))
                staged.append(record.line)
    except psycopg.Error as exc:
        # Refused while sending (psycopg) or by the server (its context names the COPY line):
        # either way, point at the file's line. The caller's transaction rolls back.
        context = re.match(r"COPY \w+, line (\d+)", getattr(exc.diag, "context", None) or "")
        index = int(context.group(1)) - 1 if context else len(staged) - 1
        where = f"line {staged[index]}: " if 0 <= index < len(staged) else ""
        raise _refused(exc, where) from None


def _refused(exc: psycopg.Error | sa.exc.DBAPIError, where: str = "") -> UserError:
    orig = getattr(exc, "orig", None) or exc
    detail = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return UserError(f"{where}the database refused the import ({detail}); nothing was imported")


# Why a staged row is skipped, set in one statement: first the existing customers (by email,
# then phone), then an earlier row of the file with the same email, then the same phone. The
# same phone is the same number and extension, both as `clean_contact` stores them (E.164):
# "(972) 653-2552" and "+1 972.653.2552" are one phone, its "ext 12" another.
_DUPLICATES = """
WITH known AS (
    SELECT s.line,
           (SELECT c.name FROM customers c WHERE lower(c.email) = lower(s.email)
            ORDER BY c.created_at, c.id LIMIT 1) AS by_email,
           (SELECT c.name FROM customers c
            WHERE c.phone = s.phone AND c.phone_ext IS NOT DISTINCT FROM s.phone_ext
            ORDER BY c.created_at, c.id LIMIT 1) AS by_phone
    FROM lead_import s
), fresh AS (
    SELECT s.line,
           CASE WHEN s.email IS NOT NULL
                THEN min(s.line) OVER (PARTITION BY lower(s.email)) END AS email_first,
           CASE WHEN s.phone IS NOT NULL
                THEN min(s.line) OVER (PARTITION BY s.phone, s.phone_ext) END AS phone_first
    FROM lead_import s JOIN known k USING (line)
    WHERE k.by_email IS NULL AND k.by_phone IS NULL
), reasons AS (
    SELECT k.line,
           CASE WHEN k.by_email IS NOT NULL THEN 'email customer'
                WHEN k.by_phone IS NOT NULL THEN 'phone customer'
                WHEN f.email_first < k.line THEN 'email line'
                WHEN f.phone_first < k.line THEN 'phone line' END AS why,
           CASE WHEN k.by_email IS NOT NULL THEN k.by_email
                WHEN k.by_phone IS NOT NULL THEN k.by_phone
                WHEN f.email_first < k.line THEN f.email_first::text
                ELSE f.phone_first::text END AS what
    FROM known k LEFT JOIN fresh f USING (line)
)
UPDATE lead_import s SET why = w.why, what = w.what
FROM reasons w WHERE w.line = s.line AND w.why IS NOT NULL
"""
_REASONS = {
    "email customer": "same email as existing customer {!r}",
    "phone customer": "same phone as existing customer {!r}",
    "email line": "same email as line {}",
    "phone line": "same phone as line {}",
}


def _mark_duplicates(session: Session, report: ImportReport) -> None:
    report.duplicate_count = session.execute(sa.text(_DUPLICATES)).rowcount
    for line, why, what in session.execute(
        sa.text(
            "SELECT line, why, what FROM lead_import WHERE why IS NOT NULL ORDER BY line LIMIT :n"
        ),
        {"n": PROBLEMS_KEPT},
    ):
        report.duplicates.append(Problem(line, "skipped: " + _REASONS[why].format(what)))


def _insert(session: Session, owner_id: uuid.UUID | None, now: datetime) -> int:
    """The staged rows that are not duplicates, into `customers`, in the file's order."""
    try:
        inserted = session.execute(
            sa.text(
                f"INSERT INTO customers ({COPY_COLUMNS}) "
                "SELECT name, email, phone, phone_ext, address, city, state, postal_code, "
                "lead_source, "
                "CAST(:owner AS uuid), CAST(:status AS customer_status), :now, :now "
                "FROM lead_import WHERE why IS NULL ORDER BY line"
            ),
            {"owner": owner_id, "status": CustomerStatus.lead.value, "now": now},
        ).rowcount
    except sa.exc.DBAPIError as exc:
        raise _refused(exc) from None
    session.execute(sa.text("DROP TABLE lead_import"))
    return inserted


# --- export --------------------------------------------------------------------------------

# The phone as stored: E.164, then its extension (an import reads both back).
_PHONE_AT = CONTACT_FIELDS.index("phone") + 1
EXPORT_HEADER = (
    *CONTACT_FIELDS[:_PHONE_AT],
    "phone_ext",
    *CONTACT_FIELDS[_PHONE_AT:],
    "status",
    "owner",
    "created_at",
)


def _cell(value: object) -> str:
    """A cell that spreadsheet programs will not run: text starting with = + - @ gets a '.
    Control characters (from data stored before they were refused, or written by another
    system) are written as visible stand-ins, never as raw bytes."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else validation.printable(str(value))
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_phone(text):
        return "'" + text
    return text


def _is_phone(text: str) -> bool:
    return text.startswith("+") and text[1:].isdigit()


def export_customers(
    session: Session,
    out: TextIO,
    *,
    status: CustomerStatus | None = None,
    where: sa.ColumnElement[bool] | None = None,
) -> int:
    """Write customers (all, one status, or a segment's `where`) as CSV to `out`, streamed;
    returns the count."""
    owner = sa.orm.aliased(User)
    stmt = (
        sa.select(
            Customer.name,
            Customer.email,
            Customer.phone,
            Customer.phone_ext,
            Customer.address,
            Customer.city,
            Customer.state,
            Customer.postal_code,
            Customer.lead_source,
            sa.cast(Customer.status, sa.Text),
            owner.login,
            Customer.created_at,
        )
        .outerjoin(owner, owner.id == Customer.owner_id)
        .order_by(Customer.created_at, Customer.id)
        .execution_options(yield_per=5000)
    )
    if status is not None:
        stmt = stmt.where(Customer.status == status)
    if where is not None:
        stmt = stmt.where(where)
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    count = 0
    for row in session.execute(stmt):
        writer.writerow([_cell(v) for v in row])
        count += 1
    return count
