"""The sales dashboard: its figures against hand-written SQL on a seeded desk, the screen through
Pilot (enter opens customers, p switches pipelines, data that looks like markup), and live
updates between two app instances on one database."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from dashboard_data import LOST, WON, DashboardDesk, seed_dashboard
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_interaction,
    add_stage_move,
    add_task,
    app_context,
    days_before,
    seed_desk,
    stages_of,
)
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import feed as activity
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.customers import profile
from salesengine_tui.db import live
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import InteractionDirection, InteractionType
from salesengine_tui.deals import board
from salesengine_tui.deals import figures as figures
from salesengine_tui.deals.pipelines import list_pipelines
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.dashboard import CustomerList, DashboardScreen
from salesengine_tui.tasks import queries as tasks_queries
from salesengine_tui.tasks.model import Bucket
from salesengine_tui.widgets.board_column import BoardColumn
from salesengine_tui.widgets.charts import (
    BarTable,
    Funnel,
    centered_bar,
    fit,
    hbar,
    spark_columns,
)
from salesengine_tui.widgets.dashboard_cells import DUE_SOON, LATE

TZ = ZoneInfo("America/Chicago")
SIZE = (120, 40)


@pytest.fixture
def dash(engine: Engine) -> DashboardDesk:
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed_dashboard(session, seed_desk(session))
        session.commit()
    return seeded


@pytest.fixture
def session(engine: Engine, dash: DashboardDesk):
    with Session(engine) as s:
        yield s


def pipeline_id(session: Session, name: str = "Residential Replacements"):
    return next(p.id for p in list_pipelines(session) if p.name == name)


# --- figures against hand-written SQL ---------------------------------------------------------


def test_stage_figures_match_hand_written_sql(session: Session) -> None:
    shown = figures.stage_figures(session, pipeline_id(session), now=FIXED_NOW, tz=TZ)
    expected = session.execute(
        text(
            """
            SELECT s.name, count(e.id) AS n, coalesce(sum(e.amount), 0) AS value,
                   coalesce(sum(e.amount), 0) * s.probability / 100 AS weighted,
                   count(e.id) FILTER (
                       WHERE (timestamptz '2026-11-24 15:00+00' AT TIME ZONE 'America/Chicago')::date
                             - (e.stage_entered_at AT TIME ZONE 'America/Chicago')::date
                             >= s.rotting_days) AS rotting
            FROM deal_stages s
            JOIN deal_pipelines p ON p.id = s.pipeline_id
            LEFT JOIN estimates e ON e.stage_id = s.id
            WHERE p.name = 'Residential Replacements' AND NOT s.is_won AND NOT s.is_lost
            GROUP BY s.id ORDER BY s.position
            """
        )
    ).all()
    assert [(f.name, f.count, f.value, f.weighted, f.rotting) for f in shown] == [
        (r.name, r.n, r.value, r.weighted, r.rotting) for r in expected
    ]
    # and by hand: Lucky rots in Proposal Sent (21 days, threshold 14), Chane in Site Visit
    assert [(f.name, f.count, f.rotting) for f in shown] == [
        ("New", 2, 0),
        ("Site Visit Scheduled", 2, 1),
        ("Proposal Sent", 2, 1),
        ("Negotiation", 1, 0),
    ]
    assert shown[2].weighted == Decimal("14450.00")  # (15,500 + 13,400) x 50%


def test_outcomes_match_hand_written_sql(session: Session) -> None:
    won = figures.outcomes(session, pipeline_id(session), now=FIXED_NOW)
    expected = session.execute(
        text(
            """
            WITH closing AS (
                SELECT DISTINCT ON (h.estimate_id) h.estimate_id, s.is_won, h.moved_at
                FROM estimate_stage_history h
                JOIN deal_stages s ON s.id = h.to_stage_id
                JOIN deal_pipelines p ON p.id = s.pipeline_id
                JOIN estimates e ON e.id = h.estimate_id AND e.stage_id = s.id
                WHERE p.name = 'Residential Replacements' AND (s.is_won OR s.is_lost)
                ORDER BY h.estimate_id, h.moved_at DESC
            ), firsts AS (
                SELECT estimate_id, min(moved_at) AS first FROM estimate_stage_history GROUP BY 1
            )
            SELECT count(*) FILTER (WHERE c.is_won) AS won,
                   count(*) FILTER (WHERE NOT c.is_won) AS lost,
                   sum(e.amount) FILTER (WHERE c.is_won) AS won_value,
                   avg(extract(epoch FROM c.moved_at - f.first) / 86400)
                       FILTER (WHERE c.is_won) AS days
            FROM closing c JOIN estimates e ON e.id = c.estimate_id
            JOIN firsts f ON f.estimate_id = c.estimate_id
            WHERE c.moved_at > timestamptz '2026-11-24 15:00+00' - interval '90 days'
            """
        )
    ).one()
    assert (won.won, won.lost, won.won_value) == (expected.won, expected.lost, expected.won_value)
    assert won.avg_days_to_close == pytest.approx(float(expected.days))
    # by hand: the eight wins of dashboard_data and the desk's Bill Dauterive (12 days ago, a
    # single history row: 0 days to close); three losses (the fourth is 120 days old)
    assert (won.won, won.lost) == (len(WON) + 1, len(LOST) - 1)
    assert won.won_value == sum(Decimal(a) for _, a, *_ in WON) + 7300
    assert won.avg_days_to_close == pytest.approx(sum(t for *_, t in WON) / 9)
    assert won.win_rate == pytest.approx(9 / 12)


def test_funnel_counts_how_far_each_decided_deal_got(session: Session) -> None:
    steps = figures.funnel(session, pipeline_id(session), now=FIXED_NOW)
    # lost from: Site Visit Scheduled, Proposal Sent, Negotiation (one each); 9 won
    assert [(s.name, s.reached, s.is_won) for s in steps] == [
        ("New", 12, False),
        ("Site Visit Scheduled", 12, False),
        ("Proposal Sent", 11, False),
        ("Negotiation", 10, False),
        ("Won", 9, True),
    ]
    lost_from = session.execute(
        text(
            """
            SELECT f.name, count(*) FROM (
                SELECT DISTINCT ON (h.estimate_id) h.from_stage_id
                FROM estimate_stage_history h JOIN estimates e ON e.id = h.estimate_id
                JOIN deal_stages s ON s.id = e.stage_id AND s.is_lost
                WHERE e.stage_entered_at > timestamptz '2026-11-24 15:00+00' - interval '90 days'
                ORDER BY h.estimate_id, h.moved_at DESC
            ) last JOIN deal_stages f ON f.id = last.from_stage_id GROUP BY f.name
            """
        )
    ).all()
    assert dict(lost_from) == {"Site Visit Scheduled": 1, "Proposal Sent": 1, "Negotiation": 1}


def test_weekly_won_matches_hand_written_sql(session: Session) -> None:
    weeks = figures.weekly_won(session, pipeline_id(session), now=FIXED_NOW, tz=TZ)
    assert len(weeks) == figures.WEEKS
    assert weeks[-1].week.isoformat() == "2026-11-23"  # the Monday of FIXED_NOW's week
    assert weeks[0].week.isoformat() == "2026-09-07"
    expected = session.execute(
        text(
            """
            SELECT date_trunc('week', e.stage_entered_at AT TIME ZONE 'America/Chicago')::date
                       AS week, sum(e.amount) AS value, count(*) AS n
            FROM estimates e JOIN deal_stages s ON s.id = e.stage_id AND s.is_won
            JOIN deal_pipelines p ON p.id = s.pipeline_id
            WHERE p.name = 'Residential Replacements'
              AND e.stage_entered_at >= timestamptz '2026-09-07 00:00 America/Chicago'
            GROUP BY 1
            """
        )
    ).all()
    assert {w.week: (w.value, w.count) for w in weeks if w.count} == {
        r.week: (r.value, r.n) for r in expected
    }
    assert weeks[-1].value == 0 and sum(w.count for w in weeks) == 9


def test_rotting_deals_most_overdue_first(session: Session) -> None:
    residential = figures.rotting_deals(session, pipeline_id(session), now=FIXED_NOW, tz=TZ)
    assert [(d.customer_name, d.stage_name, d.days_in_stage, d.days_over) for d in residential] == [
        ("Lucky Kleinschmidt", "Proposal Sent", 21, 7),
        ("Chane Wassanasong", "Site Visit Scheduled", 12, 2),
    ]
    commercial = figures.rotting_deals(
        session, pipeline_id(session, "Commercial Contracts"), now=FIXED_NOW, tz=TZ
    )
    assert [(d.customer_name, d.days_over, d.owner_name) for d in commercial] == [
        ("Strickland Propane", 6, "Dana Reyes")
    ]
    assert (
        figures.rotting_deals(session, pipeline_id(session), now=FIXED_NOW, tz=TZ, limit=1)
        == (residential[:1])
    )


def test_rotting_counts_calendar_days_in_the_business_time_zone(engine: Engine, desk: Desk) -> None:
    """As on the board: a card that entered late on a local day is a day older at midnight."""
    with Session(engine) as s:
        new = stages_of(s, "Residential Replacements")["New"]  # rots after 7 days
        # FIXED_NOW is 09:00 in Chicago; 23:30 local seven days ago is 6.4 x 24 hours ago
        late = add_customer(s, "Late Evening")
        add_estimate(
            s, late, new, 100, entered_at=FIXED_NOW - timedelta(days=6, hours=9, minutes=30)
        )
        early = add_customer(s, "Next Morning")
        add_estimate(s, early, new, 100, entered_at=FIXED_NOW - timedelta(days=6, hours=8))
        s.commit()
        rotting = figures.rotting_deals(s, pipeline_id(s), now=FIXED_NOW, tz=TZ)
    assert [(d.customer_name, d.days_in_stage, d.days_over) for d in rotting] == [
        ("Late Evening", 7, 0)
    ]


def test_due_today_lists_my_tasks_then_my_rotting_deals(
    session: Session, dash: DashboardDesk
) -> None:
    due = figures.due_today(session, dash.desk.manager.id, now=FIXED_NOW, tz=TZ)
    assert [(i.kind.value, i.customer_name, i.overdue_days, i.overdue) for i in due.items] == [
        ("task", "Luanne Platter", 2, True),
        ("task", "Bill Dauterive", 0, False),
        ("rotting", "Lucky Kleinschmidt", 7, False),
        ("rotting", "Strickland Propane", 6, False),
        ("rotting", "Chane Wassanasong", 2, False),
    ]
    assert (due.tasks, due.overdue, due.due_today, due.rotting) == (2, 1, 1, 3)
    assert [i.due_today for i in due.items[:2]] == [False, True]
    assert due.items[1].task is not None and due.items[1].task.title == (
        "Call about the install date"
    )
    expected = session.execute(
        text(
            """
            SELECT count(*) FROM tasks t JOIN users u ON u.id = t.assignee_id
            WHERE u.login = 'dana' AND t.done_at IS NULL
              AND (t.due_at AT TIME ZONE 'America/Chicago')::date <= date '2026-11-24'
            """
        )
    ).scalar_one()
    assert due.tasks == expected
    # Sam has Hank's follow-up (in two days) and no estimates: nothing due
    sam = figures.due_today(session, dash.desk.rep.id, now=FIXED_NOW, tz=TZ)
    assert (sam.items, sam.tasks, sam.rotting) == ([], 0, 0)
    # the limit cuts the lists, not the totals
    one = figures.due_today(session, dash.desk.manager.id, now=FIXED_NOW, tz=TZ, limit=1)
    assert len(one.items) == 2 and (one.tasks, one.rotting) == (2, 3)


def test_my_day_follows_tasks_done_and_the_clock(session: Session, dash: DashboardDesk) -> None:
    """A done task leaves my day; a timed task today turns overdue once its time passes; an
    unassigned or someone else's task is not mine."""
    dana = dash.desk.manager
    bill = session.merge(dash.desk.customers["Bill Dauterive"])
    add_task(session, bill, "nobody's", due_at=FIXED_NOW, n=90)
    add_task(session, bill, "Sam's", due_at=FIXED_NOW, assignee=dash.desk.rep, n=91)
    add_task(session, bill, "done", due_at=FIXED_NOW, assignee=dana, done_at=FIXED_NOW, n=92)
    later = FIXED_NOW + timedelta(hours=6)  # 15:00 in Chicago: Bill's 14:00 call has passed
    due = figures.due_today(session, dana.id, now=later, tz=TZ)
    assert [(i.text, i.overdue) for i in due.items if i.kind is figures.DueKind.task] == [
        ("Send the financing forms", True),
        ("Call about the install date", True),
    ]
    assert (due.tasks, due.overdue) == (2, 2)


def test_empty_pipeline_has_no_rates(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        commercial = pipeline_id(s, "Commercial Contracts")
        won = figures.outcomes(s, commercial, now=FIXED_NOW)
        steps = figures.funnel(s, commercial, now=FIXED_NOW)
    assert (won.won, won.lost, won.win_rate, won.avg_days_to_close) == (0, 0, None, None)
    assert [s.reached for s in steps] == [0, 0, 0, 0, 0]


def test_load_gathers_the_same_figures_concurrently(
    engine: Engine, session: Session, dash: DashboardDesk
) -> None:
    loaded = figures.load(
        lambda: Session(engine),
        pipeline_id=None,
        user_id=dash.desk.manager.id,
        now=FIXED_NOW,
        tz=TZ,
    )
    first = list_pipelines(session)[0]
    assert loaded.figures == figures.pipeline_figures(session, first, now=FIXED_NOW, tz=TZ)
    assert loaded.due == figures.due_today(session, dash.desk.manager.id, now=FIXED_NOW, tz=TZ)
    assert loaded.activity == activity.recent_activity(session)
    assert [p.name for p in loaded.pipelines] == [
        "Residential Replacements",
        "Commercial Contracts",
    ]
    # a pipeline that no longer exists: the first one instead
    import uuid

    again = figures.load(
        lambda: Session(engine),
        pipeline_id=uuid.uuid4(),
        user_id=dash.desk.manager.id,
        now=FIXED_NOW,
        tz=TZ,
    )
    assert again.figures is not None and again.figures.pipeline == first


def test_team_feed_shows_upsell_flags_automated_emails_and_conversions(session: Session) -> None:
    feed = activity.recent_activity(session, limit=4)
    assert [(i.kind, i.customer_name, i.automated) for i in feed] == [
        (activity.ActivityKind.status_change, "Hank Hill", False),
        (activity.ActivityKind.interaction, "Luanne Platter", True),
        (activity.ActivityKind.upsell_flag, "Bill Dauterive", False),
        (activity.ActivityKind.stage_move, "Hank Hill", False),
    ]
    assert feed[2].user_name == "Jeff Boomhauer" and feed[2].ticket_text == (
        "Furnace heat exchanger cracked"
    )
    # a customer's own timeline still shows the ticket as closed, not as a flag
    bill = feed[2].customer_id
    kinds = {i.kind for i in activity.recent_activity(session, customer_id=bill)}
    assert activity.ActivityKind.ticket_closed in kinds
    assert activity.ActivityKind.upsell_flag not in kinds


def test_feed_writers_notify_on_commit_only(engine: Engine, dash: DashboardDesk) -> None:
    heard: list[str] = []
    stop, ready, marker = threading.Event(), threading.Event(), threading.Event()

    def hear(payload: str) -> None:
        heard.append(payload)
        if payload == "marker":
            marker.set()

    listener = threading.Thread(
        target=live.listen,
        args=(engine.url, [activity.ACTIVITY_CHANNEL], hear, stop),
        kwargs={"on_connected": ready.set, "poll_seconds": 0.05},
        daemon=True,
    )
    listener.start()
    try:
        assert ready.wait(5)
        actor = Actor.of(dash.desk.rep)
        hank = dash.desk.customers["Hank Hill"].id
        with Session(engine) as s:  # rolled back: nothing heard
            profile.log_interaction(
                s, actor, hank, type=InteractionType.sms, direction=InteractionDirection.outbound,
                notes="never sent", now=FIXED_NOW,
            )  # fmt: skip
            s.rollback()
        with session_scope(engine) as s:
            for _ in range(3):  # three in one transaction: heard once
                profile.log_interaction(
                    s, actor, hank, type=InteractionType.call,
                    direction=InteractionDirection.outbound, notes="hi", now=FIXED_NOW,
                )  # fmt: skip
        # Notifications arrive in commit order: once this marker is heard, so is all before it.
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, 'marker')"), {"c": activity.ACTIVITY_CHANNEL})
        assert marker.wait(10), "the marker notification never arrived"
    finally:
        stop.set()
        listener.join(5)
    assert heard == ["interaction", "marker"]


def test_figures_can_all_be_index_driven(session: Session, dash: DashboardDesk) -> None:
    """With sequential scans priced out, no statement still reads a whole large table: each
    has an index that bounds it (the demo-scale plans are in benchmarks/bench_dashboard.py)."""
    session.execute(text("SET LOCAL enable_seqscan = off"))
    pid = pipeline_id(session)
    base = {"pipeline": pid, "today": "2026-11-24", "tz": TZ.key, "now": FIXED_NOW}
    window = {"since": days_before(90)}
    statements = [
        (figures._STAGES, {}),
        (figures._ROTTING, {"limit": 5}),
        (figures._OUTCOMES, window),
        (figures._FUNNEL, window),
        (figures._WEEKLY, {**window, "weeks": 12, "monday_offset": 5}),
        (figures._MY_ROTTING, {"me": dash.desk.manager.id, "limit": 5}),
    ]
    plans = [
        "\n".join(session.execute(text("EXPLAIN " + sql), {**base, **params}).scalars())
        for sql, params in statements
    ]
    # my day's tasks: My tasks' statement, due by the end of today
    my_day = tasks_queries.my_tasks_statement(
        now=FIXED_NOW, tz=TZ, assignee_id=dash.desk.manager.id, limit=5,
        buckets=(Bucket.overdue, Bucket.today),
    ).compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})  # fmt: skip
    plans.append(
        "\n".join(
            row[0]
            for row in session.connection().exec_driver_sql("EXPLAIN " + str(my_day), my_day.params)
        )
    )
    for plan in plans:
        for table in ("estimates", "estimate_stage_history", "customers", "tasks"):
            assert f"Seq Scan on {table}" not in plan, plan


# --- charts ---------------------------------------------------------------------------------


def test_bars_are_drawn_to_an_eighth_of_a_cell() -> None:
    assert hbar(1, 4) == "████" and hbar(2, 4) == "████"  # never past the column
    assert hbar(0.5, 10) == "█████"
    assert hbar(0.55, 10) == "█████▌"
    assert hbar(0.001, 10) == "▏"  # above zero is always visible
    assert hbar(0, 10) == "" and hbar(-1, 10) == "" and hbar(0.5, 0) == ""


def test_funnel_bars_are_centred_to_half_a_cell() -> None:
    assert centered_bar(1, 6) == "██████"
    assert centered_bar(0.5, 6) == " ▐██▌ "
    assert centered_bar(1 / 3, 6) == "  ██  "
    assert centered_bar(0.01, 6) == "  ▐   "
    assert centered_bar(0, 6) == " " * 6
    assert all(len(centered_bar(f / 10, 7)) == 7 for f in range(11))


def test_sparkline_has_a_zero_baseline() -> None:
    # bottom line first; zero is a dot, not the lowest bar (that would read as "a little")
    assert spark_columns([0, 1, 5, 10], 2) == ["· ", "▂ ", "█ ", "██"]
    assert spark_columns([3, 3], 1) == ["█", "█"]
    assert spark_columns([0, 0], 2) == ["· ", "· "]


def test_labels_fit_their_cells_literally() -> None:
    assert fit("[b]Acme\x1b", 10) == "[b]Acme␛  "
    assert fit("😀 Emoji Heating", 8) == "😀 Emoj…"  # the emoji takes two cells
    assert fit("Site Visit Scheduled", 16) == "Site Visit Sche…"


# --- the screen -------------------------------------------------------------------------------


def make_app(engine: Engine, clock: FixedClock, desk: Desk, **settings: object) -> SalesEngineApp:
    ctx = app_context(engine, clock, desk.manager)
    ctx.settings = ctx.settings.model_copy(update=settings)
    return SalesEngineApp(ctx, section="dashboard")


def table_rows(app: SalesEngineApp, name: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{name}", CustomerList)
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


def cursor_customer(app: SalesEngineApp, name: str) -> str:
    table = app.screen.query_one(f"#{name}", CustomerList)
    return table.get_row_at(table.cursor_row)[2 if name == "activity" else 1].plain


async def test_enter_opens_the_customer_from_each_list(
    engine: Engine, clock: FixedClock, dash: DashboardDesk
) -> None:
    app = make_app(engine, clock, dash.desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.focused is app.screen.query_one("#activity")
        await pilot.press("down", "down")  # the upsell flag, on Bill Dauterive
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.name == "Bill Dauterive"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("shift+tab")  # the rotting deals (before the feed)
        assert app.screen.focused is app.screen.query_one("#rotting")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.profile.name == "Chane Wassanasong"
        await pilot.press("escape")
        await settle(pilot)
        app.screen.query_one("#due").focus()
        await pilot.press("enter")  # the overdue task first
        await settle(pilot)
        assert app.screen.profile.name == "Luanne Platter"


async def test_dashboard_shows_the_figures_and_p_switches_pipeline(
    engine: Engine, clock: FixedClock, dash: DashboardDesk
) -> None:
    app = make_app(engine, clock, dash.desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        stages = screen.query_one("#stages", BarTable)
        assert stages.rows[-3].cells == ("7", "$88,500", "$37,290", "2")  # the open total
        assert [row.number for row in screen.query_one("#funnel", Funnel).rows] == [
            "12", "12", "11", "10", "9"
        ]  # fmt: skip
        assert "75%" in str(screen.query_one("#outcomes").render())
        assert [r[0] for r in table_rows(app, "rotting")] == [
            "Lucky Kleinschmidt",
            "Chane Wassanasong",
        ]
        assert [r[:2] for r in table_rows(app, "due")] == [
            ["2d late", "Luanne Platter"],
            ["14:00", "Bill Dauterive"],
            ["rot +7d", "Lucky Kleinschmidt"],
            ["rot +6d", "Strickland Propane"],
            ["rot +2d", "Chane Wassanasong"],
        ]
        # my day: tasks by kind; the one due later today stands out from the overdue one
        due = app.screen.query_one("#due", CustomerList)
        late, today = due.get_row_at(0), due.get_row_at(1)
        assert [late[2].plain, today[2].plain] == [
            "✉ Send the financing forms",
            "☎ Call about the install date",
        ]
        assert late[0].style == LATE and today[0].style == DUE_SOON  # a red badge, yellow
        assert today[1].style == DUE_SOON and late[1].style != DUE_SOON
        title = str(app.screen.query_one("#due-panel").border_title)
        assert title == "My day · 1 overdue · 1 today · 3 rotting"
        await pilot.press("p")
        await settle(pilot)
        assert "Commercial Contracts (2 of 2)" in str(screen.query_one("#section-title").render())
        assert [r[0] for r in table_rows(app, "rotting")] == ["Strickland Propane"]
        assert stages.rows[0].label == "Qualified"
        await pilot.press("p")
        await settle(pilot)
        assert stages.rows[0].label == "New"


async def test_markup_in_data_is_shown_literally(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    evil = "[@click=app.quit]Acme\x1b[2J [bold]x[/]"
    with Session(engine) as s:
        res = stages_of(s, "Residential Replacements")
        stage = res["Proposal Sent"]
        stage.name = "[red]Sent[/]"
        customer = add_customer(s, evil, owner=s.merge(desk.manager))
        estimate = add_estimate(
            s, customer, stage, 500, title="[/]", owner=s.merge(desk.manager),
            entered_at=days_before(30),
        )  # fmt: skip
        add_stage_move(s, estimate, stage, at=FIXED_NOW)
        add_interaction(s, customer, s.merge(desk.rep), notes="[b]hi[/b]\x1b[31m", at=FIXED_NOW)
        s.commit()
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        shown = "\n".join(
            " ".join(row)
            for name in ("activity", "rotting", "due")
            for row in table_rows(app, name)
        )
        assert "[@click=app.quit]Acme␛[2J [bold]x[/]" in shown
        assert "[b]hi[/b]␛[31m" in shown and "#" in shown and "[/]" in shown
        labels = [row.label for row in app.screen.query_one("#stages", BarTable).rows]
        assert "[red]Sent[/]" in labels
        await pilot.click("#activity", offset=(30, 1))
        await pilot.pause()
        assert app.is_running


# --- live updates: two app instances on one database ------------------------------------------


async def test_live_update_from_another_app_keeps_the_feed_cursor(
    engine: Engine, clock: FixedClock, dash: DashboardDesk
) -> None:
    watcher = make_app(engine, clock, dash.desk, live_updates=True)  # the dashboard
    # the board, in another terminal (a manager: reps move only their own deals)
    mover = SalesEngineApp(app_context(engine, clock, dash.desk.manager))
    async with watcher.run_test(size=SIZE) as watching, mover.run_test(size=SIZE) as moving:
        feed = watcher.screen.query_one("#activity", CustomerList)
        await wait_until(watching, lambda: feed.row_count > 0)
        await watching.press("down", "down", "down")  # on Hank Hill's stage move
        assert cursor_customer(watcher, "activity") == "Hank Hill"
        before = feed.cursor_key
        first_rows = feed.row_count
        await wait_listening(watching, watcher.screen.listening, "dashboard's")

        # On the board in the other app, the first card of New (Peggy) moves on.
        await wait_until(moving, lambda: isinstance(mover.screen.focused, BoardColumn))
        lane = mover.screen.focused
        assert isinstance(lane, BoardColumn)
        await wait_until(moving, lambda: lane.current is not None)
        assert lane.current.customer_name == "Peggy Hill"
        await moving.press("shift+right")
        await settle(moving)

        def top_is(what: str, customer: str) -> bool:
            row = [c.plain for c in feed.get_row_at(0)] if feed.row_count else []
            return bool(row) and row[1].endswith(what) and row[2] == customer

        await wait_until(watching, lambda: top_is("Stage move", "Peggy Hill"), seconds=5)
        assert feed.cursor_key == before and cursor_customer(watcher, "activity") == "Hank Hill"
        assert feed.cursor_row == 4  # one row arrived above it
        assert watcher.screen.focused is feed
        site_visit = watcher.screen.query_one("#stages", BarTable).rows[1]
        assert site_visit.label == "Site Visit Scheduled" and site_visit.cells[0] == "3"

        # A call logged through the domain (another terminal's quick call) arrives too.
        with session_scope(engine) as s:
            profile.log_interaction(
                s,
                Actor.of(dash.desk.rep),
                dash.desk.customers["Dale Gribble"].id,
                type=InteractionType.call,
                direction=InteractionDirection.outbound,
                notes="Booked the site visit",
                now=FIXED_NOW + timedelta(minutes=1),
            )
        await wait_until(watching, lambda: top_is("Call out", "Dale Gribble"), seconds=5)
        assert feed.cursor_key == before and feed.cursor_row == 5
        assert feed.row_count == min(activity.FEED_LIMIT, first_rows + 2)


async def test_changes_while_away_repaint_on_return(
    engine: Engine, clock: FixedClock, dash: DashboardDesk
) -> None:
    app = make_app(engine, clock, dash.desk, live_updates=True)
    async with app.run_test(size=SIZE) as pilot:
        feed = app.screen.query_one("#activity", CustomerList)
        await wait_until(pilot, lambda: feed.row_count > 0)
        dashboard = app.screen
        await wait_listening(pilot, dashboard.listening, "dashboard's")
        await pilot.press("2")  # the leads inbox (no settle: the listener never completes)
        await wait_until(pilot, lambda: app.current_mode == "leads")
        with session_scope(engine) as s:
            profile.log_interaction(
                s, Actor.of(dash.desk.rep), dash.desk.customers["Dale Gribble"].id,
                type=InteractionType.meeting, direction=InteractionDirection.inbound,
                notes="Walked in", now=FIXED_NOW + timedelta(minutes=2),
            )  # fmt: skip
        # The hidden dashboard hears the change and only notes it for its return (no reload).
        await wait_until(
            pilot, lambda: dashboard._live_stale, what="the hidden dashboard hearing the change"
        )
        assert dashboard._live_timer is None  # no repaint scheduled while hidden
        assert feed.get_row_at(0)[2].plain != "Dale Gribble"  # not repainted while hidden
        await pilot.press("4")
        await wait_until(pilot, lambda: feed.get_row_at(0)[2].plain == "Dale Gribble", seconds=5)


def test_listen_accepts_several_channels(engine: Engine) -> None:
    heard: list[str] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=live.listen,
        args=(engine.url, ["chan_a", "chan_b"], heard.append, stop),
        kwargs={"on_connected": ready.set, "poll_seconds": 0.05},
        daemon=True,
    )
    thread.start()
    try:
        assert ready.wait(5)
        with psycopg.connect(live.conninfo(engine.url), autocommit=True) as conn:
            conn.execute("NOTIFY chan_a, 'one'")
            conn.execute("NOTIFY chan_b, 'two'")
            conn.execute("NOTIFY chan_c, 'three'")
        for _ in range(100):
            if len(heard) >= 2:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(5)
    assert heard == ["one", "two"]


def test_board_channel_is_one_of_the_dashboards() -> None:
    from salesengine_tui.usecases.dashboard import LIVE_CHANNELS

    assert board.BOARD_CHANNEL in LIVE_CHANNELS and activity.ACTIVITY_CHANNEL in LIVE_CHANNELS
