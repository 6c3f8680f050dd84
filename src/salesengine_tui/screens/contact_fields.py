"""What the contact forms share (editing a customer, adding a lead): every field is checked by
the contact rules before the form saves, the message naming the field that is wrong and the
cursor going to it (the fields themselves: `FieldsForm`)."""

from __future__ import annotations

from ..base.errors import UserError
from ..customers.profile import clean_contact
from .fields_form import FieldsForm


class ContactFieldsForm(FieldsForm[dict[str, str | None]]):
    ERROR_ID = "contact-error"

    def action_save(self) -> None:
        values = self.values()
        region = self.app.ctx.settings.phone_region  # type: ignore[attr-defined]
        for key, label in self.FIELDS:  # field by field, so the message points at the right one
            if key == "phone" and values[key] == self.start(key):
                continue  # as stored, even a number from before the phone rules: kept as it is
            try:
                clean_contact({key: values[key]}, region=region)
            except UserError as error:
                name = label.removesuffix(" (required)")
                self.refuse(f"{name}: {error}", f"#{self.PREFIX}-{key}")
                return
        self.submit(dict(values))
