"""Demo rows, generated one customer at a time together with everything that hangs off it.

Rows come out as COPY text lines (tab-separated, `\\N` for NULL) because building text is the
cheapest way to feed PostgreSQL a few million rows. Times are whole epoch seconds counted back
from the clock's now and formatted through lookup tables (a date string per day plus a time
string per second of the day): `datetime` objects would cost more than the rest of a row.
All randomness comes from one seeded `random.Random`, consumed in a fixed order, so a seed and
a clock give the same rows, UUIDs included.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime

from faker import Faker

from . import demo_sales, demo_tasks
from . import demo_words as w
from .demo_company import DAY, TABLES, Pipeline, Staff, Unit, plan_staff
from .demo_pools import POOL_BITS, build_pools, copy_text, weighted
from .models import END_OF_LIFE_RESOLUTION

HOUR = 3_600
NULL = "\\N"
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Version 4 / RFC 4122 variant bits, so the seeded ids look like any other UUID.
_UUID_MASK = ((1 << 128) - 1) ^ (0xF << 76) ^ (0x3 << 62)
_UUID_V4 = (4 << 76) | (2 << 62)
_MAIN_KINDS = frozenset({"Central AC", "Furnace", "Heat Pump", "Air Handler"})


class DemoGenerator:
    """Produces the rows; `attach` gives it the ids that only the database knows."""

    def __init__(self, *, seed: int, now: datetime, customers: int) -> None:
        rng = random.Random(seed)
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.now_e = math.floor(now.timestamp())
        self.staff_plan = plan_staff(fake, rng, customers, self.now_e)
        self.pools = build_pools(fake, rng)
        self.rand = rng.random
        self.bits = rng.getrandbits
        today = self.now_e // DAY
        # Lookup tables for times: 40 years back (25-year-old equipment of 5-year customers)
        # and a year ahead (booked visits, tasks).
        self.d0 = today - 40 * 366
        dates = [date.fromordinal(_EPOCH_ORDINAL + d) for d in range(self.d0, today + 366)]
        self.days = [d.isoformat() for d in dates]
        # Serial numbers start with the week and year of manufacture, as most brands' do.
        self.serial_head = [f"{d.isocalendar()[1]:02d}{d.year % 100:02d}" for d in dates]
        self.tods = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]
        self.task_clock = demo_tasks.TaskClock(self.now_e, seed)
        self.ticket_no = 0
        self.estimate_no = 0
        self.counts = dict.fromkeys(TABLES, 0)
        p = self.pools
        self.unit_n = {
            "lead": weighted([(0, 50), (1, 30), (2, 20)]),
            "active": weighted([(1, 10), (2, 40), (3, 35), (4, 15)]),
            "churned": weighted([(1, 10), (2, 40), (3, 35), (4, 15)]),
        }
        self.ticket_n = {
            "active": weighted([(1, 50), (2, 30), (3, 15), (4, 5)]),
            "churned": weighted([(1, 60), (2, 40)]),
        }
        self.touch_n = {
            "lead": weighted([(0, 10), (1, 35), (2, 35), (3, 20)]),
            "active": weighted([(0, 25), (1, 35), (2, 25), (3, 10), (4, 5)]),
            "churned": weighted([(0, 50), (1, 35), (2, 15)]),
        }
        self.touch_type = weighted([("call", 50), ("email", 25), ("sms", 15), ("meeting", 10)])
        self.out_share = {"call": 0.7, "email": 0.6, "sms": 0.5, "meeting": 0.85}
        self.summaries = {k: [copy_text(s) for s in v] for k, v in p.summaries.items()}
        self.resolutions = {k: [copy_text(s) for s in v] for k, v in p.resolutions.items()}

    def attach(self, staff: Staff, residential: Pipeline, commercial: Pipeline) -> None:
        self.staff = staff
        # Some reps carry more accounts than others, as on any team.
        self.owner_pool = weighted([(r, 1 + i % 3) for i, r in enumerate(staff.reps)])
        self.residential, self.commercial = residential, commercial
        # Open cards per stage position (New .. Negotiation), keyed by "is commercial".
        self.stage_pick = {
            False: weighted(list(zip(range(4), (30, 25, 28, 17), strict=True))),
            True: weighted(list(zip(range(4), (30, 25, 25, 20), strict=True))),
        }

    # --- small helpers -------------------------------------------------------------------
    def new_id(self) -> str:
        return "%032x" % ((self.bits(128) & _UUID_MASK) | _UUID_V4)

    def ts(self, e: int) -> str:
        d = e // DAY
        return self.days[d - self.d0] + self.tods[e - d * DAY]

    def office(self, e: int, hi: int) -> int:
        """`e` moved into office hours (8-18 h Central) the same day, unless that passes `hi`."""
        d = e // DAY
        b = d * DAY + 50_400 + (e - d * DAY) * 5 // 12
        return b if b <= hi else e

    def pick(self, seq: list[str] | tuple[str, ...]) -> str:
        return seq[int(self.rand() * len(seq))]

    # --- the chunk -----------------------------------------------------------------------
    def chunk(self, customers: int) -> dict[str, list[str]]:
        """COPY lines for `customers` more customers and all their rows, per table."""
        self.out: dict[str, list[str]] = {t: [] for t in TABLES}
        for _ in range(customers):
            self._customer()
        for table, lines in self.out.items():
            self.counts[table] += len(lines)
        return self.out

    def _customer(self) -> None:
        rand, bits, now, p = self.rand, self.bits, self.now_e, self.pools
        cid = self.new_id()
        r = rand()
        status = "lead" if r < 0.30 else "active" if r < 0.90 else "churned"
        biz = rand() < 0.08
        end = now
        if status == "lead":
            # Most leads came in over the last 90 days, the newest most often; some went stale.
            back = rand() ** 1.6 * 90 if rand() < 0.8 else 90 + rand() * 640
        elif status == "active":
            back = 30 + rand() * 1795
        else:
            back = 365 + rand() * 1460
        created = self.office(now - int(back * DAY), now)
        if status == "churned":
            end = created + int((now - 180 * DAY - created) * (0.3 + 0.7 * rand()))
        owner = self.owner_pool[bits(POOL_BITS)] if status == "lead" or rand() < 0.5 else None

        units = self._equipment(cid, status, biz, created)
        eol: list[tuple[str, int, Unit]] = []
        self._tickets(cid, status, units, created, end, eol)
        # Times of every interaction written, for last_interaction_at.
        touches: list[int] = []
        open_est = demo_sales.estimates(self, cid, status, biz, units, owner, created, eol, touches)
        demo_sales.interactions(self, cid, status, owner, created, end, open_est, touches)

        if biz:
            name, email = p.business[bits(POOL_BITS)]
            email = email if rand() < 0.9 else NULL
        else:
            fi, li = bits(POOL_BITS), bits(POOL_BITS)
            name = p.first[fi] + " " + p.last[li]
            if rand() < 0.85:
                f, last = p.first_slug[fi], p.last_slug[li]
                local = (f + "." + last, f + last, f[0] + last, last + "." + f)[bits(2)]
                r = rand()
                if r < 0.35:
                    local += str(1 + int(rand() * 98))
                elif r < 0.6:
                    local += str(1950 + int(rand() * 55))  # a birth year, as people do
                email = local + "@" + w.CUSTOMER_EMAIL_DOMAINS[int(rand() * 3)]
            else:
                email = NULL
        city, zips, codes = p.city[bits(POOL_BITS)]
        phone = (
            "+1" + codes[int(rand() * len(codes))] + str(2_000_000 + int(rand() * 8_000_000))
            if rand() < 0.95
            else NULL
        )
        # Some businesses are reached at an extension (a few in a hundred); read from the id,
        # not drawn, so every other row stays as it was for a seed.
        ext = str(10 + int(cid[:2], 16) % 90) if biz and phone != NULL and cid[2] < "8" else NULL
        address = str(100 + int(rand() * 9800)) + " " + p.street[bits(POOL_BITS)]
        source = p.lead_source[bits(POOL_BITS)] if rand() < 0.93 else NULL
        opt_out = "t" if rand() < 0.02 else "f"
        opted_at = self.ts(created + int(rand() * (now - created))) if opt_out == "t" else NULL
        suppressed = NULL
        if email != NULL and rand() < 0.005:
            suppressed = self.ts(created + int(rand() * (now - created)))
        # The draws the customer's old next step took, still taken so every other row stays
        # as it was for a seed; tasks draw on a stream of their own.
        if (status == "lead" and rand() < 0.35) or (open_est and rand() < 0.25):
            rand(), rand()
        demo_tasks.tasks(self, self.task_clock, cid, status, owner, created, open_est, touches)
        last_touch = max(touches) if touches else None
        updated = max(created, last_touch or created)
        self.out["customers"].append(
            "\t".join(
                (
                    cid,
                    name,
                    email,
                    phone,
                    ext,
                    address,
                    city,
                    w.STATE,
                    zips[int(rand() * len(zips))],
                    self.ts(created),
                    self.ts(updated),
                    status,
                    source,
                    owner or NULL,
                    opt_out,
                    opted_at,
                    suppressed,
                    self.ts(last_touch) if last_touch else NULL,
                    "1",
                )
            )
        )

    def _equipment(self, cid: str, status: str, biz: bool, created: int) -> list[Unit]:
        n = self.unit_n[status][self.bits(POOL_BITS)]
        if not n:
            return []
        rand, bits, p = self.rand, self.bits, self.pools
        template = (p.commercial_household if biz else p.household)[bits(POOL_BITS)]
        # One brand for the matched system (AC + furnace, heat pump + air handler) most times.
        system_brand = p.brand_pick["Central AC"][bits(POOL_BITS)]
        today = self.now_e // DAY
        base_age = int(rand() * 25 * 365)
        recorded = min(created + int(rand() * 3 * DAY), self.now_e)
        units = []
        out = self.out["equipment"]
        for kind in template[:n]:
            if kind in _MAIN_KINDS and rand() < 0.8:
                brand_i = system_brand
            else:
                brand_i = p.brand_pick[kind][bits(POOL_BITS)]
            brand, models = p.models[kind][brand_i]
            day = today - (base_age if rand() < 0.7 else int(rand() * 25 * 365))
            serial = (
                self.serial_head[day - self.d0]
                + "ABCDEFGHJKLMNPRS"[bits(4)]
                + str(10_000 + int(rand() * 90_000))
            )
            uid = self.new_id()
            line = (uid, cid, kind, brand, self.pick(models), serial, self.days[day - self.d0])
            # Recorded at the first visit, or when we installed it if that came later.
            out.append(
                "\t".join(line) + "\t" + self.ts(min(max(recorded, day * DAY + 57_600), self.now_e))
            )
            units.append(Unit(uid, kind, day))
        return units

    def _ticket(
        self,
        cid: str,
        unit: Unit | None,
        status: str,
        opened: int,
        scheduled: int | None,
        closed: int | None,
        resolution: str | None,
    ) -> str:
        self.ticket_no += 1
        tid = self.new_id()
        kind = unit.kind if unit is not None and self.rand() < 0.85 else ""
        if closed is not None and resolution is None:
            resolution = self.pick(self.resolutions[kind])
        self.out["tickets"].append(
            "\t".join(
                (
                    tid,
                    str(self.ticket_no),
                    cid,
                    unit.id if unit is not None else NULL,
                    # Nobody is dispatched to a visit that was never scheduled.
                    self.pick(self.staff.technicians) if scheduled is not None else NULL,
                    status,
                    self.pick(self.summaries[kind]),
                    resolution or NULL,
                    self.ts(opened),
                    self.ts(scheduled) if scheduled is not None else NULL,
                    self.ts(closed) if closed is not None else NULL,
                )
            )
        )
        return tid

    def _tickets(
        self,
        cid: str,
        status: str,
        units: list[Unit],
        created: int,
        end: int,
        eol: list[tuple[str, int, Unit]],
    ) -> None:
        rand, now = self.rand, self.now_e
        if status == "lead":
            # Leads have no booked or completed work (the backfill rule): at most a request
            # still open, or one they cancelled.
            r = rand()
            if r < 0.14:
                lo = max(created, now - (14 if r < 0.10 else 60) * DAY)
                opened = self.office(lo + int(rand() * (now - lo)), now)
                unit = units[0] if units else None
                self._ticket(
                    cid, unit, "open" if r < 0.10 else "cancelled", opened, None, None, None
                )
            return
        # Active and churned customers have work history: closed visits, oldest first.
        hi = end if status == "churned" else now - 6 * DAY
        n = self.ticket_n[status][self.bits(POOL_BITS)]
        for i, t in enumerate(sorted(created + int(rand() * (hi - created)) for _ in range(n))):
            unit = units[int(rand() * len(units))]
            opened = self.office(t, hi)
            scheduled = self.office(opened + int(rand() * 4 * DAY), now)
            if i and rand() < 0.04:
                self._ticket(cid, unit, "cancelled", opened, scheduled, None, None)
                continue
            closed = scheduled + int((1 + rand() * 4) * HOUR)
            # Old units die: a technician closes the visit as "end of life".
            old = (opened // DAY - unit.installed_day) > 14 * 365
            if rand() < (0.08 if old else 0.004):
                tid = self._ticket(
                    cid, unit, "closed", opened, scheduled, closed, END_OF_LIFE_RESOLUTION
                )
                eol.append((tid, closed, unit))
            else:
                self._ticket(cid, unit, "closed", opened, scheduled, closed, None)
        if status != "active":
            return
        oldest = min(units, key=lambda u: u.installed_day)
        if rand() < 0.02 and now // DAY - oldest.installed_day > 12 * 365:
            # A recent end-of-life closure with no opportunity yet: the upsell job's work.
            unit = oldest
            closed = self.office(now - int((1 + rand() * 9) * DAY), now)
            opened = closed - int((2 + rand() * 40) * HOUR)
            tid = self._ticket(
                cid, unit, "closed", opened, closed - 2 * HOUR, closed, END_OF_LIFE_RESOLUTION
            )
            eol.append((tid, closed, unit))
        r = rand() * 100
        if r < 8:
            opened = self.office(now - int(rand() * 5 * DAY), now)
            booked = self.office(now + int((1 + rand() * 13) * DAY), now + 15 * DAY)
            self._ticket(cid, self.pick_unit(units), "booked", opened, booked, None, None)
        elif r < 10:
            opened = self.office(now - int((1 + rand() * 4) * DAY), now)
            started = now - int((1 + rand() * 3) * HOUR)
            self._ticket(cid, self.pick_unit(units), "in_progress", opened, started, None, None)
        elif r < 13:
            opened = self.office(now - int(rand() * 3 * DAY), now)
            self._ticket(cid, self.pick_unit(units), "open", opened, None, None, None)
        elif r < 15:
            opened = self.office(now - int((2 + rand() * 28) * DAY), now)
            self._ticket(cid, self.pick_unit(units), "cancelled", opened, None, None, None)

    def pick_unit(self, units: list[Unit]) -> Unit:
        return units[int(self.rand() * len(units))]
