"""Send an email blast to a segment: write or pick a template, see it rendered for real
recipients, read the dry-run numbers (who gets it, who is left out and why), confirm by typing
the recipient count, then watch the outbox drain (sent / failed / suppressed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, ProgressBar, Static, TextArea

from .. import blasts, segments
from ..context import AppContext
from ..db.engine import session_scope
from ..display import number, plural, safe_lines, safe_text
from ..errors import UserError
from ..outbox import require_campaign_settings
from ..saved_segments import Saved
from .base import APP_TITLE, describe_error
from .commands import PaletteCommand, ScreenCommands, from_keys
from .debounce import Debounce
from .keys import bindings
from .messages import BlastChecked, BlastProgress, BlastQueued
from .picker import Picker
from .text_prompt import TextPrompt

PREVIEW_PAUSE = 0.4  # seconds after typing stops before the preview renders again
PROGRESS_EVERY = 1.0

_KEYS = [
    ("ctrl+t", "template", "Template", "blast.template", "Start from a template", True),
    ("ctrl+n", "next", "Next", "blast.next", "Preview the next recipient", True),
    ("ctrl+b", "previous", "Prev", "blast.previous", "Preview the previous recipient", False),
    ("ctrl+r", "check", "Refresh", "blast.refresh", "Render the preview and count again", False),
    ("ctrl+s", "send", "Send…", "blast.send", "Send: confirm by typing the count", True),
    ("escape", "close", "Back", "blast.back", "Back to the segment", True),
]


class BlastScreen(Screen[None]):
    COMMANDS = {ScreenCommands}
    CSS_PATH = "blast.tcss"
    AUTO_FOCUS = "#blast-subject"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(
        self, ctx: AppContext, definition: segments.Definition, saved: Saved | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.definition = definition
        self.saved = saved
        self.rendered: list[blasts.Rendered] = []
        self.shown = 0
        self.dry: blasts.DryRun | None = None
        self.blast_id: uuid.UUID | None = None
        self.check_later = Debounce(self, lambda _: self.action_check(), PREVIEW_PAUSE)
        self.title = "Email blast"

    @property
    def segment_label(self) -> str:
        return self.saved.name if self.saved else segments.to_text(self.definition)

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                (f"{APP_TITLE} · Email blast to ", "bold"), safe_text(self.segment_label).plain
            ),
            id="blast-title",
        )
        with Horizontal(id="blast-body"):
            with Vertical(id="blast-compose"):
                yield Label("Subject")
                yield Input(id="blast-subject", max_length=blasts.SUBJECT_MAX)
                yield Label("Body")
                yield TextArea(id="blast-text", soft_wrap=True, show_line_numbers=False)
                yield Static(
                    Content(
                        "Placeholders: "
                        + " ".join("{" + n + "}" for n in blasts.PLACEHOLDER_NAMES)
                        + ". The unsubscribe link and postal address are added to every email."
                    ),
                    id="blast-help",
                )
            with Vertical(id="blast-side"):
                yield Static(id="blast-numbers")
                yield Static(id="blast-preview-head")
                with VerticalScroll(id="blast-preview-scroll"):
                    yield Static(id="blast-preview")
                yield ProgressBar(id="blast-progress", show_eta=False)
                yield Static(id="blast-progress-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#blast-progress", ProgressBar).display = False
        first = blasts.TEMPLATES[0]
        self.query_one("#blast-subject", Input).value = first.subject
        self.query_one("#blast-text", TextArea).text = first.body
        self.action_check()

    # --- template and preview -------------------------------------------------------------------

    @property
    def subject(self) -> str:
        return self.query_one("#blast-subject", Input).value

    @property
    def body(self) -> str:
        return self.query_one("#blast-text", TextArea).text

    @on(Input.Changed, "#blast-subject")
    @on(TextArea.Changed, "#blast-text")
    def _typed(self) -> None:
        if self.blast_id is None:
            self.check_later("")

    def action_template(self) -> None:
        self._list_templates()

    @work(thread=True, exit_on_error=False, group="blast-templates")
    def _list_templates(self) -> None:
        with session_scope(self.ctx.engine) as session:
            past = blasts.recent(session, limit=8)
        self.app.call_from_thread(self._pick_template, past)

    def _pick_template(self, past: list[blasts.BlastSummary]) -> None:
        choices: list[tuple[Text, tuple[str, str] | uuid.UUID]] = [
            (Text.assemble((t.name, "bold"), "  ", (t.subject, "dim"), end=""), (t.subject, t.body))
            for t in blasts.TEMPLATES
        ]
        choices += [
            (Text.assemble("Sent before: ", (b.subject, "bold"), end="", no_wrap=True), b.id)
            for b in past
        ]

        def chosen(choice: tuple[str, str] | uuid.UUID | None) -> None:
            if isinstance(choice, tuple):
                self._use_template(*choice)
            elif choice is not None:
                self._load_past(choice)

        self.app.push_screen(Picker("Start from a template", choices), chosen)

    def _use_template(self, subject: str, body: str) -> None:
        self.query_one("#blast-subject", Input).value = subject
        self.query_one("#blast-text", TextArea).text = body
        self.action_check()

    @work(thread=True, exit_on_error=False, group="blast-templates")
    def _load_past(self, blast_id: uuid.UUID) -> None:
        with session_scope(self.ctx.engine) as session:
            subject, body = blasts.content_of(session, blast_id)
        self.app.call_from_thread(self._use_template, subject, body)

    def action_check(self) -> None:
        self._check(self.subject, self.body)

    @work(thread=True, exclusive=True, exit_on_error=False, group="blast-check")
    def _check(self, subject: str, body: str) -> None:
        now = self.ctx.clock.now()
        problem = None
        rendered: list[blasts.Rendered] = []
        try:
            require_campaign_settings(self.ctx.settings)
            unready = None
        except UserError as error:
            unready = f"Sending is refused until this is set up: {error}"
        with session_scope(self.ctx.engine) as session:
            dry = blasts.dry_run(session, self.definition, now=now)
            try:
                rendered = blasts.preview(
                    session, self.definition, subject, body, now=now, settings=self.ctx.settings
                )
            except UserError as error:
                problem = str(error)
        self.post_message(BlastChecked(dry, rendered, problem, unready))

    @on(BlastChecked)
    def _checked(self, message: BlastChecked) -> None:
        self.dry, self.rendered = message.dry, message.rendered
        self.shown = min(self.shown, max(0, len(self.rendered) - 1))
        self._show_numbers(message.unready)
        self._show_preview(message.problem)

    def _show_numbers(self, unready: str | None = None) -> None:
        if self.dry is None:
            return
        dry = self.dry
        grid = Table.grid(padding=(0, 2))
        grid.add_column(justify="right", style="bold")
        grid.add_column()
        grid.add_row(number(dry.recipients), Text("will get it", style="bold"))
        for reason, label in blasts.EXCLUSIONS.items():
            grid.add_row(number(dry.excluded.get(reason, 0)), Text(f"left out: {label}"))
        grid.add_row(number(dry.members), Text("in the segment", style="dim"))
        if unready:
            grid.add_row("", Text(unready, style="bold red"))
        self.query_one("#blast-numbers", Static).update(grid)

    def _show_preview(self, problem: str | None = None) -> None:
        head = self.query_one("#blast-preview-head", Static)
        body = self.query_one("#blast-preview", Static)
        if problem:
            head.update(Content.assemble(("Cannot render: ", "bold $text-error"), problem))
            body.update("")
            return
        if not self.rendered:
            head.update(Content("Nobody in this segment can be emailed."))
            body.update("")
            return
        r = self.rendered[self.shown]
        head.update(
            Content.assemble(
                (f"Preview {self.shown + 1} of {len(self.rendered)} · ", "dim"),
                ("To: ", "bold"),
                safe_text(r.name).plain,
                f" <{safe_text(r.email).plain}>",
            )
        )
        body.update(
            Content.assemble(
                ("Subject: ", "bold"), safe_text(r.subject).plain, "\n\n", safe_lines(r.body).plain
            )
        )

    def action_next(self) -> None:
        if self.rendered:
            self.shown = (self.shown + 1) % len(self.rendered)
            self._show_preview()

    def action_previous(self) -> None:
        if self.rendered:
            self.shown = (self.shown - 1) % len(self.rendered)
            self._show_preview()

    # --- sending ----------------------------------------------------------------------------------

    def action_send(self) -> None:
        if self.blast_id is not None:
            self.notify("This blast is queued; its progress is shown on the right.")
            return
        if self.dry is None or not self.rendered:
            self.notify("Nobody to send to (see the numbers on the right)", severity="warning")
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
            with session_scope(self.ctx.engine) as session:
                sent = blasts.send(
                    session,
                    actor=self.ctx.actor,
                    definition=self.definition,
                    subject=subject,
                    body=body,
                    confirm=confirm,
                    now=self.ctx.clock.now(),
                    settings=self.ctx.settings,
                    segment_id=self.saved.id if self.saved else None,
                    segment_name=self.saved.name if self.saved else None,
                )
        except Exception as error:
            self.app.call_from_thread(
                self.notify,
                describe_error(error, self.ctx),
                title="Not sent",
                severity="error",
                markup=False,
                timeout=10,
            )
            self.app.call_from_thread(self.action_check)
            return
        self.post_message(BlastQueued(sent))

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
        bar.display = True
        bar.update(total=max(1, sent.recipients), progress=0)
        self._poll()
        self.set_interval(PROGRESS_EVERY, self._poll)

    def _poll(self) -> None:
        if self.blast_id is not None:
            self._progress(self.blast_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="blast-progress")
    def _progress(self, blast_id: uuid.UUID) -> None:
        with session_scope(self.ctx.engine) as session:
            found = blasts.progress(session, blast_id)
        self.post_message(BlastProgress(found))

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
