"""What the contact forms share (editing a customer, adding a lead): enter moves to the next
field and saves on the last; every field is checked by the contact rules before the form
saves, the message naming the field that is wrong and the cursor going to it. The form closes
once saved; a save that fails leaves it open as typed (`SavingForm`)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.widgets import Input

from ..base.errors import UserError
from ..customers.profile import clean_contact
from .saving_form import SavingForm


class ContactFieldsForm(SavingForm[dict[str, str | None]]):
    """Subclasses compose an `Input` with id `{PREFIX}-{key}` for each of `FIELDS` (key,
    label), in that order, and a `#contact-error` Static."""

    CSS_PATH = "modal.tcss"
    ERROR_ID = "contact-error"
    PREFIX: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str], ...]]

    def _field(self, key: str) -> Input:
        return self.query_one(f"#{self.PREFIX}-{key}", Input)

    def values(self) -> dict[str, str | None]:
        return {key: self._field(key).value for key, _ in self.FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = [key for key, _ in self.FIELDS]
        key = (event.input.id or "").removeprefix(f"{self.PREFIX}-")
        if key == keys[-1]:
            self.action_save()
        else:
            self._field(keys[keys.index(key) + 1]).focus()

    def action_save(self) -> None:
        values = self.values()
        for key, label in self.FIELDS:  # field by field, so the message points at the right one
            try:
                clean_contact({key: values[key]})
            except UserError as error:
                name = label.removesuffix(" (required)")
                self.refuse(f"{name}: {error}", f"#{self.PREFIX}-{key}")
                return
        self.submit(values)
