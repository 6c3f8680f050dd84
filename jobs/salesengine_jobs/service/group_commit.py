"""Group commit: the webhooks' events are stored by one writer, many requests a transaction.

Postmark posts one event a request, and in parallel when it replays a day; a transaction per
event spends most of its time on what every transaction costs (a connection check, BEGIN, the
lookups, COMMIT). Here each request puts its events in a queue and waits; one writer takes
everything waiting (up to `max_group_events`) into one `record_events` call, and answers each
request once that transaction has committed: a provider never gets 200 for an event that is not
stored. There is no delay to gather a group: whoever arrives while a transaction runs joins the
next one, so a lone request is written at once and a busy service writes big groups.

A group that fails because the database is not answering fails every request in it (503: the
providers retry). Any other error may be one request's events: each request of the group is
then written alone, so only that one fails. A full queue refuses at once (`Overloaded`: 503 with
Retry-After) rather than letting requests pile up past the providers' timeouts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from salesengine_tui.base.errors import UserError
from salesengine_tui.email.events import ProviderEvent, Recorded

log = logging.getLogger("salesengine.serve")

# One transaction's events: big enough that a busy service pays the per-transaction cost rarely,
# small enough that a group's row locks are held briefly (a SendGrid batch is up to ~1,000).
MAX_GROUP_EVENTS = 2_000
# Events waiting at most: some seconds of work; past it a provider is better told to come back.
MAX_WAITING_EVENTS = 20_000
# PostgreSQL's deadlock_detected and serialization_failure: two writers (several service
# processes, or the suppressions job) met on the same rows; the transaction is worth one retry.
RETRIABLE_SQLSTATES = {"40P01", "40001"}


class Overloaded(Exception):
    """The queue is full: answer 503 with Retry-After."""


@dataclass
class Stored:
    """One request's part of a group: its events new to the table, and the rest (seen before,
    or repeated within the group)."""

    stored: int
    duplicates: int


@dataclass
class _Waiting:
    events: list[ProviderEvent]
    answer: asyncio.Future[Stored]


class GroupCommit:
    def __init__(
        self,
        record: Callable[[list[ProviderEvent]], Recorded],
        *,
        max_group_events: int = MAX_GROUP_EVENTS,
        max_waiting_events: int = MAX_WAITING_EVENTS,
    ) -> None:
        self._record = record
        self.max_group_events = max_group_events
        self.max_waiting_events = max_waiting_events
        self._waiting: deque[_Waiting] = deque()
        self._waiting_events = 0
        self._writer: asyncio.Task[None] | None = None

    async def record(self, events: list[ProviderEvent]) -> Stored:
        """Wait until `events` are committed (with whatever else was waiting). Raises what
        the transaction raised, or `Overloaded` at once when the queue is full."""
        if self._waiting and self._waiting_events + len(events) > self.max_waiting_events:
            raise Overloaded
        waiting = _Waiting(events, asyncio.get_running_loop().create_future())
        # A request gone meanwhile no longer awaits its answer: its error is not "unretrieved".
        waiting.answer.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._waiting.append(waiting)
        self._waiting_events += len(events)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        # Shielded: a client that goes away does not take its events out of a transaction.
        return await asyncio.shield(waiting.answer)

    async def _write(self) -> None:
        while self._waiting:
            group = self._take()
            try:
                await self._write_group(group)
            except Exception as exc:
                _answer_all(group, exc)

    def _take(self) -> list[_Waiting]:
        """The oldest waiting request, and the ones after it while the group has room."""
        group = [self._waiting.popleft()]
        size = len(group[0].events)
        while self._waiting and size + len(self._waiting[0].events) <= self.max_group_events:
            size += len(self._waiting[0].events)
            group.append(self._waiting.popleft())
        self._waiting_events -= size
        return group

    async def _write_group(self, group: list[_Waiting]) -> None:
        events = [event for waiting in group for event in waiting.events]
        try:
            recorded = await run_in_threadpool(self._record_retrying, events)
        except Exception as exc:
            if len(group) == 1 or _database_down(exc):
                raise
            # Maybe one request's events (a value the table refuses, a bug): each alone, so
            # only that request fails.
            log.warning("events: a group of %d requests failed; writing each alone", len(group))
            for waiting in group:
                try:
                    await self._write_group([waiting])
                except Exception as alone:
                    _answer_all([waiting], alone)
            return
        _answer_each(group, recorded)

    def _record_retrying(self, events: list[ProviderEvent]) -> Recorded:
        try:
            return self._record(events)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRIABLE_SQLSTATES:
                raise
            log.info("events: %s; retrying the transaction once", type(exc.orig).__name__)
            return self._record(events)


def _database_down(exc: Exception) -> bool:
    """Nothing to do with the events: no connection (the pool's wait ran out, the server is
    gone or refused us; psycopg's OperationalError, a deadlock already retried included), or
    no database configured. The service answers these 503 (app.DATABASE_DOWN)."""
    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, UserError))


def _answer_each(group: list[_Waiting], recorded: Recorded) -> None:
    """Each request's own counts: an event new to the table counts as stored for the first
    request of the group that carried it."""
    new = set(recorded.stored_keys)
    for waiting in group:
        stored = 0
        for event in waiting.events:
            key = (event.provider, event.key)
            if key in new:
                new.discard(key)
                stored += 1
        if not waiting.answer.done():
            waiting.answer.set_result(Stored(stored, len(waiting.events) - stored))


def _answer_all(group: list[_Waiting], exc: BaseException) -> None:
    for waiting in group:
        if not waiting.answer.done():
            waiting.answer.set_exception(exc)
