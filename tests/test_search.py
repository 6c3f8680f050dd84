"""Search that finds anything, against the real database: each kind found, phones in any
punctuation, the ranking, the limit, hostile and short input, the indexes each query uses,
and the inbox's status filter and phone rule."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from factories import FIXED_NOW, Desk, add_customer
from search_data import Found, seed_search
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from salesengine_tui.customers import leads
from salesengine_tui.db.models import CustomerStatus
from salesengine_tui.search import Hit, Kind, Why, read, search

TZ = ZoneInfo("America/Chicago")


@pytest.fixture
def found(engine: Engine, desk: Desk) -> Found:
    with Session(engine, expire_on_commit=False) as s:
        seeded = seed_search(s)
        s.commit()
    return seeded


@pytest.fixture
def session(engine: Engine, found: Found) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def names(hits: list[Hit], kind: Kind = Kind.customer) -> list[str]:
    return [h.title for h in hits if h.kind is kind]


def labels(hits: list[Hit]) -> list[tuple[str, str]]:
    return [(h.kind.value, h.label) for h in hits]


# --- each kind ---------------------------------------------------------------------------------


def test_customers_by_name_start_later_name_and_words_in_any_order(session: Session) -> None:
    assert names(search(session, "karen"))[:4] == [
        "Karen Smith",
        "Karen Smithers",
        "Karena Jones",
        "John Karensen",  # a later part of the name
    ]
    assert names(search(session, "KAREN SMITH")) == ["Karen Smith", "Karen Smithers"]
    assert names(search(session, "smith kar")) == ["Karen Smith", "Karen Smithers"]
    assert names(search(session, "kar smi")) == ["Karen Smith", "Karen Smithers"]
    assert "Bob O'Brien-Smith" in names(search(session, "smith"))
    assert names(search(session, "obrien")) == ["Bob O'Brien-Smith"]
    assert names(search(session, "o'brien")) == ["Bob O'Brien-Smith"]
    assert names(search(session, "zzqxv")) == []


def test_customers_by_email(session: Session) -> None:
    for typed in ("karen.smith42@gmail.com", "KAREN.SMITH42@GMAIL.COM", "karen.smith42@"):
        hits = search(session, typed)
        assert names(hits)[0] == "Karen Smith", typed
    assert names(search(session, "ksmithers")) == ["Karen Smithers"]  # the start of an address
    assert search(session, "karen.smith42@gmail.com")[0].why is Why.exact


@pytest.mark.parametrize(
    "typed",
    ["(972) 653-2552", "972-653-2552", "972.653.2552", "9726532552", "+1 972 653 2552",
     "1-972-653-2552", "6532552", "653-2552", "972 653"],
)  # fmt: skip
def test_a_phone_in_any_punctuation(session: Session, typed: str) -> None:
    assert "Karen Smith" in names(search(session, typed))


def test_a_phone_stored_with_punctuation(session: Session) -> None:
    for typed in ("2145550199", "+1 (214) 555-0199", "555-0199", "0199"):
        assert "Bob O'Brien-Smith" in names(search(session, typed)), typed


def test_deals_by_number_and_title(session: Session, found: Found) -> None:
    furnace = found.deals["Furnace replacement - 80k BTU"]
    for typed in ("#249", "249", " # 249 "):
        hits = search(session, typed)
        assert labels(hits)[0] == ("deal", "#249 Furnace replacement - 80k BTU"), typed
        assert hits[0].id == furnace.id and hits[0].customer_id == furnace.customer_id
    # Title words, newest (highest number) first.
    assert labels(search(session, "furnace")) == [
        ("deal", "#250 Two-stage furnace upgrade"),
        ("deal", "#249 Furnace replacement - 80k BTU"),
    ]
    assert names(search(session, "tankless wat"), Kind.deal) == ["Tankless water heater"]


def test_tickets_by_number(session: Session, found: Found) -> None:
    no_heat = found.tickets["No heat upstairs"]
    for typed in ("T-1234", "t1234", "T 1234", "#T-1234"):
        hits = search(session, typed)
        assert labels(hits) == [("ticket", "#1234 No heat upstairs")], typed  # tickets only
        assert hits[0].customer_id == no_heat.customer_id
    # A bare number is a deal and a ticket (and, with four digits, part of a phone).
    assert labels(search(session, "1234"))[:2] == [
        ("deal", "#1234 Replace 3-ton AC + coil"),
        ("ticket", "#1234 No heat upstairs"),
    ]
    assert search(session, "#1234")[1].state == "closed"


# --- ranking and limits --------------------------------------------------------------------------


def test_ranking_number_then_exact_then_starts_then_words(session: Session) -> None:
    hits = search(session, "karen smith")
    assert [(h.title, h.why) for h in hits] == [
        ("Karen Smith", Why.exact),
        ("Karen Smithers", Why.name_start),
    ]
    # A phone: the whole number first, then numbers starting with it, then ending with it.
    assert [(h.title, h.why) for h in search(session, "972-653-2552")] == [
        ("Karen Smith", Why.exact)
    ]
    ends = search(session, "2552")
    assert [h.why for h in ends] == sorted(h.why for h in ends)
    assert {"Karen Smith", "Zed Aardvark"} <= set(names(ends))
    # Each customer once, for its best reason.
    assert len({h.key for h in search(session, "smith")}) == len(search(session, "smith"))


def test_the_limit_holds_across_kinds(session: Session) -> None:
    assert len(search(session, "karen", limit=2)) == 2
    assert names(search(session, "karen", limit=2)) == ["Karen Smith", "Karen Smithers"]
    assert len(search(session, "1234", limit=1)) == 1
    assert search(session, "karen", limit=0) == []


# --- hostile and short input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["&", "|", "!", ":", "*", "(", ")", "'", "& | ! : * ( ) '", "karen:*", "!karen", "karen | x",
     "(karen", "karen'", "\\", "%", "_", "%_%", "\x1b[2J", "\x00", "'; DROP TABLE customers; --",
     "<b>karen</b>", "[bold]x[/]", "k" * 5000, "😀", "é", "#", "#-1", "T-", "99999999999999999999",
     "+", "()-", "@", "@@", ":*", "'':*"],
)  # fmt: skip
def test_hostile_text_is_just_text(session: Session, typed: str) -> None:
    hits = search(session, typed)  # no error, whatever was typed
    assert all(isinstance(h, Hit) for h in hits)
    assert session.execute(text("SELECT count(*) FROM customers")).scalar_one() > 0


def test_operators_around_words_still_find_the_words(session: Session) -> None:
    for typed in ("karen & smith", "karen | smith", "!karen smith", "karen:* smith:*", "(karen)"):
        assert names(search(session, typed))[0] == "Karen Smith", typed
    assert names(search(session, "karen\x1b[2J")) == []  # "2j" is a word nobody has


def test_empty_and_short_input(session: Session) -> None:
    for typed in ("", " ", "\t", "k", "é", "#"):
        assert search(session, typed) == [], repr(typed)
    assert read("7").number == 7  # one digit is a number: deal #7 or ticket #7
    assert labels(search(session, "77")) == [("deal", "#77 Tankless water heater")]
    assert read("99999999999999999999").number is None  # beyond bigint: no number


# --- the indexes ---------------------------------------------------------------------------------

EXPECTED_INDEXES = {
    "karen": {"ix_customers_name_lower", "ix_customers_name_rest", "ix_customers_email_lower"},
    "smith kar": {"ix_customers_name_words", "ix_estimates_title_words"},
    "972-653-2552": {"ix_customers_phone_key", "ix_customers_phone_key_reversed"},
    "#249": {"uq_estimates_number", "uq_tickets_number"},
}


@pytest.mark.parametrize("typed", sorted(EXPECTED_INDEXES))
def test_each_query_can_use_its_index(engine: Engine, found: Found, typed: str) -> None:
    """The query expressions are the index expressions (the same SQL functions): with only
    bitmap scans left to the planner (a table this small is otherwise read whole), each
    search statement's plan names its index."""
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as s:
            search(s, typed)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    used: set[str] = set()
    with engine.connect() as conn:
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            conn.exec_driver_sql(f"SET enable_{scan} = off")
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            used |= {index for index in _index_names(conn) if any(index in p for p in plan)}
    assert EXPECTED_INDEXES[typed] <= used


def _index_names(conn) -> list[str]:
    return list(conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars())


# --- the inbox: every customer, the same phone rule, next step from tasks -------------------------


def test_inbox_status_filter_lists_every_customer(session: Session, found: Found) -> None:
    by_status = {
        status: session.execute(
            text("SELECT count(*) FROM customers WHERE status = :s"), {"s": status.value}
        ).scalar_one()
        for status in CustomerStatus
    }
    for status in CustomerStatus:
        view = leads.LeadQuery(status=status)
        assert leads.lead_count(session, view) == by_status[status]
        page = leads.lead_page(session, view, limit=100)
        assert {row.status for row in page} == {status}
    everyone = leads.LeadQuery(status=None)
    assert leads.lead_count(session, everyone) == sum(by_status.values())
    page = leads.lead_page(session, everyone, limit=100)
    assert len(page) == sum(by_status.values())
    assert leads.lead_page(session, everyone, offset=3, limit=2) == page[3:5]
    order = list(CustomerStatus)  # leads, then active, then churned: each in the inbox order
    keys = [
        (
            order.index(r.status),
            r.last_interaction_at is not None,
            r.last_interaction_at or FIXED_NOW,
        )
        for r in page
    ]
    assert keys == sorted(keys)
    assert leads.LeadQuery() == leads.LeadQuery(status=CustomerStatus.lead)  # leads by default


def test_inbox_search_uses_the_search_phone_rule(session: Session, found: Found) -> None:
    everyone = leads.LeadQuery(status=None)
    for typed in ("(972) 653-2552", "+1 972 653 2552", "6532552", "2145550199"):
        view = leads.LeadQuery(status=None, text=typed)
        assert leads.lead_count(session, view) >= 1, typed
    view = leads.LeadQuery(status=None, text="(972) 653-2552")
    assert [r.name for r in leads.lead_page(session, view)] == ["Karen Smith"]
    assert leads.lead_count(session, everyone) > leads.lead_count(session, view)


def test_inbox_next_task_comes_from_tasks(session: Session, desk: Desk) -> None:
    """Hank's next step became an open task due in two days (factories): the inbox shows its
    title and due time, and "due today" does not count it; due within three days does."""
    rows = {r.name: r for r in leads.lead_page(session, leads.LeadQuery())}
    hank = rows["Hank Hill"]
    assert hank.next_task_title == "Follow up"
    assert hank.next_task_at is not None and (hank.next_task_at - FIXED_NOW).days == 2
    assert rows["Peggy Hill"].next_task_at is None
    today = leads.end_of_day(FIXED_NOW, TZ)
    assert leads.lead_count(session, leads.LeadQuery(due_before=today)) == 0
    soon = today + (hank.next_task_at - FIXED_NOW)
    assert [r.name for r in leads.lead_page(session, leads.LeadQuery(due_before=soon))] == [
        "Hank Hill"
    ]


def test_a_phone_with_an_extension_is_found_by_its_number(engine: Engine, found: Found) -> None:
    """Stored as E.164 with the extension apart (revision 0017): the number typed any way
    finds it, the extension does not get in the way, and the hit carries it to be shown."""
    with Session(engine) as s:
        add_customer(s, "Ext Eddie", n=95)
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE customers SET phone = '+14695550123', phone_ext = '12' "
                "WHERE name = 'Ext Eddie'"
            )
        )
    with Session(engine) as s:
        for typed in ("469-555", "(469) 555 0123", "469.555.0123", "+1 469 555 0123", "555-0123"):
            hits = [h for h in search(s, typed) if h.title == "Ext Eddie"]
            assert hits and (hits[0].phone, hits[0].phone_ext) == ("+14695550123", "12"), typed
        assert search(s, "(469) 555 0123")[0].why is Why.exact
        view = leads.LeadQuery(status=None, text="469-555")
        assert {r.name: r.phone_ext for r in leads.lead_page(s, view)}["Ext Eddie"] == "12"
