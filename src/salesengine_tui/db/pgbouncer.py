"""A throwaway PgBouncer in transaction pooling mode in front of a scratch cluster, for the test
suite and the benchmarks (Debian's `pgbouncer`). Not used by the app itself: in production
the pooler is the company's own PgBouncer or Supabase's (see the README).

It listens on a free loopback port and passes every database name through to the server as
its superuser (`auth_type = any`), so a test's URL only changes host and port.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

PGBOUNCER = "pgbouncer"
SEARCH = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
# Who PgBouncer runs as when we are root (it refuses to run as root): the embedded server's
# own account first, whose socket it must reach.
RUN_AS = ("pgserver", "postgres", "nobody")
LOG_NAME = "pgbouncer.log"


def find_pgbouncer() -> str | None:
    found = shutil.which(PGBOUNCER)
    return found or next((p for p in SEARCH if os.access(p, os.X_OK)), None)


@dataclass(frozen=True)
class LocalPgBouncer:
    port: int
    folder: Path
    pool_size: int

    def url(self, direct: URL) -> URL:
        """The same database as `direct`, through the pooler."""
        return direct.set(host="127.0.0.1", port=self.port, query={}, password=None)

    def admin(self) -> psycopg.Connection:
        """PgBouncer's console (`SHOW POOLS`, `SHOW SERVERS`, ...)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, dbname="pgbouncer", user="pgbouncer",
            autocommit=True, prepare_threshold=None,
        )  # fmt: skip

    def log_tail(self, lines: int = 20) -> str:
        path = self.folder / LOG_NAME
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(direct: URL, folder: Path, port: int, pool_size: int, max_clients: int) -> str:
    host = direct.query.get("host") or direct.host or "127.0.0.1"
    if isinstance(host, tuple):
        host = host[0]
    server_port = direct.port or 5432
    user = direct.username or "postgres"
    run_as = ""
    if os.geteuid() == 0:
        for name in RUN_AS:
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            run_as = f"user = {name}"
            break
    return f"""\
[databases]
* = host={host} port={server_port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = {max_clients}
max_db_connections = {pool_size}
server_idle_timeout = 30
ignore_startup_parameters = extra_float_digits
admin_users = pgbouncer
stats_users = pgbouncer
{run_as}
"""


@contextmanager
def local_pgbouncer(
    direct: URL | str, folder: Path, *, pool_size: int = 20, max_clients: int = 2000
) -> Iterator[LocalPgBouncer]:
    """Start PgBouncer in front of the server `direct` points at; stopped on exit. At most
    `pool_size` server connections per database (and in all, per database)."""
    binary = find_pgbouncer()
    if binary is None:
        raise FileNotFoundError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    direct = make_url(direct) if isinstance(direct, str) else direct
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    ini = folder / "pgbouncer.ini"
    ini.write_text(_config(direct, folder, port, pool_size, max_clients))
    # Its log is its stderr, in a file we open: PgBouncer drops root for another account,
    # which cannot write in a folder under pytest's (mode 0700) temporary one.
    log = (folder / LOG_NAME).open("ab")
    process = subprocess.Popen(
        [binary, str(ini)], stdout=subprocess.DEVNULL, stderr=log, cwd=folder
    )
    log.close()  # the child has its own copy
    bouncer = LocalPgBouncer(port, folder, pool_size)
    try:
        _wait_until_up(bouncer, process)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(bouncer: LocalPgBouncer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited ({process.returncode}): {bouncer.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", bouncer.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not start listening: {bouncer.log_tail()}")
