"""authorized_keys lines stay what sshd reads (issue 14.2): a key hidden in another line's comment
never becomes a line of its own, lines the tool did not write go back byte for byte, and a
forced command sshd would not run as written is refused, never reported as added."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import test_ssh
from factories import Desk
from sqlalchemy.engine import URL
from test_cli import _url, run
from test_ssh import EXE, PtyClient, Sshd, _client_env, _keygen, key_line, write

from salesengine_tui.access import ssh_keys
from salesengine_tui.access.public_keys import PublicKey
from salesengine_tui.base.errors import UserError

sshd = test_ssh.sshd  # the real sshd on loopback, dana's key mapped (tests/test_ssh.py)

# What str.splitlines() (the old reader) breaks on and sshd does not, and a NUL (where a C
# string, and so what sshd sees of the line, ends).
BREAKERS = {
    "U+2028": "\u2028",
    "U+2029": "\u2029",
    "U+0085": "\x85",
    "CR": "\r",
    "VT": "\v",
    "FF": "\f",
    "FS": "\x1c",
    "GS": "\x1d",
    "RS": "\x1e",
    "NUL": "\x00",
}


def _attempt(server: Sshd, key: Path) -> subprocess.CompletedProcess[str]:
    """Log in with `key` and ask for a shell command, as an attacker holding it would."""
    return subprocess.run(
        [*dataclasses.replace(server, key=key).argv("-T"), "echo PWNED-$((6*7))"],
        capture_output=True, text=True, timeout=30, env=_client_env("xterm-256color"),
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("breaker", ["U+2028", "CR", "FS"])
def test_key_hidden_in_a_comment_still_opens_nothing_after_add(
    sshd: Sshd, db_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str], breaker: str
) -> None:
    authorized = tmp_path / "ssh" / "authorized_keys"  # the fixture's file: dana's line
    attacker = _keygen(tmp_path / "attacker", "attacker")
    planted = (
        f'restrict,command="/bin/false" {key_line(7, "backup job")}{BREAKERS[breaker]}'
        f"{attacker.with_suffix('.pub').read_text().strip()}\n"
    )
    with authorized.open("a") as handle:
        handle.write(planted)
    before = authorized.read_bytes()
    first = _attempt(sshd, attacker)
    assert first.returncode == 255 and "PWNED" not in first.stdout  # sshd: one line, a comment

    sam_key = write(tmp_path / "sam.pub", key_line(2, "sam@laptop") + "\n")
    code, out, err = run(
        capsys, "--database-url", _url(db_url), "--user", "dana", "users", "ssh-key", "add",
        "sam", str(sam_key), "--authorized-keys", str(authorized),
    )  # fmt: skip

    after = _attempt(sshd, attacker)
    assert "PWNED-42" not in after.stdout, "the hidden key opened a shell"
    assert after.returncode == 255, after.stderr
    assert code == 1 and out == ""
    assert err.startswith(f"salesengine: error: {authorized} line 2 holds a ")
    assert "fix that line by hand first (nothing was changed)" in err
    assert "Traceback" not in err
    assert authorized.read_bytes() == before


@pytest.mark.parametrize("breaker", list(BREAKERS))
def test_a_file_other_tools_would_split_is_refused_naming_the_line(
    tmp_path: Path, breaker: str
) -> None:
    path = tmp_path / "authorized_keys"
    ssh_keys.add_key(path, ssh_keys.parse_public_key(key_line(1)), "dana", executable=EXE)
    hidden = f"# ops{BREAKERS[breaker]}{key_line(9, 'attacker')}\n"
    with path.open("ab") as handle:
        handle.write(hidden.encode())
    before = path.read_bytes()
    for action in (
        lambda: ssh_keys.add_key(
            path, ssh_keys.parse_public_key(key_line(2)), "sam", executable=EXE
        ),
        lambda: ssh_keys.remove_keys(path, "dana"),
        lambda: ssh_keys.list_keys(path),
    ):
        with pytest.raises(UserError, match=rf"^{re.escape(str(path))} line 2 holds a"):
            action()
        assert path.read_bytes() == before


def test_lines_the_tool_did_not_write_go_back_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "authorized_keys"
    dana = ssh_keys.authorized_line(
        ssh_keys.parse_public_key(key_line(1)), "dana", executable=EXE
    ).encode()
    foreign = [
        b"# caf\xe9: latin-1, not UTF-8",
        b"   \t",
        b"",
        'from="10.0.0.0/8",no-pty   {}\t two  spaces \t'.format(key_line(3, "ops")).encode(),
        # No blank sshd knows (a no-break space): sshd reads no key here; Python's split did.
        f'command="{EXE} --user dana",restrict,pty\u00a0{key_line(4, "x")}'.encode(),
        # `\"` outside quotes: sshd reads key 5 after these (bad) options.
        f'x\\" {key_line(5, "y")}"'.encode(),
        "ssh-ed25519 ünïcode-not-base64 çomment".encode(),
    ]
    # The last line has no newline: it keeps its bytes and gets one.
    path.write_bytes(b"\n".join([foreign[0], dana, *foreign[1:]]))

    assert [m.login for m in ssh_keys.list_keys(path).mapped] == ["dana"]
    gone = ssh_keys.remove_keys(path, "dana")
    assert [g.line_number for g in gone] == [2]
    assert path.read_bytes() == b"".join(line + b"\n" for line in foreign)

    sam = ssh_keys.parse_public_key(key_line(2, "sam"))
    assert ssh_keys.add_key(path, sam, "sam", executable=EXE) == "added"
    sam_line = ssh_keys.authorized_line(sam, "sam", executable=EXE).encode()
    assert path.read_bytes() == b"".join(line + b"\n" for line in [*foreign, sam_line])


def test_keys_read_are_the_keys_ssh_keygen_reads(tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    rsa = _keygen_rsa(tmp_path / "rsa")
    rsa_data = rsa.read_text().split()[1]
    lines = [
        key_line(1, "plain"),
        f"  \t{key_line(2, 'leading blanks')}",
        key_line(3, "tabs").replace(" ", "\t"),
        f'command="a b",no-pty {key_line(4, "options")}',
        f'x\\" {key_line(5, "escaped quote outside quotes")}"',
        f"rsa-sha2-256 {rsa_data} rsa under a signature name",
        key_line(6).replace("ssh-ed25519", "ED25519", 1),  # a short name: not for sshd
        key_line(7).replace("ssh-ed25519", "ssh-rsa", 1),  # the data says ed25519
        f'command="x"\u00a0{key_line(8)}',  # no blank sshd knows between options and key
        f"#{key_line(9)}",
        f'command="unterminated {key_line(10)}',
    ]
    path = write(tmp_path / "authorized_keys", "\n".join(lines) + "\n")
    listing = ssh_keys.list_keys(path)
    ours = sorted(k.fingerprint for k in [*(m.key for m in listing.mapped), *listing.other])
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", path], capture_output=True, text=True
    ).stdout
    assert ours == sorted(line.split()[1] for line in printed.splitlines())
    assert len(ours) == 6


def _keygen_rsa(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "r", "-f", path],
        check=True,
    )
    return path.with_suffix(".pub")


@pytest.mark.slow
def test_options_are_read_as_the_real_sshd_reads_them(sshd: Sshd, tmp_path: Path) -> None:
    """The check behind "added": a line whose options sshd refuses is a line sshd ignores."""
    from salesengine_tui.access.sshd_syntax import read_line  # (new with issue 14)

    authorized = tmp_path / "ssh" / "authorized_keys"
    key = sshd.key.with_suffix(".pub").read_text().strip()
    cases = [
        'command="echo OK-$((1+1))",restrict',
        'COMMAND="echo OK-$((1+1))",Restrict,no-pty',
        'command="echo \\"OK-2\\"",restrict,',
        # What the old `--config` with a quote wrote: shlex's '"'"' ends sshd's value early.
        "command=\"echo 'OK'\"'\"'2'\",restrict,pty",
        'command="echo OK-2",command="echo OK-2"',
        'restrictx,command="echo OK-2"',
        'no-restrict,command="echo OK-2"',
        "command=echo,restrict",
        'command="echo OK-2",,restrict',  # sshd skips an empty option
        ',command="echo OK-2"',
    ]
    seen = []
    for options in cases:
        line = f"{options} {key}\n"
        authorized.write_text(line)
        listing = ssh_keys.list_keys(authorized)
        read = read_line(line.rstrip("\n"))
        assert read is not None and len(listing.other) == 1
        result = _attempt(sshd, sshd.key)
        logged_in = result.returncode == 0 and "OK-2" in result.stdout
        assert logged_in or result.returncode == 255, result.stderr
        seen.append((options, logged_in, read.options is not None))
    assert [(o, sshd_ok) for o, sshd_ok, _ in seen] == [(o, ours) for o, _, ours in seen]
    assert [ok for _, ok, _ in seen] == [True] * 3 + [False] * 5 + [True] * 2


# --- the forced command: what sshd runs, or nothing ---


@pytest.mark.parametrize("char", ["'", '"', "\\", "$", "`", ";", "\n", "\u00e9", "*", "~"])
def test_config_paths_the_command_cannot_carry_are_refused(char: str) -> None:
    config = Path(f"/srv/sales{char}engine/config.toml")
    with pytest.raises(UserError) as caught:
        ssh_keys.forced_command("dana", executable=EXE, config=config)
    message = str(caught.value)
    assert message.startswith(f"the config file path {str(config)!r} has a quote, backslash")
    assert "use a path of letters, digits, spaces and _ @ % + = : , . / -" in message


def test_cli_add_with_a_quote_in_the_config_path_is_refused(
    db_url: URL,
    desk: Desk,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", os.environ["SALESENGINE_CONFIG_FILE"])
    config = _config_in(tmp_path / "dana's settings", db_url)  # a real file the CLI reads
    keyfile, ak = write(tmp_path / "k.pub", key_line()), tmp_path / "authorized_keys"
    code, out, err = run(
        capsys, "--config", str(config), "--user", "dana", "users", "ssh-key", "add", "dana",
        str(keyfile), "--authorized-keys", str(ak),
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith(f"salesengine: error: the config file path {str(config)!r} has a quote")
    assert "Traceback" not in err
    assert not ak.exists()


def _config_in(folder: Path, db_url: URL) -> Path:
    folder.mkdir()
    url = json.dumps(_url(db_url))
    return write(folder / "config.toml", f"database_url = {url}\nlive_updates = false\n")


@pytest.mark.parametrize(
    "key",
    [
        # The data is an RSA key under the ed25519 name: sshd would read no key from the line.
        PublicKey("ssh-ed25519", b"\0\0\0\x07ssh-rsa\0\0\0\x01\x03\0\0\0\x01\x05", "x"),
        PublicKey("ssh-ed25519", ssh_keys.parse_public_key(key_line()).blob, "dana\u2028evil"),
        PublicKey("ssh-ed25519", ssh_keys.parse_public_key(key_line()).blob, "a\nb"),
    ],
    ids=["wrong-data", "separator-in-comment", "newline-in-comment"],
)  # fmt: skip
def test_a_line_sshd_would_not_read_as_written_is_never_added(
    tmp_path: Path, key: PublicKey
) -> None:
    path = write(tmp_path / "authorized_keys", key_line(9, "admin") + "\n")
    with pytest.raises(UserError, match="would not be read by sshd as written"):
        ssh_keys.add_key(path, key, "dana", executable=EXE)
    assert path.read_text() == key_line(9, "admin") + "\n"


@pytest.mark.slow
def test_a_config_path_with_a_space_reaches_the_app_through_sshd(
    sshd: Sshd, db_url: URL, tmp_path: Path
) -> None:
    # The quoting that stays allowed works with the real sshd and shell.
    config = _config_in(tmp_path / "sales settings", db_url)
    authorized = tmp_path / "ssh" / "authorized_keys"
    key = ssh_keys.read_public_key(sshd.key.with_suffix(".pub"))
    outcome = ssh_keys.add_key(
        authorized, key, "dana", executable=ssh_keys.default_executable(), config=config
    )
    assert outcome == "replaced"
    assert f"--config '{config}' --user dana" in authorized.read_text()
    client = PtyClient(sshd, sshd.argv("-tt"), "xterm-256color")
    client.read_until("Dana Reyes · manager")
    client.send("q")
    assert client.wait() == 0
