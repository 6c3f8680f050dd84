"""The embedded default: private cluster in the data folder, shared by processes side by side."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from waiting import wait_for

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sqlalchemy import text
    from salesengine_tui.db.embedded import start_embedded
    from salesengine_tui.db.engine import make_engine

    url = start_embedded(Path(sys.argv[1]))
    engine = make_engine(url)
    with engine.connect() as conn:
        print(conn.execute(text("SELECT pg_backend_pid()")).scalar(), flush=True)
    sys.stdin.readline()  # hold the server until told to go
    with engine.connect() as conn:
        print(conn.execute(text("SELECT 'still-up'")).scalar(), flush=True)
    """
)


def _start(data_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), proc.stderr.read() if proc.stderr else line
    return proc


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0, err
    return out.strip()


def test_two_processes_share_one_cluster_on_a_socket(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = _start(data_dir)
    second = _start(data_dir)
    pgdata = data_dir / "pgdata"
    postmaster = pgdata / "postmaster.pid"
    assert postmaster.exists()
    # Unix socket only: postgres was told to listen on no TCP address.
    assert '"-h" ""' in (pgdata / "postmaster.opts").read_text()

    assert _finish(first) == "still-up"
    # The first one leaving does not stop the server under the second.
    assert _finish(second) == "still-up"
    # The last one out stops it.
    wait_for(lambda: not postmaster.exists(), "the server stopping when the last one left")


def test_reused_on_the_next_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _finish(_start(data_dir))
    version_file = data_dir / "pgdata" / "PG_VERSION"
    made = version_file.stat().st_mtime
    _finish(_start(data_dir))
    assert version_file.stat().st_mtime == made  # no second initdb
