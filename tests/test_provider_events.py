"""The providers' parsers: what Postmark and SendGrid POST becomes `ProviderEvent`s, malformed
items become problem lines (never exceptions), and SendGrid's signed Event Webhook is
verified with a key pair made here. Payloads follow the providers' own documented examples."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesengine_tui.email import postmark_events, sendgrid_events
from salesengine_tui.email.events import EventKind, Parsed
from salesengine_tui.email.sendgrid_signature import BadSignature, UnusableKey, verify

RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
OUTBOX = uuid.UUID("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")


def one(parsed: Parsed):
    assert parsed.problems == []
    assert len(parsed.events) == 1
    return parsed.events[0]


# --- Postmark: Bounce, SpamComplaint, SubscriptionChange, Delivery ---------------------------


def postmark_bounce(**changes: object) -> dict:
    """Postmark's bounce webhook example (developer/webhooks/bounce-webhook)."""
    payload = {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "Test",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"outbox_id": str(OUTBOX)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "Test bounce details",
        "Email": "john@example.com",
        "From": "sender@example.com",
        "BouncedAt": "2019-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Test subject",
        "Content": "<Full dump of bounce>",
    }
    payload.update(changes)
    return payload


def test_postmark_hard_bounce() -> None:
    event = one(postmark_events.parse_webhook(postmark_bounce(), received_at=RECEIVED))
    assert event.provider == "postmark"
    assert event.kind is EventKind.bounced
    assert (
        event.key == "bounce:4323372036854775807" == postmark_events.bounce_key(4323372036854775807)
    )
    assert event.email == "john@example.com"
    assert event.outbox_id == OUTBOX
    assert event.message_id == "883953f4-6105-42a2-a16a-77a8eac79483"
    assert event.detail == "HardBounce: Test bounce details"
    # Seven fractional digits, read to the microsecond.
    assert event.occurred_at == datetime(2019, 11, 5, 16, 33, 54, 907025, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bounce_type", "kind"),
    [
        ("BadEmailAddress", EventKind.bounced),
        ("ManuallyDeactivated", EventKind.dropped),
        ("Unsubscribe", EventKind.unsubscribed),
        ("SoftBounce", EventKind.soft_bounced),
        ("Transient", EventKind.soft_bounced),
        ("DnsError", EventKind.soft_bounced),
        ("SpamNotification", EventKind.soft_bounced),
        ("Blocked", EventKind.soft_bounced),
        ("DMARCPolicy", EventKind.soft_bounced),
        ("SomethingNew", EventKind.soft_bounced),
    ],
)
def test_postmark_bounce_types(bounce_type: str, kind: EventKind) -> None:
    event = one(postmark_events.parse_webhook(postmark_bounce(Type=bounce_type)))
    assert event.kind is kind
    assert event.detail == f"{bounce_type}: Test bounce details"


def test_postmark_autoresponder_is_ignored_without_a_problem() -> None:
    parsed = postmark_events.parse_webhook(postmark_bounce(Type="AutoResponder"))
    assert parsed.events == [] and parsed.problems == []


def test_postmark_spam_complaint() -> None:
    payload = postmark_bounce(
        RecordType="SpamComplaint",
        ID=42,
        Type="SpamComplaint",
        TypeCode=100001,
        Name="Spam complaint",
        Description="",
        Details="Test spam complaint details",
        CanActivate=False,
        Content="<Abuse report dump>",
    )
    event = one(postmark_events.parse_webhook(payload))
    assert event.kind is EventKind.complained
    assert event.key == "bounce:42"
    assert event.detail == "SpamComplaint: Test spam complaint details"


def subscription_change(**changes: object) -> dict:
    """Postmark's subscription change webhook example."""
    payload = {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 123456,
        "MessageStream": "outbound",
        "ChangedAt": "2020-02-01T10:53:34.416071Z",
        "Recipient": "bounced-address@wildbit.com",
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "HardBounce",
        "Tag": "my-tag",
        "Metadata": {"example": "value", "outbox_id": str(OUTBOX)},
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"SuppressionReason": "HardBounce"}, EventKind.bounced),
        ({"SuppressionReason": "SpamComplaint"}, EventKind.complained),
        ({"SuppressionReason": "ManualSuppression"}, EventKind.unsubscribed),
        # Suppressed by the account's people, not the recipient: no opt-out, only no sending.
        ({"SuppressionReason": "ManualSuppression", "Origin": "Customer"}, EventKind.dropped),
        ({"SuppressionReason": None}, EventKind.dropped),
        # Reactivation: no MessageID, no reason, empty metadata (as Postmark documents).
        (
            {
                "SuppressSending": False,
                "SuppressionReason": None,
                "MessageID": None,
                "Tag": None,
                "Metadata": {},
                "Origin": "Customer",
            },
            EventKind.resubscribed,
        ),
    ],
)
def test_postmark_subscription_change(changes: dict, kind: EventKind) -> None:
    event = one(postmark_events.parse_webhook(subscription_change(**changes)))
    assert event.kind is kind
    assert event.email == "bounced-address@wildbit.com"
    assert event.occurred_at == datetime(2020, 2, 1, 10, 53, 34, 416071, tzinfo=UTC)


def test_postmark_subscription_change_key_is_stable_and_distinct() -> None:
    first = one(postmark_events.parse_webhook(subscription_change()))
    replay = one(postmark_events.parse_webhook(subscription_change()))
    lifted = one(
        postmark_events.parse_webhook(subscription_change(SuppressSending=False, MessageID=None))
    )
    later = one(
        postmark_events.parse_webhook(subscription_change(ChangedAt="2020-02-02T00:00:00Z"))
    )
    assert first.key == replay.key
    assert len({first.key, lifted.key, later.key}) == 3


def postmark_delivery() -> dict:
    """Postmark's delivery webhook example."""
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Recipient": "john@example.com",
        "Tag": "welcome-email",
        "DeliveredAt": "2021-02-21T16:34:52Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"outbox_id": str(OUTBOX)},
    }


def test_postmark_delivery() -> None:
    payload = postmark_delivery()
    event = one(postmark_events.parse_webhook(payload))
    assert event.kind is EventKind.delivered
    assert event.outbox_id == OUTBOX
    assert event.occurred_at == datetime(2021, 2, 21, 16, 34, 52, tzinfo=UTC)
    assert event.key == one(postmark_events.parse_webhook(dict(payload))).key
    assert "john@example.com" in event.key


def test_postmark_open_and_click_are_ignored() -> None:
    parsed = postmark_events.parse_webhook(
        [{"RecordType": "Open", "Recipient": "a@b.co"}, {"RecordType": "Click"}]
    )
    assert parsed == Parsed([], [])


def test_postmark_times_missing_or_from_the_future_are_the_time_received() -> None:
    missing = one(
        postmark_events.parse_webhook(postmark_bounce(BouncedAt=None), received_at=RECEIVED)
    )
    future = one(
        postmark_events.parse_webhook(
            postmark_bounce(BouncedAt="2099-01-01T00:00:00Z"), received_at=RECEIVED
        )
    )
    zoned = one(
        postmark_events.parse_webhook(
            postmark_bounce(BouncedAt="2014-01-15T16:09:19.6421112-05:00")
        )
    )
    assert missing.occurred_at == future.occurred_at == RECEIVED
    assert zoned.occurred_at == datetime(2014, 1, 15, 21, 9, 19, 642111, tzinfo=UTC)


def test_a_time_received_without_a_zone_is_utc() -> None:
    naive = RECEIVED.replace(tzinfo=None)
    event = one(postmark_events.parse_webhook(postmark_bounce(BouncedAt=None), received_at=naive))
    assert event.occurred_at == RECEIVED
    future = subscription_change(ChangedAt="2099-01-01T00:00:00Z")
    assert one(postmark_events.parse_webhook(future, received_at=naive)).occurred_at == RECEIVED


def test_postmark_metadata_outbox_id_that_is_not_one_is_dropped_not_the_event() -> None:
    for metadata in ({"outbox_id": "not-a-uuid"}, {"outbox_id": 7}, "x", None, []):
        assert (
            one(postmark_events.parse_webhook(postmark_bounce(Metadata=metadata))).outbox_id is None
        )


def test_postmark_text_fields_are_one_line_and_capped() -> None:
    event = one(
        postmark_events.parse_webhook(
            postmark_bounce(Details="550\x1b[31m red\r\nInjected: yes" + "x" * 5_000)
        )
    )
    assert event.detail is not None
    assert "\x1b" not in event.detail and "\n" not in event.detail and "\r" not in event.detail
    assert len(event.detail) == 500 and event.detail.endswith("…")


def test_postmark_malformed_batch_keeps_the_good_items() -> None:
    good = postmark_bounce()
    parsed = postmark_events.parse_webhook(
        [
            good,
            "nonsense",
            postmark_bounce(Email="not an address"),
            postmark_bounce(ID="x"),
            postmark_bounce(Type=None),
            {"RecordType": "Unknown\x1bThing"},
            subscription_change(ChangedAt="yesterday"),
            subscription_change(SuppressSending="yes"),
            {"RecordType": "Delivery", "Recipient": "a@b.co"},
            {},
        ],
        received_at=RECEIVED,
    )
    assert [e.key for e in parsed.events] == ["bounce:4323372036854775807"]
    assert parsed.problems == [
        "item 2: not an object (got str)",
        "item 3: no valid Email",
        "item 4: no ID",
        "item 5: no bounce Type",
        "item 6: unknown RecordType 'Unknown Thing'",
        "item 7: no ChangedAt",
        "item 8: no SuppressSending",
        "item 9: no DeliveredAt",
        "item 10: no RecordType",
    ]


@pytest.mark.parametrize("payload", [None, "text", 3, 2.5, True])
def test_postmark_payload_of_the_wrong_shape_is_one_problem(payload: object) -> None:
    parsed = postmark_events.parse_webhook(payload)
    assert parsed.events == []
    assert len(parsed.problems) == 1 and parsed.problems[0].startswith("not a Postmark webhook")


def test_a_huge_garbage_batch_gives_a_bounded_list_of_problems() -> None:
    parsed = sendgrid_events.parse_events(list(range(100_000)))
    assert parsed.events == []
    assert len(parsed.problems) == 21
    assert parsed.problems[0] == "item 1: not an object (got int)"
    assert parsed.problems[-1] == "and 99,980 more problems"


# --- Postmark: Inbound -------------------------------------------------------------------------


def postmark_inbound(**changes: object) -> dict:
    """Postmark's inbound webhook example (developer/webhooks/inbound-webhook), shortened."""
    payload = {
        "FromName": "Postmarkapp Support",
        "MessageStream": "inbound",
        "From": "support@postmarkapp.com",
        "FromFull": {
            "Email": "support@postmarkapp.com",
            "Name": "Postmarkapp Support",
            "MailboxHash": "",
        },
        "To": '"Firstname Lastname" <yourhash+SampleHash@inbound.postmarkapp.com>',
        "ToFull": [
            {
                "Email": "yourhash+SampleHash@inbound.postmarkapp.com",
                "Name": "Firstname Lastname",
                "MailboxHash": "SampleHash",
            }
        ],
        "Cc": '"First Cc" <firstcc@postmarkapp.com>, secondCc@postmarkapp.com>',
        "CcFull": [
            {"Email": "firstcc@postmarkapp.com", "Name": "First Cc", "MailboxHash": ""},
            {"Email": "secondCc@postmarkapp.com", "Name": "", "MailboxHash": ""},
        ],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "yourhash+SampleHash@inbound.postmarkapp.com",
        "Subject": "Test subject",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "replyto@postmarkapp.com",
        "MailboxHash": "SampleHash",
        "Date": "Fri, 1 Aug 2014 16:45:32 -04:00",
        "TextBody": "This is a test text body.\n\nOn Thu, someone wrote:\n> the quote",
        "HtmlBody": "<html><body><p>This is a test html body.</p></body></html>",
        "StrippedTextReply": "This is the reply text",
        "Tag": "TestTag",
        "Headers": [
            {"Name": "X-Header-Test", "Value": ""},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<CAAbc123@mail.gmail.com>"},
            {"Name": "In-Reply-To", "Value": "<6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>"},
            {
                "Name": "References",
                "Value": "<a@x.com>\r\n <6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>",
            },
        ],
        "Attachments": [],
    }
    payload.update(changes)
    return payload


def test_postmark_inbound_reply() -> None:
    event = one(postmark_events.parse_inbound(postmark_inbound(), received_at=RECEIVED))
    assert event.kind is EventKind.replied
    assert event.key == "inbound:73e6d360-66eb-11e1-8e72-a8904824019b"
    assert event.email == "support@postmarkapp.com"
    assert event.occurred_at == datetime(2014, 8, 1, 20, 45, 32, tzinfo=UTC)
    reply = event.reply
    assert reply is not None
    assert reply.from_email == "support@postmarkapp.com"
    assert reply.from_name == "Postmarkapp Support"
    assert reply.mailbox_hash == "SampleHash"
    assert reply.to is not None
    assert reply.to.startswith("yourhash+SampleHash@inbound.postmarkapp.com")
    assert "firstcc@postmarkapp.com" in reply.to
    assert reply.subject == "Test subject"
    assert reply.text == "This is the reply text"
    assert reply.in_reply_to == "<6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>"
    assert reply.references == "<a@x.com> <6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>"


def test_postmark_inbound_text_falls_back_to_the_body_then_the_html() -> None:
    body = one(postmark_events.parse_inbound(postmark_inbound(StrippedTextReply="")))
    assert body.reply is not None and body.reply.text.startswith(
        "This is a test text body.\n\nOn Thu"
    )
    html = one(
        postmark_events.parse_inbound(
            postmark_inbound(
                StrippedTextReply=None,
                TextBody="",
                HtmlBody="<html><head><style>p{}</style></head><body><p>Yes,&nbsp;let's"
                " <b>go</b></p><script>alert(1)</script><div>Thanks</div></body></html>",
            )
        )
    )
    assert html.reply is not None and html.reply.text == "Yes, let's go\n\nThanks"


def test_postmark_inbound_cleans_and_caps_what_it_keeps() -> None:
    event = one(
        postmark_events.parse_inbound(
            postmark_inbound(
                Subject="Re: quote\x1b]8;;http://evil\x07" + "s" * 1_000,
                StrippedTextReply="line one\r\nline\ttwo\x1b[2J\u202e" + "y" * 30_000,
                Date="not a date",
            ),
            received_at=RECEIVED,
        )
    )
    reply = event.reply
    assert reply is not None
    assert "\x1b" not in reply.subject and len(reply.subject) == 300
    assert reply.text.startswith("line one\nline\ttwo[2J")
    assert "\u202e" not in reply.text and len(reply.text) == 20_000 and reply.text.endswith("…")
    assert event.occurred_at == RECEIVED


def test_postmark_inbound_without_a_message_id_gets_a_stable_key() -> None:
    payload = postmark_inbound(MessageID=None, Headers=[])
    first = one(postmark_events.parse_inbound(payload))
    assert first.key.startswith("inbound:sha256:")
    assert first.key == one(postmark_events.parse_inbound(dict(payload))).key
    by_header = one(postmark_events.parse_inbound(postmark_inbound(MessageID=None)))
    assert by_header.key == "inbound:<CAAbc123@mail.gmail.com>"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "x",
        postmark_inbound(FromFull=None, From="nobody"),
        postmark_inbound(FromFull={"Email": 5}, From=None),
    ],
)
def test_postmark_inbound_malformed_is_a_problem(payload: object) -> None:
    parsed = postmark_events.parse_inbound(payload)
    assert parsed.events == [] and len(parsed.problems) == 1


# --- SendGrid: Event Webhook ------------------------------------------------------------------


def sendgrid_event(event: str, **changes: object) -> dict:
    """An event as SendGrid's Event Webhook reference shows it, with our custom arg."""
    payload = {
        "email": "example@test.com",
        "timestamp": 1513299569,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "category": "cat facts",
        "sg_event_id": f"sg_event_id_{event}",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "outbox_id": str(OUTBOX),
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("event", "changes", "kind", "detail"),
    [
        ("delivered", {"response": "250 OK"}, EventKind.delivered, None),
        (
            "bounce",
            {
                "bounce_classification": "Invalid Address",
                "reason": "500 unknown recipient",
                "status": "5.0.0",
                "type": "bounce",
            },
            EventKind.bounced,
            "Invalid Address: 5.0.0: 500 unknown recipient",
        ),
        (
            "bounce",
            {"bounce_classification": "Reputation", "reason": "550 blocked", "type": "blocked"},
            EventKind.soft_bounced,
            "blocked: Reputation: 550 blocked",
        ),
        (
            "dropped",
            {"reason": "Bounced Address", "status": "5.0.0"},
            EventKind.dropped,
            "Bounced Address",
        ),
        (
            "dropped",
            {"reason": "Spam Reporting Address"},
            EventKind.dropped,
            "Spam Reporting Address",
        ),
        (
            "dropped",
            {"reason": "Spam Content (if spam checker app enabled)"},
            EventKind.soft_bounced,
            "dropped: Spam Content (if spam checker app enabled)",
        ),
        ("spamreport", {}, EventKind.complained, None),
        ("unsubscribe", {}, EventKind.unsubscribed, None),
        (
            "group_unsubscribe",
            {"asm_group_id": 10, "useragent": "Mozilla", "ip": "255.255.255.255"},
            EventKind.unsubscribed,
            "group 10",
        ),
        ("group_resubscribe", {"asm_group_id": 10}, EventKind.resubscribed, "group 10"),
    ],
)
def test_sendgrid_event_kinds(
    event: str, changes: dict, kind: EventKind, detail: str | None
) -> None:
    found = one(sendgrid_events.parse_events([sendgrid_event(event, **changes)]))
    assert found.provider == "sendgrid"
    assert found.kind is kind
    assert found.detail == detail
    assert found.key == f"sg_event_id_{event}"
    assert found.email == "example@test.com"
    assert found.outbox_id == OUTBOX
    assert found.message_id == "14c5d75ce93"  # the X-Message-Id the send answered with
    assert found.occurred_at == datetime(2017, 12, 15, 0, 59, 29, tzinfo=UTC)


def test_sendgrid_events_we_do_not_act_on_are_ignored_without_a_problem() -> None:
    parsed = sendgrid_events.parse_events(
        [
            sendgrid_event(name)
            for name in ("processed", "deferred", "open", "click", "machine_opened")
        ]
    )
    assert parsed == Parsed([], [])


def test_sendgrid_malformed_batch_keeps_the_good_items() -> None:
    parsed = sendgrid_events.parse_events(
        [
            1,
            sendgrid_event("bounce", email=None),
            sendgrid_event("dropped", sg_event_id=None),
            sendgrid_event("spamreport", sg_event_id="has spaces"),
            {"email": "a@b.co"},
            sendgrid_event("delivered", timestamp="soon", outbox_id=["x"]),
            sendgrid_event("unsubscribe", timestamp=1e300, sg_event_id="u1"),
        ],
        received_at=RECEIVED,
    )
    assert [(e.key, e.occurred_at, e.outbox_id) for e in parsed.events] == [
        ("sg_event_id_delivered", RECEIVED, None),
        ("u1", RECEIVED, OUTBOX),
    ]
    assert parsed.problems == [
        "item 1: not an object (got int)",
        "item 2: no valid email",
        "item 3: no sg_event_id",
        "item 4: no sg_event_id",
        "item 5: no event",
    ]


@pytest.mark.parametrize("payload", [None, {}, "[]", 7, {"event": "bounce"}])
def test_sendgrid_payload_that_is_not_a_list_is_one_problem(payload: object) -> None:
    parsed = sendgrid_events.parse_events(payload)
    assert parsed.events == [] and len(parsed.problems) == 1


# --- SendGrid: Inbound Parse -------------------------------------------------------------------

INBOUND_HEADERS = (
    "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn Wed, 27 Jul 2016 20:53:06 +0000 (UTC)\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=gmail.com; s=20120113;\r\n"
    "\th=mime-version:from:date:message-id:subject:to;\r\n"
    "MIME-Version: 1.0\r\n"
    "From: Example User <example@example.com>\r\n"
    "Date: Wed, 27 Jul 2016 14:53:03 -0600\r\n"
    "Message-ID: <CAN_P_JMvV7ZpAQhOnDienypLrJmuhN=LQWweu4yScw4jQyXY2w@mail.gmail.com>\r\n"
    "In-Reply-To: <6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>\r\n"
    "References: <6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>\r\n"
    "Subject: Re: Your quote\r\n"
    "To: reply+abcdefgh@reply.example.com\r\n"
    "Content-Type: multipart/alternative; boundary=001a113df448cad2d00538c1f1f3\r\n"
)


def sendgrid_inbound(**changes: object) -> dict:
    """Inbound Parse's default (parsed) form fields, as SendGrid's reference lists them."""
    form: dict = {
        "headers": INBOUND_HEADERS,
        "dkim": "{@gmail.com : pass}",
        "to": "reply+abcdefgh@reply.example.com",
        "html": "<html><body><p>Sounds good</p></body></html>",
        "from": "Example User <example@example.com>",
        "text": "Sounds good\n\nOn Tue, Jul 26 wrote:\n> quote\n",
        "sender_ip": "209.85.223.178",
        "envelope": '{"to":["reply+abcdefgh@reply.example.com"],"from":"example@example.com"}',
        "attachments": "0",
        "subject": "Re: Your quote",
        "charsets": '{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"UTF-8"}',
        "SPF": "pass",
    }
    form.update(changes)
    return form


def test_sendgrid_inbound_reply() -> None:
    event = one(sendgrid_events.parse_inbound(sendgrid_inbound(), received_at=RECEIVED))
    assert event.kind is EventKind.replied
    assert (
        event.key == "inbound:<CAN_P_JMvV7ZpAQhOnDienypLrJmuhN=LQWweu4yScw4jQyXY2w@mail.gmail.com>"
    )
    assert event.email == "example@example.com"
    assert event.occurred_at == datetime(2016, 7, 27, 20, 53, 3, tzinfo=UTC)
    reply = event.reply
    assert reply is not None
    assert reply.from_name == "Example User"
    assert reply.to == "reply+abcdefgh@reply.example.com"
    assert reply.mailbox_hash is None
    assert reply.subject == "Re: Your quote"
    assert reply.text.startswith("Sounds good\n\nOn Tue")
    assert (
        reply.in_reply_to
        == reply.references
        == "<6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@example.com>"
    )


def test_sendgrid_inbound_decodes_bytes_by_the_charsets_field() -> None:
    form = sendgrid_inbound(
        text="Grüße aus Köln".encode("iso-8859-1"),
        subject=b"Re: Angebot",
        charsets='{"text":"iso-8859-1","subject":"UTF-8"}',
    )
    reply = one(sendgrid_events.parse_inbound(form)).reply
    assert reply is not None and reply.text == "Grüße aus Köln" and reply.subject == "Re: Angebot"
    for charset in ("no-such-charset", "idna", "rot13"):  # unknown, or no text encoding
        unknown = sendgrid_inbound(text=b"ok", charsets=json.dumps({"text": charset}))
        assert one(sendgrid_events.parse_inbound(unknown)).reply.text == "ok"


def test_sendgrid_inbound_without_headers_gets_a_hash_key_and_the_time_received() -> None:
    form = sendgrid_inbound(headers="", text="", html="<p>Hi</p>", envelope="{broken")
    event = one(sendgrid_events.parse_inbound(form, received_at=RECEIVED))
    assert event.key.startswith("inbound:sha256:")
    assert event.key == one(sendgrid_events.parse_inbound(dict(form))).key
    assert event.occurred_at == RECEIVED
    assert event.reply is not None and event.reply.text == "Hi"


@pytest.mark.parametrize(
    "form", [None, [], "from=x", sendgrid_inbound(**{"from": "no address here"}), {}]
)
def test_sendgrid_inbound_malformed_is_a_problem(form: object) -> None:
    parsed = sendgrid_events.parse_inbound(form)  # type: ignore[arg-type]
    assert parsed.events == [] and len(parsed.problems) == 1


# --- robustness: any JSON, never an exception ---------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)


def _mutated(base: dict) -> st.SearchStrategy[dict]:
    """A documented payload with any of its fields (nested ones too) replaced by any JSON:
    most fields stay good, so the parsers get past their first checks."""
    return st.fixed_dictionaries(
        {
            key: st.one_of(
                st.just(value),
                _mutated(value) if isinstance(value, dict) and value else _json,
                _json,
            )
            for key, value in base.items()
        }
    )


_documented = st.one_of(
    _mutated(postmark_bounce()),
    _mutated(postmark_bounce(RecordType="SpamComplaint")),
    _mutated(subscription_change()),
    _mutated(postmark_delivery()),
    _mutated(postmark_inbound()),
    *(
        _mutated(sendgrid_event(name, type="bounce", reason="x", asm_group_id=3))
        for name in ("bounce", "dropped", "group_unsubscribe", "delivered")
    ),
)
_shaped = _documented | st.lists(_documented, max_size=4)

_fuzz = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sane(parsed: Parsed) -> None:
    assert isinstance(parsed, Parsed)
    for problem in parsed.problems:
        assert "could not be read" not in problem, problem  # a bug caught by the guard
    for event in parsed.events:
        assert event.occurred_at.tzinfo is not None
        assert event.detail is None or (event.detail.isprintable() and len(event.detail) <= 500)


@_fuzz
@given(_json | _shaped)
def test_fuzz_json_parsers_never_raise(payload: object) -> None:
    # One test for the three, as generating nested JSON costs far more than parsing it.
    _sane(postmark_events.parse_webhook(payload, received_at=RECEIVED))
    _sane(postmark_events.parse_inbound(payload, received_at=RECEIVED))
    _sane(sendgrid_events.parse_events(payload, received_at=RECEIVED))


@_fuzz
@given(
    st.dictionaries(
        st.sampled_from(
            ["from", "to", "subject", "text", "html", "headers", "envelope", "charsets"]
        ),
        st.text(max_size=200) | st.binary(max_size=60),
    )
)
def test_fuzz_sendgrid_inbound_never_raises(form: dict) -> None:
    _sane(sendgrid_events.parse_inbound(form, received_at=RECEIVED))


def test_a_huge_string_is_cut_not_carried() -> None:
    huge = "x" * 5_000_000
    parsed = postmark_events.parse_webhook(postmark_bounce(Details=huge, Type=huge, Email=huge))
    assert parsed.events == [] and parsed.problems == ["item 1: no valid Email"]
    event = one(
        postmark_events.parse_inbound(postmark_inbound(StrippedTextReply=huge, Subject=huge))
    )
    assert event.reply is not None and len(event.reply.text) == 20_000


# --- SendGrid: the signed Event Webhook --------------------------------------------------------

NOW = 1_760_000_000.0


def key_pair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


BODY = json.dumps([sendgrid_event("bounce", type="bounce")]).encode()


def test_a_good_signature_passes() -> None:
    private, public = key_pair()
    timestamp = str(int(NOW) - 30)
    verify(public, sign(private, timestamp, BODY), timestamp, BODY, now=NOW, max_age=600)
    # The key as a PEM block is read too.
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verify(pem, sign(private, timestamp, BODY), timestamp, BODY, now=NOW, max_age=600)


def _reason(public: str, signature: str | None, timestamp: str | None, body: bytes = BODY) -> str:
    with pytest.raises(BadSignature) as raised:
        verify(public, signature, timestamp, body, now=NOW, max_age=600)
    return raised.value.reason


def test_what_is_refused_and_why() -> None:
    private, public = key_pair()
    _other, other_public = key_pair()
    ts = str(int(NOW) - 30)
    good = sign(private, ts, BODY)
    assert (
        _reason(public, good, ts, BODY.replace(b"bounce", b"bounse")) == "signature does not match"
    )
    assert _reason(public, good, str(int(NOW) - 31)) == "signature does not match"
    assert _reason(other_public, good, ts) == "signature does not match"
    stale = str(int(NOW) - 601)
    assert (
        _reason(public, sign(private, stale, BODY), stale) == "stale timestamp (older than 600 s)"
    )
    future = str(int(NOW) + 3_600)
    assert _reason(public, sign(private, future, BODY), future) == "timestamp in the future"
    assert _reason(public, "not base64!!", ts) == "malformed signature"
    assert _reason(public, "A" * 500, ts) == "malformed signature"
    assert (
        _reason(public, base64.b64encode(b"garbage der").decode(), ts) == "signature does not match"
    )
    assert _reason(public, None, ts) == "missing signature"
    assert _reason(public, good, "") == "missing timestamp"
    assert _reason(public, good, "12:00") == "malformed timestamp"
    assert _reason(public, good, "1e9") == "malformed timestamp"


def test_a_key_we_cannot_use_is_our_configuration() -> None:
    private, _public = key_pair()
    ts = str(int(NOW))
    good = sign(private, ts, BODY)
    rsa_like = base64.b64encode(b"\x30\x03\x02\x01\x00").decode()
    p384 = base64.b64encode(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    for bad_key, reason in [
        ("", "no public key is configured"),
        ("not base64 ***", "the configured public key cannot be read"),
        (rsa_like, "the configured public key cannot be read"),
        (p384, "the configured public key is not a P-256 (ECDSA) key"),
    ]:
        with pytest.raises(UnusableKey) as raised:
            verify(bad_key, good, ts, BODY, now=NOW, max_age=600)
        assert raised.value.reason == reason


def test_importing_the_parsers_does_not_load_cryptography() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import salesengine_tui.email.sendgrid_signature, salesengine_tui.email.sendgrid_events\n"
        "import salesengine_tui.email.postmark_events\n"
        "assert 'cryptography' not in sys.modules, 'cryptography loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
