"""`e` on a customer: edit the contact details. Every field is checked before the form closes;
the message names the field that is wrong, and the cursor goes to it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..display import visible
from ..errors import UserError
from ..profile import CONTACT_FIELDS, Profile, clean_contact

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


class ContactForm(ModalScreen[dict[str, str | None] | None]):
    CSS_PATH = "modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="contact.cancel"),
        Binding("ctrl+s", "save", "Save", id="contact.save"),
    ]

    def __init__(self, current: Profile) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="contact-box"):
            yield Static(
                Content.assemble(("Edit ", "bold"), visible(self.current.name)),
                classes="modal-title",
            )
            with VerticalScroll(id="contact-fields"):
                for key in CONTACT_FIELDS:
                    yield Label(LABELS[key])
                    value = getattr(self.current, key) or ""
                    yield Input(value=value, id=f"contact-{key}", max_length=300)
            yield Static(id="contact-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )

    def values(self) -> dict[str, str | None]:
        return {key: self.query_one(f"#contact-{key}", Input).value for key in CONTACT_FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = list(CONTACT_FIELDS)
        key = (event.input.id or "").removeprefix("contact-")
        if key == keys[-1]:
            self.action_save()
        else:
            self.query_one(f"#contact-{keys[keys.index(key) + 1]}", Input).focus()

    def action_save(self) -> None:
        values = self.values()
        for key in CONTACT_FIELDS:  # field by field, so the message points at the right one
            try:
                clean_contact({key: values[key]})
            except UserError as error:
                self.query_one("#contact-error", Static).update(Content(f"{LABELS[key]}: {error}"))
                self.query_one(f"#contact-{key}", Input).focus()
                return
        self.dismiss(values)
