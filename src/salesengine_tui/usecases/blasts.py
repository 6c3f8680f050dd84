"""Email blasts: templates, rendered preview, dry run, confirmed send, progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..access import permissions
from ..base.errors import UserError
from ..email.compliance import missing_campaign_settings
from ..marketing import blasts
from ..marketing.blasts import BlastSummary, DryRun, Progress, Rendered, Sent
from ..marketing.saved_segments import Saved
from ..marketing.segments import Definition
from .base import UseCases


@dataclass(frozen=True)
class BlastCheck:
    """What the blast would do now: who gets it and who is left out, the email rendered for
    the first recipients, and what stands in the way of sending."""

    dry: DryRun
    rendered: list[Rendered]
    problem: str | None  # what is wrong with the template, if anything
    missing: tuple[str, ...] = ()  # settings to make before sending (compliance), by name

    @property
    def unready(self) -> str | None:
        """Why sending would be refused now, in one line (None: it would not be)."""
        if not self.missing:
            return None
        return "Sending is refused until this is set: " + ", ".join(self.missing)


class Blasts(UseCases):
    def refusal(self) -> str | None:
        """Why the acting user may not send a blast, or None if they may."""
        return permissions.refusal(self.ctx.actor, permissions.Action.send_blast)

    def recent(self, *, limit: int = 10) -> list[BlastSummary]:
        """The latest blasts, newest first, each with how far its emails have gone."""
        with self.read() as session:
            return blasts.recent(session, limit=limit)

    def content_of(self, blast_id: uuid.UUID) -> tuple[str, str]:
        """A past blast's subject and body, to start a new one from."""
        with self.read() as session:
            return blasts.content_of(session, blast_id)

    def check(self, definition: Definition, subject: str, body: str) -> BlastCheck:
        """The dry run and the rendered preview (a template error is reported, not raised)."""
        missing = tuple(missing_campaign_settings(self.ctx.settings))
        now = self.now()
        problem = None
        rendered: list[Rendered] = []
        with self.read() as session:
            dry = blasts.dry_run(session, definition, now=now)
            try:
                rendered = blasts.preview(
                    session, definition, subject, body, now=now, settings=self.ctx.settings
                )
            except UserError as error:
                problem = str(error)
        return BlastCheck(dry, rendered, problem, missing)

    def send(
        self, definition: Definition, subject: str, body: str, *, confirm: int, saved: Saved | None
    ) -> Sent:
        """Queue the blast once the sender typed the recipient count (`confirm`)."""
        with self.write() as session:
            return blasts.send(
                session,
                actor=self.actor,
                definition=definition,
                subject=subject,
                body=body,
                confirm=confirm,
                now=self.now(),
                settings=self.ctx.settings,
                segment_id=saved.id if saved else None,
                segment_name=saved.name if saved else None,
            )

    def progress(self, blast_id: uuid.UUID) -> Progress:
        with self.read() as session:
            return blasts.progress(session, blast_id)
