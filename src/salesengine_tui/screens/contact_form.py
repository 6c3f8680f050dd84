"""`e` on a customer: edit the contact details. Every field is checked before the form saves;
the message names the field that is wrong, and the cursor goes to it. It closes once saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static

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

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="contact-box"):
            yield Static(
                Content.assemble(("Edit ", "bold"), visible(self.current.name)),
                classes="modal-title",
            )
            with VerticalScroll(id="contact-fields"):
                for key, label in self.FIELDS:
                    yield Label(label)
                    value = editable(getattr(self.current, key) or "")  # editable
                    yield Input(value=value, id=f"contact-{key}", max_length=300)
            yield Static(id="contact-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )
