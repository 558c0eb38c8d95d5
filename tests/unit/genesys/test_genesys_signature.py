"""Webhook signature: docs/reference/genesys-open-messaging.md §6 vector, whitespace tolerated, hex and tampering rejected."""

from __future__ import annotations

import pytest

from om_bridge.bridge.genesys.signature import compute_signature, verify_signature

SECRET = "0123456789abcdef-test-secret"
BODY = (
    b'{"id":"msg-1","channel":{"id":"int-1","platform":"Open","type":"Private",'
    b'"to":{"id":"cust-1"},'
    b'"from":{"nickname":"My Integration","id":"int-1","idType":"Opaque"},'
    b'"time":"2024-01-01T00:00:00.000Z","messageId":"msg-1"},"type":"Text","text":"Hi",'
    b'"direction":"Outbound","originatingEntity":"Human"}'
)
HEADER = "sha256=P2dhKfdWy1zOh5vPANkR+57cEEmdZcbQvTJKsNqS6UM="


def test_reference_vector():
    assert compute_signature(SECRET, BODY) == HEADER
    assert verify_signature(SECRET, BODY, HEADER)


@pytest.mark.parametrize("header", [f"  {HEADER}", f"{HEADER}\n", f"\t{HEADER} "])
def test_surrounding_whitespace_tolerated(header):
    assert verify_signature(SECRET, BODY, header)


def test_hex_digest_rejected():
    import hashlib
    import hmac

    hexdigest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert hexdigest.startswith("3f676129f756cb5c")
    assert not verify_signature(SECRET, BODY, "sha256=" + hexdigest)
    assert not verify_signature(SECRET, BODY, hexdigest)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        HEADER.removeprefix("sha256="),
        HEADER.replace("P2d", "P2e"),
        "sha256= " + HEADER[7:],
        HEADER.upper(),
        HEADER.rstrip("="),
        "sha256=ü",
    ],
)
def test_wrong_headers_rejected(header):
    assert not verify_signature(SECRET, BODY, header)


def test_body_and_secret_bound():
    assert not verify_signature(SECRET, BODY + b" ", HEADER)
    assert not verify_signature(SECRET + "x", BODY, HEADER)
    assert not verify_signature("", BODY, HEADER)
