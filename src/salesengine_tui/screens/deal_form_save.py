"""Checking and saving the deal form: each field checked by the rule the domain uses (the
message names it and the cursor goes there), a `DealDraft` of a new deal or of the fields an
edit changed, and a new lead with the phone or email of a known customer offered that customer
first (or added anyway)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from rich.text import Text
from textual.widgets import Input, Select

from ..base import validation
from ..base.errors import UserError
from ..customers.leads import Duplicate
from ..customers.profile import clean_contact
from ..deals import editing
from ..tasks.model import TaskDraft
from ..ui.display import plural
from .customer_picker import ChosenCustomer, CustomerPicker, NewLeadTyped
from .deal_draft import DealDraft, FieldRefused
from .deal_form_rows import DealFormRows
from .deal_owner_task import NOBODY, read_first_task
from .new_lead import DUPLICATE_HINT, known_customer_label
from .picker import Picker

ANYWAY = "anyway"  # a new lead despite a known customer with its phone or email


@dataclass(frozen=True)
class _Known:
    found: list[Duplicate]


class DealSaveFlow(DealFormRows):
    """The save of `DealForm`, which runs `_save_unless_known` and sets these in `__init__`."""

    save_draft: Callable[[DealDraft], object]
    anyway: bool  # "a new lead anyway" was chosen for what is typed now

    # --- checking and saving --------------------------------------------------------------

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def action_save(self) -> None:
        if self.choices is None:
            self.show_error("still loading the owners; a moment")
            return
        try:
            draft = self._draft()
        except FieldRefused as refused:
            self.refuse(str(refused.error), f"#{refused.field_id}")
            return
        self.show_error("")
        self.submit(draft)

    def _check(self, field_id: str, check: Callable[[], object]) -> object:
        try:
            return check()
        except UserError as error:
            raise FieldRefused(field_id, error) from None

    def _draft(self) -> DealDraft:
        customer_id, name, new_lead = self._customer()
        title = self._check("deal-title", lambda: editing.clean_title(self._value("deal-title")))
        amount = self._check(
            "deal-value", lambda: validation.parse_money(self._value("deal-value"))
        )
        today = self.desk.deals.today()

        def close_date() -> date | None:
            day = editing.parse_close_date(self._value("deal-close"), today)
            return editing.check_close_date(day, today, allow_past=not self.creating)

        close = self._check("deal-close", close_date)
        owner_value = self.query_one("#deal-owner", Select).value
        if owner_value is Select.NULL:
            raise FieldRefused("deal-owner", "Owner: choose one (or Unassigned)")
        owner_id = None if owner_value == NOBODY else uuid.UUID(str(owner_value))
        pipeline_id = self.where.pipeline_id
        if self.creating and pipeline_id is None:
            chosen = self.query_one("#deal-pipeline", Select).value
            if chosen is Select.NULL:
                raise FieldRefused("deal-pipeline", "Pipeline: choose one")
            pipeline_id = uuid.UUID(str(chosen))
        draft = DealDraft(
            customer_id=customer_id,
            customer_name=name,
            new_lead=new_lead,
            pipeline_id=pipeline_id,
            stage_id=self.where.stage_id,
            title=str(title),
            amount=amount,  # type: ignore[arg-type]
            expected_close_on=close,  # type: ignore[arg-type]
            owner_id=owner_id,
            first_task=self._first_task() if self.creating else None,
        )
        return draft if self.creating else replace(draft, changes=self._changes(draft))

    def _customer(self) -> tuple[uuid.UUID | None, str, dict[str, str | None] | None]:
        if self.customer is not None:
            return self.customer[0], self.customer[1], None
        choice = self.query_one(CustomerPicker).value()
        if isinstance(choice, ChosenCustomer):
            return choice.id, choice.name, None
        if isinstance(choice, NewLeadTyped):
            values = choice.values()
            region = self.app.ctx.settings.phone_region  # type: ignore[attr-defined]
            for key, field_id in (
                ("name", "cp-search"),
                ("phone", "cp-phone"),
                ("email", "cp-email"),
            ):
                self._check(
                    field_id, lambda key=key: clean_contact({key: values[key]}, region=region)
                )
            if not (values["phone"] or "").strip() and not (values["email"] or "").strip():
                raise FieldRefused("cp-phone", "New lead: a phone or an email, to reach them")
            return None, choice.name.strip(), values
        raise FieldRefused("cp-search", "Customer: type a name and choose one (or a new lead)")

    def _first_task(self) -> TaskDraft | None:
        return read_first_task(
            self.query_one("#deal-task-kind", Select).value,
            self._value("deal-task-title"),
            self._value("deal-task-due"),
            self.desk.tasks.parse_due,
        )

    def _changes(self, draft: DealDraft) -> dict[str, object]:
        """The fields an edit changed from what the form was opened with (and a value typed on
        an estimated one: saving it confirms it)."""
        d = self.deal
        assert d is not None
        changed: dict[str, object] = {}
        if draft.title != d.title:
            changed["title"] = draft.title
        if draft.amount != d.amount or (d.amount_estimated and self._value_touched()):
            changed["amount"] = draft.amount
        if draft.expected_close_on != d.expected_close_on:
            changed["expected_close_on"] = draft.expected_close_on
        if draft.owner_id != d.owner_id:
            changed["owner_id"] = draft.owner_id
        return changed

    def _value_touched(self) -> bool:
        d = self.deal
        return d is not None and self._value("deal-value") != f"{d.amount:,.2f}"

    # --- a new lead that may be a known customer -----------------------------------------

    def _save_unless_known(self, draft: DealDraft) -> object:
        """In the save's worker: customers the new lead may already be, or what the save did."""
        anyway, self.anyway = self.anyway, False  # asked again if this save fails
        if draft.new_lead is not None and not anyway:
            found = self.desk.leads.possible_duplicates(draft.new_lead)
            if found:
                return _Known(found)
        return self.save_draft(draft)

    def saved(self, result: DealDraft, value: object) -> None:
        if isinstance(value, _Known):
            self._ask_about(value.found)
        else:
            self.dismiss(replace(result, outcome=value))

    def _ask_about(self, found: list[Duplicate]) -> None:
        choices: list[tuple[Text, object]] = [(known_customer_label("Use", d), d) for d in found]
        choices.append((Text("Add a new lead anyway"), ANYWAY))
        title = f"{plural(len(found), 'customer')} with the same phone or email"

        def chosen(choice: object) -> None:
            if choice == ANYWAY:
                self.anyway = True
                self.action_save()
            elif isinstance(choice, Duplicate):  # the deal goes to the known customer
                self.query_one(CustomerPicker).choose(choice.id, choice.name)
                self.action_save()
            # esc: back to the form, as typed

        self.app.push_screen(Picker(title, choices, hint=DUPLICATE_HINT), chosen)
