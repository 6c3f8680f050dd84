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

from salesengine_tui.db.models import Equipment, Ticket
from salesengine_tui.marketing import segments


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

    from salesengine_tui.access.users import Actor
    from salesengine_tui.marketing import saved_segments

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


# The definition of each field, written the plain way (a figure per customer, compared);
# the compiled SQL takes other shapes for speed and must agree on every operator.
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
_OPEN = """FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
           WHERE e.customer_id = c.id AND NOT s.is_won AND NOT s.is_lost"""


def _definition_sql(field: str, op: str) -> str:
    if field == "last_service":  # never serviced: a long time ago
        return f"""coalesce((SELECT max(closed_at) FROM tickets t WHERE t.customer_id = c.id
                             AND t.status = 'closed'), '-infinity') {_FLIP[op]} :cutoff"""
    if field == "open_estimates":
        return f"(SELECT count(*) {_OPEN}) {op} :v"
    if field == "open_value":
        return f"(SELECT coalesce(sum(e.amount), 0) {_OPEN}) {op} :v"
    if field == "all_equipment.age":  # every unit, and at least one
        return f"""coalesce((SELECT bool_and(installed_on {_FLIP[op]} :installed) FROM equipment e
                             WHERE e.customer_id = c.id), false)"""
    assert field == "owner"
    login = "(SELECT lower(login) FROM users u WHERE u.id = c.owner_id)"
    return f"{login} = lower(:v)" if op == "=" else f"coalesce({login} <> lower(:v), true)"


def _demo(engine: Engine) -> str:
    """A few hundred demo customers, plus open estimates of 0 dollars and two at once, and
    a service and a unit exactly at a cutoff below; returns the login of a rep who owns
    customers."""
    from salesengine_tui.base.clock import FixedClock
    from salesengine_tui.db.demo import seed_demo

    seed_demo(engine, customers=300, seed=7, clock=FixedClock(FIXED_NOW))
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                WITH open_stage AS (SELECT id FROM deal_stages
                                    WHERE NOT is_won AND NOT is_lost LIMIT 1),
                     picked AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM customers)
                INSERT INTO estimates (customer_id, title, amount, status, stage_id,
                                       stage_entered_at)
                SELECT picked.id, 'Extra', CASE WHEN k % 2 = 0 THEN 0 ELSE 3000 END, 'sent',
                       open_stage.id, :now
                FROM picked, open_stage WHERE k <= 20
                """
            ),
            {"now": FIXED_NOW},
        )
        conn.execute(
            text(
                """
                INSERT INTO tickets (customer_id, status, summary, opened_at, closed_at)
                SELECT id, 'closed', 'Boundary', :cutoff, :cutoff FROM customers c
                WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id)
                ORDER BY id LIMIT 1
                """
            ),
            {"cutoff": FIXED_NOW - timedelta(days=6 * 30.44)},  # last_service 6mo
        )
        conn.execute(
            text(
                """
                INSERT INTO equipment (customer_id, kind, installed_on)
                SELECT id, 'Furnace', :installed FROM customers c
                WHERE NOT EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id)
                ORDER BY id LIMIT 1
                """
            ),
            {"installed": FIXED_NOW.date() - timedelta(days=round(5 * 365.25))},  # age 5
        )
        return conn.execute(
            text(
                "SELECT u.login FROM users u JOIN customers c ON c.owner_id = u.id "
                "GROUP BY u.login ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()


def test_every_operator_agrees_with_the_plain_definition(engine: Engine) -> None:
    rep = _demo(engine)
    cases: list[tuple[str, str, str]] = []
    for op in (">", ">=", "<", "<="):
        cases += [("last_service", op, v) for v in ("6mo", "2y", "90d")]
        cases += [("all_equipment.age", op, v) for v in ("5", "15")]
    for op in ("=", "!=", ">", ">=", "<", "<="):
        cases += [("open_estimates", op, v) for v in ("0", "1", "2", "0.5")]
        cases += [("open_value", op, v) for v in ("0", "3000", "8000")]
    cases += [("owner", op, v) for op in ("=", "!=") for v in (rep, rep.upper(), "nobody")]
    with Session(engine) as s:
        for field, op, raw in cases:
            c = segments.condition(field, op, raw)
            params: dict[str, object] = {"v": c.value}
            if field == "last_service":
                assert isinstance(c.value, float)  # months
                params["cutoff"] = FIXED_NOW - timedelta(days=c.value * 30.44)
            if field == "all_equipment.age":
                assert isinstance(c.value, float)  # years
                params["installed"] = FIXED_NOW.date() - timedelta(days=round(c.value * 365.25))
            sql = f"SELECT count(*) FROM customers c WHERE {_definition_sql(field, op)}"
            expected = s.execute(text(sql), params).scalar_one()
            assert segments.count(s, c, now=FIXED_NOW) == expected, (field, op, raw)
        # Units found by a sibling condition stand in for "has units"; not with "!=".
        for source, sql in {
            "equipment.kind = furnace and all_equipment.age >= 15": """
                EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id
                        AND lower(e.kind) = 'furnace')
                AND EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id)
                AND NOT EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id
                                AND e.installed_on > (:now)::date - 5479)""",
            "equipment.kind != furnace and all_equipment.age >= 15": """
                NOT EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id
                            AND lower(e.kind) = 'furnace')
                AND EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id)
                AND NOT EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id
                                AND e.installed_on > (:now)::date - 5479)""",
        }.items():
            expected = s.execute(
                text(f"SELECT count(*) FROM customers c WHERE {sql}"), {"now": FIXED_NOW}
            ).scalar_one()
            assert 0 < expected == count(engine, source), source
        # A planner setting changed for a segment is put back for the rest of the transaction.
        before = s.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one()
        segments.preview(s, segments.parse("equipment.age > 10"), now=FIXED_NOW)
        assert s.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one() == before
