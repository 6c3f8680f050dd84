"""Email out of the desk: draining the outbox through the provider, and opt-outs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from ..base.clock import Clock
from ..base.logfmt import quote
from ..base.settings import Settings
from ..email import leases, outbox, sender
from ..email.providers import Provider
from ..email.sender import DrainReport
from .base import UseCases
from .context import AppContext

log = logging.getLogger("salesengine.email")


class Email(UseCases):
    SYSTEM_WORK = True

    def drain(
        self,
        provider: Provider | None = None,
        *,
        max_batches: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> DrainReport:
        """Send due rows until none are left (or `max_batches`, or `should_stop`). Without a
        `provider`, the configured one is opened and closed around the drain."""
        if provider is not None:
            return self._drain(provider, max_batches, should_stop)
        configured = sender.make_provider(self.ctx.settings)
        try:
            return self._drain(configured, max_batches, should_stop)
        finally:
            configured.close()

    def _drain(
        self, provider: Provider, max_batches: int | None, should_stop: Callable[[], bool]
    ) -> DrainReport:
        # Every step is its own transaction: a claim is committed before the provider is
        # called, and each request's answer is recorded as soon as it comes.
        report = DrainReport()
        with self.write() as session:
            report.recovered = sender.recover(session, self.ctx.settings, now=self.now())
        batches = 0
        while not should_stop() and (max_batches is None or batches < max_batches):
            with self.write() as session:
                rows = outbox.claim(session, now=self.now(), limit=provider.batch_size)
            if not rows:
                break
            batches += 1
            stop = self._send_batch(provider, rows, report, should_stop)
            if stop:
                report.stopped = stop
                break
        return report

    def _send_batch(
        self,
        provider: Provider,
        rows: list[outbox.Claimed],
        report: DrainReport,
        should_stop: Callable[[], bool],
    ) -> str | None:
        """One claimed batch, request by request: each answer is recorded, and the lease of
        the rows still held renewed, before the next request goes out. Whatever is raised on
        the way, no row stays claimed. Returns why sending must stop."""
        settings = self.ctx.settings
        held = {row.id: row for row in rows}  # claimed, and the provider's answer not recorded
        answered: list[outbox.Claimed] = []  # the request whose answer is being recorded
        # Renewing every held row after every request is quadratic in a batch sent one message
        # a request; renewing once a quarter of the lease has gone keeps it from running out.
        renew_every = timedelta(seconds=settings.outbox_lease_seconds / 4)
        renewed_at = self.now()  # the claim was just committed
        deliveries = None
        try:
            with self.write() as session:
                rows = sender.skip_blocked(session, rows, report)
            held = {row.id: row for row in rows}
            deliveries = sender.deliver(provider, settings, rows, now=self.now())
            for delivery in deliveries:
                answered = delivery.rows
                for row in answered:
                    del held[row.id]
                rest = list(held.values())
                ending = delivery.ends_batch or bool(rest and should_stop())
                with self.write() as session:
                    now = self.now()
                    stop = sender.record(
                        session,
                        delivery,
                        report,
                        settings=settings,
                        provider=provider.name,
                        now=now,
                    )
                    if ending:  # the rest is not sent now: put back, as the answer says
                        ends = delivery if delivery.ends_batch else None
                        sender.put_back(session, ends, rest, report, settings=settings, now=now)
                    elif now - renewed_at >= renew_every:
                        leases.renew(session, rest, now=now)
                        renewed_at = now
                answered = []
                if ending or not held:
                    return stop
            return None
        except BaseException as exc:
            self._let_go(answered, list(held.values()), exc)
            raise
        finally:
            if deliveries is not None:
                deliveries.close()

    def _let_go(
        self, answered: list[outbox.Claimed], untried: list[outbox.Claimed], exc: BaseException
    ) -> None:
        """A drain that fails releases its claim: the request whose answer could not be
        recorded fails (it may have gone), the rest waits for a retry. If even that cannot be
        written (the database is gone), the lease gives the rows back later."""
        error = f"{type(exc).__name__}: {exc}"
        try:
            with self.write() as session:
                outbox.mark_failed(
                    session,
                    answered,
                    f"the provider answered but the answer could not be recorded ({error}); "
                    "not retried, so nobody gets it twice",
                )
                leases.retry_later(
                    session, untried, f"not sent: the sender failed ({error})", now=self.now()
                )
        except Exception as again:
            log.error(
                "event=fault job=outbox error=%s released=false",
                quote(f"{type(again).__name__}: {again}"),
            )

    def unsubscribe(self, address: str) -> int:
        """Opt every customer with this address out of email; returns how many. A person's
        relaying of a customer's request (`salesengine unsubscribe`): it runs as that person
        when one acts, not as the jobs."""
        with UseCases(self.ctx).write() as session:
            return outbox.unsubscribe(session, address, now=self.now())


def drain(
    engine: Engine,
    provider: Provider,
    settings: Settings,
    *,
    clock: Clock,
    max_batches: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DrainReport:
    """One drain for a caller that holds an engine rather than a desk (tests, benchmarks)."""
    email = Email(AppContext(engine, clock, settings, actor=None))
    return email.drain(provider, max_batches=max_batches, should_stop=should_stop)
