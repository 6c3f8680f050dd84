"""The writing half of the blast screen: the subject and body (typed, or from a template or a
past blast), the email rendered for real recipients, and the dry-run numbers (who gets it, who
is left out and why), rendered again each time typing pauses. `BlastScreen` adds the send. What
is typed stays whatever the database does: a check or a send that fails says why, in place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, ProgressBar, Static, TextArea

from ..marketing import blasts, segments
from ..marketing.saved_segments import Saved
from ..ui.display import editable, number, safe_lines, safe_text, visible
from ..usecases import Desk
from ..usecases.context import AppContext
from ..widgets.app_footer import AppFooter
from .base import APP_TITLE, describe_error
from .debounce import Debounce
from .messages import BlastChecked, BlastTemplateLoaded, BlastTemplatesListed
from .picker import Picker

PREVIEW_PAUSE = 0.4  # seconds after typing stops before the preview renders again


@dataclass
class BlastCheckFailed(Message):
    reason: str  # one line: why the numbers and preview could not be brought up to date


class BlastComposer(Screen[None]):
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
        self.missing: tuple[str, ...] = ()  # settings sending waits for (compliance)
        self.blast_id: uuid.UUID | None = None  # set once queued: the text is then final
        self.check_later = Debounce(self, lambda _: self.action_check(), PREVIEW_PAUSE)
        self.title = "Email blast"

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

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
                yield Static(id="blast-unready")
                yield Static(id="blast-preview-head")
                with VerticalScroll(id="blast-preview-scroll"):
                    yield Static(id="blast-preview")
                yield ProgressBar(id="blast-progress", show_eta=False)
                yield Static(id="blast-progress-text")
        yield AppFooter()  # keeps `? Keys` at any width

    def on_mount(self) -> None:
        for waiting in ("#blast-progress", "#blast-progress-text", "#blast-unready"):
            self.query_one(waiting).display = False
        first = blasts.TEMPLATES[0]
        self._use_template(first.subject, first.body)

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

    # --- templates ------------------------------------------------------------------------------

    def action_template(self) -> None:
        self._list_templates()

    @work(thread=True, exit_on_error=False, group="blast-templates")
    def _list_templates(self) -> None:
        self.post_message(BlastTemplatesListed(self.desk.blasts.recent(limit=8)))

    @on(BlastTemplatesListed)
    def _pick_template(self, message: BlastTemplatesListed) -> None:
        choices: list[tuple[Text, tuple[str, str] | uuid.UUID]] = [
            (Text.assemble((t.name, "bold"), "  ", (t.subject, "dim"), end=""), (t.subject, t.body))
            for t in blasts.TEMPLATES
        ]
        choices += [
            (
                Text.assemble(
                    "Sent before: ",
                    safe_text(b.subject, "bold"),
                    end="",
                    no_wrap=True,
                    overflow="ellipsis",
                ),
                b.id,
            )
            for b in message.past
        ]

        def chosen(choice: tuple[str, str] | uuid.UUID | None) -> None:
            if isinstance(choice, tuple):
                self._use_template(*choice)
            elif choice is not None:
                self._load_past(choice)

        self.app.push_screen(Picker("Start from a template", choices), chosen)

    @work(thread=True, exit_on_error=False, group="blast-templates")
    def _load_past(self, blast_id: uuid.UUID) -> None:
        self.post_message(BlastTemplateLoaded(*self.desk.blasts.content_of(blast_id)))

    @on(BlastTemplateLoaded)
    def _past_loaded(self, message: BlastTemplateLoaded) -> None:
        self._use_template(message.subject, message.body)

    def _use_template(self, subject: str, body: str) -> None:
        # Editable boxes: a past blast's hidden characters are left out, not shown as stand-ins.
        self.query_one("#blast-subject", Input).value = editable(subject)
        self.query_one("#blast-text", TextArea).text = editable(body, lines=True)
        self.action_check()

    # --- numbers and preview --------------------------------------------------------------------

    def action_check(self) -> None:
        self._check(self.subject, self.body)

    @work(thread=True, exclusive=True, exit_on_error=False, group="blast-check")
    def _check(self, subject: str, body: str) -> None:
        try:
            check = self.desk.blasts.check(self.definition, subject, body)
        except Exception as error:  # e.g. the database went away: the text stays as typed
            self.post_message(BlastCheckFailed(describe_error(error, self.ctx)))
            return
        self.post_message(BlastChecked(check))

    @on(BlastCheckFailed)
    def _check_failed(self, message: BlastCheckFailed) -> None:
        self.query_one("#blast-preview-head", Static).update(
            Content.assemble(("Cannot check: ", "bold $text-error"), visible(message.reason))
        )

    @on(BlastChecked)
    def _checked(self, message: BlastChecked) -> None:
        check = message.check
        self.dry, self.rendered = check.dry, check.rendered
        self.missing = check.missing
        self.shown = min(self.shown, max(0, len(self.rendered) - 1))
        self._show_numbers(check.dry)
        self._show_unready(check.missing)
        self._show_preview(check.problem)

    def _show_numbers(self, dry: blasts.DryRun) -> None:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(justify="right", style="bold")
        grid.add_column()
        grid.add_row(number(dry.recipients), Text("will get it", style="bold"))
        for reason, label in blasts.EXCLUSIONS.items():
            grid.add_row(number(dry.excluded.get(reason, 0)), Text(f"left out: {label}"))
        grid.add_row(number(dry.members), Text("in the segment", style="dim"))
        self.query_one("#blast-numbers", Static).update(grid)

    def _show_unready(self, missing: tuple[str, ...]) -> None:
        """Why sending is refused: each setting to make on a line of its own, never cut."""
        box = self.query_one("#blast-unready", Static)
        box.display = bool(missing)
        box.update(
            Content.assemble(
                ("✗ Sending is refused until set:", "bold $text-error"),
                *(("\n" + name, "bold") for name in missing),
            )
        )

    def _show_preview(self, problem: str | None = None) -> None:
        head = self.query_one("#blast-preview-head", Static)
        body = self.query_one("#blast-preview", Static)
        if problem:
            head.update(Content.assemble(("Cannot render: ", "bold $text-error"), visible(problem)))
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
        text = Text.assemble(
            ("Subject: ", "bold"), safe_text(r.subject), "\n\n", safe_lines(r.body)
        )
        # The footer's stand-ins for settings not made yet (`campaign_footer`) stand out.
        text.highlight_regex(r"\[no [a-z ]+ yet: set [A-Z_]+\]", "bold reverse")
        body.update(text)

    def action_next(self) -> None:
        if self.rendered:
            self.shown = (self.shown + 1) % len(self.rendered)
            self._show_preview()

    def action_previous(self) -> None:
        if self.rendered:
            self.shown = (self.shown - 1) % len(self.rendered)
            self._show_preview()
