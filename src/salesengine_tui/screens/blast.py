"""Send an email blast to a segment: write or pick a template, see it rendered for real
recipients, read the dry-run numbers (who gets it, who is left out and why), confirm by typing
the recipient count, then watch the outbox drain (sent / failed / suppressed).

The writing half (template, numbers, preview) is `BlastComposer`; this screen adds the keys,
the confirmed send and the progress."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import ClassVar

from textual import on, work
from textual.binding import BindingType
from textual.content import Content
from textual.widgets import Input, ProgressBar, Static, TextArea

from ..ui.display import number, plural
from .base import describe_error
from .blast_compose import BlastComposer
from .commands import PaletteCommand, ScreenCommands, from_keys
from .keys import bindings
from .messages import BlastProgress, BlastQueued, Notice
from .text_prompt import TextPrompt

PROGRESS_EVERY = 1.0

_KEYS = [
    ("ctrl+t", "template", "Template", "blast.template", "Start from a template", True),
    ("ctrl+n", "next", "Next", "blast.next", "Preview the next recipient", True),
    ("ctrl+b", "previous", "Prev", "blast.previous", "Preview the previous recipient", False),
    ("ctrl+r", "check", "Refresh", "blast.refresh", "Render the preview and count again", False),
    ("ctrl+s", "send", "Send…", "blast.send", "Send: confirm by typing the count", True),
    ("escape", "close", "Back", "blast.back", "Back to the segment", True),
]


class BlastScreen(BlastComposer):
    COMMANDS = {ScreenCommands}
    CSS_PATH = "blast.tcss"
    AUTO_FOCUS = "#blast-subject"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))
    # Classes the stylesheet fits 80x24 with (see blast.tcss).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (100, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (32, "-tall")]

    def action_send(self) -> None:
        if self.blast_id is not None:
            self.notify("This blast is queued; its progress is shown on the right.")
            return
        if self.dry is None or not self.rendered:
            self.notify("Nobody to send to (see the numbers on the right)", severity="warning")
            return
        if self.missing:  # refused before the count is typed: compliance comes first
            self.notify(
                "Marketing email needs a postal address and an unsubscribe link. Set:\n"
                + "\n".join(self.missing),
                title="Not sent",
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        expected = self.dry.recipients
        subject, body = self.subject, self.body

        def check(answer: str) -> str | None:
            typed = answer.strip().replace(",", "")
            if typed != str(expected):
                return f"type {expected} (the number of recipients) to send, or esc to stop"
            return None

        def confirmed(answer: str | None) -> None:
            if answer is not None:
                self._send(subject, body, expected)

        self.app.push_screen(
            TextPrompt(
                Content.assemble(
                    ("Send to ", "bold"),
                    (plural(expected, "recipient"), "bold"),
                    "? Type ",
                    (str(expected), "bold"),
                    " to confirm.",
                ),
                check=check,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="blast-send")
    def _send(self, subject: str, body: str, confirm: int) -> None:
        try:
            sent = self.desk.blasts.send(
                self.definition, subject, body, confirm=confirm, saved=self.saved
            )
        except Exception as error:
            # Told why, then the numbers again: the segment may have changed since they showed.
            why = describe_error(error, self.ctx)
            self.post_message(
                Notice(why, title="Not sent", severity="error", timeout=10, reload=True)
            )
            return
        self.post_message(BlastQueued(sent))

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        message.toast(self)
        if message.reload:
            self.action_check()

    @on(BlastQueued)
    def _queued(self, message: BlastQueued) -> None:
        sent = message.sent
        self.blast_id = sent.blast_id
        if sent.again:
            note = (
                f"This blast was sent before: {plural(sent.queued, 'new recipient')} queued, "
                "nobody gets it twice"
            )
        else:
            note = f"Queued {plural(sent.queued, 'email')}"
        self.notify(note, markup=False)
        self.query_one("#blast-subject", Input).disabled = True
        self.query_one("#blast-text", TextArea).read_only = True
        bar = self.query_one("#blast-progress", ProgressBar)
        bar.display = self.query_one("#blast-progress-text").display = True
        bar.update(total=max(1, sent.recipients), progress=0)
        self._poll()
        self.set_interval(PROGRESS_EVERY, self._poll)

    def _poll(self) -> None:
        if self.blast_id is not None:
            self._progress(self.blast_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="blast-progress")
    def _progress(self, blast_id: uuid.UUID) -> None:
        self.post_message(BlastProgress(self.desk.blasts.progress(blast_id)))

    @on(BlastProgress)
    def _show_progress(self, message: BlastProgress) -> None:
        p = message.progress
        bar = self.query_one("#blast-progress", ProgressBar)
        bar.update(total=max(1, p.total), progress=p.done)
        waiting = p.queued + p.sending
        self.query_one("#blast-progress-text", Static).update(
            Content.assemble(
                (f"{number(p.sent)} sent", "bold"),
                f" · {number(p.failed)} failed · {number(p.suppressed)} suppressed",
                (f" · {number(waiting)} waiting for the sender" if waiting else " · done", "dim"),
            )
        )

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS, skip=("close",))
