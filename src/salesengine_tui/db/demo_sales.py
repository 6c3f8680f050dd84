"""Demo estimates (with their stage history) and customer interactions, for one customer.

Functions over the `DemoGenerator` rather than methods on it, only to keep each module short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import demo_words as w
from .demo_pools import POOL_BITS

if TYPE_CHECKING:
    from .demo_company import Stage, Unit
    from .demo_gen import DemoGenerator

DAY = 86_400
HOUR = 3_600
MINUTE = 60
NULL = "\\N"
_OPEN_CHANCE = {"lead": 0.17, "active": 0.06, "churned": 0.02}


def estimates(
    g: DemoGenerator,
    cid: str,
    status: str,
    biz: bool,
    units: list[Unit],
    owner: str | None,
    created: int,
    eol: list[tuple[str, int, Unit]],
    touches: list[int],
) -> tuple[str, int, str] | None:
    """The customer's estimates; returns (id, created, owner) of the open one, if any."""
    rand, now = g.rand, g.now_e
    if now - created < 2 * HOUR:
        return None  # too new to have been quoted
    rep = owner or g.owner_pool[g.bits(POOL_BITS)]
    open_est = None
    # An end-of-life closure a few days to two months old mostly became an opportunity
    # already; the newest ones are left for the upsell job to find.
    linked = next((t for t in reversed(eol) if 4 * DAY <= now - t[1] <= 60 * DAY), None)
    if linked is not None and rand() < 0.75:
        r = rand()
        outcome = "open" if r < 0.85 or status != "active" else "won" if r < 0.95 else "lost"
        est = _estimate(g, cid, biz, units, rep, outcome, linked, created, touches)
        open_est = (*est, rep) if outcome == "open" else None
    elif rand() < _OPEN_CHANCE[status] * (2 if biz else 1):
        open_est = (*_estimate(g, cid, biz, units, rep, "open", None, created, touches), rep)
    r = rand()
    # Only customers with work were ever won (won means a booked install: an active customer).
    if status == "active" and r < 0.05:
        _estimate(g, cid, biz, units, rep, "won", None, created, touches)
    elif r < (0.08 if status == "active" else 0.05):
        _estimate(g, cid, biz, units, rep, "lost", None, created, touches)
    return open_est


def _estimate(
    g: DemoGenerator,
    cid: str,
    biz: bool,
    units: list[Unit],
    rep: str,
    outcome: str,
    linked: tuple[str, int, Unit] | None,
    created: int,
    touches: list[int],
) -> tuple[str, int]:
    rand, now = g.rand, g.now_e
    pipe = g.commercial if biz else g.residential
    stages = pipe.open
    path: list[Stage]
    if outcome == "open":
        pos = g.stage_pick[biz][g.bits(POOL_BITS)]
        rot = stages[pos].rotting_days or 14
        # Most cards are fresh for their column; the rest are rotting (up to two months).
        days_in = rand() * rot if rand() < 0.7 else rot + rand() * max(1, 60 - rot)
        path = [stages[0], *[s for s in stages[1:pos] if rand() < 0.7]]
        if pos:
            path.append(stages[pos])
    else:
        days_in = rand() * 90
        # How far it got before the decision: a win went through a proposal at least.
        reached = 2 + int(rand() * 2) if outcome == "won" else int(rand() * len(stages))
        path = [stages[0], *[s for s in stages[1 : reached + 1] if rand() < 0.7]]
        path.append(pipe.won if outcome == "won" else pipe.lost)
    lo = (linked[1] if linked else created) + HOUR
    entered = g.office(now - int(days_in * DAY), now)
    if entered < lo + HOUR:  # the customer is newer than the card's intended age
        entered = lo + int((now - lo) * (0.5 + 0.5 * rand()))
    gaps = [int((1 + rand() * 7) * DAY) for _ in path[1:]]
    total, room = sum(gaps), entered - lo
    if total > room:
        gaps = [gap * room // (total + 1) for gap in gaps]
    times = [entered - sum(gaps)]
    for gap in gaps:
        times.append(times[-1] + gap)

    if linked is not None:
        unit: Unit | None = linked[2]
    elif units and rand() < 0.8:
        unit = g.pick_unit(units)
    else:
        unit = None
    if biz:
        title, low, high = w.COMMERCIAL_TITLES[int(rand() * len(w.COMMERCIAL_TITLES))]
    else:
        choices = w.ESTIMATE_TITLES[unit.kind if unit is not None else ""]
        title, low, high = choices[int(rand() * len(choices))]
    amount = (low + int(rand() * (high - low))) // 5 * 5
    final = path[-1]
    if outcome == "won":
        status = "accepted"
    elif outcome == "lost":
        status = "declined"
    elif final.name in ("Proposal Sent", "Negotiation"):
        status = "sent"
    else:
        status = "draft"
    lost = g.pick(w.LOST_REASONS) if outcome == "lost" else NULL
    # Opportunities from end-of-life tickets are opened by the upsell automation.
    creator = g.staff.system if linked is not None else rep

    g.estimate_no += 1
    eid = g.new_id()
    g.out["estimates"].append(
        "\t".join(
            (
                eid,
                str(g.estimate_no),
                cid,
                title,
                f"{amount}.00",
                status,
                unit.id if unit is not None else NULL,
                creator,
                g.ts(times[0]),
                g.ts(entered),
                final.id,
                g.ts(entered),
                rep,
                linked[0] if linked is not None else NULL,
                lost,
                "1",
            )
        )
    )
    history = g.out["estimate_stage_history"]
    prev: Stage | None = None
    for i, (stage, at) in enumerate(zip(path, times, strict=True)):
        history.append(
            "\t".join(
                (
                    g.new_id(),
                    eid,
                    prev.id if prev else NULL,
                    stage.id,
                    prev.name if prev else NULL,
                    stage.name,
                    creator if i == 0 else rep,
                    g.ts(at),
                    lost if stage is final else NULL,
                )
            )
        )
        if stage.name == "Proposal Sent":
            sent = min(at + int((5 + rand() * 55) * MINUTE), now)
            touch(
                g,
                cid,
                "email",
                "outbound",
                f"Sent proposal: {title}",
                rep,
                sent,
                NULL,
                eid,
                touches,
            )
        prev = stage
    before = entered - int((10 + rand() * 50) * MINUTE)
    if outcome == "won":
        note = "Accepted the proposal - scheduling the install"
        touch(g, cid, "call", "inbound", note, rep, before, "connected", eid, touches)
    elif outcome == "lost":
        note = f"Declined the proposal: {lost}"
        touch(g, cid, "call", "outbound", note, rep, before, "not_interested", eid, touches)
    return eid, times[0]


def touch(
    g: DemoGenerator,
    cid: str,
    kind: str,
    direction: str,
    notes: str,
    by: str,
    at: int,
    outcome: str,
    estimate: str,
    touches: list[int],
) -> None:
    g.out["customer_interactions"].append(
        "\t".join((g.new_id(), cid, kind, direction, notes, by, g.ts(at), outcome, estimate))
    )
    touches.append(at)


def interactions(
    g: DemoGenerator,
    cid: str,
    status: str,
    owner: str | None,
    created: int,
    end: int,
    open_est: tuple[str, int, str] | None,
    touches: list[int],
) -> None:
    """Calls, emails, texts and visits: a few per lead, fewer per customer, none after churn."""
    rand, bits, now, pools = g.rand, g.bits, g.now_e, g.pools
    n = g.touch_n[status][bits(POOL_BITS)]
    if status == "lead" and now - created < DAY and rand() < 0.5:
        n = 0  # fresh leads nobody has called yet: the top of the inbox
    lo = max(created, now - 365 * DAY) if status == "active" else created
    hi = end
    for _ in range(n):
        at = g.office(lo + int(rand() * (hi - lo)), hi)
        kind = g.touch_type[bits(POOL_BITS)]
        direction = "outbound" if rand() < g.out_share[kind] else "inbound"
        outcome = ""
        if kind == "call":
            outcome = (pools.call_out if direction == "outbound" else pools.call_in)[
                bits(POOL_BITS)
            ]
        notes = g.pick(pools.notes[(kind, direction, outcome)])
        by = owner or g.owner_pool[bits(POOL_BITS)]
        estimate = open_est[0] if open_est and at >= open_est[1] and rand() < 0.5 else NULL
        touch(g, cid, kind, direction, notes, by, at, outcome or NULL, estimate, touches)
