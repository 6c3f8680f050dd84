"""Email out of the desk: draining the outbox through the provider, and opt-outs."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from ..base.clock import Clock
from ..base.settings import Settings
from ..email import outbox, sender
from ..email.providers import Provider
from ..email.sender import DrainReport
from .base import UseCases
from .context import AppContext


class Email(UseCases):
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
        # called, and each answer is recorded as soon as it comes.
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
            with self.write() as session:
                rows = sender.skip_blocked(session, rows, report)
            if not rows:
                continue
            delivery = sender.deliver(provider, self.ctx.settings, rows)
            with self.write() as session:
                stop = sender.record(
                    session, delivery, report, provider=provider.name, now=self.now()
                )
            if stop:
                report.stopped = stop
                break
        return report

    def unsubscribe(self, address: str) -> int:
        """Opt every customer with this address out of email; returns how many."""
        with self.write() as session:
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
