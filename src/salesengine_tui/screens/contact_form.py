"""`e` on a customer: edit the contact details. Every field is checked before the form saves;
the message names the field that is wrong, and the cursor goes to it. It closes once saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from ..customers.phones import phone_display
from ..customers.profile import CONTACT_FIELDS, Profile
from ..ui.display import editable, visible
from .contact_fields import ContactFieldsForm

LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "address": "Street address",
    "city": "City",
    "state": "State",
    "postal_code": "Postal code",
    "lead_source": "Lead source",
}


class ContactForm(ContactFieldsForm):
    PREFIX = "contact"
    FIELDS = tuple((key, LABELS[key]) for key in CONTACT_FIELDS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="contact.cancel"),
        Binding("ctrl+s", "save", "Save", id="contact.save"),
    ]

    def __init__(self, current: Profile, save: Callable[[dict[str, str | None]], object]) -> None:
        super().__init__(save)
        self.current = current

    def heading(self) -> Content:
        return Content.assemble(("Edit ", "bold"), visible(self.current.name))

    def start(self, key: str) -> str:
        if key == "phone":  # as shown, extension and all: saved back, it reads the same
            return editable(phone_display(self.current.phone, self.current.phone_ext) or "")
        return editable(getattr(self.current, key) or "")  # editable: hidden characters left out
