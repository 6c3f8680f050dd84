"""SendGrid's Signed Event Webhook: is this request from SendGrid, and recent?

SendGrid signs the request's timestamp (the `X-Twilio-Email-Event-Webhook-Timestamp` header,
Unix seconds) followed by the raw body bytes with ECDSA over P-256 and SHA-256, and sends the
DER signature, base64, in `X-Twilio-Email-Event-Webhook-Signature`. The account's public key
(Mail Settings > Event Webhook) is base64 DER SubjectPublicKeyInfo: the setting
SALESENGINE_SENDGRID_WEBHOOK_PUBLIC_KEY holds it as shown (a PEM block is read too).

`cryptography` is imported when a signature is checked, not with this module: the app's start
path never loads it (only the webhook service verifies).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

# A timestamp this far ahead of our clock is still taken (clocks drift a little); further is
# refused as surely as a stale one: a future timestamp would make a captured request
# replayable for longer.
FUTURE_SKEW_SECONDS = 60
# A DER ECDSA P-256 signature is at most 72 bytes (96 in base64); a longer header is not one.
_SIGNATURE_MAX = 200
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class BadSignature(Exception):
    """The request is refused; `reason` says why in a few words (no secret, no input echoed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnusableKey(BadSignature):
    """The configured public key is missing or unreadable: our configuration, not the
    request, is wrong (the service answers and logs it differently)."""


def verify(
    public_key: str,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    now: float,
    max_age: int,
) -> None:
    """Return if `signature` is SendGrid's over `timestamp` + `body` and the timestamp is at
    most `max_age` seconds old (and not in the future); raise BadSignature otherwise."""
    signature = (signature or "").strip()
    timestamp = (timestamp or "").strip()
    if not signature:
        raise BadSignature("missing signature")
    if not timestamp:
        raise BadSignature("missing timestamp")
    key = _public_key((public_key or "").strip())
    if not _TIMESTAMP.fullmatch(timestamp):
        raise BadSignature("malformed timestamp")
    age = now - int(timestamp)
    if age > max_age:
        raise BadSignature(f"stale timestamp (older than {max_age} s)")
    if age < -FUTURE_SKEW_SECONDS:
        raise BadSignature("timestamp in the future")
    try:
        if len(signature) > _SIGNATURE_MAX:
            raise ValueError("too long")
        der = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise BadSignature("malformed signature") from None
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key.verify(der, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise BadSignature("signature does not match") from None


@functools.lru_cache(maxsize=4)  # one key a deployment (two while it is rotated)
def _public_key(text: str) -> EllipticCurvePublicKey:
    if not text:
        raise UnusableKey("no public key is configured")
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(
                base64.b64decode("".join(text.split()), validate=True)
            )
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise UnusableKey("the configured public key cannot be read") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UnusableKey("the configured public key is not a P-256 (ECDSA) key")
    return key
