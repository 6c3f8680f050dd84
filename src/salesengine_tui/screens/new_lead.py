"""`n` in the inbox: a new lead. Fields are checked as on the contact form; the lead source
suggests the known ones as you type (a new one is fine too)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from .contact_fields import ContactFieldsForm


class NewLeadForm(ContactFieldsForm):
    PREFIX = "lead"
    FIELDS = (
        ("name", "Name (required)"),
        ("phone", "Phone"),
        ("email", "Email"),
        ("lead_source", "Lead source"),
        ("address", "Street address"),
        ("city", "City"),
        ("state", "State"),
        ("postal_code", "Postal code"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="new_lead.cancel"),
        Binding("ctrl+s", "save", "Save", id="new_lead.save"),
    ]

    def __init__(self, sources: list[str]) -> None:
        super().__init__()
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="new-lead-box"):
            yield Static(Content("New lead"), classes="modal-title")
            with VerticalScroll(id="contact-fields"):
                for key, label in self.FIELDS:
                    yield Label(label)
                    suggester = (
                        SuggestFromList(self.sources, case_sensitive=False)
                        if key == "lead_source"
                        else None
                    )
                    yield Input(id=f"lead-{key}", max_length=300, suggester=suggester)
            yield Static(id="contact-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )
