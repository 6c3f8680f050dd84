"""The outreach service under attack and under bad luck, as a real process on loopback
(`salesengine-jobs serve`): clients that go away or stall mid-body, Inbound Parse forms that
cannot be read, tokens for another purpose, markup in a reply, and what the log must never
hold (the password, the Authorization header, a token, a traceback)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from conftest import DESK_TEMPLATE
from outreach_service import Service, running_service
from salesengine_jobs.service.limits import BodyLimit
from sqlalchemy.engine import URL

from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.scratch import ScratchCluster
from salesengine_tui.email.tokens import reply_address, unsubscribe_token

USER = "hooks"
# A colon and non-ASCII letters: basic auth splits at the first colon, and encodes as UTF-8.
PASSWORD = "pä:ss-wörd-7c1d0c5e"
SIGNING_KEY = "attack-signing-key-0123456789abcdef"
MAX_BYTES = 64 * 1024
INBOUND = "/webhooks/sendgrid/inbound"


@pytest.fixture(scope="module")
def attack_db(pg_cluster: ScratchCluster) -> Iterator[URL]:
    name = pg_cluster.create(template=DESK_TEMPLATE, file_copy=True)
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    return {
        "signing_key": SIGNING_KEY,
        "reply_domain": "reply.example",
        "unsubscribe_url": "https://mail.example/unsubscribe",
        "webhook_username": USER,
        "webhook_password": PASSWORD,
        "webhook_max_bytes": str(MAX_BYTES),
    }


@pytest.fixture(scope="module")
def service(
    attack_db: URL, config: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("attacks") / "serve.log"
    with running_service(attack_db, config, log) as running:
        yield running


@pytest.fixture(scope="module")
def settings(config: dict[str, str]) -> Settings:
    return load_settings(**config)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def half_a_request(
    service: Service, path: str, extra: bytes = b"", start: bytes = b"["
) -> socket.socket:
    """A POST whose Content-Length promises more body than is sent."""
    host, port = service.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(USER, PASSWORD)}\r\n".encode()
        + extra
        + b"Content-Length: 1000\r\n\r\n"
        + start
    )
    return sock


# --- clients that go away -----------------------------------------------------------------------


def test_a_client_gone_mid_body_is_one_line_in_the_log_not_a_traceback(service: Service) -> None:
    """A provider that times out (or a dropped connection) while its body is still coming:
    nobody is left to answer; the log says 499 once, with no traceback of 50 lines (which a
    stranger could otherwise make by the thousand)."""
    for path, extra, start in (
        ("/webhooks/postmark", b"Content-Type: application/json\r\n", b"["),
        (INBOUND, b"Content-Type: multipart/form-data; boundary=xx\r\n", b"--xx\r\n"),
    ):
        sock = half_a_request(service, path, extra, start)
        time.sleep(0.2)
        sock.close()
        service.wait_for_log(f"path={path} status=499")
    log = service.log()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log
    with service.client() as client:  # and the service goes on answering
        assert client.get("/healthz").status_code == 200


def test_a_body_that_stops_coming_gets_408_and_the_connection_closes() -> None:
    """uvicorn has no timeout for a body: without ours, half a body holds its connection (and
    a graceful stop) for as long as the client likes. In process, with a short idle time."""
    reached: list[bytes] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        message = await receive()  # type: ignore[operator]
        reached.append(message.get("body", b""))
        await receive()  # type: ignore[operator]  # the rest never comes
        raise AssertionError("the body never finished: the app must not be answering")

    sent: list[dict] = []
    stalled = asyncio.Event()

    async def receive() -> dict:
        if not reached:
            return {"type": "http.request", "body": b"[", "more_body": True}
        await stalled.wait()  # never set
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/webhooks/postmark", "headers": []}
    started = time.perf_counter()
    asyncio.run(BodyLimit(app, max_bytes=MAX_BYTES, idle_seconds=0.2)(scope, receive, send))
    assert time.perf_counter() - started < 5
    assert reached == [b"["]
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"error": "request body too slow"}


def test_a_body_that_keeps_coming_is_not_timed_out() -> None:
    """The idle time is per chunk: a long body that keeps coming is read to its end, and the
    wait for a disconnect after the body is not timed."""
    chunks = [b"[", b"1", b"]"]

    async def receive() -> dict:
        if chunks:
            await asyncio.sleep(0.1)
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        await asyncio.sleep(0.5)  # longer than the idle time: after the body, not timed
        return {"type": "http.disconnect"}

    got: list[bytes] = []
    sent: list[dict] = []

    async def app(scope: dict, receive_: object, send_: object) -> None:
        while True:
            message = await receive_()  # type: ignore[operator]
            got.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        assert (await receive_())["type"] == "http.disconnect"  # type: ignore[operator]
        await send_({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send_({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimit(app, max_bytes=MAX_BYTES, idle_seconds=0.3)(scope, receive, send))
    assert b"".join(got) == b"[1]"
    assert sent[0]["status"] == 200


# --- Inbound Parse forms that cannot be read ----------------------------------------------------


def test_an_inbound_form_that_cannot_be_read_is_answered_200_and_logged(service: Service) -> None:
    """A broken multipart body, or more parts than an email has: a retry would bring the same
    bytes (SendGrid retries a 4xx for three days), so it is counted in `ignored`, and the log
    says why (it said nothing before: Starlette's 400 went out unlogged)."""
    broken = b"--xx\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--xx--\r\n"
    too_many = [(f"attachment{i}", ("a.txt", b"x")) for i in range(150)]
    with service.client(auth=(USER, PASSWORD)) as client:
        answers = [
            client.post(
                INBOUND,
                content=broken,
                headers={"Content-Type": "multipart/form-data; boundary=xx"},
            ),
            client.post(INBOUND, content=b"abc", headers={"Content-Type": "multipart/form-data"}),
            client.post(INBOUND, files=too_many, data={"from": "a@example.com"}),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"stored": 0, "duplicates": 0, "ignored": 1}
    log = service.wait_for_log("Too many files")
    assert log.count("sendgrid inbound: the form cannot be read") >= 3
    assert "Traceback" not in log


def test_a_body_over_the_cap_in_a_form_is_still_413(service: Service) -> None:
    with service.client(auth=(USER, PASSWORD)) as client:
        answer = client.post(
            INBOUND,
            data={"from": "a@example.com", "text": "x" * (MAX_BYTES + 1)},
            files={"attachment1": ("a.txt", b"x")},
        )
    assert answer.status_code == 413


# --- what held: kept so --------------------------------------------------------------------------


def test_tokens_for_another_purpose_or_bent_are_refused(
    service: Service, settings: Settings
) -> None:
    """A reply address's word is not an unsubscribe token; a token cut, padded, or given
    twice with the bad one last is refused; a refusal never echoes what was given."""
    good = unsubscribe_token(settings, uuid.uuid4(), date.today())
    reply_word = (reply_address(settings, uuid.uuid4()) or "").split("+")[1].split("@")[0]
    bent = [reply_word, good[:-1], good + "==", good.replace(".", ""), "é☃", "x" * 600]
    with service.client() as client:
        for token in bent:
            for method in ("GET", "POST"):
                answer = client.request(method, "/unsubscribe", params={"t": token})
                assert answer.status_code == 400, (method, token)
                assert token not in answer.text
        twice = client.get(f"/unsubscribe?t={good}&t=garbage")
        assert twice.status_code == 400


def test_credentials_and_tokens_never_reach_the_log(service: Service, settings: Settings) -> None:
    token = unsubscribe_token(settings, uuid.uuid4(), date.today())
    with service.client() as client:
        client.get("/unsubscribe", params={"t": token})
        good = client.post(
            "/webhooks/postmark", json=[], headers={"Authorization": basic(USER, PASSWORD)}
        )
        wrong = client.post(
            "/webhooks/postmark", json=[], headers={"Authorization": basic(USER, PASSWORD + "x")}
        )
    assert (good.status_code, wrong.status_code) == (200, 401)
    log = service.wait_for_log("status=401")
    for secret in (PASSWORD, basic(USER, PASSWORD).split()[1], token, SIGNING_KEY):
        assert secret not in log


def test_methods_other_than_the_routes_get_405(service: Service) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
            assert client.request(method, "/unsubscribe?t=x").status_code == 405
            assert client.request(method, "/webhooks/postmark").status_code == 405
