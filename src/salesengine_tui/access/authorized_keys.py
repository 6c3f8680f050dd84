"""The authorized_keys file: its lines read (keys, their options, which are ours) and written
back whole, one writer at a time, atomically, with the modes and owner sshd insists on."""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import UserError
from .forced_command import mapped_login
from .public_keys import KEY_TYPES, PublicKey, split_unquoted


def default_authorized_keys() -> Path:
    return Path.home() / ".ssh" / "authorized_keys"


@dataclass(frozen=True)
class KeyLine:
    number: int
    raw: str
    key: PublicKey | None  # None: blank, comment, or a line we cannot read (kept as it is)
    login: str | None  # set when the line is one of ours


def _options(text: str) -> dict[str, str | None]:
    """`command="x",restrict,pty` -> {"command": "x", "restrict": None, "pty": None}."""
    options: dict[str, str | None] = {}
    name: list[str] = []
    value: list[str] | None = None
    quoted = False
    i = 0
    while i <= len(text):
        ch = text[i] if i < len(text) else ","
        if quoted:
            if ch == "\\" and text[i + 1 : i + 2] == '"':
                assert value is not None
                value.append('"')
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                assert value is not None
                value.append(ch)
        elif ch == ",":
            options["".join(name).lower()] = None if value is None else "".join(value)
            name, value = [], None
        elif ch == "=" and value is None:
            value = []
        elif ch == '"' and value is not None:
            quoted = True
        elif value is None:
            name.append(ch)
        else:
            value.append(ch)
        i += 1
    return options


def parse_line(number: int, raw: str) -> KeyLine:
    text = raw.strip()
    if not text or text.startswith("#"):
        return KeyLine(number, raw, None, None)
    tokens = split_unquoted(text)
    options: dict[str, str | None] = {}
    if tokens and tokens[0] not in KEY_TYPES and len(tokens) > 1:
        options = _options(tokens[0])
        tokens = tokens[1:]
    if len(tokens) < 2 or tokens[0] not in KEY_TYPES:
        return KeyLine(number, raw, None, None)
    try:
        blob = base64.b64decode(tokens[1], validate=True)
    except (binascii.Error, ValueError):
        return KeyLine(number, raw, None, None)
    # The comment is whatever follows the key data, spaces and all.
    after = text.split(tokens[1], 1)[1].strip()
    return KeyLine(number, raw, PublicKey(tokens[0], blob, after), mapped_login(options))


def read_lines(path: Path) -> list[KeyLine]:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return []
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not an authorized_keys file") from None
    except OSError as exc:
        raise UserError(
            f"cannot read {path}: {exc.strerror or exc} (run this as the account that owns it)"
        ) from None
    return [parse_line(n, raw) for n, raw in enumerate(text.splitlines(), 1)]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """One writer at a time: an exclusive lock on the folder (so no lock file is left behind)."""
    folder = _ensure_folder(path.parent)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ensure_folder(folder: Path) -> Path:
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)
            _chown_like(folder, folder.parent)
        elif folder.name == ".ssh" and stat.S_IMODE(folder.stat().st_mode) != 0o700:
            # sshd's StrictModes refuses keys in a folder others can write to.
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise UserError(f"cannot prepare {folder}: {exc.strerror or exc}") from None
    return folder


def _chown_like(target: Path, model: Path) -> None:
    """Run as root for another account, give that account its file: sshd reads
    authorized_keys as the account, so a root-owned 0600 file would silently not work."""
    if os.geteuid() != 0:
        return
    st = model.stat()
    os.chown(target, st.st_uid, st.st_gid)


def write_atomically(path: Path, lines: list[str]) -> None:
    folder = path.parent
    text = "".join(line + "\n" for line in lines)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".authorized_keys.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        _chown_like(tmp, path if path.exists() else folder)
        # Replaces a symlink rather than writing through it (root must not follow a user's link).
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
