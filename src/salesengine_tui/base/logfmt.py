"""Log lines as `key=value` pairs that text from elsewhere (a provider's error, a customer's
name) can neither end nor extend: a value is written bare only when it is a plain word, else
in double quotes with backslash, quote and every control or invisible character escaped."""

from __future__ import annotations


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char == " " or char.isprintable():
        return char
    return char.encode("unicode_escape").decode("ascii")  # \n, \x1b, \u202e


def quote(value: object) -> str:
    """`value` as one logfmt value: `ok`, `"two words"`, `"line\\nbreak \\x1b[2J"`."""
    text = str(value)
    if text and text.isprintable() and not any(ch in ' "=\\' for ch in text):
        return text
    return '"' + "".join(_escaped(ch) for ch in text) + '"'


def one_line(text: str) -> str:
    """A whole message with its control and invisible characters escaped: one log record is
    one line, whatever it was given."""
    if text.isprintable():
        return text
    return "".join(ch if ch == " " or ch.isprintable() else _escaped(ch) for ch in text)
