"""Start the outreach service under uvicorn: our own one-line request log instead of the
access log, proxy headers believed only from the local reverse proxy, a graceful stop on
SIGTERM (requests in flight finish; uvicorn exits 0); `--workers N` runs N processes on one
socket (uvicorn's supervisor restarts one that dies)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from salesengine_tui.base.clock import Clock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.connect import open_engine
from salesengine_tui.db.roles import JOBS_ROLE
from salesengine_tui.email.tokens import has_signing_key
from salesengine_tui.usecases import AppContext, Desk

from .app import build_app

log = logging.getLogger("salesengine.serve")

# The TLS proxy runs on the same machine; X-Forwarded-For from anyone else is ignored.
TRUSTED_PROXIES = "127.0.0.1"
GRACEFUL_STOP_SECONDS = 20
APP_IN_WORKER = "salesengine_jobs.service.serve:app_in_worker"
WORKER_DATABASE_URL = "SALESENGINE_SERVE_WORKER_DATABASE_URL"


def setup_logging() -> None:
    from ..runner import LogFormat

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormat())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def serve(desk: Desk, host: str, port: int, workers: int = 1) -> int:
    setup_logging()
    settings = desk.ctx.settings
    if not has_signing_key(settings):
        log.warning(
            "SALESENGINE_SIGNING_KEY is not set: unsubscribe links and reply addresses are not "
            "made, and /unsubscribe answers 503"
        )
    options = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": TRUSTED_PROXIES,
        "access_log": False,
        "log_config": None,  # uvicorn's own lines go through our handler
        "server_header": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": GRACEFUL_STOP_SECONDS,
        # httptools and uvloop when installed (they are dependencies): the HTTP side of a
        # one-event webhook costs about half as much CPU as with h11 and asyncio.
        "loop": "auto",
        "http": "auto",
    }
    if workers > 1:
        return _serve_in_processes(desk, workers, options)
    server = uvicorn.Server(uvicorn.Config(build_app(desk), **options))
    server.run()
    # uvicorn does not raise when it cannot bind; it says so in the log and stops.
    return 0 if server.started else 1


def _serve_in_processes(desk: Desk, workers: int, options: dict[str, object]) -> int:
    """uvicorn's worker processes on one socket: each opens its own connections to the
    database this process found (passed down in the environment, as spawned processes read
    their settings) and has its own events writer. One Python process writes on one core at a
    time; two use a two-core machine's other core."""
    os.environ[WORKER_DATABASE_URL] = desk.ctx.engine.url.render_as_string(hide_password=False)
    config = uvicorn.Config(APP_IN_WORKER, factory=True, workers=workers, **options)  # type: ignore[arg-type]
    try:
        socket = config.bind_socket()
    except SystemExit:  # uvicorn logged why (the port is taken)
        return 1
    Multiprocess(config, sockets=[socket]).run()
    return 0


# The outreach service is not a desk: providers send bursts (Postmark retries dozens at once)
# and each request waits on a connection, so it keeps its own, larger pool per process.
POOL = {"pool_size": 5, "max_overflow": 5}


def app_in_worker() -> Starlette:
    """The app in a worker process (`--workers N`): settings as the parent read them, and the
    database the parent connected to."""
    setup_logging()
    settings = load_settings(database_url=os.environ[WORKER_DATABASE_URL])
    engine = open_engine(
        settings, application_name="salesengine-serve", embedded_role=JOBS_ROLE, **POOL
    )
    return build_app(Desk(AppContext(engine, Clock(), settings, actor=None)))
