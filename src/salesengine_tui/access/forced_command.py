"""The forced command a key's authorized_keys line runs: `salesengine --user LOGIN`, and the
login read back out of it; with what that command will not receive from the shell that sets it
up (the database URL, the config file's location).

No database URL ever goes into the command (a password there would be readable by anyone who
can read the account's keys, and shown by `ps`): it reads the service account's config file.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import sys
from pathlib import Path

from ..base import origin, validation
from ..base.errors import UserError
from .public_keys import PublicKey
from .sshd_syntax import first_line_breaker, read_line

PROGRAM = "salesengine"


def default_executable() -> Path:
    """The `salesengine` script of this installation (beside the running Python in a venv)."""
    beside = Path(sys.executable).parent / PROGRAM
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside.absolute()
    found = shutil.which(PROGRAM)
    if found is None:
        raise UserError(f"cannot find the `{PROGRAM}` program to put in the key's command")
    return Path(found).absolute()


def forced_command(
    login: str, *, executable: Path, config: Path | None = None, fingerprint: str | None = None
) -> str:
    """The shell command sshd runs for the key: no database URL in it, only where to find it;
    the key's fingerprint, which the audit trail records as where the session came from."""
    login = validation.login(login)
    argv = [_safe_path(executable, "the salesengine program")]
    if config is not None:
        argv += ["--config", _safe_path(config, "the config file")]
    argv += ["--user", login]
    if fingerprint is not None:
        argv += ["--ssh-key", origin.fingerprint(fingerprint)]
    return shlex.join(argv)


# What a path in the key's command may hold. sshd's command="..." ends at a double quote (a
# backslash before one escapes it) and the account's shell reads the rest: these characters need
# nothing beyond shlex's single quotes around a space, which both pass through unchanged.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_@%+=:,./ -]*")
SAFE_PATH_CHARACTERS = "letters, digits, spaces and _ @ % + = : , . / -"


def _safe_path(path: Path, what: str) -> str:
    text = str(path)
    if not path.is_absolute():
        raise UserError(f"{what} must be an absolute path, not {text!r}")
    safe = _SAFE_PATH.match(text)
    assert safe is not None
    if safe.end() < len(text):
        raise UserError(
            f"{what} path {text!r} has a quote, backslash or control character, or another "
            f"character the key's command cannot carry ({text[safe.end()]!r}): "
            f"use a path of {SAFE_PATH_CHARACTERS}"
        )
    return text


def authorized_line(
    key: PublicKey, login: str, *, executable: Path, config: Path | None = None
) -> str:
    """The line for `key`, checked to read back, as sshd parses it, as written: never a line
    sshd would ignore, or read as another command, login or key."""
    command = forced_command(
        login, executable=executable, config=config, fingerprint=key.fingerprint
    )
    line = f'command="{command}",restrict,pty {key.text()}'
    found = None if first_line_breaker(line) or "\n" in line else read_line(line)
    options = None if found is None else found.options
    if (
        found is None
        or (found.key_type, found.blob, found.comment) != (key.type, key.blob, key.comment)
        or options != [("command", command), ("restrict", None), ("pty", None)]
        or mapped_login(dict(options)) != login
    ):
        raise UserError(
            f"the authorized_keys line for {login} would not be read by sshd as written "
            f"(key {key.fingerprint}); nothing was written"
        )
    return line


def mapped_login(options: dict[str, str | None]) -> str | None:
    """Whom a line's `command=` option opens SalesEngine as (None: not our command)."""
    command = options.get("command")
    if not command:
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or Path(argv[0]).name != PROGRAM:
        return None
    for i, arg in enumerate(argv):
        if arg == "--user" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--user="):
            return arg.removeprefix("--user=")
    return None


# --- the service account's settings ---


def config_warnings(
    config_file: Path, *, url_from_flag: bool, url_from_env: bool, config_from_env: bool
) -> list[str]:
    """What would leave the forced command without its database, or its password exposed."""
    warnings: list[str] = []
    if url_from_flag or url_from_env:
        where = "--database-url" if url_from_flag else "SALESENGINE_DATABASE_URL"
        warnings.append(
            f"{where} is not passed to the key's command: put database_url in {config_file} "
            "(readable only by this account)"
        )
    if config_from_env:
        warnings.append(
            "SALESENGINE_CONFIG_FILE is not passed to the key's command: "
            "give the file with --config to put it in the command"
        )
    try:
        mode = stat.S_IMODE(config_file.stat().st_mode)
        holds_url = "database_url" in config_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return warnings
    if holds_url and mode & 0o077:
        warnings.append(
            f"{config_file} holds the database URL and other accounts can read it: "
            f"chmod 600 {config_file}"
        )
    return warnings
