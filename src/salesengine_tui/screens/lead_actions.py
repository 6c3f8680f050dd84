"""What a rep does from the leads inbox: call (`c`), convert (`v`), assign (`a`), open (`enter`)
and add a lead (`n`). Each flow opens its dialog, runs its use case in a worker and reports
back to the screen with a typed message (`LeadsChanged`, `Notice`). The call and new-lead
dialogs save themselves and close only once saved (`SavingForm`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from ..access import permissions
from ..base.errors import UserError
from ..customers.leads import LeadRow, Person, outcome_label
from ..deals.pipelines import PipelineInfo
from ..ui.display import plural, safe_text, visible
from ..widgets.leads_table import LeadsTable
from .customer import CustomerScreen
from .messages import LeadsChanged, Notice
from .new_lead import NewLeadForm
from .picker import Picker
from .quick_call import CallResult, QuickCallScreen

if TYPE_CHECKING:
    from .base import SectionScreen

    _Screen = SectionScreen
else:
    _Screen = object


class LeadActions(_Screen):
    """Mixed into the leads screen, which provides the table and what the pickers offer."""

    table: LeadsTable
    sources: list[str]
    people: list[Person]
    pipelines: list[PipelineInfo]

    def _targets(self) -> list[uuid.UUID]:
        """The marked leads, or the one under the cursor."""
        if self.table.marked:
            return list(self.table.marked)
        lead = self.table.current
        return [lead.id] if lead is not None else []

    def _open_customer(self, customer_id: uuid.UUID) -> None:
        self.app.push_screen(CustomerScreen(self.ctx, customer_id), lambda _: self.reload())

    def action_open(self) -> None:
        if (lead := self.table.current) is not None:
            self._open_customer(lead.id)

    # --- a new lead: possible duplicates first (the form asks, and saves) ---------------------

    def action_new_lead(self) -> None:
        def done(result: dict[str, str | None] | uuid.UUID | None) -> None:
            if isinstance(result, uuid.UUID):  # a possible duplicate, opened instead
                self._open_customer(result)
            elif result is not None:  # saved
                self.post_message(
                    LeadsChanged(f"Added lead {(result.get('name') or '').strip()}", 0)
                )

        form = NewLeadForm(
            self.sources,
            duplicates=self.desk.leads.possible_duplicates,
            create=self.desk.leads.create,
        )
        self.app.push_screen(form, done)

    # --- Quick Call -----------------------------------------------------------------------------

    def action_call(self) -> None:
        lead = self.table.current
        if lead is None:
            return

        def save(result: CallResult) -> None:  # in the dialog's worker: it closes once saved
            self.desk.leads.log_call(
                lead.id,
                outcome=result.outcome,
                notes=result.notes,
                next_step_at=result.next_step_at,
            )

        screen = QuickCallScreen(lead, self.ctx.clock, self.tz, save)
        self.app.push_screen(screen, lambda result: self._called(lead, result))

    def _called(self, lead: LeadRow, result: CallResult | None) -> None:
        if result is None:
            self.notify("Call not logged", timeout=2)
            return
        minutes, seconds = divmod(result.seconds, 60)
        outcome = outcome_label(result.outcome)
        note = f"Logged: {outcome} call with {visible(lead.name)} ({minutes}:{seconds:02d})"
        # The called lead moves down the inbox: the same place now holds the next lead.
        self.post_message(LeadsChanged(note, self.table.cursor))

    # --- convert and assign -------------------------------------------------------------------

    def action_convert(self) -> None:
        ids = self._targets()
        if not ids:
            return
        label = plural(len(ids), "lead")
        choices: list[tuple[Text, object]] = [(Text(f"Convert {label} to customers"), "plain")]
        if len(ids) == 1:
            choices += [
                (Text.assemble("Convert and open an estimate in ", safe_text(p.name)), p.id)
                for p in self.pipelines
            ]
        picker = Picker(f"Convert {label}?", choices, "enter to convert · esc to cancel")

        def chosen(choice: object) -> None:
            if choice is not None:  # None: esc
                self._convert(ids, choice if isinstance(choice, uuid.UUID) else None)

        self.app.push_screen(picker, chosen)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _convert(self, ids: list[uuid.UUID], pipeline_id: uuid.UUID | None) -> None:
        done = self.desk.leads.convert(ids, open_estimate_in=pipeline_id)
        note = f"Converted {plural(done.converted, 'lead')} to customers"
        if done.already:
            note += f"; {done.already:,} already were"
        if done.estimate_id:
            note += "; an estimate is open in the pipeline's first stage"
        self.deliver(LeadsChanged(note, None, clear_marks=True))

    def action_assign(self) -> None:
        ids = self._targets()
        if not ids:
            return
        actor = self.ctx.actor
        if permissions.allowed(actor, permissions.Action.reassign):
            choices: list[tuple[Text, object]] = [(safe_text(p.name), p.id) for p in self.people]
            choices.append((Text("Nobody (unassign)"), "nobody"))
        else:  # a rep takes unassigned leads for themselves; the domain says why, if not
            choices = [(Text.assemble(safe_text(actor.name), " (me)"), actor.id)]
        title = f"Assign {plural(len(ids), 'lead')} to…"
        self.app.push_screen(
            Picker(title, choices),
            lambda owner: (
                owner is not None and self._assign(ids, None if owner == "nobody" else owner)
            ),
        )

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _assign(self, ids: list[uuid.UUID], owner_id: uuid.UUID | None) -> None:
        try:
            changed = self.desk.leads.assign(ids, owner_id)
        except UserError as error:  # e.g. a rep giving a lead to someone else
            self.deliver(Notice(str(error), title="Not assigned", severity="warning"))
            return
        self.deliver(LeadsChanged(f"Assigned {plural(changed, 'lead')}", None, clear_marks=True))
