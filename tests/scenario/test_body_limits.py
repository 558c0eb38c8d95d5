"""Every route caps its body while it streams in: an oversized body (announced or chunked without a
`Content-Length`) is answered 413 (or refused by its key first) long before it is all sent, and the
server's memory does not grow by the body's size.

The uploads go over real HTTP through a raw socket, so the test sees when the server answers while
the body is still being sent. Memory is the process' peak RSS (`VmHWM`, reset through
`/proc/self/clear_refs`): the bridge runs in this process, and the client side only ever holds one
1 MB chunk.
"""

from __future__ import annotations

import select
import socket
from pathlib import Path

import pytest

from om_bridge.bridge.demo import DEMO_EVENTBRIDGE_KEY

CHUNK = b"x" * (1024 * 1024)
TOTAL = 64 * 1024 * 1024
MB = 1024 * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def upload(
    port: int, path: str, headers: dict[str, str], *, chunked: bool, total: int = TOTAL
) -> tuple[int, int]:
    """Send up to `total` bytes of body, stopping as soon as the server answers (or stops
    reading); returns (HTTP status, body bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    try:
        head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = (b"%x\r\n" % len(CHUNK)) + CHUNK + b"\r\n" if chunked else CHUNK
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(CHUNK)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
        status = int(answer.split(b" ", 2)[1])
        return status, sent
    finally:
        sock.close()


ROUTES = {
    "endpoint": ("/endpoint/demo", {}),
    "connect": ("/endpoint/demo/sessions/s1/connect", {}),
    "typing": ("/endpoint/demo/sessions/s1/typing", {}),
    "disconnect": ("/endpoint/demo/sessions/s1/disconnect", {}),
    "webhook": ("/handover/genesysCloudOM", {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
    "data-action": ("/handover/genesysCloudOM", {}),
    "eventbridge-keyed": (
        "/handover/genesysCloudOM/eventbridge",
        {"Authorization": DEMO_EVENTBRIDGE_KEY},
    ),
}


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_oversized_bodies_are_refused_early_with_bounded_memory(bridge_env, chunked):
    port = bridge_env.bridge_port
    can_measure = _reset_peak()
    before = _status_kb("VmRSS")
    results = {}
    for name, (path, headers) in ROUTES.items():
        results[name] = upload(port, path, headers, chunked=chunked)
    peak_growth_mb = (_status_kb("VmHWM") - before) / 1024
    for name, (status, sent) in results.items():
        assert status == 413, (name, status)
        # Answered while the body was still coming: far less than the 64 MB were sent.
        assert sent < 16 * MB, (name, sent)
    if can_measure:
        assert peak_growth_mb < 32, peak_growth_mb


def test_eventbridge_checks_the_key_before_reading_the_body(bridge_env):
    path = "/handover/genesysCloudOM/eventbridge"
    for chunked in (True, False):
        status, sent = upload(
            bridge_env.bridge_port, path, {"Authorization": "wrong"}, chunked=chunked
        )
        assert status == 401 and sent < 16 * MB, (chunked, status, sent)
