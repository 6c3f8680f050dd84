"""Issue 14.10: `salesengine leads import` against real PostgreSQL. A quote left open or a line
break in a field is a row error; the dry run and the import agree, the database's checks
included; the file is streamed in bounded memory (measured in a real process at 200,000 rows)
and refused over the size limit; a field over the csv module's limit is a row error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import Desk
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url, run

ROWS_MEASURED = 200_000
PEAK_RSS_MAX_MB = 150


def count(engine: Engine, where: str = "true") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM customers WHERE {where}")).scalar_one()


def leads_import(capsys: pytest.CaptureFixture[str], db_url: URL, path: Path, *flags: str):
    return run(capsys, "--database-url", _url(db_url), "--user", "dana", "leads", "import",
               str(path), *flags)  # fmt: skip


def test_an_open_quote_or_a_line_break_in_a_field_is_a_row_error(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "name,email,phone\n"
        '"Ada Lovelace,ada@example.com,214-555-0001\n'  # the quote is never closed here...
        'Bob Builder",bob@example.com,214-555-0002\n'  # ...so this line became Ada's name
        "Cy Young,cy@example.com,214-555-0003\n"
        'Dee Phone,dee@example.com,"214-555\n0104"\n'  # digits across a line break
        'Eve Mail,"eve@exam\nple.com",214-555-0005\n'
    )
    code, out, err = leads_import(capsys, db_url, path)
    assert code == 0, err
    assert "4 rows: imported 1, 0 duplicates skipped, 3 invalid" in out
    assert (
        f"{path}:2: name: contains a line break (U+000A) at character 42; remove it "
        "(the row runs from line 2 to 3: a quote left open?)" in err
    )
    assert f"{path}:5: phone: contains a line break" in err
    assert f"{path}:7: email: contains a line break" in err
    assert count(engine, "name LIKE '%' || chr(10) || '%' OR phone IN ('2145550104')") == 0
    assert count(engine, "name = 'Cy Young'") == 1


def test_dry_run_and_import_agree_on_a_nul_byte(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"name,email\nAda,ada@example.com\nBro\x00ken,broken@example.com\n"
                     b"Cy,cy@example.com\n")  # fmt: skip
    before = count(engine)
    dry = leads_import(capsys, db_url, path, "--dry-run")
    assert count(engine) == before
    real = leads_import(capsys, db_url, path)
    summary = "3 rows: {} 2, 0 duplicates skipped, 1 invalid"
    assert dry[0] == real[0] == 0, (dry, real)
    assert summary.format("would import") in dry[1] and summary.format("imported") in real[1]
    problem = f"{path}:3: name: contains a control character (U+0000) at character 4; remove it"
    assert dry[2].strip() == real[2].strip() == problem
    assert count(engine) == before + 2


def test_dry_run_runs_the_database_checks_too(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:  # a rule only the database knows
        conn.execute(text("ALTER TABLE customers ADD CONSTRAINT no_brokers "
                          "CHECK (name NOT LIKE 'Broker%')"))  # fmt: skip
    path = tmp_path / "leads.csv"
    rows = "".join(f"Lead {i},lead{i}@example.com\n" for i in range(300))
    path.write_text(f"name,email\n{rows}Broker Bob,bob@example.com\nLast,last@example.com\n")
    before = count(engine)
    for flags in (("--dry-run",), ()):
        code, out, err = leads_import(capsys, db_url, path, *flags)
        assert code == 1 and out == "", (flags, out)
        assert "line 302: the database refused the import" in err and "no_brokers" in err
        assert "nothing was imported" in err and "Traceback" not in err
        assert count(engine) == before


def test_a_field_over_the_csv_limit_is_a_row_error(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f"name,email\nAda,ada@example.com\nBig,{'x' * 200_000}\nCy,cy@example.com\n")
    code, out, err = leads_import(capsys, db_url, path)
    assert code == 0 and "Traceback" not in err, err
    assert f"{path}:3: a field is longer than 131,072 characters" in err
    assert "3 rows: imported 2, 0 duplicates skipped, 1 invalid" in out


def test_a_file_over_the_size_limit_is_refused(
    engine: Engine,
    db_url: URL,
    desk: Desk,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESENGINE_LEADS_IMPORT_MAX_MB", "1")
    path = tmp_path / "leads.csv"
    rows = "".join(f"Lead {i},lead{i}@example.com\n" for i in range(40_000))  # 1.1 MB
    path.write_text(f"name,email\n{rows}")
    before = count(engine)
    code, out, err = leads_import(capsys, db_url, path)
    assert code == 1 and out == ""
    assert err.strip().endswith(
        "the file is larger than 1 MB, the import limit (setting leads_import_max_mb); "
        "split it or raise the limit"
    )
    assert count(engine) == before


def _cli(db_url: URL, *argv: str, timeout: float) -> tuple[subprocess.CompletedProcess, int]:
    """The real `salesengine` in its own process, capped at 2 GB of address space; returns its
    result and its peak resident memory in kB (measured by a small wrapper process)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "def cap():\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "done = subprocess.run(sys.argv[1:], preexec_fn=cap, capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(done.returncode)\n"
    )
    command = [sys.executable, "-m", "salesengine_tui.cli", "--database-url", _url(db_url)]
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command, "--user", "dana", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )
    *rest, peak = done.stderr.rstrip("\n").split("\n")
    done.stderr = "\n".join(rest)
    return done, int(peak)


def test_dev_zero_is_refused_at_once(db_url: URL, desk: Desk) -> None:
    done, peak_kb = _cli(db_url, "leads", "import", "/dev/zero", timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.strip() == (
        "salesengine: error: /dev/zero: line 1 is longer than 1 MB; is this a CSV file?"
    )
    assert peak_kb < PEAK_RSS_MAX_MB * 1024


def test_200000_rows_import_in_bounded_memory(
    engine: Engine, db_url: URL, desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("name,email,phone,city,lead source\n")
        for i in range(ROWS_MEASURED):
            out.write(f"Lead {i:06d},lead{i}@example.com,+1214{2000000 + i:07d},Dallas,Web\n")
        out.write("Lead dup,lead7@example.com,,Plano,Web\n")
    before = count(engine)
    done, peak_kb = _cli(db_url, "leads", "import", str(path), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{ROWS_MEASURED + 1:,} rows: imported {ROWS_MEASURED:,}, 1 duplicates" in done.stdout
    assert count(engine) == before + ROWS_MEASURED
    print(f"peak RSS importing {ROWS_MEASURED:,} rows: {peak_kb / 1024:.0f} MB")
    assert peak_kb < PEAK_RSS_MAX_MB * 1024, f"peak RSS {peak_kb / 1024:.0f} MB"
