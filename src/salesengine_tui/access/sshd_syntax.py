"""One line of authorized_keys as sshd reads it, so that what this tool believes a line says is
what sshd does with it: OpenSSH's `sshkey_read`, `sshkey_advance_past_options` and
`sshauthopt_parse` (auth-options.c), for the syntax; sshd checks the values (`from=`, ...).

sshd reads the file with getline(): lines end at "\\n" only, a NUL ends what it sees of a line,
and inside a line only space and tab separate words. Anything Python or an editor would also
take for a line break (\\r, \\v, \\f, \\x1c-\\x1e, U+0085, U+2028, U+2029) is ordinary text to
sshd: `LINE_BREAKERS` names them so that a file holding them is refused, never re-split.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

# Characters some tool takes for a line break (str.splitlines) or a line end (C strings), and
# sshd does not: a line holding one means different things to sshd and to everything else.
LINE_BREAKERS: dict[str, str] = {
    "\x00": "a NUL byte",
    "\r": "a carriage return (\\r)",
    "\v": "a vertical tab (\\v)",
    "\f": "a form feed (\\f)",
    "\x1c": "a file separator (\\x1c)",
    "\x1d": "a group separator (\\x1d)",
    "\x1e": "a record separator (\\x1e)",
    "\x85": "a next-line character (U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}
_BREAKER = re.compile("[" + "".join(LINE_BREAKERS) + "]")
_BLANKS = " \t"
_WORD = re.compile(r"[^ \t]*")

_RSA = ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512")
_RSA_CERT = tuple(f"{name}-cert-v01@openssh.com" for name in _RSA)
_SK_ECDSA = ("sk-ecdsa-sha2-nistp256@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com")
# Every key type name sshd takes at the start of a key (exact, case-sensitive), grouped by the
# key it is: the name inside the key data must be one of the same group.
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ssh-ed25519",),
    ("ssh-ed25519-cert-v01@openssh.com",),
    ("sk-ssh-ed25519@openssh.com",),
    ("sk-ssh-ed25519-cert-v01@openssh.com",),
    ("ecdsa-sha2-nistp256",),
    ("ecdsa-sha2-nistp384",),
    ("ecdsa-sha2-nistp521",),
    ("ecdsa-sha2-nistp256-cert-v01@openssh.com",),
    ("ecdsa-sha2-nistp384-cert-v01@openssh.com",),
    ("ecdsa-sha2-nistp521-cert-v01@openssh.com",),
    _SK_ECDSA,
    ("sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",),
    ("ssh-dss",),
    ("ssh-dss-cert-v01@openssh.com",),
    _RSA,
    _RSA_CERT,
    ("ssh-xmss@openssh.com",),
    ("ssh-xmss-cert-v01@openssh.com",),
)
SSHD_KEY_NAMES: dict[str, int] = {name: i for i, group in enumerate(_GROUPS) for name in group}

# sshauthopt_parse's options: flags (those in _NEGATABLE also as `no-NAME`), then NAME="value".
_FLAGS = (
    "restrict",
    "cert-authority",
    "port-forwarding",
    "agent-forwarding",
    "x11-forwarding",
    "touch-required",
    "verify-required",
    "pty",
    "user-rc",
)
_NEGATABLE = frozenset(_FLAGS[2:])
_VALUED = (
    "command",
    "principals",
    "from",
    "expiry-time",
    "environment",
    "permitopen",
    "permitlisten",
    "tunnel",
)

_ONCE = frozenset({"command", "principals", "from"})
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

Options = list[tuple[str, str | None]]


@dataclass(frozen=True)
class SshdLine:
    """A line sshd reads a key from: the key, and its options as sshd parses them."""

    key_type: str
    blob: bytes
    comment: str
    options: Options | None  # None: sshd refuses the options, so it ignores the line


def first_line_breaker(text: str) -> str | None:
    """What `text` holds that someone would take for a line break and sshd does not."""
    found = _BREAKER.search(text)
    return None if found is None else LINE_BREAKERS[found.group()]


def read_line(text: str) -> SshdLine | None:
    """What sshd makes of one line (without its "\\n"): None for a blank line, a comment, or
    anything it reads no key from."""
    cp = text.lstrip(_BLANKS)
    if not cp or cp.startswith("#"):
        return None
    found = _read_key(cp)
    options: Options | None = []
    if found is None:
        # No key first: options, then the key (sshkey_advance_past_options).
        end = _past_options(cp)
        if end is None:
            return None
        found = _read_key(cp[end:])
        if found is None:
            return None
        options = parse_options(cp)
    key_type, blob, comment = found
    return SshdLine(key_type, blob, comment, options)


def _word(text: str) -> tuple[str, str]:
    """The first word of `text` (up to a space or tab) and the rest, blanks before it skipped."""
    word = _WORD.match(text)
    assert word is not None
    return word.group(), text[word.end() :].lstrip(_BLANKS)


def _read_key(text: str) -> tuple[str, bytes, str] | None:
    """sshkey_read: `type base64 comment`, the type a known name followed by a blank."""
    text = text.lstrip(_BLANKS)
    key_type, rest = _word(text)
    if len(key_type) == len(text) or key_type not in SSHD_KEY_NAMES or not rest:
        return None
    data, comment = _word(rest)
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    inner = _blob_type(blob)
    if inner is None or SSHD_KEY_NAMES.get(inner) != SSHD_KEY_NAMES[key_type]:
        return None
    return key_type, blob, comment


def _blob_type(blob: bytes) -> str | None:
    size = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + size:
        return None
    try:
        return blob[4 : 4 + size].decode("ascii")
    except UnicodeDecodeError:
        return None


def _past_options(text: str) -> int | None:
    """sshkey_advance_past_options: where the options end (a blank outside double quotes; a
    backslash-quote pair is skipped, quoted or not); None for an unterminated quote."""
    quoted = False
    i = 0
    while i < len(text) and (quoted or text[i] not in _BLANKS):
        if text[i] == "\\" and text[i + 1 : i + 2] == '"':
            i += 1
        elif text[i] == '"':
            quoted = not quoted
        i += 1
    return None if quoted and i == len(text) else i


def parse_options(text: str) -> Options | None:
    """sshauthopt_parse on the options at the start of `text`: each (name, value) as sshd reads
    it (names lower-cased, `no-` kept), or None where sshd refuses them (and so the line)."""
    options: Options = []
    i = 0
    while i < len(text) and text[i] not in _BLANKS:
        rest = text[i : i + 32].translate(_ASCII_LOWER)  # strncasecmp: ASCII only
        flag = next((f for f in _flag_forms() if rest.startswith(f)), None)
        name = next((v for v in _VALUED if rest.startswith(v + "=")), None)
        if flag is not None:
            options.append((flag, None))
            i += len(flag)
        elif name is not None:
            if name in _ONCE and any(n == name for n, _ in options):
                return None  # sshd: multiple "command" clauses (or principals, from)
            value = _dequote(text, i + len(name) + 1)
            if value is None:
                return None
            options.append((name, value[0]))
            i = value[1]
        # Anything else is refused below unless it is a comma (sshd skips an empty option).
        if i == len(text) or text[i] in _BLANKS:
            break
        if text[i] != "," or i + 1 == len(text):
            return None
        i += 1
    return options


def _flag_forms() -> list[str]:
    # In sshd's order: the first that matches the start of the option wins.
    forms: list[str] = []
    for flag in _FLAGS:
        forms += [f"no-{flag}", flag] if flag in _NEGATABLE else [flag]
    return forms


def _dequote(text: str, i: int) -> tuple[str, int] | None:
    """opt_dequote: a double-quoted value (`\\"` is a quote) and where it ends."""
    if text[i : i + 1] != '"':
        return None
    i += 1
    value: list[str] = []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and text[i + 1 : i + 2] == '"':
            i += 1
        value.append(text[i])
        i += 1
    if i == len(text):
        return None
    return "".join(value), i + 1
