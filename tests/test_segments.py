"""Segments: the text form (parse, errors at their place, round trip), and counts against
real PostgreSQL compared with hand-written SQL; values that look like SQL or markup match
literally (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import FIXED_NOW, Desk, add_customer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui import segments
from salesengine_tui.db.models import Equipment, Ticket


def test_parse_the_plans_example_and_round_trip() -> None:
    d = segments.parse("equipment.age > 10 AND last_service > 6mo and status = active")
    assert isinstance(d, segments.Group) and d.join == "and" and len(d.items) == 3
    assert d.items[0] == segments.Condition("equipment.age", ">", 10.0)
    assert d.items[1] == segments.Condition("last_service", ">", 6.0)
    text_form = segments.to_text(d)
    assert text_form == "equipment.age > 10 and last_service > 6mo and status = active"
    assert segments.parse(text_form) == d
    grouped = segments.parse("(city = Dallas or city = 'Fort Worth') and has_email = yes")
    assert segments.parse(segments.to_text(grouped)) == grouped
    assert segments.to_text(grouped) == "(city = Dallas or city = 'Fort Worth') and has_email = yes"


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("equipment.age > ten", "'ten' is not a number", 16),
        ("colour = red", "unknown field 'colour'", 0),
        ("status = maybe", "'maybe' is not one of lead, active, churned", 9),
        ("status > lead", "status takes = !=, not '>'", 9),
        ("last_service > soon", "'soon' is not a duration", 15),
        ("status = lead city = Dallas", "expected 'and' or 'or' before 'city'", 14),
        ("(status = lead", "the segment ends too early", 14),
        ("", "the segment is empty", 0),
        ("status = lead ; drop", "unexpected ';' at position 15", 14),
    ],
)
def test_errors_point_at_the_place(source: str, message: str, position: int) -> None:
    with pytest.raises(segments.SegmentError, match=message.replace("(", r"\(")) as caught:
        segments.parse(source)
    assert caught.value.position == position


def seed(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        old = add_customer(s, "Old Unit Owner", n=400)
        old.email, old.city = "old@example.com", "Dallas"
        s.add(Equipment(customer_id=old.id, kind="Central AC", installed_on=date(2010, 1, 1)))
        s.add(Ticket(customer_id=old.id, status="closed", summary="Tune-up",
                     opened_at=FIXED_NOW - timedelta(days=400), closed_at=FIXED_NOW - timedelta(days=400)))  # fmt: skip
        new = add_customer(s, "New Unit Owner", n=401)
        new.city = "Dallas"
        s.add(Equipment(customer_id=new.id, kind="Furnace", installed_on=date(2024, 1, 1)))
        s.add(Ticket(customer_id=new.id, status="closed", summary="Tune-up",
                     opened_at=FIXED_NOW - timedelta(days=30), closed_at=FIXED_NOW - timedelta(days=30)))  # fmt: skip
        s.commit()


def count(engine: Engine, source: str) -> int:
    with Session(engine) as s:
        return segments.count(s, segments.parse(source), now=FIXED_NOW)


def reference(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), {"now": FIXED_NOW}).scalar_one()


def test_counts_agree_with_hand_written_sql(engine: Engine, desk: Desk) -> None:
    seed(engine, desk)
    cases = {
        "equipment.age > 10 and last_service > 6mo": """
            SELECT count(*) FROM customers c
            WHERE EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id
                          AND e.installed_on < (:now - interval '10 years')::date + 2)
              AND coalesce((SELECT max(closed_at) FROM tickets t WHERE t.customer_id = c.id
                            AND t.status = 'closed'), '-infinity') < :now - interval '182 days'""",
        "status = lead": "SELECT count(*) FROM customers WHERE status = 'lead'",
        "city = dallas and has_email = yes": "SELECT count(*) FROM customers WHERE lower(city) = 'dallas' AND coalesce(email, '') <> ''",
        "equipment.kind contains furn or open_estimates >= 1": """
            SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id AND e.kind ILIKE '%furn%')
            OR (SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
                WHERE e.customer_id = c.id AND NOT s.is_won AND NOT s.is_lost) >= 1""",
        "last_interaction < 7d": "SELECT count(*) FROM customers WHERE last_interaction_at > :now - interval '7 days'",
    }
    for source, sql in cases.items():
        assert count(engine, source) == reference(engine, sql), source
    assert count(engine, "equipment.age > 10 and last_service > 6mo") == 1  # the old unit only


WEIRD = st.sampled_from(
    ["'; drop table customers; --", "%", "_", "\\", "'", '"', "[bold]x[/]", "[@click=app.quit]"]
)


# PostgreSQL text cannot hold NUL; anything else goes.
TEXT = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.one_of(WEIRD, TEXT))
def test_values_match_literally(engine: Engine, value: str) -> None:
    definition = segments.Condition("lead_source", "=", value)
    assert segments.parse(segments.to_text(definition)) == definition  # the text form keeps it
    with Session(engine) as s:
        expected = s.execute(
            text("SELECT count(*) FROM customers WHERE lower(lead_source) = lower(:v)"),
            {"v": value},
        ).scalar_one()
        assert segments.count(s, definition, now=FIXED_NOW) == expected
        like = segments.Condition("lead_source", "contains", value)
        literal = s.execute(
            text("SELECT count(*) FROM customers WHERE strpos(lower(lead_source), lower(:v)) > 0"),
            {"v": value},
        ).scalar_one()
        assert segments.count(s, like, now=FIXED_NOW) == literal
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM customers")).scalar_one() >= 0  # still there


def test_cli_count_show_and_errors(engine: Engine, db_url, desk: Desk, capsys) -> None:
    from test_cli import _url, run

    seed(engine, desk)
    code, out, _ = run(capsys, "--database-url", _url(db_url), "segments", "count", "status = lead")
    assert code == 0 and out.startswith(
        f"{reference(engine, 'SELECT count(*) FROM customers WHERE status = ' + repr('lead'))} customers match"
    )
    code, out, _ = run(
        capsys, "--database-url", _url(db_url), "segments", "show", "equipment.kind = 'central ac'"
    )
    assert code == 0 and "Old Unit Owner" in out and "New Unit Owner" not in out
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "segments", "count", "equipment.age > ten"
    )
    assert code == 1 and "'ten' is not a number" in err
    assert "\n" + " " * 18 + "^\n" in err  # under the 't' of "ten", as typed


def test_cli_list_and_export_saved_segments(engine: Engine, db_url, desk: Desk, capsys) -> None:
    from test_cli import _url, run

    from salesengine_tui import saved_segments
    from salesengine_tui.users import Actor

    seed(engine, desk)
    with Session(engine) as s:
        saved_segments.save(s, "Dallas [bold]old[/]", segments.parse("city = dallas"),
                            actor=Actor.of(desk.manager), now=FIXED_NOW)  # fmt: skip
        s.commit()
    url = _url(db_url)
    code, out, _ = run(capsys, "--database-url", url, "segments", "list")
    assert code == 0 and "Dallas [bold]old[/]" in out and "city = dallas" in out
    code, out, _ = run(capsys, "--database-url", url, "segments", "count", "dallas [BOLD]old[/]")
    assert code == 0 and "2 customers match: city = dallas  (saved segment" in out
    code, out, err = run(capsys, "--database-url", url, "segments", "export", "Dallas [bold]old[/]")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3 and "exported 2 customers" in err
    assert {line.split(",")[0] for line in lines[1:]} == {"Old Unit Owner", "New Unit Owner"}
