"""Open Messaging webhook signature `X-Hub-Signature-256` (docs/reference/genesys-open-messaging.md §6)."""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def compute_signature(secret: str, body: bytes) -> str:
    """`sha256=` + base64 of HMAC-SHA256 over the raw body bytes, exactly what Genesys sends."""
    # Genesys signs the raw bytes and encodes the digest as standard base64 (not hex).
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return _PREFIX + base64.b64encode(digest).decode("ascii")


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body`; constant-time, surrounding whitespace only."""
    if not secret or header is None:
        return False
    expected = compute_signature(secret, body).encode("ascii")
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)
