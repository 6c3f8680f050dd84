"""The jobs runners sharing one database: each `salesengine-jobs run` registers under its name
(`runner_name`, else the host name), renews `seen_at` every HEARTBEAT and marks itself stopped
on a clean exit; `status` lists them all.

One process per name. A second runner with a name already in use is refused while the first
is alive (seen within QUIET_AFTER and not stopped): the name is how `status` and every job run
tell the machines apart, and two processes under one name would make both lie (usually a copy
of the service started twice, or a config copied to a second machine). A runner that stopped,
went quiet, or died on this same host (its pid is gone) gives its name up at once.

Times here are the database server's (`now()`): one clock for every machine, so a runner's
heartbeat is judged by the same clock that wrote it, whatever the machines' clocks say.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata

import sqlalchemy as sa
from sqlmodel import Session

from ..base.settings import Settings

HEARTBEAT = timedelta(seconds=30)
QUIET_AFTER = 3 * HEARTBEAT  # no heartbeat for this long: the runner is taken for gone


def runner_name(settings: Settings) -> str:
    """This runner's name in `status` and on each job run: `runner_name`, else the host name."""
    return (settings.runner_name or "").strip() or socket.gethostname()


def version() -> str:
    try:
        return metadata.version("salesengine-tui")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Me:
    """The process registering: its name, machine, pid and what it runs."""

    name: str
    host: str
    pid: int
    jobs: tuple[str, ...]

    @classmethod
    def here(cls, settings: Settings, jobs: tuple[str, ...]) -> Me:
        return cls(runner_name(settings), socket.gethostname(), os.getpid(), jobs)


@dataclass(frozen=True)
class RunnerSeen:
    name: str
    host: str
    pid: int
    version: str
    jobs: str
    started_at: datetime
    seen_at: datetime
    stopped_at: datetime | None
    state: str  # running, stopped, gone quiet


_SEEN = sa.text(
    "SELECT name, host, pid, version, jobs, started_at, seen_at, stopped_at, "
    "CASE WHEN stopped_at IS NOT NULL THEN 'stopped' "
    "     WHEN seen_at >= now() - CAST(:quiet AS interval) THEN 'running' "
    "     ELSE 'gone quiet' END AS state "
    "FROM job_runners"
)


def _quiet() -> dict[str, timedelta]:
    return {"quiet": QUIET_AFTER}


def register(session: Session, me: Me, *, take_over: bool = False) -> RunnerSeen | None:
    """Take `me.name` for this process: None when taken, else the runner that holds it (alive,
    and `take_over` not given: the caller has found that holder dead)."""
    values = {
        "name": me.name, "host": me.host, "pid": me.pid, "version": version(),
        "jobs": ",".join(me.jobs), "take_over": take_over, **_quiet(),
    }  # fmt: skip
    taken = session.execute(
        sa.text(
            "INSERT INTO job_runners AS r (name, host, pid, version, jobs, started_at, seen_at) "
            "VALUES (:name, :host, :pid, :version, :jobs, now(), now()) "
            "ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, "
            "version = EXCLUDED.version, jobs = EXCLUDED.jobs, started_at = now(), "
            "seen_at = now(), stopped_at = NULL "
            "WHERE :take_over OR r.stopped_at IS NOT NULL "
            "   OR r.seen_at < now() - CAST(:quiet AS interval) "
            "RETURNING name"
        ),
        values,
    ).first()
    if taken is not None:
        return None
    return one(session, me.name)


def heartbeat(session: Session, me: Me) -> bool:
    """`seen_at` is now; False when the name is no longer this process's (it went quiet and
    another runner took the name)."""
    result = session.execute(
        sa.text(
            "UPDATE job_runners SET seen_at = now() "
            "WHERE name = :name AND pid = :pid AND host = :host AND stopped_at IS NULL"
        ),
        {"name": me.name, "pid": me.pid, "host": me.host},
    )
    return result.rowcount == 1


def stopped(session: Session, me: Me) -> None:
    """A clean exit: the name is free for the next runner at once."""
    session.execute(
        sa.text(
            "UPDATE job_runners SET stopped_at = now(), seen_at = now() "
            "WHERE name = :name AND pid = :pid AND host = :host"
        ),
        {"name": me.name, "pid": me.pid, "host": me.host},
    )


def one(session: Session, name: str) -> RunnerSeen | None:
    row = session.execute(
        sa.text(f"{_SEEN.text} WHERE name = :name"), {"name": name, **_quiet()}
    ).first()
    return None if row is None else RunnerSeen(*row)


def seen(session: Session) -> list[RunnerSeen]:
    """Every runner ever registered, the latest started first."""
    rows = session.execute(sa.text(f"{_SEEN.text} ORDER BY started_at DESC, name"), _quiet())
    return [RunnerSeen(*row) for row in rows]


def gone_from_here(holder: RunnerSeen, me: Me) -> bool:
    """The holder ran on this machine and its process is gone (killed, crashed): its name can
    be taken now rather than after QUIET_AFTER (a service restarted at once after a crash)."""
    if holder.host != me.host or holder.pid == me.pid:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False
