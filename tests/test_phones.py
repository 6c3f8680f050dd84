"""Phone numbers: what people type read as E.164 with the extension apart (and garbage refused
naming the field), shown in national format everywhere; migration 0017 on old-format data and
back; a contact edit, the duplicate check and the screens that show a number, through Pilot."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from factories import Desk, add_customer, app_context
from pilot_helpers import settle
from rich.console import Console
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_customer_app import open_hank
from test_leads_app import customer
from textual.widgets import Static

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.customers.phones import Phone, parse_phone, phone_display
from salesengine_tui.customers.profile import clean_contact
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.screens.contact_form import ContactForm
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.usecases import Desk as AppDesk
from salesengine_tui.widgets.leads_table import LeadsTable

KAREN = "+19726532552"

# --- reading what people type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number", "ext"),
    [
        ("(972) 653-2552", KAREN, None),
        ("972-653-2552", KAREN, None),
        ("972.653.2552", KAREN, None),
        ("9726532552", KAREN, None),
        ("1 972 653 2552", KAREN, None),
        ("+1 (972) 653-2552", KAREN, None),
        ("  972 653 2552  ", KAREN, None),
        ("972.653.2552 ext 12", KAREN, "12"),
        ("972.653.2552 ext. 12", KAREN, "12"),
        ("972-653-2552 extension 12", KAREN, "12"),
        ("+1 972 653 2552 x12", KAREN, "12"),
        ("972 653 2552 X 12", KAREN, "12"),
        ("9726532552#12", KAREN, "12"),
        ("tel:+1-972-653-2552;ext=12", KAREN, "12"),
        ("(972) 653-2552 ext. 12", KAREN, "12"),  # what the screens show reads back the same
        ("+44 20 7123 4567", "+442071234567", None),
        ("+44 20 7123 4567 ext 3", "+442071234567", "3"),
    ],
)
def test_what_people_type_is_read_as_e164_and_extension(
    typed: str, number: str, ext: str | None
) -> None:
    assert parse_phone(typed) == Phone(number, ext)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("call me", "phone 'call me' is not a phone number"),
        ("1-800-FLOWERS", "is not a phone number"),
        ("972 653 2552 ext abc", "is not a phone number"),
        ("555-0101", "is not a valid phone number (the area code is missing?)"),
        ("12345", "is not a valid phone number"),
        ("000-000-0000", "is not a valid phone number"),
        ("123456789012345678", "is not a valid phone number (check the digits)"),
        ("972 653 2552 x123456789", "the extension '123456789' is longer than 8 digits"),
        ("+", "is not a phone number"),
    ],
)
def test_garbage_is_refused_naming_the_field(typed: str, message: str) -> None:
    with pytest.raises(UserError, match=r"^mobile") as refused:
        parse_phone(typed, "mobile")
    assert message.replace("phone 'call me'", "mobile 'call me'") in str(refused.value)


def test_blank_is_no_number_and_the_region_reads_national_numbers() -> None:
    assert parse_phone("") is None and parse_phone("   ") is None and parse_phone(None) is None
    assert parse_phone("020 7123 4567", region="GB") == Phone("+442071234567")
    with pytest.raises(UserError):
        parse_phone("020 7123 4567")  # not a US number


def test_the_contact_rules_store_number_and_extension_apart() -> None:
    assert clean_contact({"phone": "972.653.2552 ext 12"}) == {"phone": KAREN, "phone_ext": "12"}
    assert clean_contact({"phone": ""}) == {"phone": None, "phone_ext": None}
    with pytest.raises(UserError, match=r"^phone 'not a phone'"):
        clean_contact({"phone": "not a phone"})


@pytest.mark.parametrize(
    ("number", "ext", "shown"),
    [
        (KAREN, None, "(972) 653-2552"),
        (KAREN, "12", "(972) 653-2552 ext. 12"),
        ("+442071234567", None, "+44 20 7123 4567"),  # another country: international
        ("+442071234567", "3", "+44 20 7123 4567 ext. 3"),
        ("+12125550199", None, "(212) 555-0199"),
        ("555-0101", None, "555-0101"),  # stored before revision 0017, unreadable: as stored
        ("972653255212", None, "972653255212"),
        ("555-0101", "7", "555-0101 ext. 7"),
        (None, None, None),
        ("", None, None),
    ],
)
def test_shown_in_national_format(number: str | None, ext: str | None, shown: str | None) -> None:
    assert phone_display(number, ext) == shown


def test_shown_nationally_for_the_region_given() -> None:
    assert phone_display("+442071234567", region="GB") == "020 7123 4567"
    assert phone_display(KAREN, region="GB") == "+1 972-653-2552"


# --- revision 0017 on old-format data ------------------------------------------------------------

BEFORE = "0016_drop_next_step"
PHONES = "0017_phones_initials"

OLD_PHONES = {
    "Paren Pat": ("(972) 653-2552", KAREN, None),
    "Dotted Dot": ("972.653.2552 ext 12", KAREN, "12"),
    "Plus Pam": ("+1 972 653 2552 x12", KAREN, "12"),
    "Hash Hal": ("9726532552#12", KAREN, "12"),
    "Stored Stu": (KAREN, KAREN, None),
    "Local Lou": ("555-0101", "555-0101", None),  # no area code: left as it was
    "Glued Gus": ("972653255212", "972653255212", None),  # the old rule glued an extension on
    "Words Wes": ("call the office", "call the office", None),
    "None Nan": (None, None, None),
}


@pytest.fixture
def bare_engine(empty_db_url: URL) -> Iterator[Engine]:
    eng = make_engine(empty_db_url)
    yield eng
    eng.dispose()


def test_migration_normalises_old_phones_and_the_downgrade_joins_them_back(
    bare_engine: Engine,
) -> None:
    migrate.upgrade(bare_engine, BEFORE)
    with bare_engine.begin() as conn:
        for name, (old, _, _) in OLD_PHONES.items():
            conn.execute(
                text("INSERT INTO customers (name, phone) VALUES (:name, :phone)"),
                {"name": name, "phone": old},
            )

    migrate.upgrade(bare_engine, PHONES)

    with bare_engine.connect() as conn:
        stored = {
            r.name: (r.phone, r.phone_ext)
            for r in conn.execute(text("SELECT name, phone, phone_ext FROM customers"))
        }
    assert stored == {name: (number, ext) for name, (_, number, ext) in OLD_PHONES.items()}
    # Search reads the E.164 numbers as before: the phone key index still answers.
    with bare_engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM customers "
                "WHERE salesengine_phone_key(phone) = salesengine_phone_key('(972) 653-2552')"
            )
        ).scalar_one()
    assert found == 5

    migrate.downgrade(bare_engine, BEFORE)
    with bare_engine.connect() as conn:
        assert "phone_ext" not in {c["name"] for c in inspect(conn).get_columns("customers")}
        back = dict(conn.execute(text("SELECT name, phone FROM customers")).all())
    assert back["Dotted Dot"] == back["Hash Hal"] == f"{KAREN} ext 12"
    assert back["Paren Pat"] == KAREN and back["Local Lou"] == "555-0101"


def test_the_migration_reads_numbers_in_batches(bare_engine: Engine) -> None:
    """More rows than one batch, in id order: every one is read."""
    migrate.upgrade(bare_engine, BEFORE)
    with bare_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (name, phone) SELECT 'Lead ' || n, "
                "'(214) 555-' || lpad(n::text, 4, '0') || ' ext ' || n "
                "FROM generate_series(1, 5200) n"
            )
        )
    migrate.upgrade(bare_engine, PHONES)
    with bare_engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM customers WHERE phone !~ '^\\+1214555' OR phone_ext IS NULL")
        ).scalar_one()
        last = conn.execute(
            text("SELECT phone, phone_ext FROM customers WHERE name = 'Lead 5200'")
        ).one()
    assert left == 0 and tuple(last) == ("+12145555200", "5200")


# --- the desk: a contact edit, the duplicate check -------------------------------------------------


def karen_with_extension(engine: Engine) -> None:
    with Session(engine) as s:
        add_customer(s, "Karen Office", n=90)
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET phone = :p, phone_ext = '12' WHERE name = 'Karen Office'"),
            {"p": KAREN},
        )


def test_a_new_lead_typed_another_way_is_a_possible_duplicate(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    karen_with_extension(engine)
    leads = AppDesk(app_context(engine, clock, desk.manager)).leads
    for typed in ("972.653.2552 ext 12", "+1 (972) 653-2552 x12", "9726532552#12"):
        found = leads.possible_duplicates({"name": "Karen O.", "phone": typed})
        assert [d.name for d in found] == ["Karen Office"], typed
        assert (found[0].phone, found[0].phone_ext) == (KAREN, "12")
    # The main line without the extension, and another extension, are other phones.
    assert leads.possible_duplicates({"name": "K", "phone": "(972) 653-2552"}) == []
    assert leads.possible_duplicates({"name": "K", "phone": "(972) 653-2552 x13"}) == []


def test_a_new_lead_and_a_contact_edit_store_e164(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    created = app_desk.leads.create({"name": "New Nell", "phone": "(469) 555-0123 x7"})
    view = app_desk.customers.profile(created)
    assert (view.profile.phone, view.profile.phone_ext) == ("+14695550123", "7")
    app_desk.customers.update_contact(
        created, expected_version=view.profile.version, values={"phone": "469.555.0124"}
    )
    nell = customer(engine, "New Nell")
    assert (nell.phone, nell.phone_ext) == ("+14695550124", None)
    with pytest.raises(UserError, match=r"^phone '469-555' is not a valid phone number"):
        app_desk.customers.update_contact(created, expected_version=2, values={"phone": "469-555"})


def test_a_number_left_as_typed_stays_while_the_rest_is_edited(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    """Hank's "555-0101" has no area code (revision 0017 left it as typed): saved back as the
    form shows it, it stays; changed, it must be a valid number."""
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    hank = desk.customers["Hank Hill"].id
    with engine.begin() as conn:  # as an operations import left it, before revision 0017
        conn.execute(
            sa.text("UPDATE customers SET phone = '555-0101' WHERE id = :id"), {"id": hank}
        )
    app_desk.customers.update_contact(
        hank, expected_version=1, values={"phone": "555-0101", "city": "Arlen"}
    )
    saved = customer(engine, "Hank Hill")
    assert (saved.phone, saved.city) == ("555-0101", "Arlen")
    with pytest.raises(UserError, match="area code"):
        app_desk.customers.update_contact(hank, expected_version=2, values={"phone": "555-0102"})


# --- shown on the screens ----------------------------------------------------------------------

SHOWN = "(972) 653-2552 ext. 12"


async def test_the_inbox_profile_form_and_quick_call_show_the_national_format(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET phone = :p, phone_ext = '12' WHERE name = 'Hank Hill'"),
            {"p": KAREN},
        )
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(LeadsTable)
        rows = "\n".join(table.render_line(y).text for y in range(table.size.height))
        # The inbox's phone column fits the number; an extension is cut with "…" there.
        assert "(972) 653-2552…" in rows and KAREN not in rows
        await open_hank(app, pilot)
        assert isinstance(app.screen, CustomerScreen)
        contact = app.screen.query_one("#customer-contact", Static)
        assert SHOWN in rendered(contact.content)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactForm)
        assert form.query_one("#contact-phone").value == SHOWN
        await pilot.press("ctrl+s")  # saved unchanged: the number and extension stay
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, QuickCallScreen)
        assert SHOWN in str(app.screen.query_one("#call-number").render())
    hank = customer(engine, "Hank Hill")
    assert (hank.phone, hank.phone_ext) == (KAREN, "12")


def rendered(renderable: object) -> str:
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()
