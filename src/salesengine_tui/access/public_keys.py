"""One OpenSSH public key: read from its `.pub` file, checked, and a message that names the
problem when it is not one (a private key, another format, a line cut short)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import UserError

# Key types OpenSSH accepts for user authentication, with how many length-prefixed fields
# follow the type name inside the key data (to catch a key cut short when it was copied).
KEY_TYPES: dict[str, int] = {
    "ssh-ed25519": 1,
    "ssh-rsa": 2,
    "ecdsa-sha2-nistp256": 2,
    "ecdsa-sha2-nistp384": 2,
    "ecdsa-sha2-nistp521": 2,
    "sk-ssh-ed25519@openssh.com": 2,
    "sk-ecdsa-sha2-nistp256@openssh.com": 3,
}
MAX_KEY_FILE_BYTES = 64 * 1024  # an RSA 16384-bit public key is about 2.8 kB
FINGERPRINT_PREFIX = "SHA256:"


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: bytes
    comment: str = ""

    @property
    def data(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """As `ssh-keygen -l` prints it: SHA256 of the key data, base64 without padding."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode("ascii")
        return FINGERPRINT_PREFIX + digest.rstrip("=")

    def text(self) -> str:
        return f"{self.type} {self.data} {self.comment}".rstrip()


def read_public_key(path: Path) -> PublicKey:
    """The one public key in `path` (an `id_ed25519.pub`), checked."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a public key file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise UserError(f"{path} is too big to be a public key file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a text file (give the .pub file of the key)") from None
    return parse_public_key(text, source=str(path))


def parse_public_key(text: str, *, source: str = "the key") -> PublicKey:
    """One OpenSSH public key line (`type base64 comment`), with a message naming the problem."""
    if "PRIVATE KEY-----" in text or text.lstrip().startswith("PuTTY-User-Key-File"):
        # Never echo any of it: it is a secret.
        raise UserError(
            f"{source} is a private key: give the public half (the .pub file, e.g. "
            "~/.ssh/id_ed25519.pub), and keep the private key on the manager's own computer"
        )
    if "BEGIN SSH2 PUBLIC KEY" in text:
        raise UserError(
            f"{source} is in the SSH2 (RFC 4716) format: convert it with `ssh-keygen -i -f FILE`"
        )
    if "BEGIN PUBLIC KEY" in text:
        raise UserError(
            f"{source} is a PEM public key: convert it with `ssh-keygen -i -m PKCS8 -f FILE`"
        )
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise UserError(f"{source} holds no public key")
    if len(lines) > 1:
        raise UserError(f"{source} holds {len(lines)} lines: give one key per command")
    line = lines[0]
    first = line.split(None, 1)[0]
    if first not in KEY_TYPES:
        _explain_unknown_type(line, first, source)
    parts = line.split(None, 2)
    if len(parts) < 2:
        raise UserError(f"{source}: the {first} key has no key data after its type")
    key_type, data = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    # It goes into authorized_keys: no controls, line or paragraph separators, surrogates.
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in comment):
        raise UserError(f"{source}: the key's comment has control characters in it")
    return PublicKey(key_type, _decode_blob(key_type, data, source), comment)


def _explain_unknown_type(line: str, first: str, source: str) -> None:
    tokens = split_unquoted(line)
    if len(tokens) > 1 and any(_looks_like_type(token) for token in tokens[1:]):
        raise UserError(
            f"{source} carries its own options ({_shorten(tokens[0])}) before the key: "
            "give the plain public key (`type base64 comment`); SalesEngine writes the options"
        )
    if first == "ssh-dss":
        raise UserError(
            f"{source} is a DSA key (ssh-dss), which current OpenSSH refuses: "
            "make a new key with `ssh-keygen -t ed25519`"
        )
    if first.endswith("-cert-v01@openssh.com"):
        raise UserError(f"{source} is an SSH certificate, not a public key: give the .pub key")
    raise UserError(
        f"{source}: unknown key type {_shorten(first)!r} (known: {', '.join(sorted(KEY_TYPES))})"
    )


def _looks_like_type(token: str) -> bool:
    return token in KEY_TYPES or token == "ssh-dss" or token.endswith("@openssh.com")


def _shorten(text: str, limit: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode_blob(key_type: str, data: str, source: str) -> bytes:
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UserError(
            f"{source}: the key data is not valid base64 (was the line cut or wrapped?)"
        ) from None
    fields = _ssh_strings(blob)
    if fields is None or not fields:
        raise UserError(f"{source}: the key data is damaged (was the line cut short?)")
    inner = fields[0].decode("ascii", "replace")
    if inner != key_type:
        raise UserError(
            f"{source}: the line says {key_type} but the key data is {_shorten(inner)!r}"
        )
    if len(fields) - 1 != KEY_TYPES[key_type]:
        raise UserError(f"{source}: the key data is damaged (was the line cut short?)")
    return blob


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """The length-prefixed fields of an SSH wire-format key; None if they do not add up."""
    fields: list[bytes] = []
    pos = 0
    while pos < len(blob):
        if pos + 4 > len(blob):
            return None
        size = int.from_bytes(blob[pos : pos + 4], "big")
        pos += 4
        if pos + size > len(blob):
            return None
        fields.append(blob[pos : pos + size])
        pos += size
    return fields


def split_unquoted(line: str) -> list[str]:
    """Split on whitespace outside double quotes (`\\"` inside quotes is a quote)."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted and ch == "\\" and line[i + 1 : i + 2] == '"':
            current.append('\\"')
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        tokens.append("".join(current))
    return tokens
