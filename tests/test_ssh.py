"""Managers over SSH: `salesengine users ssh-key` writes forced-command lines, and a real sshd
with such a line opens the app as the key's user and gives nothing else (no shell, no command,
no forwarding, no sftp)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import socket
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from factories import Desk
from sqlalchemy import Engine, update
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_cli import _url, run

from salesengine_tui.access import ssh_keys
from salesengine_tui.base.errors import UserError
from salesengine_tui.cli import app_commands
from salesengine_tui.db.models import User

SSHD = Path("/usr/sbin/sshd")


def key_line(n: int = 1, comment: str = "dana@laptop", key_type: str = "ssh-ed25519") -> str:
    """A well-formed ed25519 public key line (OpenSSH does not check the point when parsing)."""
    body = n.to_bytes(32, "big")

    def string(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    blob = string(key_type.encode()) + string(body)
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}".rstrip()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


EXE = Path("/opt/salesengine/bin/salesengine")


# --- public key files ---


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no public key"),
        ("# just a comment\n\n", "holds no public key"),
        (key_line(1) + "\n" + key_line(2) + "\n", "holds 2 lines: give one key per command"),
        ('command="/bin/sh",no-pty ' + key_line(), 'carries its own options (command="/bin/sh",no-pty)'),
        ('from="10.0.0.0/8" ' + key_line(), "carries its own options"),
        ("environment=\"SALESENGINE_USER=sam\" " + key_line(), "carries its own options"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n", "is a private key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n", "is a private key"),
        ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "is a private key"),
        ("---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n", "SSH2 (RFC 4716) format"),
        ("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "PEM public key"),
        ("ssh-foo AAAAB3NzaC1yc2E= me", "unknown key type 'ssh-foo'"),
        ("ssh-dss AAAAB3NzaC1kc3M= me", "DSA key (ssh-dss)"),
        ("ssh-ed25519-cert-v01@openssh.com AAAA me", "is an SSH certificate"),
        ("ssh-ed25519", "has no key data"),
        ("ssh-ed25519 not*base64! me", "not valid base64"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me", "the key data is damaged"),
        (key_line().split()[0] + " " + key_line().split()[1][:42] + " me", "not valid base64"),
        (key_line(key_type="ssh-rsa").replace("ssh-rsa", "ssh-ed25519", 1), "the line says ssh-ed25519 but the key data is 'ssh-rsa'"),
        (key_line(key_type="ssh-rsa"), "the key data is damaged"),
        (key_line(comment="dana\x1b[31m"), "comment has control characters"),
    ],
)  # fmt: skip
def test_bad_key_files_are_refused_with_the_problem_named(
    tmp_path: Path, text: str, message: str
) -> None:
    keyfile = write(tmp_path / "key.pub", text)
    with pytest.raises(UserError) as caught:
        ssh_keys.read_public_key(keyfile)
    assert message in str(caught.value)
    assert str(keyfile) in str(caught.value)


def test_private_key_is_never_echoed(tmp_path: Path) -> None:
    secret = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
    keyfile = write(
        tmp_path / "id_ed25519",
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    with pytest.raises(UserError) as caught:
        ssh_keys.read_public_key(keyfile)
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("path_kind", "message"),
    [("missing", "no such file"), ("folder", "is a folder"), ("binary", "not a text file")],
)
def test_unreadable_key_files(tmp_path: Path, path_kind: str, message: str) -> None:
    path = tmp_path / "key.pub"
    if path_kind == "folder":
        path.mkdir()
    elif path_kind == "binary":
        path.write_bytes(b"\xff\xfe\x00ssh")
    with pytest.raises(UserError, match=message):
        ssh_keys.read_public_key(path)


def test_fingerprints_match_ssh_keygen(tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    for kind, bits in (("ed25519", []), ("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "384"])):
        private = tmp_path / f"id_{kind}"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", kind, *bits, "-N", "", "-C", f"me {kind}", "-f", private],
            check=True,
        )
        key = ssh_keys.read_public_key(private.with_suffix(".pub"))
        printed = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", private.with_suffix(".pub")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert key.fingerprint == printed[1]
        assert key.comment == f"me {kind}"


# --- the line and the file ---


def test_authorized_line_is_a_forced_command_with_restrictions() -> None:
    key = ssh_keys.parse_public_key(key_line(comment="dana laptop"))
    line = ssh_keys.authorized_line(key, "dana", executable=EXE)
    assert line == (
        f'command="{EXE} --user dana --ssh-key {key.fingerprint}",restrict,pty '
        f"{key_line(comment='dana laptop')}"
    )
    spaced = ssh_keys.authorized_line(
        key, "dana", executable=Path("/opt/sales engine/salesengine"), config=Path("/etc/se.toml")
    )
    assert spaced.startswith(
        "command=\"'/opt/sales engine/salesengine' --config /etc/se.toml --user dana "
        f'--ssh-key {key.fingerprint}",restrict,pty '
    )


@pytest.mark.parametrize(
    ("login", "exe", "message"),
    [
        ("Dana; sh", EXE, "login 'Dana; sh' is not valid"),
        ('x"y', EXE, "is not valid"),
        ("dana", Path("salesengine"), "must be an absolute path"),
        ("dana", Path('/opt/a"b/salesengine'), "has a quote, backslash or control character"),
        ("dana", Path("/opt/a\nb/salesengine"), "has a quote, backslash or control character"),
    ],
)
def test_forced_command_refuses_what_could_break_out(login: str, exe: Path, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        ssh_keys.forced_command(login, executable=exe)


def test_add_writes_0600_file_in_0700_folder_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".ssh" / "authorized_keys"
    key = ssh_keys.parse_public_key(key_line())
    assert ssh_keys.add_key(path, key, "dana", executable=EXE) == "added"
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    assert ssh_keys.add_key(path, key, "dana", executable=EXE) == "unchanged"
    renamed = ssh_keys.parse_public_key(key_line(comment="dana@new-laptop"))
    assert ssh_keys.add_key(path, renamed, "dana", executable=EXE) == "replaced"
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(" dana@new-laptop")
    # A second key for the same person is a second line.
    ssh_keys.add_key(path, ssh_keys.parse_public_key(key_line(2)), "dana", executable=EXE)
    assert len(path.read_text().splitlines()) == 2
    assert [p.name for p in path.parent.iterdir()] == ["authorized_keys"]  # no temp files left


def test_add_keeps_other_lines_and_tightens_modes(tmp_path: Path) -> None:
    ssh_dir = tmp_path / ".ssh"
    ssh_dir.mkdir(mode=0o755)
    os.chmod(ssh_dir, 0o755)
    path = write(ssh_dir / "authorized_keys", f"# admin keys\n{key_line(9, 'admin@desk')}\n\n")
    os.chmod(path, 0o644)
    ssh_keys.add_key(path, ssh_keys.parse_public_key(key_line(1)), "dana", executable=EXE)
    assert path.read_text().startswith(f"# admin keys\n{key_line(9, 'admin@desk')}\n\n")
    assert (mode(ssh_dir), mode(path)) == (0o700, 0o600)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes another account's file")
def test_root_writing_another_accounts_file_leaves_it_theirs(tmp_path: Path) -> None:
    # sshd reads authorized_keys as the account: a root-owned 0600 file would not work.
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 65534, 65534)
    path = home / ".ssh" / "authorized_keys"
    ssh_keys.add_key(path, ssh_keys.parse_public_key(key_line()), "dana", executable=EXE)
    for made in (path.parent, path):
        assert (made.stat().st_uid, made.stat().st_gid) == (65534, 65534)


def test_key_mapped_to_another_login_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "authorized_keys"
    key = ssh_keys.parse_public_key(key_line())
    ssh_keys.add_key(path, key, "dana", executable=EXE)
    before = path.read_text()
    with pytest.raises(UserError, match=r"already mapped to login 'dana'.*remove SHA256:"):
        ssh_keys.add_key(path, key, "sam", executable=EXE)
    assert path.read_text() == before


def test_key_that_already_opens_a_shell_is_refused(tmp_path: Path) -> None:
    # sshd takes the first matching line, so a line of ours after it would never apply.
    path = write(tmp_path / "authorized_keys", key_line(comment="root shell") + "\n")
    with pytest.raises(UserError, match="without a SalesEngine command, so it may open a shell"):
        ssh_keys.add_key(path, ssh_keys.parse_public_key(key_line()), "dana", executable=EXE)


def test_list_and_remove_by_login_or_fingerprint(tmp_path: Path) -> None:
    path = write(tmp_path / "authorized_keys", key_line(9, "admin") + "\n")
    dana1, dana2, sam = (ssh_keys.parse_public_key(key_line(n)) for n in (1, 2, 3))
    for key, login in ((dana1, "dana"), (dana2, "dana"), (sam, "sam")):
        ssh_keys.add_key(path, key, login, executable=EXE)
    listing = ssh_keys.list_keys(path)
    assert [(m.login, m.key.fingerprint) for m in listing.mapped] == [
        ("dana", dana1.fingerprint),
        ("dana", dana2.fingerprint),
        ("sam", sam.fingerprint),
    ]
    assert [k.comment for k in listing.other] == ["admin"]
    gone = ssh_keys.remove_keys(path, sam.fingerprint)
    assert [m.login for m in gone] == ["sam"]
    assert [m.login for m in ssh_keys.remove_keys(path, "dana")] == ["dana", "dana"]
    assert path.read_text() == key_line(9, "admin") + "\n"  # not ours: left alone
    assert mode(path) == 0o600
    with pytest.raises(UserError, match="no SalesEngine key for login 'dana'"):
        ssh_keys.remove_keys(path, "dana")
    with pytest.raises(UserError, match="no SalesEngine key with fingerprint"):
        ssh_keys.remove_keys(path, ssh_keys.parse_public_key(key_line(9)).fingerprint)
    with pytest.raises(UserError, match="does not exist"):
        ssh_keys.remove_keys(tmp_path / "nothing", "dana")


# --- the command line ---


def test_cli_add_list_remove(
    db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ak = tmp_path / ".ssh" / "authorized_keys"
    keyfile = write(tmp_path / "dana.pub", key_line(comment="dana@laptop") + "\n")
    fingerprint = ssh_keys.parse_public_key(key_line()).fingerprint
    base = ["--database-url", _url(db_url), "--user", "dana", "users", "ssh-key"]  # a manager
    code, out, err = run(capsys, *base, "add", "dana", str(keyfile), "--authorized-keys", str(ak))
    assert (code, out.strip()) == (
        0,
        f"added key {fingerprint} (ssh-ed25519) for dana to {ak}",
    )
    line = ak.read_text()
    assert line == (
        f'command="{ssh_keys.default_executable()} --user dana --ssh-key {fingerprint}",'
        f"restrict,pty {key_line(comment='dana@laptop')}\n"
    )
    # The database URL goes to the account's config file, never into authorized_keys.
    assert "postgresql" not in line and "--database-url" not in line
    assert "--database-url is not passed to the key's command" in err
    code, out, _ = run(capsys, *base, "add", "dana", str(keyfile), "--authorized-keys", str(ak))
    assert code == 0 and out.startswith("nothing to do:")
    assert ak.read_text() == line

    code, _, err = run(capsys, *base, "add", "sam", str(keyfile), "--authorized-keys", str(ak))
    assert code == 1
    assert err.startswith(
        f"salesengine: error: key {fingerprint} is already mapped to login 'dana'"
    )

    code, out, _ = run(capsys, *base, "list", "--authorized-keys", str(ak))
    assert code == 0
    assert ["dana", "ssh-ed25519", fingerprint, "dana@laptop"] in [
        r.split() for r in out.splitlines()
    ]

    code, out, _ = run(capsys, *base, "remove", fingerprint, "--authorized-keys", str(ak))
    assert (code, out.strip()) == (0, f"removed key {fingerprint} of dana from {ak}")
    assert ak.read_text() == ""


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("nobody", "no user 'nobody'"),
        ("system", "no user 'system'"),  # the automation user never logs in
        ("inactive", "no user 'inactive'"),
        ("Bad Login", "login 'Bad Login' is not valid"),
    ],
)
def test_cli_add_needs_an_active_user(
    db_url: URL,
    engine: Engine,
    desk: Desk,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    login: str,
    message: str,
) -> None:
    with Session(engine) as session:
        session.exec(update(User).where(User.login == "sam").values(active=False))  # type: ignore[call-overload]
        session.commit()
    keyfile = write(tmp_path / "k.pub", key_line())
    ak = tmp_path / "authorized_keys"
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "--user", "dana", "users", "ssh-key", "add",
        "sam" if login == "inactive" else login, str(keyfile), "--authorized-keys", str(ak),
    )  # fmt: skip
    assert code == 1
    assert message.replace("inactive", "sam") in err
    assert "Traceback" not in err
    assert not ak.exists()


def test_cli_add_with_config_names_it_and_warns_when_others_can_read_it(
    db_url: URL,
    desk: Desk,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `--config` sets SALESENGINE_CONFIG_FILE in this process: put it back afterwards.
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", os.environ["SALESENGINE_CONFIG_FILE"])
    config = write(tmp_path / "sales.toml", f"database_url = {json.dumps(_url(db_url))}\n")
    os.chmod(config, 0o644)
    keyfile = write(tmp_path / "k.pub", key_line())
    ak = tmp_path / "authorized_keys"
    code, _, err = run(
        capsys, "--config", str(config), "--user", "dana", "users", "ssh-key", "add", "dana",
        str(keyfile), "--authorized-keys", str(ak),
    )  # fmt: skip
    assert code == 0
    assert f"--config {config} --user dana" in ak.read_text()
    assert f"other accounts can read it: chmod 600 {config}" in err
    assert _url(db_url) not in err + ak.read_text()


def test_key_user_outranks_environment_and_original_command(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What sshd's forced command runs, with a client that tried to pick someone else.
    monkeypatch.setenv("SALESENGINE_USER", "sam")
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "salesengine --user sam")
    monkeypatch.setattr(app_commands, "require_terminal", lambda: None)
    opened: list[str] = []
    from salesengine_tui.app import SalesEngineApp

    monkeypatch.setattr(SalesEngineApp, "run", lambda self: opened.append(self.ctx.actor.login))
    assert run(capsys, "--database-url", _url(db_url), "--user", "dana")[0] == 0
    assert opened == ["dana"]


def test_app_without_a_terminal_is_one_clear_line(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "--database-url", _url(db_url), "--user", "dana")
    assert code == 1
    assert err.strip() == (
        "salesengine: error: the app needs a terminal (over SSH, connect with `ssh -t`)"
    )


# --- a real sshd ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], check=True
    )
    return path


@dataclass
class Sshd:
    port: int
    key: Path
    log: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def argv(self, *extra: str, log_level: str = "ERROR") -> list[str]:
        return [
            "ssh", "-F", "/dev/null", "-i", str(self.key), "-p", str(self.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", f"LogLevel={log_level}", *extra, f"{_login_name()}@127.0.0.1",
        ]  # fmt: skip

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _login_name() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _client_env(term: str) -> dict[str, str]:
    # No COLORTERM, no SALESENGINE_*: what a manager's laptop sends is TERM and the size.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "TERM": term,
    }


@pytest.fixture
def sshd(tmp_path: Path, db_url: URL, desk: Desk) -> Iterator[Sshd]:
    if not SSHD.exists():
        reason = "OpenSSH server not installed (/usr/sbin/sshd): apt-get install openssh-server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (.ci/run installs it)")
        pytest.skip(reason)
    host_key = _keygen(tmp_path / "host_key", "test host")
    user_key = _keygen(tmp_path / "dana_key", "dana@laptop")
    # The service account's own config, in its default place: sshd sets XDG_CONFIG_HOME for the
    # session (SetEnv below), standing in for ~/.config without touching the real one.
    xdg = tmp_path / "xdg"
    (xdg / "salesengine").mkdir(parents=True)
    config = xdg / "salesengine" / "config.toml"
    config.write_text(f"database_url = {json.dumps(_url(db_url))}\nlive_updates = false\n")
    os.chmod(config, 0o600)
    authorized = tmp_path / "ssh" / "authorized_keys"
    ssh_keys.add_key(
        authorized,
        ssh_keys.read_public_key(user_key.with_suffix(".pub")),
        "dana",
        executable=ssh_keys.default_executable(),
    )
    port = _free_port()
    cfg = tmp_path / "sshd_config"
    cfg.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {tmp_path / 'sshd.pid'}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password" if os.getuid() == 0 else "",
                "LogLevel VERBOSE",
                f"SetEnv XDG_CONFIG_HOME={xdg} XDG_DATA_HOME={tmp_path / 'data'}",
                # A real shell behind sftp: reachable only if the forced command were bypassed.
                "Subsystem sftp internal-sftp",
                "",
            ]
        )
    )
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation folder
    log = tmp_path / "sshd.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(cfg)], stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Sshd(port=port, key=user_key, log=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, f"sshd exited:\n{server.log_tail()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"sshd never listened:\n{server.log_tail()}"
                time.sleep(0.05)
        yield server
    finally:
        for child in server.children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=5)
        proc.terminate()
        proc.wait(timeout=10)


_ESCAPES = re.compile(
    r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)"
)


class PtyClient:
    """An ssh client in an 80x24 pseudo-terminal, as a manager's terminal would run it."""

    def __init__(self, server: Sshd, argv: list[str], term: str) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=_client_env(term),
            start_new_session=True,
        )  # fmt: skip
        server.children.append(self.proc)
        os.close(slave)
        self.master = master
        self.raw = b""
        self.server = server

    def screen_text(self) -> str:
        return _ESCAPES.sub("", self.raw.decode("utf-8", "replace"))

    def read_until(self, wanted: str, timeout: float = 20, *, raw: bool = False) -> None:
        """Read until `wanted` is on screen (in the escape sequences too, with `raw`)."""
        deadline = time.monotonic() + timeout
        while wanted not in (self.raw.decode(errors="replace") if raw else self.screen_text()):
            left = deadline - time.monotonic()
            assert left > 0, (
                f"{wanted!r} never appeared; screen text:\n{self.screen_text()[-2000:]}\n"
                f"sshd log:\n{self.server.log_tail()}"
            )
            if not self._read(min(left, 0.5)) and self.proc.poll() is not None:
                assert not self._read(0.1), (
                    f"ssh ended ({self.proc.returncode}) before {wanted!r}:\n"
                    f"{self.screen_text()[-2000:]}\nsshd log:\n{self.server.log_tail()}"
                )

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: ssh has gone and the pty is closed
            return False
        self.raw += chunk
        return bool(chunk)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.05):
            pass
        code = self.proc.wait(timeout=1)
        os.close(self.master)
        return code


@pytest.mark.slow
@pytest.mark.parametrize("term", ["xterm-256color", "linux"])
def test_ssh_key_opens_the_app_as_its_user_at_80x24(sshd: Sshd, term: str) -> None:
    client = PtyClient(sshd, sshd.argv("-tt"), term)
    client.read_until("Dana Reyes · manager")  # the header: who is at the desk
    client.read_until("Sales > Pipeline")
    client.read_until("\x1b[24;1H", raw=True)  # the footer, on the last of 24 lines
    drawn = client.raw.decode(errors="replace")
    assert "\x1b[25;" not in drawn
    if term == "linux":
        # The Linux console has 16 colours: no 256-colour or 24-bit colour sequences.
        assert not re.search(r"\x1b\[[0-9;]*[34]8;[25];", drawn)
    client.send("q")
    assert client.wait() == 0, client.screen_text()[-1000:]
    assert "\x1b[?1049l" in client.raw.decode(errors="replace")  # left the alternate screen
    assert "forced-command (key-option)" in sshd.log_tail()


@pytest.mark.slow
def test_ssh_command_and_other_user_are_ignored(sshd: Sshd) -> None:
    argv = [*sshd.argv("-tt", "-o", "SetEnv=SALESENGINE_USER=sam"), "echo PWNED-$((6*7))"]
    client = PtyClient(sshd, argv, "linux")
    client.read_until("Dana Reyes · manager")
    assert "PWNED-42" not in client.screen_text()
    client.send("q")
    assert client.wait() == 0
    assert "PWNED-42" not in client.screen_text()
    assert "Sam Ortiz" not in client.screen_text()


@pytest.mark.slow
def test_ssh_gives_no_shell_sftp_or_forwarding(sshd: Sshd, tmp_path: Path) -> None:
    # No pty: the forced command still runs (not the command asked for) and says why it stops.
    plain = subprocess.run(
        [*sshd.argv("-T"), "echo PWNED-$((6*7))"],
        capture_output=True, text=True, timeout=30, env=_client_env("xterm-256color"),
    )  # fmt: skip
    assert plain.returncode == 1
    assert "PWNED-42" not in plain.stdout + plain.stderr
    assert "the app needs a terminal" in plain.stderr

    listing = subprocess.run(
        [
            "sftp", "-F", "/dev/null", "-b", "-", "-P", str(sshd.port), "-i", str(sshd.key),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f"{_login_name()}@127.0.0.1",
        ],
        input=f"ls {tmp_path}\n", capture_output=True, text=True, timeout=30,
        env=_client_env("xterm-256color"),
    )  # fmt: skip
    assert listing.returncode != 0
    assert "sshd_config" not in listing.stdout

    # A local service the tunnel would reach if forwarding were allowed.
    target = socket.create_server(("127.0.0.1", 0))
    target.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = target.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"REACHED-THROUGH-TUNNEL")

    threading.Thread(target=serve, daemon=True).start()
    local = _free_port()
    tunnel = subprocess.Popen(
        # INFO: ssh reports the refused channel at that level.
        sshd.argv("-N", "-L", f"{local}:127.0.0.1:{target.getsockname()[1]}", log_level="INFO"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_client_env("xterm-256color"),
    )  # fmt: skip
    sshd.children.append(tunnel)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", local), timeout=1)
                break
            except OSError:
                assert tunnel.poll() is None, tunnel.stderr.read() if tunnel.stderr else ""
                assert time.monotonic() < deadline, "ssh -L never listened"
                time.sleep(0.1)
        with conn:
            conn.settimeout(5)
            try:
                received = conn.recv(100)
            except (TimeoutError, ConnectionResetError):
                received = b""
        assert b"REACHED" not in received
    finally:
        tunnel.kill()
        tunnel.wait(timeout=5)
        target.close()
    assert tunnel.stderr is not None
    assert "administratively prohibited" in tunnel.stderr.read().decode(errors="replace")
    assert "refused local port forward" in sshd.log_tail()
