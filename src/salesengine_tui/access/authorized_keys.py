"""The authorized_keys file: its lines read as sshd reads them (keys, their options, which are
ours) and written back whole, one writer at a time, atomically, with the modes and owner sshd
insists on. Lines end at "\\n" only and are bytes: a line this tool did not write goes back
byte for byte; a file holding what other tools would split into more lines is refused."""

from __future__ import annotations

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
from .public_keys import PublicKey
from .sshd_syntax import first_line_breaker, read_line


def default_authorized_keys() -> Path:
    return Path.home() / ".ssh" / "authorized_keys"


@dataclass(frozen=True)
class KeyLine:
    number: int
    raw: bytes  # the line as it is in the file, without its "\n"
    key: PublicKey | None  # None: blank, comment, or no key sshd would read (kept as it is)
    login: str | None  # set when the line is one of ours


def parse_line(number: int, raw: bytes) -> KeyLine:
    found = read_line(raw.decode("utf-8", "surrogateescape"))
    if found is None:
        return KeyLine(number, raw, None, None)
    key = PublicKey(found.key_type, found.blob, found.comment.rstrip(" \t"))
    login = None if found.options is None else mapped_login(dict(found.options))
    return KeyLine(number, raw, key, login)


def read_lines(path: Path) -> list[KeyLine]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not an authorized_keys file") from None
    except OSError as exc:
        raise UserError(
            f"cannot read {path}: {exc.strerror or exc} (run this as the account that owns it)"
        ) from None
    raws = data.split(b"\n")
    if raws[-1] == b"":
        raws.pop()  # the file ends with a newline (or is empty)
    lines = []
    for number, raw in enumerate(raws, 1):
        _refuse_ambiguous(path, number, raw)
        lines.append(parse_line(number, raw))
    return lines


def _refuse_ambiguous(path: Path, number: int, raw: bytes) -> None:
    """sshd and other tools (an editor, Python's splitlines) must see the same lines: a key
    hidden after one of these in a comment would become a line of its own once re-split."""
    what = first_line_breaker(raw.decode("utf-8", "surrogateescape"))
    if what is None:
        return
    differs = (
        "which ends the line for sshd but not for other tools"
        if what == "a NUL byte"
        else "which sshd reads as part of the line and other tools as a line break"
    )
    raise UserError(
        f"{path} line {number} holds {what}, {differs}: "
        "fix that line by hand first (nothing was changed)"
    )


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


def write_atomically(path: Path, lines: list[bytes]) -> None:
    folder = path.parent
    data = b"".join(line + b"\n" for line in lines)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".authorized_keys.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
