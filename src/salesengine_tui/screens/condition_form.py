"""One condition of a segment: pick the field, the operator, type the value. Enter moves on;
the value is checked by the same rules as the text form and the message says what is wrong."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..marketing import segments
from ..ui.display import editable, visible
from ..widgets.pick_list import PickList


class ConditionForm(ModalScreen[segments.Condition | None]):
    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="condition.cancel"),
    ]

    def __init__(self, title: str, current: segments.Condition | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.current = current
        self.names = list(segments.FIELDS)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="condition-box"):
            yield Static(Content(self.title_text), classes="modal-title")
            with Horizontal(id="condition-row"):
                with Vertical(id="condition-field-col"):
                    yield Label("Field")
                    yield PickList(
                        *(Option(Text(name), id=name) for name in self.names),
                        id="condition-field",
                    )
                with Vertical(id="condition-op-col"):
                    yield Label("Operator")
                    yield PickList(id="condition-op")
                with Vertical(id="condition-value-col"):
                    yield Label("Value")
                    yield Input(id="condition-value", max_length=200)
                    yield Static(id="condition-help")
            yield Static(id="condition-error")
            yield Static(
                Content("↑↓/jk choose · type to jump · enter next · esc cancel"),
                classes="modal-hint",
            )

    def on_mount(self) -> None:
        fields = self.query_one("#condition-field", OptionList)
        start = self.current.field if self.current else "status"
        fields.highlighted = self.names.index(start)
        self._fill_ops(start, self.current.op if self.current else None)
        if self.current is not None:
            value = segments.show_value(segments.FIELDS[self.current.field], self.current.value)
            self.query_one("#condition-value", Input).value = editable(value)  # editable
        fields.focus()

    @property
    def field(self) -> segments.Field:
        index = self.query_one("#condition-field", OptionList).highlighted or 0
        return segments.FIELDS[self.names[index]]

    def _fill_ops(self, name: str, op: str | None = None) -> None:
        field = segments.FIELDS[name]
        ops = self.query_one("#condition-op", OptionList)
        allowed = segments.ALLOWED[field.kind]
        ops.clear_options()
        ops.add_options([Option(Text(o), id=o) for o in allowed])
        ops.highlighted = allowed.index(op) if op in allowed else 0
        hint = field.help
        if field.choices:
            hint = " / ".join(field.choices)
        elif field.kind is segments.Kind.months:
            hint += " (6mo, 2y, 90d)"
        self.query_one("#condition-help", Static).update(Content(hint))
        self.query_one("#condition-value", Input).placeholder = field.kind.value

    @on(OptionList.OptionHighlighted, "#condition-field")
    def _field_moved(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self._fill_ops(event.option.id)

    @on(OptionList.OptionSelected, "#condition-field")
    def _field_chosen(self) -> None:
        self.query_one("#condition-op", OptionList).focus()

    @on(OptionList.OptionSelected, "#condition-op")
    def _op_chosen(self) -> None:
        self.query_one("#condition-value", Input).focus()

    @on(Input.Submitted, "#condition-value")
    def _submit(self) -> None:
        ops = self.query_one("#condition-op", OptionList)
        op = ops.get_option_at_index(ops.highlighted or 0).id or "="
        raw = self.query_one("#condition-value", Input).value
        try:
            result = segments.condition(self.field.name, op, raw.strip())
        except segments.SegmentError as error:
            self.query_one("#condition-error", Static).update(Content(visible(str(error))))
            return
        self.dismiss(result)
