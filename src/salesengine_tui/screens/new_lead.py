"""`n` in the inbox: a new lead. Fields are checked as on the contact form; the lead source
suggests the known ones as you type (a new one is fine too)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from ..errors import UserError
from ..profile import clean_contact

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


class NewLeadForm(ModalScreen[dict[str, str | None] | None]):
    CSS_PATH = "modal.tcss"
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
                for key, label in FIELDS:
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

    def values(self) -> dict[str, str | None]:
        return {key: self.query_one(f"#lead-{key}", Input).value for key, _ in FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = [key for key, _ in FIELDS]
        key = (event.input.id or "").removeprefix("lead-")
        if key == keys[-1]:
            self.action_save()
        else:
            self.query_one(f"#lead-{keys[keys.index(key) + 1]}", Input).focus()

    def action_save(self) -> None:
        values = self.values()
        for key, label in FIELDS:  # field by field, so the message points at the right one
            try:
                clean_contact({key: values[key]})
            except UserError as error:
                self.query_one("#contact-error", Static).update(
                    Content(f"{label.removesuffix(' (required)')}: {error}")
                )
                self.query_one(f"#lead-{key}", Input).focus()
                return
        self.dismiss(values)
