"""What the upsell sync tells people, set-based: each new opportunity to every active manager
(a notification and an email) and to its owner when the owner is a rep (a notification); a
backfill's one summary per manager. Text copied from the operations platform is cleaned here
(`base.validation`'s unsafe characters become a space).

A close of the last day says "just flagged"; an older one (the runner was down) says when it
closed; history never gets one of these: a backfill's summary counts what it made and says since
when."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert

from ..base.validation import UNSAFE_SQL_PATTERN, email_sql
from ..db.models import User, UserRole
from .notices import notify_statement

RECENT = timedelta(days=1)  # a close this recent was "just" flagged

# Each new opportunity with what people are told about it.
_FLAGS = """
SELECT e.id AS estimate_id, e.customer_id, e.owner_id, t.number AS ticket,
       coalesce(tech.name, 'A technician') AS tech,
       CASE WHEN t.closed_at >= CAST(:recent AS timestamptz) THEN 'just flagged'
            ELSE 'flagged' END AS verb,
       CASE WHEN t.closed_at >= CAST(:recent AS timestamptz) THEN ''
            ELSE ' on ' || to_char(t.closed_at AT TIME ZONE CAST(:tz AS text), 'FMMon FMDD, YYYY')
       END AS closed_on,
       coalesce(nullif(concat_ws(', ', c.address, c.city), ''), c.name) AS place,
       c.name AS customer_name,
       CASE WHEN owner.id IS NULL THEN 'unassigned (the customer has no active owner)'
            WHEN owner.role = 'rep'
                THEN 'assigned to ' || owner.name || ' (the customer''s owner, told too)'
            ELSE 'assigned to ' || owner.name || ' (the customer''s owner)'
       END AS assigned,
       CASE WHEN e.amount_estimated
                THEN 'estimated at ' || to_char(e.amount, 'FM$999,999,999,990.00')
                     || ' (the median won value for this equipment over the last 365 days)'
            ELSE '$0.00 until someone sets its value (no deal for this equipment won in the '
                 || 'last 365 days)'
       END AS valued
FROM estimates e
JOIN tickets t ON t.id = e.source_ticket_id
JOIN (SELECT id, btrim(regexp_replace(name, :unsafe, ' ', 'g')) AS name,
             btrim(regexp_replace(address, :unsafe, ' ', 'g')) AS address,
             btrim(regexp_replace(city, :unsafe, ' ', 'g')) AS city
      FROM customers) c ON c.id = e.customer_id
LEFT JOIN (SELECT id, btrim(regexp_replace(name, :unsafe, ' ', 'g')) AS name FROM users) tech
       ON tech.id = t.technician_id
LEFT JOIN (SELECT id, role, btrim(regexp_replace(name, :unsafe, ' ', 'g')) AS name FROM users)
       owner ON owner.id = e.owner_id
WHERE e.id = ANY(CAST(:ids AS uuid[]))
"""


def _flags(ids: list[object], now: datetime, tz: ZoneInfo) -> sa.Subquery:
    return (
        sa.text(_FLAGS)
        .bindparams(ids=ids, unsafe=UNSAFE_SQL_PATTERN, recent=now - RECENT, tz=str(tz))
        .columns(
            estimate_id=sa.Uuid,
            customer_id=sa.Uuid,
            owner_id=sa.Uuid,
            ticket=sa.Integer,
            tech=sa.Text,
            verb=sa.Text,
            closed_on=sa.Text,
            place=sa.Text,
            customer_name=sa.Text,
            assigned=sa.Text,
            valued=sa.Text,
        )
        .subquery("flags")
    )


def _managers() -> sa.Select:
    return sa.select(User.id, User.email, User.name).where(
        User.active, User.role == UserRole.manager
    )


def _flagged(flags: sa.Subquery) -> sa.ColumnElement[str]:
    """`Tech John just flagged a system for replacement at 12 Oak Ln, Dallas` (or `Tech John
    flagged ... at 12 Oak Ln, Dallas on Nov 3, 2026`)."""
    return (
        "Tech "
        + flags.c.tech
        + " "
        + flags.c.verb
        + " a system for replacement at "
        + flags.c.place
        + flags.c.closed_on
    )


def _detail(flags: sa.Subquery) -> sa.ColumnElement[str]:
    """Ticket #12 closed as end of life. A replacement opportunity ... (owner, value)."""
    return (
        "Ticket #"
        + sa.cast(flags.c.ticket, sa.Text)
        + " closed as end of life. A replacement opportunity for "
        + flags.c.customer_name
        + " is in the first stage of the pipeline, "
        + flags.c.assigned
        + ", "
        + flags.c.valued
        + "."
    )


def _key(flags: sa.Subquery, user_id: sa.ColumnElement[object]) -> sa.ColumnElement[str]:
    """`upsell:<estimate>:<user>`: once per opportunity and person."""
    return "upsell:" + sa.cast(flags.c.estimate_id, sa.Text) + ":" + sa.cast(user_id, sa.Text)


def _notices(
    flags: sa.Subquery,
    user_id: sa.ColumnElement[object],
    title: sa.ColumnElement[str],
    now: datetime,
) -> sa.Select:
    return sa.select(
        user_id,
        sa.literal("upsell", sa.Text),
        title,
        _detail(flags),
        flags.c.customer_id,
        flags.c.estimate_id,
        _key(flags, user_id),
        sa.literal(now, sa.DateTime(timezone=True)),
    )


def to_managers(ids: list[object], now: datetime, tz: ZoneInfo) -> Insert:
    """A notification to every active manager about each new opportunity."""
    flags, managers = _flags(ids, now, tz), _managers().subquery("managers")
    notices = _notices(flags, managers.c.id, _flagged(flags) + ".", now)
    return notify_statement(notices.select_from(flags.join(managers, sa.true())))


def to_owner_reps(ids: list[object], now: datetime, tz: ZoneInfo) -> Insert:
    """A notification to the owner of each new opportunity who is a rep (the owner is set
    only when active; a manager owner hears of it with the managers)."""
    flags = _flags(ids, now, tz)
    reps = sa.select(User.id).where(User.role == UserRole.rep).subquery("reps")
    title = _flagged(flags) + ": the opportunity is yours."
    notices = _notices(flags, reps.c.id, title, now)
    return notify_statement(notices.select_from(flags.join(reps, reps.c.id == flags.c.owner_id)))


def manager_emails(ids: list[object], now: datetime, tz: ZoneInfo) -> sa.Select:
    """The same news by email, to every active manager whose address can be emailed."""
    flags = _flags(ids, now, tz)
    managers = _managers().where(email_sql(User.email)).subquery("managers")
    return sa.select(
        _key(flags, managers.c.id).label("idempotency_key"),
        managers.c.email.label("to_email"),
        managers.c.name.label("to_name"),
        ("Replacement lead: " + flags.c.customer_name).label("subject"),
        (
            _flagged(flags)
            + ".\n\n"
            + _detail(flags)
            + "\n\nThe replacement opportunity is in SalesEngine.\n"
        ).label("body_text"),
    ).select_from(flags.join(managers, sa.true()))


def summary_title(count: int, since: date) -> str:
    noun = "opportunity" if count == 1 else "opportunities"
    return f"{count:,} replacement {noun} from tickets closed since {since.isoformat()}"


def backfill_summary(count: int, since: date, now: datetime) -> Insert:
    """One notification per active manager: how many opportunities a backfill made. The
    dedupe key names the date, so running the same backfill again tells nobody twice."""
    managers = _managers().subquery("managers")
    body = (
        "End-of-life tickets closed before the upsell loop was switched on are now "
        "replacement opportunities in the first stage of the pipeline, each assigned to its "
        "customer's owner where there is one. No email was sent for them."
    )
    notices = sa.select(
        managers.c.id,
        sa.literal("upsell", sa.Text),
        sa.literal(summary_title(count, since), sa.Text),
        sa.literal(body, sa.Text),
        sa.null(),
        sa.null(),
        f"upsell:backfill:{since.isoformat()}:" + sa.cast(managers.c.id, sa.Text),
        sa.literal(now, sa.DateTime(timezone=True)),
    ).select_from(managers)
    return notify_statement(notices)
