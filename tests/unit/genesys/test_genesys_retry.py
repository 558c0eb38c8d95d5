"""Retries: 429 + Retry-After pausing the whole client, 502/503/504, connection errors, deadline."""

from __future__ import annotations

import pytest
import requests
import responses
from genesys_testkit import API, FakeClock, add_token, api_calls, make_client, policy

from om_bridge.bridge.genesys import (
    BadRequestError,
    DeadlineExceededError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from om_bridge.bridge.genesys.retry import BackoffCalculator

PATH = "/api/v2/routing/queues/q1"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock():
    return FakeClock()


def rate_limited(retry_after: str | None = "7") -> dict:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return dict(
        status=429,
        headers=headers,
        json={
            "message": "Rate limit exceeded the maximum. Retry the request in [7] seconds",
            "code": "too.many.requests.retry.after",
            "status": 429,
        },
    )


def test_429_honours_retry_after(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, **rate_limited("7"))
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    assert make_client(clock).get_queue("q1") == {"id": "q1"}
    assert clock.sleeps == [7.0]
    assert len(api_calls(rsps)) == 2


def test_429_pauses_other_calls_of_the_client(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, **rate_limited("5"))
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1"})
    client = make_client(clock)
    with pytest.raises(RateLimitedError) as info:
        client.request("GET", PATH, retry=False)
    assert info.value.retry_after == 5.0
    assert clock.sleeps == []
    clock.advance(1.0)
    # A different call on the same client waits out the rest of the pause before it goes out.
    client.get_user("u1")
    assert clock.sleeps == [4.0]
    clock.advance(10)
    rsps.add(responses.GET, API + "/api/v2/users/u2", json={"id": "u2"})
    client.get_user("u2")
    assert clock.sleeps == [4.0]  # pause over: no more waiting


def test_429_without_usable_retry_after_backs_off(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, **rate_limited(None))
    rsps.add(responses.GET, API + PATH, **rate_limited("garbage"))
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    make_client(clock).get_queue("q1")
    # rng 0.5 × base 0.25 × 2**(attempt-1)
    assert clock.sleeps == [0.125, 0.25]


def test_retry_after_is_capped(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, **rate_limited("3600"))
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    make_client(clock, retry=policy(clock, max_retry_after=20.0)).get_queue("q1")
    assert clock.sleeps == [20.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_retried(rsps, clock, status):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, status=status, json={"code": "service.unavailable"})
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    assert make_client(clock).get_queue("q1") == {"id": "q1"}
    assert len(api_calls(rsps)) == 2
    assert clock.sleeps == [0.125]


def test_connection_error_retried(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, body=requests.ConnectionError("connection refused"))
    rsps.add(responses.GET, API + PATH, body=requests.ConnectTimeout("timed out"))
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    assert make_client(clock).get_queue("q1") == {"id": "q1"}
    assert len(api_calls(rsps)) == 3


def test_token_endpoint_connection_error_retried(rsps, clock):
    from genesys_testkit import TOKEN_URL

    rsps.add(responses.POST, TOKEN_URL, body=requests.ConnectionError("reset"))
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    assert make_client(clock).get_queue("q1") == {"id": "q1"}


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (500, ServerError),
        (409, BadRequestError),
    ],
)
def test_client_errors_never_retried(rsps, clock, status, cls):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, status=status, json={"status": status, "code": "x"})
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    with pytest.raises(cls):
        make_client(clock).get_queue("q1")
    assert len(api_calls(rsps)) == 1
    assert clock.sleeps == []


def test_attempts_run_out_raises_last_error(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, status=503, json={"code": "service.unavailable"})
    with pytest.raises(ServerError) as info:
        make_client(clock, retry=policy(clock, max_attempts=4, deadline=1e9)).get_queue("q1")
    assert info.value.status == 503
    assert len(api_calls(rsps)) == 4
    assert len(clock.sleeps) == 3


def test_deadline_exceeded_carries_last_error(rsps, clock):
    add_token(rsps)
    rsps.add(
        responses.GET,
        API + PATH,
        status=503,
        json={"code": "service.unavailable", "contextId": "ctx-9"},
    )
    retry = policy(clock, deadline=1.0, rng=lambda: 1.0, max_attempts=50)
    with pytest.raises(DeadlineExceededError) as info:
        make_client(clock, retry=retry).get_queue("q1")
    err = info.value
    # Delays 0.25 and 0.5 fit into 1 s; the third (1.0) would not.
    assert clock.sleeps == [0.25, 0.5]
    assert err.attempts == 3 and isinstance(err.last_error, ServerError)
    assert err.status == 503 and err.context_id == "ctx-9"
    assert "deadline" in str(err)


def test_rate_pause_longer_than_deadline(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, **rate_limited("50"))
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1"})
    client = make_client(clock, retry=policy(clock, deadline=30.0))
    with pytest.raises(DeadlineExceededError) as info:
        client.get_queue("q1")
    assert isinstance(info.value.last_error, RateLimitedError)
    # Another call cannot wait out a 50 s pause within its 30 s deadline: it fails without sending.
    with pytest.raises(DeadlineExceededError, match="rate limit"):
        client.get_user("u1")
    assert clock.sleeps == []
    assert [c.request.url for c in api_calls(rsps)] == [API + PATH]


def test_retry_false_makes_one_attempt(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + PATH, status=503, json={})
    with pytest.raises(ServerError):
        make_client(clock).request("GET", PATH, retry=False)
    assert len(api_calls(rsps)) == 1


def test_backoff_full_jitter_and_cap():
    draws = iter([0.0, 1.0, 1.0, 1.0])
    backoff = BackoffCalculator(base=1.0, cap=3.0, rng=lambda: next(draws))
    assert [backoff.delay(n) for n in (1, 2, 3, 10)] == [0.0, 2.0, 3.0, 3.0]


def test_401_refreshes_token_once_then_succeeds(rsps, clock):
    from genesys_testkit import TOKEN_URL

    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "old", "expires_in": 3600})
    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "new", "expires_in": 3600})
    rsps.add(responses.GET, API + PATH, status=401, json={"code": "credentials.expired"})
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    assert make_client(clock).get_queue("q1") == {"id": "q1"}
    auth = [c.request.headers["Authorization"] for c in api_calls(rsps)]
    assert auth == ["Bearer old", "Bearer new"]
    assert clock.sleeps == []


def test_401_refresh_does_not_use_up_a_retry_attempt(rsps, clock):
    from genesys_testkit import TOKEN_URL

    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "old", "expires_in": 3600})
    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "new", "expires_in": 3600})
    rsps.add(responses.GET, API + PATH, status=401, json={"code": "credentials.expired"})
    rsps.add(responses.GET, API + PATH, status=503, json={"code": "service.unavailable"})
    rsps.add(responses.GET, API + PATH, json={"id": "q1"})
    client = make_client(clock, retry=policy(clock, max_attempts=2))
    assert client.get_queue("q1") == {"id": "q1"}
    assert len(api_calls(rsps)) == 3 and len(clock.sleeps) == 1


def test_second_401_raises(rsps, clock):
    from genesys_testkit import TOKEN_URL, token_calls

    from om_bridge.bridge.genesys import AuthenticationError

    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "t", "expires_in": 3600})
    rsps.add(responses.GET, API + PATH, status=401, json={"code": "bad.credentials"})
    with pytest.raises(AuthenticationError):
        make_client(clock).get_queue("q1")
    assert len(api_calls(rsps)) == 2
    assert len(token_calls(rsps)) == 2
