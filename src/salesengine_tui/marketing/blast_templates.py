"""A blast's email: the ready-made templates, the placeholders and their rendering in SQL.

Templates are rendered from literal parts (bound parameters) and placeholder columns, so the
preview and the queued emails come from the same expression and nothing a person types is
ever interpreted. An unknown placeholder is an error that names it and its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..base import validation
from ..base.errors import UserError
from ..base.settings import Settings
from ..customers.equipment import age_years_sql
from ..db.models import Customer, Equipment, User
from ..email.outbox import SUBJECT_MAX, campaign_footer, header_safe_sql

BODY_MAX = 20_000


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    body: str


TEMPLATES = (
    Template(
        "Replacement season",
        "{first_name}, is your {equipment_kind} ready for another year?",
        "Hi {first_name},\n\nYour {equipment_kind} is {equipment_age} years old. Units that age "
        "work harder and cost more to run. We would be glad to give you a free replacement "
        "quote, with no obligation.\n\nReply to this email or call us to book a visit.\n\n"
        "Thanks,\n{owner_name}\n",
    ),
    Template(
        "Tune-up reminder",
        "Time for a tune-up, {first_name}",
        "Hi {first_name},\n\nA yearly tune-up keeps your system efficient and catches small "
        "problems before they become big ones. Reply to this email to pick a time.\n\n"
        "Thanks,\n{owner_name}\n",
    ),
)


# --- placeholders ----------------------------------------------------------------------------


def _placeholders(now: datetime) -> dict[str, tuple[str, sa.ColumnElement[str]]]:
    """name -> (what it is, its SQL value for one customer)."""
    installed = (
        sa.select(sa.func.min(Equipment.installed_on))
        .where(Equipment.customer_id == Customer.id)
        .scalar_subquery()
    )
    age = age_years_sql(installed, now.date())
    kind = (
        sa.select(Equipment.kind)
        .where(Equipment.customer_id == Customer.id)
        .order_by(Equipment.installed_on, Equipment.id)
        .limit(1)
        .scalar_subquery()
    )
    owner = sa.select(User.name).where(User.id == Customer.owner_id).scalar_subquery()
    first = sa.func.split_part(sa.func.btrim(Customer.name), " ", 1)
    return {
        "first_name": (
            "the first word of the name",
            sa.func.coalesce(sa.func.nullif(first, ""), "there"),
        ),
        "name": ("the customer's name", Customer.name),
        "city": ("the city", sa.func.coalesce(Customer.city, "")),
        "equipment_age": (
            "the oldest unit's age in years",
            sa.func.coalesce(sa.cast(sa.cast(age, sa.Integer), sa.Text), "?"),
        ),
        "equipment_kind": (
            # Mid-sentence a plain word is lower-case ("your furnace", "your heat pump"); a
            # kind with an acronym stays as written ("your Central AC", not "central ac").
            "the oldest unit's kind",
            sa.func.coalesce(
                sa.func.nullif(
                    sa.case(
                        (kind.regexp_match("[A-Z]{2}"), sa.func.btrim(kind)),
                        else_=sa.func.lower(sa.func.btrim(kind)),
                    ),
                    "",
                ),
                "system",
            ),
        ),
        "owner_name": ("the customer's rep", sa.func.coalesce(owner, "The team")),
    }


PLACEHOLDER_NAMES = ("first_name", "name", "city", "equipment_age", "equipment_kind", "owner_name")
_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")


def _parts(template: str, where: str) -> list[str | tuple[str]]:
    """Literal text and ("placeholder",) parts; an unknown placeholder is an error naming it."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        name = m.group(1).strip()
        if name not in PLACEHOLDER_NAMES:
            line = template.count("\n", 0, m.start()) + 1
            raise UserError(
                f"unknown placeholder {m.group(0)!r} in the {where} (line {line}); "
                f"use {', '.join('{' + n + '}' for n in PLACEHOLDER_NAMES)}"
            )
        parts.append(template[pos : m.start()])
        parts.append((name,))
        pos = m.end()
    parts.append(template[pos:])
    return [p for p in parts if p != ""]


def _render(template: str, where: str, now: datetime) -> sa.ColumnElement[str]:
    values = _placeholders(now)
    pieces: list[sa.ColumnElement[str]] = []
    for part in _parts(template, where):
        if isinstance(part, tuple):
            # Control characters in a name never reach a header or the text.
            pieces.append(header_safe_sql(values[part[0]][1]))
        else:
            pieces.append(sa.literal(part, sa.Text))
    return sa.func.concat(*pieces) if pieces else sa.literal("", sa.Text)


def check_template(subject: str, body: str) -> None:
    if not subject.strip():
        raise UserError("the subject is empty")
    if "\n" in subject.strip() or "\r" in subject:
        raise UserError("the subject must be one line")
    if len(subject) > SUBJECT_MAX:
        raise UserError(f"the subject is too long ({SUBJECT_MAX} characters at most)")
    if not body.strip():
        raise UserError("the body is empty")
    if len(body) > BODY_MAX:
        raise UserError(f"the body is too long ({BODY_MAX:,} characters at most)")
    validation.refuse_controls(subject, "subject")
    validation.refuse_controls(body.replace("\r\n", "\n"), "body", multi_line=True)
    _parts(subject, "subject")
    _parts(body, "body")


def rendered(
    subject: str, body: str, now: datetime, settings: Settings
) -> tuple[sa.ColumnElement[str], sa.ColumnElement[str]]:
    """The subject (one clean header line) and the body with the compliance footer, its
    unsubscribe link a slot the sender fills (signed per customer on the send day, which SQL
    cannot sign: `email.compliance`)."""
    clean = sa.func.btrim(
        sa.func.regexp_replace(_render(subject, "subject", now), r"\s+", " ", "g")
    )
    text = sa.func.concat(
        sa.func.regexp_replace(_render(body, "body", now), r"\s+$", ""),
        sa.literal(campaign_footer(settings), sa.Text),
    )
    return sa.func.left(clean, SUBJECT_MAX).label("subject"), text.label("body")
