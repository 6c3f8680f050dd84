"""Signed tokens: unsubscribe links, reply addresses and Message-IDs (no database)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from salesengine_tui.base import signing
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.settings import load_settings
from salesengine_tui.email import tokens

CUSTOMER = uuid.UUID("7d1c4a52-0b7e-4f8e-9a51-3c2d1e0f9a88")
TODAY = date(2026, 12, 1)


def _settings(**extra: object):
    base = {
        "signing_key": "k1-" + "x" * 30,
        "unsubscribe_url": "https://mail.acme.example/unsubscribe",
        "reply_domain": "reply.acme.example",
        "email_from": "Acme Sales <sales@acme.example>",
    }
    return load_settings(**{**base, **extra})


def test_an_unsubscribe_link_names_its_customer_signed_not_bare() -> None:
    settings = _settings()
    link = tokens.unsubscribe_link(settings, CUSTOMER, TODAY)
    assert link is not None and link.startswith("https://mail.acme.example/unsubscribe?t=")
    assert str(CUSTOMER) not in link and CUSTOMER.hex not in link
    token = link.split("?t=")[1]
    read = tokens.read_unsubscribe_token(settings, token, TODAY + timedelta(days=60))
    assert read == tokens.UnsubscribeToken(CUSTOMER, TODAY)


def test_a_url_with_a_query_gets_the_token_after_an_ampersand() -> None:
    link = tokens.unsubscribe_link(
        _settings(unsubscribe_url="https://x.example/u?list=7"), CUSTOMER, TODAY
    )
    assert link is not None and "?list=7&t=" in link


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the MAC altered
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # the payload altered
        lambda t: t.split(".")[0],  # no MAC
        lambda t: t + "." + t,  # two dots
        lambda t: "",
        lambda t: str(CUSTOMER),  # a bare id
        lambda t: "%00" + t,
        lambda t: t * 10,  # too long
    ],
)
def test_an_altered_or_forged_token_is_refused(change) -> None:
    settings = _settings()
    token = tokens.unsubscribe_token(settings, CUSTOMER, TODAY)
    with pytest.raises(tokens.BadToken):
        tokens.read_unsubscribe_token(settings, change(token), TODAY)


def test_a_token_signed_with_another_key_is_refused_and_the_previous_key_still_reads() -> None:
    old = _settings(signing_key="old-key-" + "y" * 30)
    token = tokens.unsubscribe_token(old, CUSTOMER, TODAY)
    with pytest.raises(tokens.BadToken):
        tokens.read_unsubscribe_token(_settings(), token, TODAY)
    rotated = _settings(signing_key_previous="old-key-" + "y" * 30)
    assert tokens.read_unsubscribe_token(rotated, token, TODAY).customer_id == CUSTOMER
    # New links are signed with the current key only.
    assert tokens.unsubscribe_token(rotated, CUSTOMER, TODAY) != token


def test_links_work_for_their_validity_and_then_expire() -> None:
    settings = _settings(unsubscribe_valid_days=60)
    token = tokens.unsubscribe_token(settings, CUSTOMER, TODAY)
    assert tokens.read_unsubscribe_token(settings, token, TODAY + timedelta(days=60))
    with pytest.raises(tokens.ExpiredToken) as expired:
        tokens.read_unsubscribe_token(settings, token, TODAY + timedelta(days=61))
    assert expired.value.issued == TODAY


def test_links_cannot_be_made_valid_for_less_than_60_days() -> None:
    with pytest.raises(Exception, match="60"):
        _settings(unsubscribe_valid_days=30)


def test_no_key_no_link_and_reading_names_the_setting() -> None:
    settings = load_settings(unsubscribe_url="https://x.example/u", signing_key=None)
    assert tokens.unsubscribe_link(settings, CUSTOMER, TODAY) is None
    with pytest.raises(UserError, match="SALESENGINE_SIGNING_KEY"):
        tokens.read_unsubscribe_token(settings, "abc.def", TODAY)


def test_a_reply_address_maps_back_to_its_email_in_any_case() -> None:
    settings = _settings()
    outbox_id = uuid.uuid4()
    address = tokens.reply_address(settings, outbox_id)
    assert address is not None and address.endswith("@reply.acme.example")
    assert len(address.split("@")[0]) <= 64  # an email local part's limit
    assert tokens.read_reply_token(settings, address) == outbox_id
    assert (
        tokens.read_reply_token(settings, f'"Acme" <{address.upper()}>, other@x.example')
        == outbox_id
    )
    word = address.split("+")[1].split("@")[0]
    assert tokens.read_reply_token(settings, word) == outbox_id  # Postmark's MailboxHash
    forged = word[:-2] + ("aa" if word[-2:] != "aa" else "bb")
    assert tokens.read_reply_token(settings, forged) is None
    # An unsubscribe token is not a reply token, whatever its bytes.
    assert (
        tokens.read_reply_token(settings, tokens.unsubscribe_token(settings, CUSTOMER, TODAY))
        is None
    )


def test_message_ids_are_ours_only_at_our_domain() -> None:
    settings = _settings()
    first, second = uuid.uuid4(), uuid.uuid4()
    assert tokens.message_id(settings, first) == f"<{first}@acme.example>"
    header = f"<{first}@acme.example> <x@gmail.com> <{second}@ACME.example> <{uuid.uuid4()}@evil.example>"
    assert tokens.outbox_ids_in(settings, header) == [second, first]  # the nearest first
    assert tokens.outbox_ids_in(settings, None) == []


def test_purposes_do_not_mix() -> None:
    key = b"k"
    token = signing.sign(key, "a", b"payload")
    assert signing.verify([key], "a", token) == b"payload"
    assert signing.verify([key], "b", token) is None
    assert signing.verify([], "a", token) is None
