"""Whom a form is for, picked by typing: the deal form and the task form. Type part of a name,
phone or email and the matches list under the box (↓ to reach them, then ↑↓ or j/k, enter to
choose; enter in the box takes the only match). In the deal form the last choice is always
"New lead", which opens a phone and an email box for a lead typed in on the spot (the deal form
saves it with the deal, after the same duplicate check as the inbox's new lead); a task is for
a customer who exists, so the task form's picker offers none."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ..customers.phones import phone_display
from ..ui.display import editable, safe_text, visible
from ..usecases.customers import CustomerMatch
from ..widgets.pick_list import PickList
from .debounce import Debounce

NEW_LEAD = "new-lead"  # the option that types in a new lead
MIN_QUERY = 2  # fewer characters match too much to be worth a query


@dataclass(frozen=True)
class ChosenCustomer:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class NewLeadTyped:
    """A lead typed in the form: saved with the deal (contact fields as typed)."""

    name: str
    phone: str
    email: str

    def values(self) -> dict[str, str | None]:
        return {"name": self.name, "phone": self.phone, "email": self.email}


Choice = ChosenCustomer | NewLeadTyped


@dataclass
class _Found(Message):
    text: str
    hits: list[CustomerMatch]


def match_label(match: CustomerMatch) -> Text:
    """`Hank Hill  +12145550101 · hank@example.com · lead`: enough to tell two Hanks apart."""
    phone = phone_display(match.phone, match.phone_ext)
    details = " · ".join(x for x in (phone, match.email, match.status) if x)
    return Text.assemble(safe_text(match.name), "  ", safe_text(details, style="dim", empty=""))


class CustomerPicker(Vertical):
    """`find(text)` runs in a worker thread (a use case); the picker shows what it returns."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "to_results", "Matches", show=False, id="picker.matches"),
    ]
    DEFAULT_CSS = """
    CustomerPicker {
        height: auto;
        #cp-results { height: auto; max-height: 6; display: none; border: none; padding: 0; }
        #cp-new { height: 1; display: none; }
        #cp-new Input { width: 1fr; margin-right: 1; }
        &.-new-lead #cp-new { display: block; }
    }
    """

    @dataclass
    class Chosen(Message):
        """A customer was chosen, or "new lead" (the form moves on to the next field)."""

        picker: CustomerPicker
        choice: Choice | None  # None: "new lead", still being typed

    def __init__(
        self,
        find: Callable[[str], list[CustomerMatch]],
        *,
        offer_new_lead: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.find = find
        self.offer_new_lead = offer_new_lead
        self.chosen: ChosenCustomer | None = None
        self.new_lead = False
        self._names: dict[uuid.UUID, str] = {}  # the matches shown, by id
        self.shown_for: str | None = None
        self._search = Debounce(self, self._start_search)

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Type a name, phone or email (↓ matches)",
            id="cp-search",
            max_length=200,
            compact=True,
        )
        yield PickList(id="cp-results")  # j/k there; in the box they are letters
        with Horizontal(id="cp-new"):
            yield Input(placeholder="New lead's phone", id="cp-phone", max_length=40, compact=True)
            yield Input(placeholder="and/or email", id="cp-email", max_length=254, compact=True)

    @property
    def search(self) -> Input:
        return self.query_one("#cp-search", Input)

    @property
    def results(self) -> OptionList:
        return self.query_one("#cp-results", OptionList)

    def focus_first(self) -> None:
        self.search.focus()

    def value(self) -> Choice | None:
        """What is chosen: a customer, a new lead (its name is what was typed), or nothing."""
        if self.chosen is not None:
            return self.chosen
        if self.new_lead:
            return NewLeadTyped(
                self.search.value,
                self.query_one("#cp-phone", Input).value,
                self.query_one("#cp-email", Input).value,
            )
        return None

    def choose(self, customer_id: uuid.UUID, name: str) -> None:
        """Take this customer (a duplicate the form found for the lead being typed)."""
        self.chosen = ChosenCustomer(customer_id, name)
        self.new_lead = False
        self.search.value = editable(name)  # `_typed` sees the chosen name, keeps the choice
        self.set_class(False, "-new-lead")
        self.results.display = False

    # --- typing and searching ------------------------------------------------------------

    @on(Input.Changed, "#cp-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self.chosen is not None and event.value == editable(self.chosen.name):
            return  # the chosen name was put in the box
        self.chosen = None
        if self.new_lead and event.value.strip():
            return  # the new lead's name, being corrected: no search
        self.new_lead = False
        self.set_class(False, "-new-lead")
        self._search(event.value)

    def _start_search(self, text: str) -> None:
        if len(text.strip()) < MIN_QUERY:
            self._show(text, [])
            return
        self.run_worker(
            partial(self._find, text),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group="customer-picker",
        )

    def _find(self, text: str) -> None:
        self.post_message(_Found(text, self.find(text)))

    @on(_Found)
    def _found(self, message: _Found) -> None:
        message.stop()
        if message.text == self.search.value and self.chosen is None:
            self._show(message.text, message.hits)

    def _show(self, text: str, hits: list[CustomerMatch]) -> None:
        self.shown_for = text  # what the matches listed are for (tests wait on it)
        results = self.results
        results.clear_options()
        self._names = {hit.id: hit.name for hit in hits}
        options = [Option(match_label(hit), id=str(hit.id)) for hit in hits]
        if text.strip() and self.offer_new_lead:
            label = Text.assemble(("+ New lead ", "bold"), "“", visible(text.strip()), "”")
            options.append(Option(label, id=NEW_LEAD))
        results.add_options(options)
        results.display = bool(options)
        if options:
            results.highlighted = 0

    @on(Input.Submitted, "#cp-search")
    def _submitted(self, event: Input.Submitted) -> None:
        """enter in the box: take the only match, else go to the matches."""
        event.stop()
        self._search.flush()
        if self.chosen is not None or self.new_lead:
            self.post_message(self.Chosen(self, self.value()))
        elif self.results.option_count - self.offer_new_lead == 1:  # one match ("new lead" aside)
            self._pick(0)
        elif self.results.option_count:
            self.results.focus()

    def action_to_results(self) -> None:
        if self.search.has_focus and self.results.display and self.results.option_count:
            self.results.focus()
        else:
            self.screen.focus_next()

    @on(OptionList.OptionSelected, "#cp-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(event.option_index)

    def _pick(self, index: int) -> None:
        option = self.results.get_option_at_index(index)
        if option.id == NEW_LEAD:
            self.new_lead, self.chosen = True, None
            self.search.value = self.search.value.strip()
            self.set_class(True, "-new-lead")
            self.results.display = False
            self.query_one("#cp-phone", Input).focus()
            self.post_message(self.Chosen(self, None))
            return
        assert option.id is not None
        customer_id = uuid.UUID(option.id)
        self.choose(customer_id, self._names[customer_id])
        self.post_message(self.Chosen(self, self.chosen))

    @on(Input.Submitted, "#cp-phone, #cp-email")
    def _lead_field_done(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "cp-phone":
            self.query_one("#cp-email", Input).focus()
        else:
            self.post_message(self.Chosen(self, self.value()))
