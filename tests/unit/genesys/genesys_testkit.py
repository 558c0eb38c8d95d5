"""Helpers for the Genesys client unit tests: a fake clock and a client for `responses`."""

from __future__ import annotations

import json

import responses

from om_bridge.bridge.genesys import GenesysClient, RetryPolicy

API = "https://api.mypurecloud.de"
LOGIN = "https://login.mypurecloud.de"
TOKEN_URL = LOGIN + "/oauth/token"
CLIENT_ID = "cid-123"
CLIENT_SECRET = "super-secret-value-0123"


class FakeClock:
    """A monotonic clock that moves only when the code under test sleeps or the test advances it."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def policy(clock: FakeClock, **kw) -> RetryPolicy:
    kw.setdefault("rng", lambda: 0.5)
    return RetryPolicy(sleep=clock.sleep, clock=clock, **kw)


def make_client(clock: FakeClock, **kw) -> GenesysClient:
    retry = kw.pop("retry", None) or policy(clock)
    return GenesysClient("mypurecloud.de", CLIENT_ID, CLIENT_SECRET, retry=retry, **kw)


def add_token(
    rsps: responses.RequestsMock, token: str = "tok-1", expires_in: int = 86400, status: int = 200
) -> None:
    rsps.add(
        responses.POST,
        TOKEN_URL,
        status=status,
        json={"access_token": token, "token_type": "bearer", "expires_in": expires_in},
    )


def token_calls(rsps: responses.RequestsMock) -> list:
    return [c for c in rsps.calls if c.request.url == TOKEN_URL]


def api_calls(rsps: responses.RequestsMock) -> list:
    return [c for c in rsps.calls if c.request.url.startswith(API)]


def body_of(call) -> dict | list:
    return json.loads(call.request.body)
