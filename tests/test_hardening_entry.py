"""Issue 14.1, the entry side: control characters, bidi overrides and invisible characters are
refused at every entry, with a message naming the field (the contact form and new lead, call
and interaction notes, an estimate title, stage, pipeline and segment names, a blast's subject
and body, CSV import), cleaned where the jobs copy another system's text into ours (the upsell
sync), and never written raw by the CSV export. Real PostgreSQL, the real use cases and CLI."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from factories import FIXED_NOW, Desk, add_user, app_context, pipeline_by_name
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_cli import _url, run
from test_upsell import close_ticket

from salesengine_tui.access.users import Actor
from salesengine_tui.automation import upsell
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.customers import leads
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import InteractionDirection, InteractionType, UserRole
from salesengine_tui.deals import editing
from salesengine_tui.marketing import segment_text
from salesengine_tui.marketing.blast_templates import check_template
from salesengine_tui.tasks.model import TaskDraft
from salesengine_tui.usecases.desk import Desk as UseCaseDesk

# One of each class: a CSI (screen clear), an OSC 52 clipboard write ended by ESC \, a C1 CSI,
# DEL, a bidi override, a bidi isolate, a zero width space, a BOM, a line separator.
PLANTED = {
    "esc": "Acme\x1b[2J",
    "osc52": "Acme\x1b]52;c;cm0gLXJmIH4=\x1b\\",
    "c1": "Acme\x9b31m",
    "del": "Acme\x7f",
    "bidi override": "Acme\u202etxt.exe",
    "bidi isolate": "Acme\u2066x\u2069",
    "zero width": "Ac\u200bme",
    "bom": "Acme\ufeff",
    "line separator": "Acme\u2028x",
}
UNSAFE = "\x1b\x9b\x7f\u202e\u2066\u2069\u200b\ufeff\u2028"


def _raw(value: str) -> bool:
    return any(ch in value for ch in UNSAFE)


@pytest.fixture
def ucd(engine: Engine, desk: Desk, clock: FixedClock) -> UseCaseDesk:
    return UseCaseDesk(app_context(engine, clock, desk.manager))


@pytest.mark.parametrize("field", ["name", "address", "city", "lead_source", "state"])
def test_contact_form_and_new_lead_refuse_controls_naming_the_field(
    engine: Engine, desk: Desk, ucd: UseCaseDesk, field: str
) -> None:
    label = field.replace("_", " ")
    hank = desk.customers["Hank Hill"]
    for value in PLANTED.values():
        values = {"name": "Plain Name", field: value}
        with pytest.raises(UserError, match=f"^{label}: contains a (control character|line break)"):
            ucd.leads.create(values)
        with pytest.raises(UserError, match=f"^{label}: contains"):
            ucd.customers.update_contact(hank.id, expected_version=hank.version, values=values)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT string_agg(concat_ws('|', name, address, city, "
                                   "state, lead_source), '/') FROM customers")).scalar_one()  # fmt: skip
    assert not _raw(stored)


def test_a_line_break_in_a_phone_is_refused_not_read_as_digits(ucd: UseCaseDesk) -> None:
    with pytest.raises(UserError, match=r"^phone: contains a line break"):
        ucd.leads.create({"name": "Dee", "phone": "214-555\n0101"})
    with pytest.raises(UserError, match=r"^email: contains"):
        ucd.leads.create({"name": "Dee", "email": "dee\u200b@example.com"})
    ucd.leads.create({"name": "Dee Ok", "phone": "214-555-0101"})  # and plain text still goes in


def test_notes_keep_tabs_and_newlines_and_refuse_the_rest(
    engine: Engine, desk: Desk, ucd: UseCaseDesk
) -> None:
    hank = desk.customers["Hank Hill"].id
    for kind, value in PLANTED.items():
        if kind == "line separator":
            continue
        with pytest.raises(UserError, match=r"^notes: contains a control character"):
            ucd.customers.log_interaction(
                hank, type=InteractionType.call, direction=InteractionDirection.outbound,
                notes=f"called\n{value}",
            )  # fmt: skip
        with pytest.raises(UserError, match=r"^notes: contains"):  # Quick Call
            ucd.leads.log_call(hank, outcome="connected", notes=value)
    ucd.customers.log_interaction(
        hank, type=InteractionType.call, direction=InteractionDirection.outbound,
        notes="line one\r\n\tline two",
    )  # fmt: skip
    with engine.connect() as conn:
        notes = conn.execute(text("SELECT notes FROM customer_interactions "
                                  "WHERE customer_id = :c"), {"c": hank}).scalars().all()  # fmt: skip
    assert notes == ["line one\n\tline two"]
    for title, notes, says in (
        ("call back\x1b]0;pwned\x07", None, r"^task title: contains"),
        ("call back", "ok\n\x1b[2J", r"^task notes: contains"),
    ):
        with pytest.raises(UserError, match=says), session_scope(engine) as s:
            leads.log_call(s, Actor.of(desk.manager), hank, outcome="connected", notes=None,
                           now=FIXED_NOW, tz=ZoneInfo("America/Chicago"),
                           next_task=TaskDraft(kind="call", title=title, notes=notes,
                                               due="tomorrow"))  # fmt: skip
        with pytest.raises(UserError, match=says):  # and through the desk
            ucd.tasks.create(hank, TaskDraft(kind="call", title=title, notes=notes, due="+1"))


def test_deal_title_is_refused_with_controls(engine: Engine, desk: Desk) -> None:
    dale = desk.customers["Dale Gribble"].id
    with Session(engine) as s:
        pipeline = pipeline_by_name(s, "Residential Replacements").id
    with pytest.raises(UserError, match=r"^title: contains"), session_scope(engine) as s:
        editing.create_deal(s, Actor.of(desk.manager), customer_id=dale, pipeline_id=pipeline,
                            stage_id=None, title="New \x1b[2Jsystem", amount=Decimal(0),
                            expected_close_on=None, owner_id=None, now=FIXED_NOW)  # fmt: skip


def test_stage_pipeline_and_segment_names_refuse_controls(
    engine: Engine, desk: Desk, ucd: UseCaseDesk
) -> None:
    with Session(engine) as s:
        pipeline = pipeline_by_name(s, "Residential Replacements").id
    for kind, value in PLANTED.items():
        if kind == "line separator":
            continue  # a pasted line break in a name becomes a space (below)
        with pytest.raises(UserError, match=r"^stage name: contains a control character"):
            ucd.pipelines.add_stage(pipeline, value)
        with pytest.raises(UserError, match=r"^pipeline name: contains a control character"):
            ucd.pipelines.rename_pipeline(pipeline, value)
        with pytest.raises(UserError, match=r"^segment name: contains a control character"):
            ucd.segments.save(value, segment_text.parse("city = Plano"))
    ucd.pipelines.add_stage(pipeline, "Follow\tup\nagain")  # a paste: whitespace folds
    with engine.connect() as conn:
        names = conn.execute(text("SELECT string_agg(name, '/') FROM deal_stages")).scalar_one()
        names += conn.execute(text("SELECT string_agg(name, '/') FROM deal_pipelines")).scalar_one()
    assert "Follow up again" in names and not _raw(names)


def test_blast_subject_and_body_refuse_controls() -> None:
    for value in PLANTED.values():
        with pytest.raises(UserError, match=r"^subject: contains"):
            check_template(f"Spring {value}", "Hello {first_name}")
        if "\u2028" not in value:
            with pytest.raises(UserError, match=r"^body: contains a control character"):
                check_template("Spring tune-up", f"Hello\n\t{value}")
    check_template("Spring tune-up", "Hello {first_name},\r\n\n\tSee you.\n")


def test_csv_import_refuses_controls_per_row_naming_the_field(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"Lead {i},{value},lead{i}@example.com\n" for i, value in
                   enumerate(PLANTED.values()))  # fmt: skip
    path = tmp_path / "leads.csv"
    path.write_text("name,lead source,email\n" + rows + "Clean One,Web,clean@example.com\n")
    code, out, err = run(capsys, "--database-url", _url(db_url), "--user", "dana",
                         "leads", "import", str(path))  # fmt: skip
    assert code == 0, err
    assert (
        f"{len(PLANTED) + 1} rows: imported 1, 0 duplicates skipped, {len(PLANTED)} invalid" in out
    )
    for line in range(2, len(PLANTED) + 2):
        assert f"{path}:{line}: lead source: contains" in err
    with engine.connect() as conn:
        sources = conn.execute(text("SELECT string_agg(lead_source, '/') FROM customers")).scalar()
    assert not _raw(sources)


def test_upsell_cleans_the_operations_text_it_copies(engine: Engine, desk: Desk) -> None:
    ticket = close_ticket(engine, desk)
    with session_scope(engine) as s:
        s.execute(text("UPDATE customers SET name = :n, address = :a, city = :c "
                       "WHERE id = :id"), {"n": PLANTED["osc52"] + PLANTED["bidi override"],
                       "a": PLANTED["esc"], "c": PLANTED["c1"] + "\n", "id": ticket.customer_id})  # fmt: skip
        s.execute(text("UPDATE equipment SET kind = :k WHERE id = :id"),
                  {"k": "Heat\x1b]0;title\x07 pump\u200b", "id": ticket.equipment_id})  # fmt: skip
        s.execute(text("UPDATE users SET name = :n WHERE id = :id"),
                  {"n": "John\x1b[31m Tech", "id": ticket.technician_id})  # fmt: skip
    with session_scope(engine) as s:
        assert upsell.sync(s, now=FIXED_NOW).opportunities == 1
    with engine.connect() as conn:
        copied = conn.execute(text(
            "SELECT concat_ws('|', e.title, n.title, n.body, o.subject, o.body_text) "
            "FROM estimates e JOIN notifications n ON n.estimate_id = e.id "
            "JOIN email_outbox o ON o.idempotency_key LIKE 'upsell:' || e.id || ':%' "
            "WHERE e.source_ticket_id = :t"), {"t": ticket.id}).scalar_one()  # fmt: skip
    assert not _raw(copied), repr(copied)
    assert "Replace Heat ]0;title  pump (end of life)" in copied and "John [31m Tech" in copied


def test_csv_export_keeps_the_text_without_raw_control_bytes(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as s:  # written by another system, or before the rules
        s.execute(text("UPDATE customers SET name = :n, city = :c WHERE name = 'Hank Hill'"),
                  {"n": "Hank\x1b[2J Hill\u202e", "c": "Arlen\x9b31m\u200b"})  # fmt: skip
        add_user(s, "tina", name="Tina", role=UserRole.rep)
    code, out, err = run(capsys, "--database-url", _url(db_url), "leads", "export")
    assert code == 0, err
    assert not _raw(out) and "\x1b" not in out
    hank = next(r for r in csv.DictReader(io.StringIO(out)) if r["name"].startswith("Hank"))
    assert hank["name"] == "Hank␛[2J Hill\\u202e"
    assert hank["city"] == "Arlen\\u009b31m\\u200b"
