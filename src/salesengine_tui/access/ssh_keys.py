"""Managers over SSH: map a public key to one user with an OpenSSH forced command.

A service account's `authorized_keys` gets one line per key:

    command="/path/to/salesengine --user dana",restrict,pty ssh-ed25519 AAAA... dana@laptop

`restrict` turns off forwarding of ports, the agent and X11, `~/.ssh/rc` and the pty;
`pty` gives the terminal back, since the app needs one. sshd runs the forced command whatever
the client asks for (a shell, a command, the sftp subsystem) and only hands the request over in
SSH_ORIGINAL_COMMAND, which the app never reads. The key's `--user` flag outranks
SALESENGINE_USER (flags > environment), so a client cannot switch user even where sshd accepts
its environment.

The database URL may hold a password, so it never goes into this file (readable by anyone who
can read the account's keys, and shown by `ps` as the command line): the forced command reads the
service account's own config file, as any `salesengine` run by that account does.

No Textual here: the CLI and the tests use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlmodel import Session

from ..base import validation
from ..base.errors import NotFound, UserError
from .authorized_keys import default_authorized_keys, locked, read_lines, write_atomically
from .forced_command import (
    PROGRAM,
    authorized_line,
    config_warnings,
    default_executable,
    forced_command,
)
from .public_keys import (
    FINGERPRINT_PREFIX,
    KEY_TYPES,
    MAX_KEY_FILE_BYTES,
    PublicKey,
    parse_public_key,
    read_public_key,
)
from .users import get_by_login

__all__ = [
    "FINGERPRINT_PREFIX",
    "KEY_TYPES",
    "MAX_KEY_FILE_BYTES",
    "PROGRAM",
    "AddOutcome",
    "Listing",
    "MappedKey",
    "PublicKey",
    "add_for_user",
    "add_key",
    "authorized_line",
    "config_warnings",
    "default_authorized_keys",
    "default_executable",
    "forced_command",
    "list_keys",
    "parse_public_key",
    "read_public_key",
    "remove_keys",
]

AddOutcome = Literal["added", "replaced", "unchanged"]


@dataclass(frozen=True)
class MappedKey:
    """A line of authorized_keys whose forced command opens SalesEngine as `login`."""

    login: str
    key: PublicKey
    line_number: int


@dataclass(frozen=True)
class Listing:
    mapped: list[MappedKey]
    # Keys without a SalesEngine forced command: they may give a shell on the account.
    other: list[PublicKey]


def list_keys(path: Path) -> Listing:
    mapped: list[MappedKey] = []
    other: list[PublicKey] = []
    for line in read_lines(path):
        if line.key is None:
            continue
        if line.login is None:
            other.append(line.key)
        else:
            mapped.append(MappedKey(line.login, line.key, line.number))
    return Listing(mapped, other)


def add_key(
    path: Path,
    key: PublicKey,
    login: str,
    *,
    executable: Path,
    config: Path | None = None,
) -> AddOutcome:
    """Map `key` to `login` in `path`. The same key again replaces its line (never a second
    one); a key mapped to someone else, or already there without our command, is refused."""
    new_line = authorized_line(key, login, executable=executable, config=config).encode()
    with locked(path):
        lines = read_lines(path)
        for line in lines:
            if line.key is None or line.key.blob != key.blob:
                continue
            if line.login is None:
                # sshd uses the first line that matches: ours would never be reached.
                raise UserError(
                    f"key {key.fingerprint} is already in {path} (line {line.number}) without "
                    "a SalesEngine command, so it may open a shell: remove that line by hand first"
                )
            if line.login != login:
                raise UserError(
                    f"key {key.fingerprint} is already mapped to login {line.login!r}: "
                    f"`salesengine users ssh-key remove {key.fingerprint}` first"
                )
        same = [line for line in lines if line.key is not None and line.key.blob == key.blob]
        if len(same) == 1 and same[0].raw == new_line:
            return "unchanged"
        out: list[bytes] = []
        for line in lines:
            if line is (same[0] if same else None):
                out.append(new_line)
            elif line not in same:
                out.append(line.raw)
        if not same:
            out.append(new_line)
        write_atomically(path, out)
    return "replaced" if same else "added"


def add_for_user(
    session: Session,
    path: Path,
    keyfile: Path,
    login: str,
    *,
    executable: Path,
    config: Path | None = None,
) -> tuple[PublicKey, AddOutcome]:
    """Check the key and that `login` is an active user, then map the key to them."""
    login = validation.login(login)
    key = read_public_key(keyfile)
    get_by_login(session, login)  # an unknown or inactive user is a clear error
    return key, add_key(path, key, login, executable=executable, config=config)


def remove_keys(path: Path, selector: str) -> list[MappedKey]:
    """Remove SalesEngine keys by fingerprint (`SHA256:...`) or by login; other lines stay."""
    selector = selector.strip()
    by_fingerprint = selector.startswith(FINGERPRINT_PREFIX)
    if not by_fingerprint:
        selector = validation.login(selector)
    what = f"with fingerprint {selector}" if by_fingerprint else f"for login {selector!r}"
    if not path.exists():
        raise NotFound(f"no SalesEngine key {what}: {path} does not exist")
    with locked(path):
        lines = read_lines(path)
        gone = [
            line
            for line in lines
            if line.key is not None
            and line.login is not None
            and (line.key.fingerprint == selector if by_fingerprint else line.login == selector)
        ]
        if not gone:
            raise NotFound(f"no SalesEngine key {what} in {path}")
        write_atomically(path, [line.raw for line in lines if line not in gone])
    return [MappedKey(line.login or "", line.key, line.number) for line in gone if line.key]
