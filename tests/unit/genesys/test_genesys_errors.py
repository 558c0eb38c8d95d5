"""Typed errors parsed from Genesys ErrorBody and OAuth error responses, with safe string forms."""

from __future__ import annotations

import pytest
import responses
from genesys_testkit import API, CLIENT_SECRET, TOKEN_URL, FakeClock, add_token, make_client

from om_bridge.bridge.genesys import (
    AuthenticationError,
    BadRequestError,
    InvalidClientError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from om_bridge.bridge.genesys.errors import parse_retry_after

CTX = "be93021b-8cac-41ef-88ee-428b47bad0db"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def error_body(status: int, code: str, message: str, **extra) -> dict:
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": CTX,
        "details": [],
        "errors": [],
        **extra,
    }


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "bad.request", BadRequestError),
        (413, "request.entity.too.large", BadRequestError),
        (415, "unsupported.media.type", BadRequestError),
        (409, "conflict", BadRequestError),
        (404, "not.found", NotFoundError),
        (500, "internal.server.error", ServerError),
        (429, "too.many.requests", RateLimitedError),
        (403, "not.authorized", PermissionDeniedError),
    ],
)
def test_error_body_fields(rsps, status, code, cls):
    add_token(rsps, token="tok-secret-abc")
    rsps.add(
        responses.GET,
        API + "/api/v2/x",
        status=status,
        json=error_body(status, code, "The message"),
    )
    client = make_client(FakeClock())
    with pytest.raises(cls) as info:
        client.request("GET", "/api/v2/x", params={"q": "1"}, retry=False)
    err = info.value
    assert (err.status, err.code, err.context_id, err.message) == (status, code, CTX, "The message")
    assert err.body["contextId"] == CTX
    assert (err.method, err.path) == ("GET", "/api/v2/x")
    text = str(err)
    assert CTX in text and "/api/v2/x" in text and "?" not in text
    assert "tok-secret-abc" not in text and CLIENT_SECRET not in text


def test_non_json_error_body(rsps):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/x", status=502, body="<html>bad gateway</html>")
    with pytest.raises(ServerError) as info:
        make_client(FakeClock()).request("GET", "/api/v2/x", retry=False)
    assert info.value.status == 502 and info.value.body is None and info.value.code is None


def test_401_on_api_is_authentication_error(rsps):
    add_token(rsps)
    rsps.add(
        responses.GET,
        API + "/api/v2/x",
        status=401,
        json=error_body(401, "bad.credentials", "Invalid login credentials."),
    )
    with pytest.raises(AuthenticationError) as info:
        make_client(FakeClock()).request("GET", "/api/v2/x")
    assert info.value.code == "bad.credentials"


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            error_body(
                403,
                "missing.permissions",
                "You are missing the following permission(s): [conversation:message:view, "
                "messaging:integration:view]",
            ),
            ["conversation:message:view", "messaging:integration:view"],
        ),
        (
            error_body(
                403,
                "missing.permissions",
                "Missing permissions",
                messageParams={"permissions": ["analytics:conversationDetail:view"]},
            ),
            ["analytics:conversationDetail:view"],
        ),
        (
            error_body(
                403,
                "missing.any.permissions",
                "Missing any of {perms}",
                messageParams={"perms": "notifications:*:view"},
            ),
            ["notifications:*:view"],
        ),
        (
            error_body(
                403, "not.authorized", "You are not authorized to perform the requested action."
            ),
            [],
        ),
    ],
)
def test_permission_denied_lists_missing_permissions(rsps, body, expected):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/x", status=403, json=body)
    with pytest.raises(PermissionDeniedError) as info:
        make_client(FakeClock()).request("GET", "/api/v2/x")
    assert info.value.missing_permissions == expected
    for perm in expected:
        assert perm in str(info.value)


@pytest.mark.parametrize(
    "status,description,which",
    [
        (400, "client not found", "client_id"),
        (401, "authentication failed", "client_secret"),
        # Other wordings: the status alone decides (400 = unknown client, 401 = wrong secret).
        (400, "unknown client", "client_id"),
        (401, "invalid credentials", "client_secret"),
    ],
)
def test_invalid_client_says_which_credential(rsps, status, description, which):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        status=status,
        json={
            "error": "invalid_client",
            "description": description,
            "error_description": description,
        },
    )
    with pytest.raises(InvalidClientError) as info:
        make_client(FakeClock()).request("GET", "/api/v2/x")
    err = info.value
    assert err.which == which and err.status == status and err.code == "invalid_client"
    assert which in str(err) and err.message == description
    assert CLIENT_SECRET not in str(err) and CLIENT_SECRET not in repr(err)
    assert len(rsps.calls) == 1  # a bad credential is never retried


@pytest.mark.parametrize(
    "value,expected",
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
