"""Reading a leads CSV file as a stream: bounded memory whatever the file holds.

The file is read a line at a time (a line is at most `LINE_MAX` bytes, the file at most the
caller's byte limit), decoded as UTF-8 line by line (an error names the line), and parsed by
the csv module. Each record comes with the line it starts on and the line it ends on, or with
the csv module's complaint about it (a field over its size limit): a row error, not a crash.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..base.errors import UserError

LINE_MAX = 1_000_000  # bytes in one line of the file

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
    # an extension in a column of its own (our export writes one): joined to the phone
    "ext": "phone_ext",
    "extension": "phone_ext",
    "phoneext": "phone_ext",
    "phoneextension": "phone_ext",
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
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # old Mac files end lines with CR alone


@dataclass(frozen=True)
class Record:
    line: int  # where the row starts in the file
    end: int  # where it ends (later than `line` when a quoted field spans lines)
    row: dict[str, str]  # our field -> value as written
    error: str | None = None  # the csv module could not read it


def _key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def _mb(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def lines(raw: BinaryIO, path: Path, *, max_bytes: int) -> Iterator[str]:
    """The file's lines as text, keeping their line endings (what csv.reader wants)."""
    number = 0
    read = 0
    while chunk := raw.readline(LINE_MAX + 1):
        read += len(chunk)
        if read > max_bytes:
            raise UserError(
                f"{path}: the file is larger than {_mb(max_bytes)}, the import limit "
                "(setting leads_import_max_mb); split it or raise the limit"
            )
        if len(chunk) > LINE_MAX and not chunk.endswith(b"\n"):
            raise UserError(
                f"{path}: line {number + 1} is longer than {_mb(LINE_MAX)}; is this a CSV file?"
            )
        try:
            text = chunk.decode("utf-8-sig" if number == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path}: line {number + 1} is not UTF-8 text (byte 0x{chunk[exc.start]:02x}); "
                "save the file as UTF-8 CSV and try again"
            ) from None
        for part in _LONE_CR.split(text) if "\r" in text else (text,):
            if part:
                number += 1
                yield part


def records(text_lines: Iterator[str]) -> Iterator[Record]:
    """Each data row with its lines, headers mapped to our fields; blank rows are skipped."""
    reader = csv.reader(text_lines)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(
            "the file is empty (it needs a header row, e.g. name,email,phone)"
        ) from None
    except csv.Error as exc:
        raise UserError(f"line 1: the header row cannot be read as CSV ({exc})") from None
    fields = [HEADERS.get(_key(h)) for h in header]
    known = {f for f in fields if f}
    if "name" not in known and not {"first_name", "last_name"} & known:
        shown = ", ".join(repr(h) for h in header[:8]) or "none"
        raise UserError(
            f"no name column in the header (found {shown}); name one column 'name', "
            "or 'first name' and 'last name'"
        )
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(start, reader.line_num, {}, _csv_problem(exc))
            continue
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
        if "phone_ext" in row:  # the phone rules read "… ext 12" (`customers.phones`)
            row["phone"] = f"{row.get('phone', '')} ext {row.pop('phone_ext').strip()}"
        yield Record(start, reader.line_num, row)


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a field is longer than {csv.field_size_limit():,} characters "
            "(a quote left open?); row skipped"
        )
    return f"cannot be read as CSV ({exc}); row skipped"
