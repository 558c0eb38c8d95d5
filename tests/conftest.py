"""Fixtures shared by every test layer: free loopback ports and readiness waits."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
import requests


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Poll `predicate` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_for_http(url: str, timeout: float = 10.0) -> None:
    """Wait until `url` answers any HTTP status."""

    def up() -> bool:
        try:
            requests.get(url, timeout=0.5)
            return True
        except requests.RequestException:
            return False

    wait_until(up, timeout, what=url)


@pytest.fixture
def port() -> int:
    return free_port()
