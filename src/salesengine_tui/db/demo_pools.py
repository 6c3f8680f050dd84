"""Pools the demo generator draws from, built once per seed.

Faker is slow per call (tens of microseconds), so it only fills small pools of names up front;
the generator then combines pool entries with a seeded `random.Random`, about a hundred times
faster. Pools have 1024 entries so a pick is `pool[getrandbits(10)]`, the cheapest draw there is.
Weighted choices are expanded into pools too (an entry repeated by its weight).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from faker import Faker

from . import demo_words as w

T = TypeVar("T")
POOL_BITS = 10
POOL_SIZE = 1 << POOL_BITS

_COPY_UNSAFE = re.compile(r"[\t\n\r\\]")


def copy_text(value: str) -> str:
    """A string as one COPY text-format field (backslash escapes for the special characters)."""
    if not _COPY_UNSAFE.search(value):
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def weighted(items: Sequence[tuple[T, int]], size: int = POOL_SIZE) -> list[T]:
    """A pool of `size` entries where each item appears in proportion to its weight."""
    total = sum(weight for _, weight in items)
    pool: list[T] = []
    for item, weight in items:
        pool.extend([item] * round(size * weight / total))
    # Rounding can leave the pool a little short or long: pad with the heaviest item, or trim.
    heaviest = max(items, key=lambda pair: pair[1])[0]
    while len(pool) < size:
        pool.append(heaviest)
    return pool[:size]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Pools:
    first: list[str]
    first_slug: list[str]
    last: list[str]
    last_slug: list[str]
    business: list[tuple[str, str]]  # name, email
    street: list[str]
    city: list[tuple[str, tuple[str, ...], tuple[str, ...]]]  # city, zips, area codes
    lead_source: list[str]
    household: list[tuple[str, ...]]
    commercial_household: list[tuple[str, ...]]
    # kind -> pool of brand indexes into models[kind]; models[kind][i] = (brand, [model, ...])
    brand_pick: dict[str, list[int]]
    models: dict[str, list[tuple[str, list[str]]]]
    summaries: dict[str, tuple[str, ...]]
    resolutions: dict[str, tuple[str, ...]]
    titles: dict[str, tuple[tuple[str, int, int], ...]]
    notes: dict[tuple[str, str, str], list[str]]
    call_out: list[str]
    call_in: list[str]


def build_pools(fake: Faker, rng: random.Random) -> Pools:
    first = [fake.first_name() for _ in range(POOL_SIZE)]
    last = [fake.last_name() for _ in range(POOL_SIZE)]
    cities = [c for c, _, _, _ in w.SERVICE_AREA]

    business: list[tuple[str, str]] = []
    for _ in range(POOL_SIZE):
        pattern = rng.choice(w.BUSINESS_PATTERNS)
        name = pattern.format(
            last=rng.choice(last), city=rng.choice(cities), word=rng.choice(w.STREET_WORDS)
        )
        mailbox = rng.choice(w.BUSINESS_MAILBOXES)
        business.append((copy_text(name), f"{mailbox}@{_slug(name)[:24]}.example.com"))

    suffixes = weighted(w.STREET_SUFFIXES)
    street = []
    for _ in range(POOL_SIZE):
        # Half the streets are named after people, as in any suburb.
        base = rng.choice(w.STREET_WORDS) if rng.random() < 0.5 else rng.choice(last)
        street.append(copy_text(f"{base} {rng.choice(suffixes)}"))

    models: dict[str, list[tuple[str, list[str]]]] = {}
    brand_pick: dict[str, list[int]] = {}
    for kind, brands in w.EQUIPMENT_MODELS.items():
        codes = w.CAPACITY_CODES[kind]
        models[kind] = [(b, [p.format(c=c) for c in codes]) for b, _, p in brands]
        brand_pick[kind] = weighted([(i, wt) for i, (_, wt, _) in enumerate(brands)])

    notes: dict[tuple[str, str, str], list[str]] = {}
    for key, templates in w.NOTE_TEMPLATES.items():
        notes[key] = [copy_text(t.format(t=topic)) for t in templates for topic in w.TOPICS]

    return Pools(
        first=[copy_text(n) for n in first],
        first_slug=[_slug(n) or "customer" for n in first],
        last=[copy_text(n) for n in last],
        last_slug=[_slug(n) or "home" for n in last],
        business=business,
        street=street,
        city=weighted([((c, zips, codes), wt) for c, zips, codes, wt in w.SERVICE_AREA]),
        lead_source=weighted(list(zip(w.LEAD_SOURCES, w.LEAD_SOURCE_WEIGHTS, strict=True))),
        household=weighted(list(w.HOUSEHOLDS)),
        commercial_household=weighted(list(w.COMMERCIAL_HOUSEHOLDS)),
        brand_pick=brand_pick,
        models=models,
        summaries=w.TICKET_SUMMARIES,
        resolutions=w.TICKET_RESOLUTIONS,
        titles=w.ESTIMATE_TITLES,
        notes=notes,
        call_out=weighted(list(w.CALL_OUTCOMES_OUT)),
        call_in=weighted(list(w.CALL_OUTCOMES_IN)),
    )
