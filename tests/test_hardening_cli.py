"""Issue 14, item 9 on the command line: every bad input is one `salesengine: error:` line and
exit code 1, never a traceback: segments with values no query can use, a ticket number beyond
any ticket, a settings file that is not TOML, a database URL whose port is not a number. In
process for most (and a hypothesis test feeding arbitrary text), and through real `salesengine`
processes for a few."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import Desk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL
from test_cli import _url, run

ERROR = "salesengine: error: "


def one_error(err: str) -> str:
    """The one error line (a segment error is preceded by the text and a caret under it)."""
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    errors = [line for line in lines if line.startswith(ERROR)]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    return errors[0][len(ERROR) :]


@pytest.fixture
def keep_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # `--config` sets SALESENGINE_CONFIG_FILE in this process: put it back afterwards.
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", os.environ["SALESENGINE_CONFIG_FILE"])


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        ("equipment.age > 3000", "'3000' is out of range (for equipment.age)"),
        ("last_service > 3000y", "'3000y' is too long (for last_service): at most 1000 years"),
        ("equipment.age > nan", "'nan' is not a number (for equipment.age)"),
        ("open_value > inf", "'inf' is not a number (for open_value)"),
        ("customer_for > 99999999999y", "'99999999999y' is too long (for customer_for)"),
        ("city = 'a\x00b'", "the value for city holds U+0000, which text cannot store"),
        ("a\x00b", "unexpected '\\x00' at position 2"),
        ("(" * 400 + "status = lead" + ")" * 400, "brackets nested more than 20 deep"),
    ],
)
def test_segment_values_no_query_can_use_are_one_line(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str], segment: str, message: str
) -> None:
    for action in ("count", "show", "export"):
        code, out, err = run(capsys, "--database-url", _url(db_url), "segments", action, segment)
        assert (code, out) == (1, "")
        line = one_error(err)
        assert message in line
        assert "SELECT" not in err and "\x00" not in err  # no SQL, no raw NUL


def test_a_ticket_number_beyond_any_ticket_is_not_found(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--database-url", _url(db_url), "--user", "dana",
        "tickets", "close", "99999999999999999999", "--resolution", "Fixed",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert one_error(err) == "no ticket #99999999999999999999"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"hello world\n",
            "not valid TOML: Expected '=' after a key in a key/value pair (at line 1",
        ),
        (b"user = 'x'\n[", "not valid TOML: "),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not TOML (not UTF-8 text)"),
    ],
)
def test_a_settings_file_that_is_not_toml_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keep_config_env: None,
    content: bytes,
    message: str,
) -> None:
    config = tmp_path / "settings.txt"
    config.write_bytes(content)
    code, out, err = run(capsys, "--config", str(config), "segments", "list")
    assert (code, out) == (1, "")
    assert one_error(err).startswith(f"settings file {config}: {message}")


def test_a_settings_file_that_is_not_there_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keep_config_env: None
) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "nope.toml"), "db", "current")
    assert (
        code == 1 and one_error(err) == f"the settings file {tmp_path / 'nope.toml'} does not exist"
    )
    code, _, err = run(capsys, "--config", str(tmp_path), "db", "current")
    assert code == 1 and one_error(err) == f"the settings file {tmp_path} is not a file"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob:hunter2secret@localhost:abc/sales",
        "postgresql://bob:hunter2secret@[::1:5432/sales",
        "postgresql://bob:hunter2secret@localhost:5432:1/sales",
        "postgresql://bob:hunter2secret@localhost:99999/sales",
    ],
)
def test_a_database_url_whose_port_is_not_a_number_is_one_line(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "--database-url", url, "segments", "count", "status = lead")
    assert (code, out) == (1, "")
    line = one_error(err)
    assert line.startswith("the database URL's port")
    assert "hunter2secret" not in err


# Arbitrary text as the segment: a count, or one error line; never a traceback.
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segment=st.one_of(
        st.text(max_size=40),
        st.text(st.sampled_from("()'\"=<>!. \\\x00abcdeilnorstuy0123456789"), max_size=40),
        st.builds(
            lambda field, op, value: f"{field} {op} {value}",
            st.sampled_from(
                [
                    "equipment.age",
                    "last_service",
                    "customer_for",
                    "open_value",
                    "city",
                    "status",
                    "has_email",
                ]
            ),
            st.sampled_from(["=", "!=", ">", "<=", "contains"]),
            st.one_of(
                st.text(max_size=10),
                st.from_regex(
                    r"-?[0-9]{1,25}(\.[0-9]{1,3})?(e[0-9]{1,3})?(d|w|mo|y)?", fullmatch=True
                ),
                st.sampled_from(["nan", "inf", "-inf", "1e400", "'\x00'", "'\x1b[2J'"]),
            ),
        ),
    )
)
def test_any_segment_text_is_a_count_or_one_error_line(
    db_url: URL, capsys: pytest.CaptureFixture[str], segment: str
) -> None:
    code, out, err = run(capsys, "--database-url", _url(db_url), "segments", "count", "--", segment)
    if code == 0:
        assert " customers match: " in out and err == ""
        return
    assert code == 1 and out == ""
    line = one_error(err)
    assert line and "SELECT" not in line


def _salesengine(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesengine_tui.cli", *argv],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_real_processes_answer_with_one_line(db_url: URL, desk: Desk, tmp_path: Path) -> None:
    url = _url(db_url)
    not_toml = tmp_path / "notes.txt"
    not_toml.write_text("remember the milk\n")
    cases = [
        (["--database-url", url, "segments", "count", "(" * 400 + "status = lead" + ")" * 400],
         "brackets nested more than 20 deep"),
        (["--database-url", url, "segments", "count", "customer_for > 99999999999y"],
         "'99999999999y' is too long (for customer_for)"),
        (["--database-url", url, "--user", "dana", "tickets", "close", "99999999999999999999",
          "--resolution", "Fixed"], "no ticket #99999999999999999999"),
        (["--config", str(not_toml), "segments", "list"],
         f"settings file {not_toml}: not valid TOML"),
        (["--database-url", "postgresql://u:pw@localhost:abc/x", "segments", "list"],
         "the database URL's port is not a number"),
    ]  # fmt: skip
    for argv, message in cases:
        proc = _salesengine(*argv)
        assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
        assert message in one_error(proc.stderr)
