"""A deal in one form, from the keyboard: `n` on the board (in the lane under the cursor), `N`
on a customer's profile, convert with a deal in the inbox, and `e` on a card or on the deal
screen (prefilled; saved under the version it was read at).

Fields: the customer (picked by typing, or a new lead typed in: `customer_picker`), title,
value (dollars: `4,200`, `$4,200.50`), expected close (`2026-12-15`, `+30` days, `eom` the end
of this month, `eonm` the end of next month, blank for none), owner, the pipeline when no
lane chose it, and a first task (kind, title, due as the task forms read it) for a new deal.
Each field is checked by the rule the domain uses; the message names it and the cursor goes
there. The form closes once saved; if the save fails it stays as typed (`SavingForm`). A new
lead with the phone or email of a known customer is offered that customer first."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from textual.binding import BindingType

from ..access.users import Actor
from ..deals.deal_view import DealView
from .deal_draft import DealDraft, Where, edit_note, opened_note
from .deal_form_save import DealSaveFlow
from .keys import bindings

__all__ = ["DealDraft", "DealForm", "Where", "edit_note", "opened_note"]

_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("escape", "dismiss", "Cancel", "deal_form.cancel", "Close without saving", True),
    ("ctrl+s", "save", "Save", "deal_form.save", "Save the deal", True),
]


class DealForm(DealSaveFlow):
    """The fields are laid out in `deal_form_rows` (owner and first task: `deal_owner_task`),
    checked and saved in `deal_form_save`; styled by `deal_form.tcss`."""

    CSS_PATH = ["modal.tcss", "deal_form.tcss"]
    ERROR_ID = "deal-error"
    BINDINGS: ClassVar[list[BindingType]] = bindings(_KEYS)

    def __init__(
        self,
        save: Callable[[DealDraft], object],
        *,
        actor: Actor,
        where: Where | None = None,
        customer: tuple[uuid.UUID, str] | None = None,
        deal: DealView | None = None,
        title: str = "",
        heading: str = "",
    ) -> None:
        """`customer`: the deal is for them (else the form picks one); `deal`: edit it."""
        super().__init__(self._save_unless_known)
        self.save_draft = save
        self.actor = actor
        self.where = where or Where()
        self.customer = customer if deal is None else (deal.customer_id, deal.customer_name)
        self.deal = deal
        self.title_value = deal.title if deal is not None else title
        self.heading = heading
        self.choices = None
        self.anyway = False  # "a new lead anyway" was chosen for what is typed now
