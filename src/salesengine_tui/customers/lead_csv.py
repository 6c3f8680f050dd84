"""Lead import from CSV and export to CSV. No Textual; the CLI drives it (`desk.leads`).

Import reads the whole file first: every row is validated (the same rules as the contact form),
duplicates are found (inside the file, and against existing customers by email or phone), and
then all good rows go in with one COPY inside one transaction, so a failure midway leaves
nothing half-imported. Problems are reported with the file's line numbers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from ..base.errors import NotFound, UserError
from ..db.models import Customer, CustomerStatus, User
from .profile import CONTACT_FIELDS, clean_contact

# Header spellings people use, mapped to our fields (compared lower-case, spaces and
# punctuation removed).
HEADERS = {
    "name": "name",
    "fullname": "name",
    "customer": "name",
    "customername": "name",
    "contact": "name",
    "contactname": "name",
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "cell": "phone",
    "telephone": "phone",
    "tel": "phone",
    "address": "address",
    "street": "address",
    "streetaddress": "address",
    "address1": "address",
    "city": "city",
    "town": "city",
    "state": "state",
    "province": "state",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "postalcode": "postal_code",
    "postcode": "postal_code",
    "source": "lead_source",
    "leadsource": "lead_source",
    "firstname": "first_name",
    "lastname": "last_name",
}
COPY_COLUMNS = (
    "name, email, phone, address, city, state, postal_code, lead_source, owner_id, status, "
    "created_at, updated_at"
)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass
class ImportReport:
    rows: int = 0  # data rows read
    imported: int = 0
    duplicates: list[Problem] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    dry_run: bool = False


def _key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def _open_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8 CSV and try again"
        ) from None


def read_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: value}) for each data row, headers mapped to our fields."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(
            "the file is empty (it needs a header row, e.g. name,email,phone)"
        ) from None
    fields = [HEADERS.get(_key(h)) for h in header]
    known = {f for f in fields if f}
    if "name" not in known and not {"first_name", "last_name"} & known:
        shown = ", ".join(repr(h) for h in header[:8]) or "none"
        raise UserError(
            f"no name column in the header (found {shown}); name one column 'name', "
            "or 'first name' and 'last name'"
        )
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines are not rows
        row: dict[str, str] = {}
        for name, value in zip(fields, values, strict=False):
            if name and value.strip() and name not in row:
                row[name] = value
        if "name" not in row and ("first_name" in row or "last_name" in row):
            row["name"] = f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()
        row.pop("first_name", None)
        row.pop("last_name", None)
        yield line, row


def import_leads(
    session: Session,
    path: Path,
    *,
    now: datetime,
    source: str | None = None,
    owner_login: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate, de-duplicate and import the leads in `path` in the caller's transaction."""
    owner_id = _owner(session, owner_login)
    report = ImportReport(dry_run=dry_run)
    good: list[tuple[int, dict[str, str | None]]] = []
    for line, row in read_rows(_open_text(path)):
        report.rows += 1
        row.setdefault("name", "")  # a blank name is an error, not a missing field
        if source and not row.get("lead_source"):
            row["lead_source"] = source
        try:
            good.append((line, clean_contact(dict(row))))  # type: ignore[arg-type]
        except UserError as error:
            report.invalid.append(Problem(line, str(error)))
        if progress and report.rows % 5000 == 0:
            progress("checking", report.rows, 0)
    good = _drop_duplicates(session, good, report)
    if good and not dry_run:
        _copy(session, good, owner_id, now, progress)
    report.imported = len(good)  # with dry_run: what would be imported
    return report


def _owner(session: Session, login: str | None) -> uuid.UUID | None:
    if login is None:
        return None
    found = session.execute(
        sa.select(User.id).where(User.login == login, User.active)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no active user with login {login!r} (see `salesengine users list`)")
    return found


def _array(values: set[str]) -> sa.BindParameter[list[str]]:
    # One array parameter: a 100,000-row file would overflow a parameter per value (65,535).
    return sa.bindparam(None, sorted(values), type_=ARRAY(sa.Text))


def _drop_duplicates(
    session: Session, rows: list[tuple[int, dict[str, str | None]]], report: ImportReport
) -> list[tuple[int, dict[str, str | None]]]:
    emails = {r["email"].lower() for _, r in rows if r.get("email")}  # type: ignore[union-attr]
    phones = {r["phone"] for _, r in rows if r.get("phone")}
    existing_email: dict[str, str] = {}
    existing_phone: dict[str, str] = {}
    if emails:
        for email, name in session.execute(
            sa.select(sa.func.lower(Customer.email), Customer.name).where(
                sa.func.lower(Customer.email) == sa.any_(_array(emails))
            )
        ):
            existing_email[email] = name
    if phones:
        for phone, name in session.execute(
            sa.select(Customer.phone, Customer.name).where(
                Customer.phone == sa.any_(_array(phones))
            )
        ):
            existing_phone[phone] = name
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    kept = []
    for line, row in rows:
        email = (row.get("email") or "").lower()
        phone = row.get("phone") or ""
        why = None
        if email and email in existing_email:
            why = f"same email as existing customer {existing_email[email]!r}"
        elif phone and phone in existing_phone:
            why = f"same phone as existing customer {existing_phone[phone]!r}"
        elif email and email in seen_email:
            why = f"same email as line {seen_email[email]}"
        elif phone and phone in seen_phone:
            why = f"same phone as line {seen_phone[phone]}"
        if why:
            report.duplicates.append(Problem(line, f"skipped: {why}"))
            continue
        if email:
            seen_email[email] = line
        if phone:
            seen_phone[phone] = line
        kept.append((line, row))
    return kept


def _copy(
    session: Session,
    rows: list[tuple[int, dict[str, str | None]]],
    owner_id: uuid.UUID | None,
    now: datetime,
    progress: Progress | None,
) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    sent = 0
    try:
        with cursor.copy(f"COPY customers ({COPY_COLUMNS}) FROM STDIN") as copy:
            for _, r in rows:
                copy.write_row(
                    (
                        r["name"],
                        r.get("email"),
                        r.get("phone"),
                        r.get("address"),
                        r.get("city"),
                        r.get("state"),
                        r.get("postal_code"),
                        r.get("lead_source"),
                        owner_id,
                        CustomerStatus.lead.value,
                        now,
                        now,
                    )
                )
                sent += 1
                if progress and sent % 5000 == 0:
                    progress("importing", sent, len(rows))
    except psycopg.Error as exc:
        # Refused while sending (psycopg) or by the server (its context names the COPY line):
        # either way, point at the file's line. The caller's transaction rolls back.
        index = sent
        context = getattr(exc.diag, "context", None) or ""
        if "line " in context:
            with contextlib.suppress(ValueError):
                index = int(context.rsplit("line ", 1)[1].split(",")[0].split()[0]) - 1
        where = f"line {rows[index][0]}: " if 0 <= index < len(rows) else ""
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(
            f"{where}the database refused the import ({detail}); nothing was imported"
        ) from None
    if progress:
        progress("importing", len(rows), len(rows))


# --- export --------------------------------------------------------------------------------

EXPORT_HEADER = (*CONTACT_FIELDS, "status", "owner", "created_at")


def _cell(value: object) -> str:
    """A cell that spreadsheet programs will not run: text starting with = + - @ gets a '."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
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
