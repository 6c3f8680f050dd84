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

import base64
import binascii
import fcntl
import hashlib
import os
import shlex
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlmodel import Session

from . import validation
from .errors import NotFound, UserError
from .users import get_by_login

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
PROGRAM = "salesengine"

AddOutcome = Literal["added", "replaced", "unchanged"]


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


@dataclass(frozen=True)
class _Line:
    number: int
    raw: str
    key: PublicKey | None  # None: blank, comment, or a line we cannot read (kept as it is)
    login: str | None  # set when the line is one of ours


# --- public key files ---


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
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in comment):
        raise UserError(f"{source}: the key's comment has control characters in it")
    return PublicKey(key_type, _decode_blob(key_type, data, source), comment)


def _explain_unknown_type(line: str, first: str, source: str) -> None:
    tokens = _split_unquoted(line)
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


# --- the authorized_keys line ---


def default_executable() -> Path:
    """The `salesengine` script of this installation (beside the running Python in a venv)."""
    beside = Path(sys.executable).parent / PROGRAM
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside.absolute()
    found = shutil.which(PROGRAM)
    if found is None:
        raise UserError(f"cannot find the `{PROGRAM}` program to put in the key's command")
    return Path(found).absolute()


def default_authorized_keys() -> Path:
    return Path.home() / ".ssh" / "authorized_keys"


def forced_command(login: str, *, executable: Path, config: Path | None = None) -> str:
    """The shell command sshd runs for the key: no database URL in it, only where to find it."""
    login = validation.login(login)
    argv = [_safe_path(executable, "the salesengine program")]
    if config is not None:
        argv += ["--config", _safe_path(config, "the config file")]
    argv += ["--user", login]
    return shlex.join(argv)


def _safe_path(path: Path, what: str) -> str:
    text = str(path)
    if not path.is_absolute():
        raise UserError(f"{what} must be an absolute path, not {text!r}")
    # sshd passes the command to the account's shell; shlex quotes the rest, but a quote or a
    # backslash would also have to survive authorized_keys' own quoting: refuse them.
    if any(ch in text for ch in '"\\') or not text.isprintable():
        raise UserError(f"{what} path {text!r} has a quote, backslash or control character")
    return text


def authorized_line(
    key: PublicKey, login: str, *, executable: Path, config: Path | None = None
) -> str:
    command = forced_command(login, executable=executable, config=config)
    return f'command="{command}",restrict,pty {key.text()}'


# --- reading and writing authorized_keys ---


def _split_unquoted(line: str) -> list[str]:
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


def _mapped_login(options: dict[str, str | None]) -> str | None:
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


def _parse_line(number: int, raw: str) -> _Line:
    text = raw.strip()
    if not text or text.startswith("#"):
        return _Line(number, raw, None, None)
    tokens = _split_unquoted(text)
    options: dict[str, str | None] = {}
    if tokens and tokens[0] not in KEY_TYPES and len(tokens) > 1:
        options = _options(tokens[0])
        tokens = tokens[1:]
    if len(tokens) < 2 or tokens[0] not in KEY_TYPES:
        return _Line(number, raw, None, None)
    try:
        blob = base64.b64decode(tokens[1], validate=True)
    except (binascii.Error, ValueError):
        return _Line(number, raw, None, None)
    # The comment is whatever follows the key data, spaces and all.
    after = text.split(tokens[1], 1)[1].strip()
    return _Line(number, raw, PublicKey(tokens[0], blob, after), _mapped_login(options))


def _read_lines(path: Path) -> list[_Line]:
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
    return [_parse_line(n, raw) for n, raw in enumerate(text.splitlines(), 1)]


def list_keys(path: Path) -> Listing:
    mapped: list[MappedKey] = []
    other: list[PublicKey] = []
    for line in _read_lines(path):
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
    new_line = authorized_line(key, login, executable=executable, config=config)
    with _locked(path):
        lines = _read_lines(path)
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
        out: list[str] = []
        for line in lines:
            if line is (same[0] if same else None):
                out.append(new_line)
            elif line not in same:
                out.append(line.raw)
        if not same:
            out.append(new_line)
        _write_atomically(path, out)
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
    with _locked(path):
        lines = _read_lines(path)
        gone = [
            line
            for line in lines
            if line.key is not None
            and line.login is not None
            and (line.key.fingerprint == selector if by_fingerprint else line.login == selector)
        ]
        if not gone:
            raise NotFound(f"no SalesEngine key {what} in {path}")
        _write_atomically(path, [line.raw for line in lines if line not in gone])
    return [MappedKey(line.login or "", line.key, line.number) for line in gone if line.key]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
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


def _write_atomically(path: Path, lines: list[str]) -> None:
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
