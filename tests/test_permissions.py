"""Roles: every manager-only action, tried as a rep, is refused with the reason and changes
nothing; managers can do it. Pipeline and stage editing rules (held stages, the only won
stage, reorder, bad values) against real PostgreSQL."""

from __future__ import annotations

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_estimate, stages_of
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from salesengine_tui.access import permissions
from salesengine_tui.access.users import Actor
from salesengine_tui.base.errors import PermissionDenied, UserError
from salesengine_tui.customers import leads
from salesengine_tui.db.models import Customer, DealPipeline, DealStage, Estimate
from salesengine_tui.deals import board, pipeline_admin


def snapshot(engine: Engine) -> tuple:
    """Everything a denied action could have touched."""
    with Session(engine) as s:
        stages = s.execute(
            select(DealStage.name, DealStage.position, DealStage.probability,
                   DealStage.rotting_days).order_by(DealStage.pipeline_id, DealStage.position)
        ).all()  # fmt: skip
        pipelines = s.execute(select(DealPipeline.name).order_by(DealPipeline.name)).all()
        owners = s.execute(select(Customer.name, Customer.owner_id).order_by(Customer.name)).all()
        estimates = s.execute(select(Estimate.id, Estimate.stage_id).order_by(Estimate.id)).all()
    return stages, pipelines, owners, estimates


def res(engine: Engine) -> dict[str, DealStage]:
    with Session(engine) as s:
        return stages_of(s, "Residential Replacements")


def test_every_manager_only_action_is_refused_for_a_rep(engine: Engine, desk: Desk) -> None:
    rep = Actor.of(desk.rep)
    stages = res(engine)
    new = stages["New"]
    before = snapshot(engine)
    attempts = {
        "add a stage": lambda s: pipeline_admin.add_stage(s, rep, new.pipeline_id, "Survey"),
        "edit a stage": lambda s: pipeline_admin.update_stage(
            s, rep, new.id, name="X", probability="5", rotting_days="", follow_up_after_days=""
        ),
        "reorder stages": lambda s: pipeline_admin.move_stage(s, rep, new.id, 1),
        "delete a stage": lambda s: pipeline_admin.delete_stage(s, rep, stages["Lost"].id),
        "add a pipeline": lambda s: pipeline_admin.add_pipeline(s, rep, "Duct cleaning"),
        "rename a pipeline": lambda s: pipeline_admin.rename_pipeline(
            s, rep, new.pipeline_id, "Mine now"
        ),
        "reassign a lead": lambda s: leads.assign(
            s, rep, [desk.customers["Bill Dauterive"].id], desk.rep.id, now=FIXED_NOW
        ),
        "give a lead to someone else": lambda s: leads.assign(
            s, rep, [desk.customers["Dale Gribble"].id], desk.manager.id, now=FIXED_NOW
        ),
    }
    for what, attempt in attempts.items():
        with Session(engine) as s:
            with pytest.raises(PermissionDenied, match="only managers may"):
                attempt(s)
            s.commit()  # even committing afterwards writes nothing
        assert snapshot(engine) == before, what
    assert not permissions.allowed(rep, permissions.Action.send_blast)
    assert not permissions.allowed(rep, permissions.Action.see_all_notifications)


def test_a_rep_takes_unassigned_leads_and_moves_own_deals_only(engine: Engine, desk: Desk) -> None:
    rep, manager = Actor.of(desk.rep), Actor.of(desk.manager)
    stages = res(engine)
    with Session(engine) as s:
        dale = desk.customers["Dale Gribble"].id  # unassigned
        assert leads.assign(s, rep, [dale], rep.id, now=FIXED_NOW) == 1
        bills = add_estimate(s, s.get(Customer, desk.customers["Bill Dauterive"].id),
                             stages["New"], 1000, owner=desk.manager)  # fmt: skip
        mine = add_estimate(s, s.get(Customer, dale), stages["New"], 2000, owner=desk.rep)
        nobody = add_estimate(s, add_customer(s, "Nobody's"), stages["New"], 3000)
        s.commit()
        for estimate in (mine, nobody):
            board.move(s, rep, estimate.id, expected_version=estimate.version,
                       to_stage_id=stages["Negotiation"].id, now=FIXED_NOW)  # fmt: skip
        s.commit()
        with pytest.raises(PermissionDenied, match="this deal is Dana Reyes's"):
            board.move(s, rep, bills.id, expected_version=bills.version,
                       to_stage_id=stages["Negotiation"].id, now=FIXED_NOW)  # fmt: skip
        s.rollback()
        board.move(s, manager, bills.id, expected_version=bills.version,
                   to_stage_id=stages["Negotiation"].id, now=FIXED_NOW)  # fmt: skip
        s.commit()
        assert s.get(Estimate, bills.id).stage_id == stages["Negotiation"].id


def names(engine: Engine) -> list[tuple[str, int]]:
    return [(s.name, s.probability) for s in _stages(engine)]


def _stages(engine: Engine) -> list[pipeline_admin.StageSettings]:
    with Session(engine) as s:
        return pipeline_admin.stages(s, res(engine)["New"].pipeline_id)


def test_managers_edit_stages(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    stages = res(engine)
    pid = stages["New"].pipeline_id
    order = [s.name for s in _stages(engine)]
    with Session(engine) as s:
        pipeline_admin.add_stage(s, manager, pid, "  Survey\tbooked ", after=stages["New"].id)
        s.commit()
    after = [s.name for s in _stages(engine)]
    assert after == [order[0], "Survey booked", *order[1:]]
    positions = [s.position for s in _stages(engine)]
    assert positions == list(range(positions[0], positions[0] + len(after)))
    survey = next(s for s in _stages(engine) if s.name == "Survey booked")
    with Session(engine) as s:
        pipeline_admin.update_stage(s, manager, survey.id, name="Survey", probability="35%",
                                    rotting_days="7", follow_up_after_days="")  # fmt: skip
        pipeline_admin.move_stage(s, manager, survey.id, -1)
        s.commit()
    first = _stages(engine)[0]
    assert (first.name, first.probability, first.rotting_days, first.follow_up_after_days) == (
        "Survey", 35, 7, None,
    )  # fmt: skip
    bad = {
        "probability": ("120", "probability 120 is not between 0 and 100"),
        "rotting_days": ("soon", "'soon' is not a number of days"),
        "follow_up_after_days": ("0", "must be at least 1 day"),
        "name": (" ", "the stage name is empty"),
    }
    for field, (value, message) in bad.items():
        values = {"name": "Survey", "probability": "35", "rotting_days": "7",
                  "follow_up_after_days": "", field: value}  # fmt: skip
        with Session(engine) as s, pytest.raises(UserError, match=message):
            pipeline_admin.update_stage(s, manager, survey.id, **values)
    with Session(engine) as s, pytest.raises(UserError, match="already has a stage named 'new'"):
        pipeline_admin.update_stage(s, manager, survey.id, name="new", probability="1",
                                    rotting_days="", follow_up_after_days="")  # fmt: skip
    with Session(engine) as s:
        with pytest.raises(UserError, match="'New' holds 2 estimates: move them"):
            pipeline_admin.delete_stage(s, manager, stages["New"].id)
        with pytest.raises(UserError, match="already first"):
            pipeline_admin.move_stage(s, manager, survey.id, -1)
        with pytest.raises(UserError, match="only won stage"):
            won = stages_of(s, "Commercial Contracts")["Won"]  # holds nothing
            pipeline_admin.delete_stage(s, manager, won.id)
        assert pipeline_admin.delete_stage(s, manager, survey.id) == "Survey"
        s.commit()
    assert [s.name for s in _stages(engine)] == order
    with Session(engine) as s:
        new_pid = pipeline_admin.add_pipeline(s, manager, "Duct cleaning")
        s.commit()
        assert [x.name for x in pipeline_admin.stages(s, new_pid)] == ["New", "Won", "Lost"]
        with pytest.raises(UserError, match="already a pipeline named"):
            pipeline_admin.rename_pipeline(s, manager, new_pid, "Residential Replacements")
        assert s.execute(select(func.count()).select_from(DealPipeline)).scalar_one() == 3


def test_managers_reassign_deals(engine: Engine, desk: Desk) -> None:
    rep, manager = Actor.of(desk.rep), Actor.of(desk.manager)
    stages = res(engine)
    with Session(engine) as s:
        deal = add_estimate(s, s.get(Customer, desk.customers["Hank Hill"].id), stages["New"], 900)
        s.commit()
        seen = deal.version  # what a manager's board shows
        with pytest.raises(PermissionDenied, match="only managers may reassign"):
            board.reassign(s, rep, deal.id, rep.id, expected_version=deal.version, now=FIXED_NOW)
        s.rollback()
        assert board.reassign(s, manager, deal.id, rep.id, expected_version=deal.version,
                              now=FIXED_NOW) == "Sam Ortiz"  # fmt: skip
        s.commit()
        with pytest.raises(board.MoveConflict, match="Dana Reyes changed this estimate first"):
            board.reassign(s, manager, deal.id, None, expected_version=seen, now=FIXED_NOW)
        s.rollback()
        refreshed = s.get(Estimate, deal.id)
        s.refresh(refreshed)
        assert refreshed.owner_id == rep.id and refreshed.updated_by == manager.id
