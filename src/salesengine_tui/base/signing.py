"""Signed tokens: a payload and a truncated HMAC-SHA256 over the purpose and the payload.

A token made for one purpose (an unsubscribe link) is refused for another (a reply address).
Several keys verify (the current one first, then the one before a rotation); only the first
signs. Two spellings: base64url for URLs, lower-case base32 for email local parts (mail
systems may change their case). Nothing here logs a key or a token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

MAC_BYTES = 16
MAX_TOKEN = 200  # longer text is not one of ours: refused before any decoding


def _mac(key: bytes, purpose: str, payload: bytes) -> bytes:
    message = purpose.encode() + b"\x00" + payload
    return hmac.new(key, message, hashlib.sha256).digest()[:MAC_BYTES]


def sign(key: bytes, purpose: str, payload: bytes) -> str:
    """`<payload>.<mac>` in base64url without padding."""
    return f"{_b64(payload)}.{_b64(_mac(key, purpose, payload))}"


def verify(keys: Sequence[bytes], purpose: str, token: str) -> bytes | None:
    """The payload of a token one of `keys` signed for `purpose`; None for anything else
    (altered, forged, truncated, another purpose, not a token at all)."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    payload_text, mac_text = token.split(".")
    payload, mac = _unb64(payload_text), _unb64(mac_text)
    if payload is None or mac is None:
        return None
    return _check(keys, purpose, payload, mac)


def sign_base32(key: bytes, purpose: str, payload: bytes) -> str:
    """Payload and MAC as one lower-case base32 word (for `reply+<word>@...`)."""
    raw = payload + _mac(key, purpose, payload)
    return base64.b32encode(raw).decode().rstrip("=").lower()


def verify_base32(
    keys: Sequence[bytes], purpose: str, word: str, payload_bytes: int
) -> bytes | None:
    """The payload of a `sign_base32` word (any case) of `payload_bytes`; None otherwise."""
    if not word or len(word) > MAX_TOKEN:
        return None
    text = word.strip().upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != payload_bytes + MAC_BYTES:
        return None
    return _check(keys, purpose, raw[:payload_bytes], raw[payload_bytes:])


def _check(keys: Sequence[bytes], purpose: str, payload: bytes, mac: bytes) -> bytes | None:
    # Every key is tried (no early return on the first match's position leaks nothing useful,
    # and compare_digest keeps each comparison constant-time).
    good = False
    for key in keys:
        good |= hmac.compare_digest(_mac(key, purpose, payload), mac)
    return payload if good else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes | None:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
