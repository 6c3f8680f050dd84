"""`n` in the inbox: a new lead. Fields are checked as on the contact form; the lead source
suggests the known ones as you type (a new one is fine too). On save, customers with the same
email or phone are offered first (open one, or save anyway); the form closes once the lead is
saved, or a customer opened instead, and stays as typed when the save fails."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.suggester import Suggester, SuggestFromList

from ..customers.leads import Duplicate
from ..customers.phones import phone_display
from ..ui.display import editable, plural, safe_text
from .contact_fields import ContactFieldsForm
from .picker import Picker

Values = dict[str, str | None]
DUPLICATE_HINT = "enter to choose · esc: back to the form, as typed"


def known_customer_label(verb: str, d: Duplicate) -> Text:
    """`Open Hank Hill (lead, +12145550101 · hank@example.com)`: a known customer a lead
    being typed may be (the inbox's new lead, the deal form's)."""
    contact = " · ".join(x for x in (phone_display(d.phone, d.phone_ext), d.email) if x)
    name = safe_text(d.name, style="bold")
    return Text.assemble(f"{verb} ", name, f" ({d.status.value}, ", safe_text(contact), ")")


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

    def __init__(
        self,
        sources: list[str],
        *,
        duplicates: Callable[[Values], list[Duplicate]],
        create: Callable[[Values], object],
    ) -> None:
        super().__init__(self._create_unless_known)
        self.sources = sources
        self.duplicates, self.create = duplicates, create
        self.anyway = False  # "save anyway" was chosen for what is typed now

    def _create_unless_known(self, values: Values) -> list[Duplicate] | None:
        """In the save's worker: the customers this lead may already be, or None once saved."""
        anyway, self.anyway = self.anyway, False  # asked again if this save fails
        if not anyway and (found := self.duplicates(values)):
            return found
        self.create(values)
        return None

    def saved(self, result: Values, value: object) -> None:
        if isinstance(value, list):
            self._ask_about_duplicates(value)
        else:
            self.dismiss(result)

    def _ask_about_duplicates(self, found: list[Duplicate]) -> None:
        choices: list[tuple[Text, object]] = [
            (known_customer_label("Open", d), d.id) for d in found
        ]
        choices.append((Text("Save as a new lead anyway"), "save"))
        title = f"{plural(len(found), 'customer')} with the same email or phone"

        def chosen(choice: object) -> None:
            if choice == "save":
                self.anyway = True
                self.action_save()
            elif isinstance(choice, uuid.UUID):  # the form closes; the customer opens
                self.dismiss(choice)  # type: ignore[arg-type]
            # esc: None, back to the form as typed (the hint says so)

        self.app.push_screen(Picker(title, choices, hint=DUPLICATE_HINT), chosen)

    def heading(self) -> Content:
        return Content.styled("New lead", "bold")

    def suggester(self, key: str) -> Suggester | None:
        if key != "lead_source":
            return None
        return SuggestFromList([editable(s) for s in self.sources], case_sensitive=False)
