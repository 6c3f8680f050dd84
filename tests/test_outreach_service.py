"""The outreach service as a real process on loopback (`salesengine-jobs serve`), spoken to
over HTTP: unsubscribe links (a page that never opts out, RFC 8058 one-click), the providers'
webhooks (basic auth, SendGrid's ECDSA signature made with a key pair made here, size cap,
replays, malformed items), an inbound reply that stops the next nurture, the database down.

One service per module, against one database for the module (a clone of the seeded desk):
each test makes its own customers, so none sees another's. Starting the process costs about a
second; once per test it would be most of the file's time."""

from __future__ import annotations

import base64
import email.utils
import html
import json
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import DESK_TEMPLATE
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from factories import Desk, add_customer, add_estimate, load_desk, stages_of
from outreach_service import Service, running_service
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import Clock, FixedClock
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.models import EmailOutbox, OutboxStatus
from salesengine_tui.db.scratch import ScratchCluster
from salesengine_tui.email.tokens import reply_address, unsubscribe_token
from salesengine_tui.marketing import segments
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCaseDesk

USER, PASSWORD = "hooks", "correct-horse-battery-staple"
MAX_BYTES = 64 * 1024
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Quotes and a dash that Latin-1 (what a form field falls back to) reads as control characters.
CP1252_TEXT = "It\u2019s a deal \u2014 \u00e0 mardi."


@dataclass
class Site:
    """What the tests share: the running service, its database, and the settings it has."""

    service: Service
    engine: Engine
    settings: Settings
    desk: Desk
    key: ec.EllipticCurvePrivateKey  # SendGrid's signing key (its public half is configured)

    def client(self, **kwargs: object) -> httpx.Client:
        return self.service.client(**kwargs)

    def hooks(self) -> httpx.Client:
        return self.service.client(auth=(USER, PASSWORD))


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def signed(key: ec.EllipticCurvePrivateKey, body: bytes, at: float | None = None) -> dict[str, str]:
    """SendGrid's headers: ECDSA P-256 / SHA-256 over the timestamp then the body."""
    stamp = str(int(time.time() if at is None else at))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE: base64.b64encode(signature).decode(),
        TIMESTAMP: stamp,
        "Content-Type": "application/json",
    }


def service_settings(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return {
        "signing_key": "test-signing-key-0123456789abcdef",
        "reply_domain": "reply.example",
        "unsubscribe_url": "https://mail.example/unsubscribe",
        "company_postal_address": "1 Main St, Dallas TX 75201",
        "webhook_username": USER,
        "webhook_password": PASSWORD,
        "sendgrid_webhook_public_key": public_key_b64(key),
        "webhook_max_bytes": str(MAX_BYTES),
    }


@pytest.fixture(scope="module")
def site_db(pg_cluster: ScratchCluster) -> Iterator[URL]:
    name = pg_cluster.create(template=DESK_TEMPLATE, file_copy=True)
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture(scope="module")
def site(site_db: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    key = ec.generate_private_key(ec.SECP256R1())
    config = service_settings(key)
    engine = make_engine(site_db)
    log = tmp_path_factory.mktemp("service") / "serve.log"
    try:
        with Session(engine, expire_on_commit=False) as session:
            desk = load_desk(session)
        with running_service(site_db, config, log) as service:
            yield Site(service, engine, load_settings(**config), desk, key)
    finally:
        engine.dispose()


# --- rows -------------------------------------------------------------------------------------


def new_customer(site: Site, tag: str, **fields: object) -> tuple[uuid.UUID, str]:
    """A customer of the rep's with an address no other test uses: (id, address)."""
    address = f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
    with Session(site.engine) as s:
        c = add_customer(s, f"{tag.title()} Customer", owner=s.merge(site.desk.rep), **fields)
        c.email = address
        s.commit()
        return c.id, address


def sent_email(site: Site, customer_id: uuid.UUID, address: str) -> tuple[uuid.UUID, str]:
    """An email we sent the customer: (outbox id, the provider's message id)."""
    message_id = str(uuid.uuid4())
    row = EmailOutbox(
        idempotency_key=f"test:{uuid.uuid4()}",
        customer_id=customer_id,
        to_email=address,
        subject="Hello",
        body_text="Hello",
        status=OutboxStatus.sent,
        provider="postmark",
        provider_message_id=message_id,
        sent_at=datetime.now(UTC),
    )
    with Session(site.engine) as s:
        s.add(row)
        s.commit()
        return row.id, message_id


def customer_state(site: Site, customer_id: uuid.UUID) -> tuple[bool, bool]:
    """(opted out, suppressed)."""
    with site.engine.connect() as conn:
        opted, suppressed_at = conn.execute(
            text("SELECT email_opt_out, email_suppressed_at FROM customers WHERE id = :c"),
            {"c": customer_id},
        ).one()
    return bool(opted), suppressed_at is not None


def stored_events(site: Site, customer_id: uuid.UUID, address: str) -> list[tuple[str, str]]:
    with site.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT provider, kind FROM email_events WHERE customer_id = :c OR lower(email) = :e "
            "ORDER BY provider, kind"
        ), {"c": customer_id, "e": address})]  # fmt: skip


def timeline(site: Site, customer_id: uuid.UUID) -> list[tuple[str, ...]]:
    """The customer's timeline entries this file makes: interactions (a reply), and email
    opt-out changes (with how they were made)."""
    with site.engine.connect() as conn:
        said = conn.execute(text(
            "SELECT type::text, direction::text FROM customer_interactions WHERE customer_id = :c "
            "ORDER BY created_at"
        ), {"c": customer_id})  # fmt: skip
        opted = conn.execute(text(
            "SELECT 'opt-out', opted_out::text, via FROM customer_opt_out_changes "
            "WHERE customer_id = :c ORDER BY changed_at"
        ), {"c": customer_id})  # fmt: skip
        return [tuple(r) for r in said] + [tuple(r) for r in opted]


def postmark_bounce(address: str, message_id: str, *, bounce_id: int) -> dict[str, object]:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": message_id,
        "Description": "The server was unable to deliver your message (unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": address,
        "From": "sales@example.com",
        "BouncedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Hello",
        "Metadata": {},
    }


def sendgrid_event(address: str, kind: str, **extra: object) -> dict[str, object]:
    return {
        "email": address,
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": base64.b64encode(uuid.uuid4().bytes).decode(),
        "sg_message_id": f"{uuid.uuid4().hex}.filter0001p1las1-1-1",
        **extra,
    }


# --- unsubscribe ------------------------------------------------------------------------------


def blast_recipients(site: Site, lead_source: str) -> int:
    manager = UseCaseDesk(
        AppContext(site.engine, Clock(), site.settings, Actor.of(site.desk.manager))
    )
    check = manager.blasts.check(segments.parse(f"lead_source = '{lead_source}'"), "Hi", "Hello")
    return check.dry.recipients


def test_the_page_asks_and_one_click_opts_out_of_the_next_blast(site: Site) -> None:
    source = f"Service blast {uuid.uuid4().hex[:8]}"
    customer_id, address = new_customer(site, "ann", lead_source=source)
    token = unsubscribe_token(site.settings, customer_id, date.today())
    with site.client() as client:
        page = client.get("/unsubscribe", params={"t": token})
        assert page.status_code == 200
        assert "Unsubscribe" in page.text and '<form method="post"' in page.text
        assert address not in page.text  # masked: the link may be forwarded
        assert address[0] in page.text and "example.com" in page.text
        assert "<script" not in page.text.lower() and "http" not in page.text.lower()
        assert page.headers["referrer-policy"] == "no-referrer"
        # A mail scanner that follows the link, twice: nothing changes.
        assert client.get("/unsubscribe", params={"t": token}).status_code == 200
        assert customer_state(site, customer_id) == (False, False)
        assert blast_recipients(site, source) == 1

        done = client.post(
            "/unsubscribe", params={"t": token}, content=b"List-Unsubscribe=One-Click", headers=FORM
        )
        assert done.status_code == 200 and "You're unsubscribed" in done.text
        assert "set-cookie" not in done.headers
        assert customer_state(site, customer_id) == (True, False)
        assert blast_recipients(site, source) == 0
        entries = timeline(site, customer_id)
        assert entries == [("opt-out", "true", "unsubscribe_link")]  # on the customer's timeline

        again = client.post(
            "/unsubscribe", params={"t": token}, content=b"List-Unsubscribe=One-Click", headers=FORM
        )
        assert again.status_code == 200
        assert timeline(site, customer_id) == entries  # a repeat adds nothing
        after = client.get("/unsubscribe", params={"t": token})
        assert after.status_code == 200 and "already unsubscribed" in after.text
        assert "<form" not in after.text  # nothing left to press
    log = site.service.wait_for_log("path=/unsubscribe status=200")
    assert token not in log and "?t=" not in log


def test_the_pages_button_posts_back_and_opts_out(site: Site) -> None:
    customer_id, _ = new_customer(site, "bea")
    token = unsubscribe_token(site.settings, customer_id, date.today())
    with site.client() as client:
        page = client.get("/unsubscribe", params={"t": token})
        # What a browser does with the form: its action, relative to the page, and its field.
        action = html.unescape(page.text.split('action="', 1)[1].split('"', 1)[0])
        assert action.startswith("?t=")
        assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
        pressed = client.post(f"/unsubscribe{action}", data={"List-Unsubscribe": "One-Click"})
    assert pressed.status_code == 200 and "You're unsubscribed" in pressed.text
    assert customer_state(site, customer_id) == (True, False)


def altered(token: str) -> str:
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    return token[:middle] + swapped + token[middle + 1 :]


def test_a_forged_or_expired_link_changes_nothing(site: Site) -> None:
    customer_id, _ = new_customer(site, "cy")
    other_key = load_settings(signing_key="somebody-else-entirely-0123456789")
    forged = [
        altered(unsubscribe_token(site.settings, customer_id, date.today())),
        unsubscribe_token(other_key, customer_id, date.today()),
        str(customer_id),  # the old links' bare id
        "",
        "x" * 5000,
    ]
    with site.client() as client:
        for token in forged:
            for method in ("GET", "POST"):
                answer = client.request(
                    method, "/unsubscribe", params={"t": token},
                    content=b"List-Unsubscribe=One-Click", headers=FORM,
                )  # fmt: skip
                assert answer.status_code == 400, (method, token)
                assert "This unsubscribe link is not valid" in answer.text
                assert "unsubscribe" in answer.text.lower()  # how to opt out instead
        expired = unsubscribe_token(site.settings, customer_id, date.today() - timedelta(days=500))
        for method in ("GET", "POST"):
            answer = client.request(method, "/unsubscribe", params={"t": expired})
            assert answer.status_code == 410 and "expired" in answer.text
            assert "reply" in answer.text and "sales@example.com" in answer.text
    assert customer_state(site, customer_id) == (False, False)
    assert timeline(site, customer_id) == []


# --- Postmark ---------------------------------------------------------------------------------


def test_a_postmark_bounce_is_stored_once_and_a_replay_changes_nothing(site: Site) -> None:
    customer_id, address = new_customer(site, "dee")
    _, message_id = sent_email(site, customer_id, address)
    bounce = postmark_bounce(address, message_id, bounce_id=int(time.time() * 1000))
    with site.hooks() as client:
        first = client.post("/webhooks/postmark", json=bounce)
        assert first.status_code == 200 and first.json()["stored"] == 1
        assert customer_state(site, customer_id) == (False, True)
        assert stored_events(site, customer_id, address) == [("postmark", "bounced")]
        # Someone lifts the suppression by hand; the provider replays the webhook.
        with site.engine.begin() as conn:
            conn.execute(
                text("UPDATE customers SET email_suppressed_at = NULL WHERE id = :c"),
                {"c": customer_id},
            )
        replay = client.post("/webhooks/postmark", json=bounce)
    assert replay.status_code == 200
    assert replay.json() == {"stored": 0, "duplicates": 1, "ignored": 0}
    assert customer_state(site, customer_id) == (False, False)
    assert stored_events(site, customer_id, address) == [("postmark", "bounced")]
    site.service.wait_for_log("path=/webhooks/postmark status=200 ")
    assert "stored=0 duplicates=1" in site.service.log()


def test_wrong_or_missing_credentials_get_401_and_store_nothing(site: Site) -> None:
    customer_id, address = new_customer(site, "eve")
    _, message_id = sent_email(site, customer_id, address)
    bounce = postmark_bounce(address, message_id, bounce_id=int(time.time() * 1000) + 1)
    paths = ["/webhooks/postmark", "/webhooks/postmark/inbound", "/webhooks/sendgrid/inbound"]
    for auth in [None, (USER, "wrong"), ("someone", PASSWORD), (USER, PASSWORD + "x")]:
        with site.client(auth=auth) as client:
            for path in paths:
                answer = client.post(path, json=bounce)
                assert answer.status_code == 401, (auth, path)
                assert answer.headers["www-authenticate"].startswith("Basic ")
    with site.client(headers={"Authorization": "Basic !!!not-base64"}) as client:
        assert client.post("/webhooks/postmark", json=bounce).status_code == 401
    assert stored_events(site, customer_id, address) == []
    assert customer_state(site, customer_id) == (False, False)
    log = site.service.wait_for_log("status=401")
    assert PASSWORD not in log and "wrong" not in log and "authorization" not in log.lower()


def test_a_body_over_the_cap_gets_413_and_stores_nothing(site: Site) -> None:
    customer_id, address = new_customer(site, "fay")
    _, message_id = sent_email(site, customer_id, address)
    bounce = postmark_bounce(address, message_id, bounce_id=int(time.time() * 1000) + 2)
    bounce["Content"] = "x" * MAX_BYTES  # a valid event, too large
    body = json.dumps(bounce).encode()
    headers = {"Content-Type": "application/json"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while reading
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    with site.hooks() as client:
        assert client.post("/webhooks/postmark", content=body, headers=headers).status_code == 413
        assert (
            client.post("/webhooks/postmark", content=chunks(), headers=headers).status_code == 413
        )
        form = {"from": address, "to": "x@reply.example", "text": "x" * MAX_BYTES}
        assert client.post("/webhooks/sendgrid/inbound", data=form).status_code == 413
    with site.client() as client:
        signed_big = client.post(
            "/webhooks/sendgrid/events", content=chunks(), headers=signed(site.key, body)
        )
        assert signed_big.status_code == 413
    assert stored_events(site, customer_id, address) == []
    assert customer_state(site, customer_id) == (False, False)


def test_malformed_items_are_answered_200_and_logged(site: Site) -> None:
    customer_id, address = new_customer(site, "gus")
    with site.hooks() as client:
        answer = client.post("/webhooks/postmark", json={"RecordType": "Bounce", "Email": 42})
        assert answer.status_code == 200 and answer.json()["ignored"] >= 1
        assert client.post("/webhooks/postmark", json=["not", "a", "record"]).status_code == 200
        not_json = client.post(
            "/webhooks/postmark", content=b"\x00{nope", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400
    good = sendgrid_event(address, "bounce", reason="550 unknown user", type="bounce")
    batch = json.dumps([good, {"event": "bounce"}, "junk"]).encode()
    with site.client() as client:
        mixed = client.post(
            "/webhooks/sendgrid/events", content=batch, headers=signed(site.key, batch)
        )
    assert mixed.status_code == 200
    assert mixed.json()["stored"] == 1 and mixed.json()["ignored"] >= 1
    assert stored_events(site, customer_id, address) == [("sendgrid", "bounced")]
    log = site.service.wait_for_log("sendgrid events: ignored")
    assert "postmark: ignored" in log and "not JSON" in log
    assert "nope" not in log  # the problem, never the raw body


# --- SendGrid ---------------------------------------------------------------------------------


def test_a_signed_sendgrid_batch_is_stored_and_a_bad_or_stale_one_refused(site: Site) -> None:
    bounced_id, bounced = new_customer(site, "hal")
    spam_id, spam = new_customer(site, "ida")
    batch = [
        sendgrid_event(bounced, "bounce", reason="550 5.1.1 unknown", type="bounce"),
        sendgrid_event(spam, "spamreport"),
        sendgrid_event(spam, "open"),  # not ours to keep: ignored without a problem
    ]
    body = json.dumps(batch).encode()
    impostor = ec.generate_private_key(ec.SECP256R1())
    with site.client() as client:
        url = "/webhooks/sendgrid/events"
        for headers in [
            signed(impostor, body),  # someone else's key
            signed(site.key, body + b" "),  # the body changed after signing
            signed(site.key, body, at=time.time() - 3600),  # a captured request, replayed late
            {"Content-Type": "application/json"},  # no signature at all
        ]:
            refused = client.post(url, content=body, headers=headers)
            assert refused.status_code == 403, headers
        assert stored_events(site, bounced_id, bounced) == []
        assert stored_events(site, spam_id, spam) == []

        answer = client.post(url, content=body, headers=signed(site.key, body))
    assert answer.status_code == 200
    assert answer.json() == {"stored": 2, "duplicates": 0, "ignored": 0}
    assert stored_events(site, bounced_id, bounced) == [("sendgrid", "bounced")]
    assert stored_events(site, spam_id, spam) == [("sendgrid", "complained")]
    assert customer_state(site, bounced_id) == (False, True)
    assert customer_state(site, spam_id) == (True, True)  # a complaint opts out too


# --- replies ----------------------------------------------------------------------------------


def quote_for(site: Site, tag: str, entered: datetime) -> tuple[uuid.UUID, str, uuid.UUID]:
    """A customer of the rep's with a quote in Proposal Sent (follow up after 3 days) since
    `entered`: (customer, address, estimate)."""
    address = f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
    with Session(site.engine) as s:
        rep = s.merge(site.desk.rep)
        customer = add_customer(s, f"{tag.title()} Customer", owner=rep)
        customer.email = address
        stage = stages_of(s, "Residential Replacements")["Proposal Sent"]
        estimate = add_estimate(s, customer, stage, 9000, owner=rep, entered_at=entered)
        s.commit()
        return customer.id, address, estimate.id


def nurture_keys(site: Site, estimate_id: uuid.UUID) -> list[str]:
    with site.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT idempotency_key FROM email_outbox WHERE idempotency_key LIKE :k "
            "ORDER BY idempotency_key"
        ), {"k": f"nurture:{estimate_id}:%"}).scalars())  # fmt: skip


def postmark_reply(site: Site, outbox_id: uuid.UUID, sender: str) -> dict[str, object]:
    to = reply_address(site.settings, outbox_id)
    assert to is not None
    return {
        "FromName": "Quiet Customer",
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Quiet Customer", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": to.split("+")[1].split("@")[0]}],
        "OriginalRecipient": to,
        "Subject": "Re: Checking in on your quote",
        "MessageID": str(uuid.uuid4()),
        "MailboxHash": to.split("+")[1].split("@")[0],
        "Date": email.utils.format_datetime(datetime.now(UTC)),
        "TextBody": "Yes, let's go ahead. Call me tomorrow.\n\n> Just checking in on the quote",
        "StrippedTextReply": "Yes, let's go ahead. Call me tomorrow.",
        "Headers": [],
        "Attachments": [],
    }


def test_an_inbound_reply_reaches_the_timeline_and_the_next_nurture_waits(site: Site) -> None:
    now = datetime.now(UTC)
    replier, replier_email, replier_deal = quote_for(site, "jo", now - timedelta(days=8))
    _, _, quiet_deal = quote_for(site, "kim", now - timedelta(days=8))
    # Four days ago, the first follow-up went to both.
    past = UseCaseDesk(
        AppContext(site.engine, FixedClock(now - timedelta(days=4)), site.settings, None)
    )
    assert past.jobs.nurture().status == "ok"
    assert len(nurture_keys(site, replier_deal)) == len(nurture_keys(site, quiet_deal)) == 1
    with site.engine.connect() as conn:
        follow_up = conn.execute(
            text("SELECT id FROM email_outbox WHERE idempotency_key = :k"),
            {"k": nurture_keys(site, replier_deal)[0]},
        ).scalar_one()

    reply = postmark_reply(site, follow_up, replier_email)
    with site.hooks() as client:
        answer = client.post("/webhooks/postmark/inbound", json=reply)
        assert answer.status_code == 200 and answer.json()["stored"] == 1
        assert client.post("/webhooks/postmark/inbound", json=reply).json()["stored"] == 0
    assert ("email", "inbound") in timeline(site, replier)
    assert timeline(site, replier).count(("email", "inbound")) == 1  # the replay added nothing

    today = UseCaseDesk(AppContext(site.engine, Clock(), site.settings, None))
    assert today.jobs.nurture().status == "ok"
    assert len(nurture_keys(site, quiet_deal)) == 2  # no reply: the second follow-up
    assert len(nurture_keys(site, replier_deal)) == 1  # a reply is activity: it waits


def test_a_sendgrid_inbound_reply_lands_on_the_timeline(site: Site) -> None:
    customer_id, address = new_customer(site, "lou")
    outbox_id, _ = sent_email(site, customer_id, address)
    to = reply_address(site.settings, outbox_id)
    form = {
        "from": f"Lou Customer <{address}>",
        "to": to,
        "subject": "Re: Hello",
        "headers": f"From: {address}\nTo: {to}\nSubject: Re: Hello\n",
        "envelope": json.dumps({"to": [to], "from": address}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "text": "windows-1252"}),
    }
    files = {
        # A field in the charset `charsets` names for it, as Inbound Parse sends it.
        "text": (None, CP1252_TEXT.encode("cp1252"), None),
        "attachment1": ("note.txt", b"an attachment, not kept", "text/plain"),
    }
    with site.hooks() as client:
        answer = client.post("/webhooks/sendgrid/inbound", data=form, files=files)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert ("email", "inbound") in timeline(site, customer_id)
    with site.engine.connect() as conn:
        notes = conn.execute(
            text("SELECT notes FROM customer_interactions WHERE customer_id = :c"),
            {"c": customer_id},
        ).scalar_one()
    assert CP1252_TEXT in notes


def test_healthz(site: Site) -> None:
    with site.client() as client:
        answer = client.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")


# --- a service with no database, and nothing configured ---------------------------------------


def test_unconfigured_webhooks_and_a_database_gone_answer_503(
    db_url: URL, pg_cluster: ScratchCluster, tmp_path: Path
) -> None:
    """Postmark's credentials unset: 503, said once in the log. Then the database goes away:
    503 with Retry-After (the providers retry), no traceback; SendGrid's key is set, so its
    batch gets as far as storing."""
    key = ec.generate_private_key(ec.SECP256R1())
    config = {
        "signing_key": "test-signing-key-0123456789abcdef",
        "sendgrid_webhook_public_key": public_key_b64(key),
    }
    token = unsubscribe_token(load_settings(**config), uuid.uuid4(), date.today())
    batch = json.dumps([sendgrid_event("nobody@example.com", "bounce", type="bounce")]).encode()
    with running_service(db_url, config, tmp_path / "serve.log") as service:
        with service.client() as client:
            for _ in range(2):
                answer = client.post("/webhooks/postmark", json={}, auth=(USER, PASSWORD))
                assert answer.status_code == 503
                assert answer.json() == {"error": "webhooks not configured"}
            assert service.log().count("webhooks not configured:") == 1  # once, not per request

            pg_cluster.drop(db_url.database or "")
            health = client.get("/healthz")
            assert health.status_code == 503 and "retry-after" in health.headers
            page = client.post("/unsubscribe", params={"t": token})
            assert page.status_code == 503 and "retry-after" in page.headers
            assert "Traceback" not in page.text and "psycopg" not in page.text
            events = client.post(
                "/webhooks/sendgrid/events", content=batch, headers=signed(key, batch)
            )
            assert events.status_code == 503 and "retry-after" in events.headers
            assert events.json() == {"error": "database unavailable"}
        assert "Traceback" not in service.log()
    # SIGTERM: requests finish, then uvicorn exits by the signal it was sent (which systemd
    # counts as a clean stop).
    assert service.process.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in service.log()
