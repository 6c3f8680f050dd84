"""Quick Call (`c`): who to call and the number, large; a running timer; then the outcome,
notes and an optional next step, all from the keyboard. esc cancels and nothing is written.
The call is saved before the dialog closes: if the save fails, the dialog stays as typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Digits, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..base.clock import Clock
from ..base.errors import UserError
from ..customers.leads import OUTCOMES, LeadRow, outcome_label, parse_when
from ..customers.profile import NOTES_MAX
from ..ui.display import visible
from .saving_form import SavingForm

DIALABLE = set("0123456789+-() ")


@dataclass(frozen=True)
class CallResult:
    outcome: str
    notes: str
    next_step_at: datetime | None
    seconds: int


class QuickCallScreen(SavingForm[CallResult]):
    CSS_PATH = ["modal.tcss", "quick_call.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel (nothing saved)", id="call.cancel"),
        Binding("ctrl+s", "save", "Save the call", id="call.save"),
        *(
            Binding(
                str(i), f"outcome({i - 1})", outcome_label(o), id=f"call.outcome{i}", show=False
            )
            for i, o in enumerate(OUTCOMES, 1)
        ),
    ]

    def __init__(
        self, lead: LeadRow, clock: Clock, tz: ZoneInfo, save: Callable[[CallResult], object]
    ) -> None:
        super().__init__(save)
        self.lead = lead
        self.clock = clock  # the app's clock: tests fix it, so the timer reads 00:00 there
        self.tz = tz
        self.now = self.started = clock.now()

    def _elapsed(self) -> int:
        return max(0, int((self.clock.now() - self.started).total_seconds()))

    def compose(self) -> ComposeResult:
        phone = self.lead.phone or ""
        with Vertical(classes="modal-box", id="call-box"):
            yield Static(self._who(0), id="call-who")
            if phone and set(phone) <= DIALABLE and len(phone) <= 20:
                yield Digits(phone, id="call-number")
            else:
                yield Static(Content(visible(phone) or "no phone number on file"), id="call-number")
            yield OptionList(
                *(Option(f"{i}  {outcome_label(o)}", id=o) for i, o in enumerate(OUTCOMES, 1)),
                id="call-outcome",
            )
            yield Input(
                placeholder="Notes (enter for next field)", max_length=NOTES_MAX, id="call-notes"
            )
            yield Input(
                placeholder="Next step: YYYY-MM-DD, +N days, today, tomorrow (optional)",
                id="call-next",
            )
            yield Static(Content("ctrl+s save · esc cancel"), classes="modal-hint")

    def _who(self, seconds: int) -> Content:
        return Content.assemble(
            ("Call ", "bold"),
            visible(self.lead.name),
            (f"  ⏱ {seconds // 60:02d}:{seconds % 60:02d}", "dim"),
        )

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        options = self.query_one(OptionList)
        options.border_title = "Outcome (1-5)"
        options.focus()

    def _tick(self) -> None:
        self.query_one("#call-who", Static).update(self._who(self._elapsed()))

    def action_outcome(self, index: int) -> None:
        options = self.query_one(OptionList)
        options.highlighted = index
        self.query_one("#call-notes", Input).focus()

    @on(OptionList.OptionSelected)
    def _outcome_chosen(self) -> None:
        self.query_one("#call-notes", Input).focus()

    @on(Input.Submitted, "#call-notes")
    def _notes_done(self) -> None:
        self.query_one("#call-next", Input).focus()

    @on(Input.Submitted, "#call-next")
    def _next_done(self) -> None:
        self.action_save()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Digits typed into a field are text, not outcome keys.
        return not (action == "outcome" and isinstance(self.focused, Input))

    def action_save(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            self.notify("Pick an outcome (1-5) first", severity="warning")
            options.focus()
            return
        try:
            when = parse_when(self.query_one("#call-next", Input).value, self.now, self.tz)
        except UserError as error:
            self.notify(str(error), title="Next step", severity="error", markup=False)
            self.query_one("#call-next", Input).focus()
            return
        self.submit(
            CallResult(
                outcome=OUTCOMES[options.highlighted],
                notes=self.query_one("#call-notes", Input).value,
                next_step_at=when,
                seconds=self._elapsed(),
            )
        )
