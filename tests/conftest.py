"""Fixtures shared by every test layer: free loopback ports and readiness waits."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable

import pytest
import requests

# The throwaway CA's fixtures (`tls`, `untrusted_ca_bundle`, `ca_bundle_env`) for every layer.
pytest_plugins = ["tests.tlsca"]


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORTS = random.Random()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server a test starts a little later.

    Picked below the kernel's ephemeral range, which outgoing connections take their local ports
    from: a port the OS hands out for binding (port 0) comes from that range, and a client
    connection made before the server binds could take it ("Address already in use")."""
    low = _ephemeral_low()
    if low > 12_000:
        for _ in range(200):
            port = _PORTS.randrange(10_000, low)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def wait_for_http(url: str, timeout: float = 10.0, verify: bool | str = True) -> None:
    """Wait until `url` answers any HTTP status (an HTTPS URL verified against `verify`)."""

    def up() -> bool:
        try:
            requests.get(url, timeout=0.5, verify=verify)
            return True
        except requests.RequestException:
            return False

    wait_until(up, timeout, what=url)


@pytest.fixture
def port() -> int:
    return free_port()
