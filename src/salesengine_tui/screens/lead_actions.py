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
from ..customers.leads import LeadRow, Person
from ..customers.phones import phone_display
from ..deals.pipelines import PipelineInfo
from ..ui.display import money, plural, safe_text, visible
from ..widgets.leads_table import LeadsTable
from .customer import CustomerScreen
from .deal_form import DealDraft, DealForm, Where
from .messages import LeadsChanged, Notice
from .new_lead import NewLeadForm
from .picker import Picker
from .quick_call import CallResult, CallTarget, quick_call_for

# What a conversion's deal is called until the rep types a better title.
CONVERSION_TITLE = "Replacement estimate"

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

        # No task named: the call is for the lead's call due by today, if any (the dialog shows
        # which, and changes it with `t`).
        phone = phone_display(lead.phone, lead.phone_ext)
        screen = quick_call_for(self.desk, CallTarget(lead.id, lead.name, phone))
        self.app.push_screen(screen, lambda result: self._called(lead, result))

    def _called(self, lead: LeadRow, result: CallResult | None) -> None:
        if result is None:
            self.notify("Call not logged", timeout=2)
            return
        note = result.summary(visible(lead.name))
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
                (Text.assemble("Convert and open a deal in ", safe_text(p.name), "…"), p)
                for p in self.pipelines
            ]
        picker = Picker(f"Convert {label}?", choices, "enter to convert · esc to cancel")

        def chosen(choice: object) -> None:
            if isinstance(choice, PipelineInfo):  # the deal's title, value, close date first
                self._convert_with_deal(ids[0], choice)
            elif choice is not None:  # None: esc
                self._convert(ids)

        self.app.push_screen(picker, chosen)

    def _convert_with_deal(self, lead_id: uuid.UUID, pipeline: PipelineInfo) -> None:
        """The deal form for the lead: saved together with the conversion, or not at all."""
        lead = self.table.current
        name = lead.name if lead is not None and lead.id == lead_id else "the marked lead"

        def save(draft: DealDraft) -> object:  # in the form's worker: it closes once saved
            return self.desk.leads.convert([lead_id], deal=draft.new_deal())

        def saved(draft: DealDraft | None) -> None:
            if draft is None:
                self.notify("Not converted; nothing changed", timeout=3)
                return
            converted = getattr(draft.outcome, "converted", 0)
            note = "Converted 1 lead to a customer" if converted else "Already a customer"
            note += f"; opened a deal: {draft.title} ({money(draft.amount)})"
            self.post_message(LeadsChanged(visible(note), None, clear_marks=True))

        form = DealForm(
            save,
            actor=self.ctx.actor,
            customer=(lead_id, name),
            where=Where(pipeline.id, pipeline.name),
            title=CONVERSION_TITLE,
            heading=f"Convert {name} and open a deal in {pipeline.name}",
        )
        self.app.push_screen(form, saved)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _convert(self, ids: list[uuid.UUID]) -> None:
        done = self.desk.leads.convert(ids)
        note = f"Converted {plural(done.converted, 'lead')} to customers"
        if done.already:
            note += f"; {done.already:,} already were"
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
