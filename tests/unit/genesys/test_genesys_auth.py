"""OAuth client-credentials tokens: request shape, caching, early refresh, single flight."""

from __future__ import annotations

import base64
import threading
from urllib.parse import parse_qs

import pytest
import requests
import responses
from genesys_testkit import (
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    LOGIN,
    TOKEN_URL,
    FakeClock,
    add_token,
    api_calls,
    make_client,
    token_calls,
)

from om_bridge.bridge.genesys import TokenProvider
from tests.conftest import wait_until


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def provider(clock: FakeClock, **kw) -> TokenProvider:
    return TokenProvider(LOGIN, CLIENT_ID, CLIENT_SECRET, requests.Session(), clock=clock, **kw)


def test_token_request_is_basic_auth_form_without_scope(rsps):
    add_token(rsps, token="abc")
    assert provider(FakeClock()).token() == "abc"
    request = rsps.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body) == {"grant_type": ["client_credentials"]}


def test_token_cached_across_api_calls(rsps):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1"})
    client = make_client(FakeClock())
    for _ in range(5):
        client.request("GET", "/api/v2/users/u1")
    assert len(token_calls(rsps)) == 1
    assert len(api_calls(rsps)) == 5
    assert all(c.request.headers["Authorization"] == "Bearer tok-1" for c in api_calls(rsps))


def test_refreshed_margin_seconds_before_expiry(rsps):
    clock = FakeClock()
    tokens = provider(clock, refresh_margin=60.0)
    add_token(rsps, token="first", expires_in=3600)
    assert tokens.token() == "first"
    clock.advance(3600 - 61)
    assert tokens.token() == "first"
    rsps.replace(responses.POST, TOKEN_URL, json={"access_token": "second", "expires_in": 3600})
    clock.advance(2)  # now inside the 60 s margin
    assert tokens.token() == "second"
    assert len(rsps.calls) == 2


def test_short_tokens_refresh_at_half_life(rsps):
    clock = FakeClock()
    tokens = provider(clock, refresh_margin=60.0)
    add_token(rsps, token="short", expires_in=10)
    tokens.token()
    clock.advance(4.9)
    tokens.token()
    assert len(rsps.calls) == 1
    clock.advance(0.2)
    tokens.token()
    assert len(rsps.calls) == 2


def test_invalidate_only_the_current_token(rsps):
    clock = FakeClock()
    tokens = provider(clock)
    add_token(rsps, token="t1")
    tokens.token()
    tokens.invalidate("some-older-token")
    tokens.token()
    assert len(rsps.calls) == 1
    tokens.invalidate("t1")
    tokens.token()
    assert len(rsps.calls) == 2


class CountingLock:
    """A lock that counts threads that reached it, so the test knows all of them are contending."""

    def __init__(self):
        self._lock = threading.Lock()
        self.arrived = 0
        self._count_lock = threading.Lock()

    def __enter__(self):
        with self._count_lock:
            self.arrived += 1
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()


def test_one_refresh_across_threads(rsps):
    threads_n = 8
    tokens = provider(FakeClock())
    lock = CountingLock()
    tokens._lock = lock
    all_waiting = threading.Event()
    posts = []

    def token_endpoint(request):
        posts.append(request)
        # Hold the first refresh open until every thread is queued behind it.
        assert all_waiting.wait(10)
        return 200, {}, '{"access_token": "shared", "expires_in": 3600}'

    rsps.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
    results: list[str] = []
    workers = [
        threading.Thread(target=lambda: results.append(tokens.token())) for _ in range(threads_n)
    ]
    for w in workers:
        w.start()
    wait_until(lambda: lock.arrived == threads_n, what="all threads at the token lock")
    all_waiting.set()
    for w in workers:
        w.join(10)
    assert results == ["shared"] * threads_n
    assert len(posts) == 1


def test_missing_credentials_rejected_before_any_request(rsps):
    tokens = TokenProvider(LOGIN, "", "", requests.Session())
    with pytest.raises(ValueError, match="client id and client secret"):
        tokens.token()
    assert len(rsps.calls) == 0


def test_token_response_without_access_token(rsps):
    rsps.add(responses.POST, TOKEN_URL, json={"token_type": "bearer"})
    from om_bridge.bridge.genesys import GenesysError

    with pytest.raises(GenesysError, match="without an access_token"):
        provider(FakeClock()).token()


def test_repr_hides_secret():
    assert CLIENT_SECRET not in repr(provider(FakeClock()))
