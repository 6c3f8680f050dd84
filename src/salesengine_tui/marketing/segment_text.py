"""A segment as one line of text and as stored JSON, both checked through the same rules.

`equipment.age > 10 and last_service > 6mo and status = active`: AND binds tighter than OR,
parentheses group (at most MAX_DEPTH deep), and an error names the position in the text that
is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .segment_fields import (
    FIELDS,
    MAX_DEPTH,
    OPERATORS,
    Condition,
    Definition,
    Group,
    Kind,
    SegmentError,
    condition,
    show_value,
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) |
      (?P<op>!=|>=|<=|=|>|<) |
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") |
      (?P<word>[A-Za-z0-9_.\-+@/]+)
    )""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            at = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise SegmentError(f"unexpected {text[at]!r} at position {at + 1}", at)
        kind = m.lastgroup or "word"
        value = m.group(kind)
        out.append(_Token(kind, value, m.start(kind)))
        pos = m.end()
    return out


def parse(text: str) -> Definition:
    """The text form to a definition; AND binds tighter than OR; parentheses group."""
    tokens = _tokens(text)
    if not tokens:
        raise SegmentError("the segment is empty: write a condition like `status = lead`")
    parser = _Parser(tokens, text)
    result = parser.expression()
    if parser.i < len(tokens):
        token = tokens[parser.i]
        raise SegmentError(
            f"expected 'and' or 'or' before {token.text!r} at position {token.at + 1}", token.at
        )
    return result


class _Parser:
    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens, self.text, self.i = tokens, text, 0
        self.depth = 0  # brackets open at this point

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise SegmentError("the segment ends too early", len(self.text))
        self.i += 1
        return token

    def expression(self) -> Definition:
        items = [self.conjunction()]
        while (t := self.peek()) is not None and t.kind == "word" and t.text.lower() == "or":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Group("or", tuple(items))

    def conjunction(self) -> Definition:
        items = [self.term()]
        while (t := self.peek()) is not None and t.kind == "word" and t.text.lower() == "and":
            self.take()
            items.append(self.term())
        return items[0] if len(items) == 1 else Group("and", tuple(items))

    def term(self) -> Definition:
        token = self.take()
        if token.kind == "lparen":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise SegmentError(
                    f"brackets nested more than {MAX_DEPTH} deep at position {token.at + 1}",
                    token.at,
                )
            inner = self.expression()
            self.depth -= 1
            close = self.take()
            if close.kind != "rparen":
                raise SegmentError(f"expected ')' at position {close.at + 1}", close.at)
            return inner
        if token.kind != "word" or token.text.lower() not in FIELDS:
            known = ", ".join(FIELDS)
            raise SegmentError(
                f"unknown field {token.text!r} at position {token.at + 1} (fields: {known})",
                token.at,
            )
        field = FIELDS[token.text.lower()]
        op_token = self.take()
        op = op_token.text.lower()
        if op not in OPERATORS:
            raise SegmentError(
                f"expected an operator after {field.name} at position {op_token.at + 1}",
                op_token.at,
            )
        value_token = self.take()
        if value_token.kind not in ("word", "string"):
            raise SegmentError(f"expected a value at position {value_token.at + 1}", value_token.at)
        raw = value_token.text
        if value_token.kind == "string":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.DOTALL)
        return condition(field.name, op, raw, at=value_token.at)


def to_text(definition: Definition, *, top: bool = True) -> str:
    """The definition back as text (the builder and the text form are two views of one)."""
    if isinstance(definition, Condition):
        value = definition.value
        shown = show_value(FIELDS[definition.field], value)
        if isinstance(value, str) and not (
            re.fullmatch(r"[A-Za-z0-9_.\-+@/]+", value) and value.lower() not in ("and", "or")
        ):
            shown = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"{definition.field} {definition.op} {shown}"
    inner = f" {definition.join} ".join(to_text(item, top=False) for item in definition.items)
    return inner if top else f"({inner})"


def to_json(definition: Definition) -> dict[str, object]:
    """The stored form (a saved segment's JSONB): the tree, values as typed."""
    if isinstance(definition, Condition):
        return {"field": definition.field, "op": definition.op, "value": definition.value}
    return {"join": definition.join, "items": [to_json(item) for item in definition.items]}


def from_json(data: object, *, depth: int = 0) -> Definition:
    """Back from storage, checked again through the same rules as typed input."""
    if depth > MAX_DEPTH:
        raise SegmentError(f"a stored segment nests groups more than {MAX_DEPTH} deep")
    if not isinstance(data, dict):
        raise SegmentError("a stored segment is not a condition or a group")
    if "items" in data:
        join = data.get("join")
        items = data.get("items")
        if join not in ("and", "or") or not isinstance(items, list) or not items:
            raise SegmentError("a stored group needs 'and' or 'or' and at least one item")
        return Group(join, tuple(from_json(item, depth=depth + 1) for item in items))
    value = data.get("value")
    if isinstance(value, bool):
        raw = "yes" if value else "no"
    elif isinstance(value, int | float):
        field = FIELDS.get(str(data.get("field")))
        raw = f"{value}mo" if field is not None and field.kind is Kind.months else f"{value}"
    else:
        raw = str(value)
    return condition(str(data.get("field")), str(data.get("op")), raw)
