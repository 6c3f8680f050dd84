"""The outreach service as a real process on loopback, for tests and the benchmark:
`salesengine-jobs serve` on a free port against a given database, with the settings given as
SALESENGINE_* environment variables; ready once /healthz answers 200; stopped with SIGTERM
(a graceful stop exits 0). Its log (stderr) goes to a file the test can read."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

START_SECONDS = 60  # a cold interpreter on a busy machine
STOP_SECONDS = 30
LOG_TAIL_CHARS = 4000
PORT_ATTEMPTS = 3


@dataclass
class Service:
    url: str  # http://127.0.0.1:<port>
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        """The log once it holds `text` (the request line is written as the answer goes)."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} never appeared in the log:\n{log[-LOG_TAIL_CHARS:]}"
                )
            time.sleep(0.02)
        return log


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(db_url: URL, settings: Mapping[str, str]) -> dict[str, str]:
    """The environment: ours, the database, and `settings` by name (`signing_key` ->
    SALESENGINE_SIGNING_KEY)."""
    env = dict(os.environ)
    env["SALESENGINE_DATABASE_URL"] = db_url.render_as_string(hide_password=False)
    env.update({f"SALESENGINE_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def running_service(db_url: URL, settings: Mapping[str, str], log_path: Path) -> Iterator[Service]:
    """The service, running until the block ends; the block's Service says where."""
    env = service_env(db_url, settings)
    service = None
    for _ in range(PORT_ATTEMPTS):  # another process may take the free port first
        service = _start(env, free_port(), log_path)
        if service is not None:
            break
    if service is None:
        raise AssertionError(
            f"the service never started:\n{log_path.read_text()[-LOG_TAIL_CHARS:]}"
        )
    try:
        yield service
    finally:
        stop(service)


def _start(env: dict[str, str], port: int, log_path: Path) -> Service | None:
    log = log_path.open("ab")
    command = [sys.executable, "-m", "salesengine_jobs.cli", "serve"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()  # the child holds its own copy
    service = Service(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None  # the log says why (a port taken, a database not there)
            try:
                if client.get(f"{service.url}/healthz").status_code == 200:
                    return service
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    stop(service)
    raise AssertionError(
        f"the service did not answer in {START_SECONDS} s:\n{service.log()[-LOG_TAIL_CHARS:]}"
    )


def stop(service: Service) -> int:
    """SIGTERM, and the exit code (0: it stopped gracefully)."""
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
        try:
            service.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
    return service.process.returncode
