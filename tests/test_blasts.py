"""Email blasts against real PostgreSQL: dry-run numbers checked against the rows, rendering in
SQL (placeholders, footer, markup kept literal), managers only, typed-count confirmation, and a
second send queues nothing twice. Saved segments: save, rename, duplicate, delete."""

from __future__ import annotations

from datetime import date

import pytest
from factories import FIXED_NOW, Desk, add_customer
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.errors import PermissionDenied, UserError
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.models import Blast, EmailOutbox, Equipment, OutboxStatus
from salesengine_tui.email import tokens
from salesengine_tui.marketing import blasts, saved_segments, segments

SETTINGS = load_settings(
    company_postal_address="1 Main St, Dallas TX 75201",
    unsubscribe_url="https://acme.example/unsubscribe",
    signing_key="test-signing-key-0123456789abcdef",
)
SEGMENT = segments.parse("lead_source = 'Blast test'")


def seed(engine: Engine) -> dict[str, object]:
    people = [
        # name, email, opted out, suppressed
        ("Ann Good", "ann@example.com", False, False),
        ("Bob [bold]Markup[/] [@click=app.quit]", "bob@example.com", False, False),
        ("Cy Dup", "dup@example.com", False, False),
        ("Cy Dup Later", "DUP@example.com", False, False),
        ("Olive Optout", "olive@example.com", True, False),
        ("Sue Suppressed", "sue@example.com", False, True),
        ("Nora Noemail", None, False, False),
        ("Ivan Invalid", "not-an-email", False, False),
    ]
    ids = {}
    with Session(engine) as s:
        for i, (name, email, opted, suppressed) in enumerate(people):
            c = add_customer(s, name, lead_source="Blast test", n=900 + i)
            c.email, c.email_opt_out = email, opted
            c.created_at = FIXED_NOW.replace(year=2020, day=1 + i)
            if suppressed:
                c.email_suppressed_at = FIXED_NOW
            ids[name] = c.id
        s.add(Equipment(customer_id=ids["Ann Good"], kind="Furnace", installed_on=date(2010, 3, 1)))
        s.add(
            Equipment(customer_id=ids["Ann Good"], kind="Heat Pump", installed_on=date(2020, 1, 1))
        )
        s.commit()
    return ids


def test_dry_run_counts_every_reason(engine: Engine, desk: Desk) -> None:
    seed(engine)
    with Session(engine) as s:
        dry = blasts.dry_run(s, SEGMENT, now=FIXED_NOW)
        members = s.execute(
            text("SELECT count(*) FROM customers WHERE lower(lead_source) = 'blast test'")
        ).scalar_one()
    assert dry.recipients == 3  # Ann, Bob, the older Cy
    assert dry.excluded == {
        "opted_out": 1, "suppressed": 1, "no_email": 1, "invalid_email": 1, "duplicate_address": 1,
    }  # fmt: skip
    assert dry.members == members == 8


def test_preview_renders_placeholders_and_footer_literally(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    with Session(engine) as s:
        shown = blasts.preview(
            s, SEGMENT, "Hi {first_name}: your {equipment_kind}", "Dear {name},\n"
            "{equipment_age} years, {owner_name}.\n\n\n", now=FIXED_NOW, settings=SETTINGS,
        )  # fmt: skip
    by_name = {r.name: r for r in shown}
    assert set(by_name) == {"Ann Good", "Bob [bold]Markup[/] [@click=app.quit]", "Cy Dup"}
    ann = by_name["Ann Good"]
    assert ann.subject == "Hi Ann: your furnace"  # the oldest unit, in the sentence's case
    assert ann.body.startswith("Dear Ann Good,\n16 years, The team.\n\n--\nUnsubscribe: ")
    # Ann's own signed link, dated the send day (the preview's: today's).
    link = tokens.unsubscribe_link(SETTINGS, ids["Ann Good"], FIXED_NOW.date())
    assert f"Unsubscribe: {link}\n" in ann.body and "?c=" not in ann.body
    assert ann.body.endswith("1 Main St, Dallas TX 75201\n")
    bob = by_name["Bob [bold]Markup[/] [@click=app.quit]"]
    assert bob.body.startswith("Dear Bob [bold]Markup[/] [@click=app.quit],\n? years")
    assert bob.subject == "Hi Bob: your system"


def test_unknown_placeholder_is_named(engine: Engine) -> None:
    with pytest.raises(
        UserError, match=r"unknown placeholder '\{frist_name\}' in the body \(line 2\)"
    ):
        blasts.check_template("Hello", "Hi\n{frist_name}")


def _rows(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        outbox = s.execute(select(func.count()).select_from(EmailOutbox)).scalar_one()
        sent = s.execute(select(func.count()).select_from(Blast)).scalar_one()
    return outbox, sent


def test_only_managers_send_and_the_count_must_match(engine: Engine, desk: Desk) -> None:
    seed(engine)
    rep, manager = Actor.of(desk.rep), Actor.of(desk.manager)
    args = dict(definition=SEGMENT, subject="Hi {first_name}", body="Hello", now=FIXED_NOW,
                settings=SETTINGS)  # fmt: skip
    with Session(engine) as s:
        with pytest.raises(PermissionDenied, match="only managers may send an email blast"):
            blasts.send(s, actor=rep, confirm=3, **args)
        with pytest.raises(UserError, match="has 3 recipients now, not 4"):
            blasts.send(s, actor=manager, confirm=4, **args)
        with pytest.raises(UserError, match="postal address"):
            blasts.send(s, actor=manager, confirm=3, **{**args, "settings": load_settings()})
        s.rollback()
    assert _rows(engine) == (0, 0)


def test_send_queues_one_row_per_recipient_once(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    manager = Actor.of(desk.manager)
    args = dict(actor=manager, definition=SEGMENT, subject="Hi {first_name}", body="Hello",
                confirm=3, now=FIXED_NOW, settings=SETTINGS, segment_name="Blast test")  # fmt: skip
    with Session(engine) as s:
        first = blasts.send(s, **args)
        s.commit()
    assert (first.queued, first.recipients, first.again) == (3, 3, False)
    with Session(engine) as s:
        keys = set(s.execute(select(EmailOutbox.idempotency_key)).scalars())
        assert keys == {f"blast:{first.blast_id}:{ids[n]}" for n in
                        ("Ann Good", "Bob [bold]Markup[/] [@click=app.quit]", "Cy Dup")}  # fmt: skip
        row = s.execute(
            select(EmailOutbox).where(EmailOutbox.customer_id == ids["Cy Dup"])
        ).scalar_one()
        assert row.is_campaign and row.subject == "Hi Cy" and row.to_email == "dup@example.com"
        assert row.created_by == manager.id
        blast = s.get(Blast, first.blast_id)
        assert blast.recipients == 3 and blast.excluded["duplicate_address"] == 1
    with Session(engine) as s:
        again = blasts.send(s, **args)
        s.commit()
    assert (again.blast_id, again.queued, again.again) == (first.blast_id, 0, True)
    assert _rows(engine) == (3, 1)
    with Session(engine) as s:
        s.execute(text("UPDATE email_outbox SET status = 'sent' WHERE customer_id = :c"),
                  {"c": ids["Ann Good"]})  # fmt: skip
        s.execute(text("UPDATE email_outbox SET status = 'suppressed' WHERE customer_id = :c"),
                  {"c": ids["Cy Dup"]})  # fmt: skip
        s.commit()
        progress = blasts.progress(s, first.blast_id)
        assert (progress.queued, progress.sent, progress.suppressed, progress.done) == (1, 1, 1, 2)
        assert blasts.recent(s)[0].segment == "Blast test"
        assert OutboxStatus.sent  # the statuses progress reads are the outbox's own


def test_saved_segments_lifecycle(engine: Engine, desk: Desk) -> None:
    actor = Actor.of(desk.manager)
    with Session(engine) as s:
        saved = saved_segments.save(s, "  Old units ", SEGMENT, actor=actor, now=FIXED_NOW)
        assert saved.name == "Old units" and saved.definition == SEGMENT
        with pytest.raises(UserError, match="a segment named 'old UNITS' already exists"):
            saved_segments.save(s, "old UNITS", SEGMENT, actor=actor, now=FIXED_NOW)
        copy = saved_segments.duplicate(s, saved.id, actor=actor, now=FIXED_NOW)
        copy2 = saved_segments.duplicate(s, saved.id, actor=actor, now=FIXED_NOW)
        assert (copy.name, copy2.name) == ("Old units (copy)", "Old units (copy 2)")
        renamed = saved_segments.rename(s, copy.id, "Furnaces", actor=actor, now=FIXED_NOW)
        assert renamed.name == "Furnaces" and renamed.text == "lead_source = 'Blast test'"
        with pytest.raises(UserError, match="already exists"):
            saved_segments.rename(s, copy2.id, "furnaces", actor=actor, now=FIXED_NOW)
        saved_segments.delete(s, copy2.id, actor=actor)
        assert [x.name for x in saved_segments.list_saved(s)] == ["Furnaces", "Old units"]
        assert saved_segments.resolve(s, "old units") == (SEGMENT, "Old units")
        assert saved_segments.resolve(s, "status = lead")[1] is None
        with pytest.raises(UserError, match="the segment name is empty"):
            saved_segments.save(s, " \t", SEGMENT, actor=actor, now=FIXED_NOW)


def test_sent_blast_emails_stay_on_timelines_not_in_the_team_feed(
    engine: Engine, desk: Desk
) -> None:
    from salesengine_tui.activity import feed as activity
    from salesengine_tui.email import outbox

    ids = seed(engine)
    manager = Actor.of(desk.manager)
    with Session(engine) as s:
        blasts.send(s, actor=manager, definition=SEGMENT, subject="Hi {first_name}", body="Hello",
                    confirm=3, now=FIXED_NOW, settings=SETTINGS)  # fmt: skip
        s.commit()
        claimed = outbox.claim(s, now=FIXED_NOW, limit=10)
        outbox.mark_sent(s, [(row, "m") for row in claimed], provider="file", now=FIXED_NOW)
        s.commit()
        timeline = activity.recent_activity(s, customer_id=ids["Ann Good"])
        assert (timeline[0].interaction_type, timeline[0].notes) == ("email", "Hi Ann")
        team = activity.recent_activity(s, 500)
        assert not any(i.notes and i.notes.startswith("Hi ") for i in team)
