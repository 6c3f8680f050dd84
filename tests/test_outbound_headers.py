"""What every outbound email carries so that what comes back finds it, as the providers receive
it (the fake SendGrid/Postmark server on loopback, the file provider's .eml) from real
PostgreSQL: a signed unsubscribe link, dated the send day, in the body and the List-Unsubscribe
header (never the bare customer id), our Message-ID, a reply address naming the outbox row; the
rows know their blast or deal, and the timeline entry its email."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from factories import FIXED_NOW, Desk
from fake_providers import FakeProviders
from sqlalchemy import Engine, select, text
from sqlmodel import Session
from test_blasts import SEGMENT
from test_blasts import seed as seed_blast
from test_nurture import setup_quote

from salesengine_tui.access.users import Actor
from salesengine_tui.automation import nurture
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import CustomerInteraction, EmailOutbox
from salesengine_tui.email import compliance, outbox, tokens
from salesengine_tui.email.sender import make_provider
from salesengine_tui.marketing import blasts
from salesengine_tui.usecases.email import drain

KEY = "outbound-test-signing-key-0123456789"
UNSUBSCRIBE = "https://acme.example/unsubscribe"
REPLY_DOMAIN = "reply.acme.example"
BLAST = {"definition": SEGMENT, "subject": "Hi {first_name}", "body": "Hello {first_name}.\n"}


def settings_for(provider: str, fake: FakeProviders, folder: Path, **extra) -> Settings:
    return load_settings(**{
        "email_provider": provider, "sendgrid_api_key": "SG.key", "sendgrid_base_url": fake.url,
        "postmark_server_token": "pm-token", "postmark_base_url": fake.url, "outbox_dir": folder,
        "email_from": "Sales <sales@acme.example>", "unsubscribe_url": UNSUBSCRIBE,
        "company_postal_address": "1 Main St, Dallas TX 75201", "signing_key": KEY,
        "reply_domain": REPLY_DOMAIN, **extra,
    })  # fmt: skip


@dataclass(frozen=True)
class Received:
    """One message as the provider got it, whatever its API."""

    outbox_id: str
    headers: dict[str, str]
    reply_to: str | None
    body: str


def received(provider: str, fake: FakeProviders, folder: Path) -> list[Received]:
    out = []
    if provider == "file":
        for path in sorted(folder.glob("*.eml")):
            mime = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            headers = {k: str(v) for k, v in mime.items()}
            body = mime.get_content().replace("\r\n", "\n")  # SMTP's line ends
            out.append(Received(path.stem, headers, headers.get("Reply-To"), body))
    for request in fake.received:
        if request.path == "/v3/mail/send":
            # One reply_to a request, with a tag each personalization fills (SendGrid applies
            # substitutions to reply_to); Reply-To is a reserved header there.
            reply = request.body.get("reply_to", {}).get("email")
            for p in request.body["personalizations"]:
                subs = p["substitutions"]
                mailbox = reply and reply.replace("-reply-mailbox-", subs["-reply-mailbox-"])
                body = request.body["content"][0]["value"].replace("-body-", subs["-body-"])
                out.append(Received(p["custom_args"]["outbox_id"], p.get("headers", {}),
                                    mailbox, body))  # fmt: skip
        elif request.path == "/email/batch":
            for m in request.body:
                headers = {h["Name"]: h["Value"] for h in m["Headers"]}
                out.append(
                    Received(m["Metadata"]["outbox_id"], headers, m.get("ReplyTo"), m["TextBody"])
                )
    return out


def send_blast(engine: Engine, desk: Desk, settings: Settings, *, confirm: int = 3):
    with session_scope(engine) as s:
        return blasts.send(s, actor=Actor.of(desk.manager), confirm=confirm, now=FIXED_NOW,
                           settings=settings, **BLAST)  # fmt: skip


def outbox_rows(engine: Engine) -> dict[str, EmailOutbox]:
    with Session(engine) as s:
        return {str(r.id): r for r in s.execute(select(EmailOutbox)).scalars()}


@pytest.mark.parametrize("provider", ["sendgrid", "postmark", "file"])
def test_a_blast_carries_signed_links_message_id_and_reply_address(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path, provider: str
) -> None:
    ids = seed_blast(engine)
    settings = settings_for(provider, fake, tmp_path)
    sent = send_blast(engine, desk, settings)
    # Sent three days after it was queued: the links are dated the send day.
    later = FIXED_NOW + timedelta(days=3)
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(later))
    assert report.sent == 3 and report.failed == 0
    rows = outbox_rows(engine)
    got = received(provider, fake, tmp_path)
    assert sorted(m.outbox_id for m in got) == sorted(rows)
    for message in got:
        row = rows[message.outbox_id]
        assert row.blast_id == sent.blast_id  # the row knows its blast
        header = message.headers["List-Unsubscribe"]
        assert header.startswith(f"<{UNSUBSCRIBE}?t=") and header.endswith(">")
        link = header[1:-1]
        token = link.split("?t=", 1)[1]
        read = tokens.read_unsubscribe_token(settings, token, later.date())
        assert read.customer_id == row.customer_id and read.issued == later.date()
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The same link in the body's footer; no bare id, no slot left.
        assert f"Unsubscribe: {link}\n" in message.body
        assert "?c=" not in message.body and str(row.customer_id) not in message.body
        assert compliance.UNSUBSCRIBE_SLOT not in message.body and "\x1f" not in message.body
        assert message.headers["Message-ID"] == tokens.message_id(settings, row.id)
        assert message.reply_to == tokens.reply_address(settings, row.id)
        assert message.reply_to.endswith(f"@{REPLY_DOMAIN}")
        assert tokens.read_reply_token(settings, message.reply_to) == row.id
    assert {row.customer_id for row in rows.values()} == {
        ids["Ann Good"],
        ids["Bob [bold]Markup[/] [@click=app.quit]"],
        ids["Cy Dup"],
    }
    with Session(engine) as s:  # each timeline entry names its email
        entries = s.execute(
            select(CustomerInteraction.outbox_id, CustomerInteraction.customer_id).where(
                CustomerInteraction.outbox_id.is_not(None)
            )
        ).all()
    assert {(str(o), c) for o, c in entries} == {(i, r.customer_id) for i, r in rows.items()}


@pytest.mark.parametrize("provider", ["sendgrid", "postmark", "file"])
def test_nurture_follow_up_knows_its_deal_and_carries_message_id(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path, provider: str
) -> None:
    setup_quote(engine, desk, timedelta(days=3))
    settings = settings_for(provider, fake, tmp_path)
    with session_scope(engine) as s:
        assert nurture.run(s, now=FIXED_NOW).emails == 1
    with engine.connect() as conn:
        estimate = conn.execute(
            text(
                "SELECT e.id FROM estimates e JOIN customers c ON c.id = e.customer_id "
                "WHERE c.email = 'q@example.com'"
            )
        ).scalar_one()
    (row,) = outbox_rows(engine).values()
    assert row.estimate_id == estimate and row.blast_id is None
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.sent == 1
    (message,) = received(provider, fake, tmp_path)
    assert message.headers["Message-ID"] == tokens.message_id(settings, row.id)
    assert tokens.read_reply_token(settings, message.reply_to) == row.id
    assert "List-Unsubscribe" not in message.headers  # one-to-one mail is not a campaign
    with Session(engine) as s:
        entry = s.execute(
            select(CustomerInteraction).where(CustomerInteraction.outbox_id == row.id)
        ).scalar_one()
    assert entry.estimate_id == estimate and entry.customer_id == row.customer_id


def test_without_a_reply_domain_there_is_no_reply_to(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    seed_blast(engine)
    settings = settings_for("sendgrid", fake, tmp_path, reply_domain=None)
    send_blast(engine, desk, settings)
    assert drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW)).sent == 3
    (request,) = fake.received
    assert "reply_to" not in request.body
    for p in request.body["personalizations"]:
        assert "-reply-mailbox-" not in p["substitutions"] and "Message-ID" in p["headers"]


def test_a_campaign_without_the_signing_key_is_refused(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    ids = seed_blast(engine)
    unsigned = settings_for("file", fake, tmp_path, signing_key=None)
    assert compliance.missing_campaign_settings(unsigned) == ["SALESENGINE_SIGNING_KEY"]
    with pytest.raises(UserError, match="SALESENGINE_SIGNING_KEY"):
        send_blast(engine, desk, unsigned)
    with pytest.raises(UserError, match="SALESENGINE_SIGNING_KEY"), session_scope(engine) as s:
        outbox.enqueue(s, key="one-off", to_email="ann@example.com", subject="News", body="Hi",
                       now=FIXED_NOW, settings=unsigned, customer_id=ids["Ann Good"],
                       is_campaign=True)  # fmt: skip
    assert outbox_rows(engine) == {}


def test_the_links_slot_cannot_be_typed(engine: Engine, desk: Desk, tmp_path: Path) -> None:
    ids = seed_blast(engine)
    slot = compliance.UNSUBSCRIBE_SLOT
    with pytest.raises(UserError, match="control character"):
        blasts.check_template("Hi", f"Hello {slot} there")
    settings = load_settings(unsubscribe_url=UNSUBSCRIBE, signing_key=KEY,
                             company_postal_address="1 Main St", outbox_dir=tmp_path)  # fmt: skip
    with pytest.raises(UserError, match="control character"), session_scope(engine) as s:
        outbox.enqueue(s, key="forged", to_email="ann@example.com", subject="News",
                       body=f"Hi {slot}", now=FIXED_NOW, settings=settings,
                       customer_id=ids["Ann Good"], is_campaign=True)  # fmt: skip
    with pytest.raises(UserError, match="needs its customer"), session_scope(engine) as s:
        outbox.enqueue(s, key="nobody", to_email="ann@example.com", subject="News", body="Hi",
                       now=FIXED_NOW, settings=settings, is_campaign=True)  # fmt: skip


def test_a_one_off_campaign_gets_its_link_and_knows_its_deal(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    ids = seed_blast(engine)
    settings = settings_for("postmark", fake, tmp_path)
    with session_scope(engine) as s:
        queued = outbox.enqueue(s, key="one-off", to_email="ann@example.com", subject="News",
                                body="Hi Ann", now=FIXED_NOW, settings=settings,
                                customer_id=ids["Ann Good"], is_campaign=True)  # fmt: skip
    row = outbox_rows(engine)[str(queued.id)]
    assert row.body_text.endswith(f"Unsubscribe: {compliance.UNSUBSCRIBE_SLOT}\n1 Main St, "
                                  "Dallas TX 75201\n")  # fmt: skip
    assert drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW)).sent == 1
    (message,) = received("postmark", fake, tmp_path)
    link = tokens.unsubscribe_link(settings, ids["Ann Good"], FIXED_NOW.date())
    assert f"Unsubscribe: {link}\n" in message.body and message.headers["List-Unsubscribe"] == (
        f"<{link}>"
    )


def test_a_row_queued_before_signed_links_still_sends_as_it_is(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    ids = seed_blast(engine)
    ann = ids["Ann Good"]
    old_body = f"Hello Ann.\n\n--\nUnsubscribe: {UNSUBSCRIBE}?c={ann}\n1 Main St\n"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO email_outbox (idempotency_key, customer_id, to_email, subject, "
                "body_text, is_campaign, created_at, next_attempt_at) VALUES ('blast:old', :c, "
                "'ann@example.com', 'Old', :body, true, :now, :now)"
            ),
            {"c": ann, "body": old_body, "now": FIXED_NOW},
        )
    settings = settings_for("sendgrid", fake, tmp_path)
    assert drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW)).sent == 1
    (message,) = received("sendgrid", fake, tmp_path)
    assert message.body == old_body  # as it was queued
    # The header carries the signed link: one-click works for it too.
    link = tokens.unsubscribe_link(settings, ann, FIXED_NOW.date())
    assert message.headers["List-Unsubscribe"] == f"<{link}>"


def test_a_campaign_whose_key_was_removed_waits_then_goes_with_its_link(
    engine: Engine, desk: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    seed_blast(engine)
    settings = settings_for("postmark", fake, tmp_path)
    send_blast(engine, desk, settings)
    with session_scope(engine) as s:  # and a one-to-one email in the same drain
        outbox.enqueue(s, key="note", to_email="x@example.com", subject="Note", body="b",
                       now=FIXED_NOW, settings=settings)  # fmt: skip
    removed = settings_for("postmark", fake, tmp_path, signing_key=None)
    report = drain(engine, make_provider(removed), removed, clock=FixedClock(FIXED_NOW))
    assert (report.sent, report.retried, report.failed) == (1, 3, 0)
    assert [m["Subject"] for r in fake.received for m in r.body] == ["Note"]
    with Session(engine) as s:
        waiting = s.execute(
            select(EmailOutbox).where(EmailOutbox.blast_id.is_not(None))
        ).scalars().all()  # fmt: skip
    assert {r.status for r in waiting} == {"queued"}
    assert all("SALESENGINE_SIGNING_KEY" in (r.last_error or "") for r in waiting)
    later = FIXED_NOW + timedelta(hours=1)  # past the backoff, with the key back
    assert drain(engine, make_provider(settings), settings, clock=FixedClock(later)).sent == 3
    for message in received("postmark", fake, tmp_path)[1:]:
        assert f"{UNSUBSCRIBE}?t=" in message.headers["List-Unsubscribe"]
        assert compliance.UNSUBSCRIBE_SLOT not in message.body
