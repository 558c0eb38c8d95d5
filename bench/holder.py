"""`python -m bench.holder SPEC`: hold connections open against the bridge until told to stop.

SPEC (JSON): host, port, and any of `sse` (SSE streams, each read up to its first event),
`paths` (SSE streams on these request paths: live readers, their events counted), `polls`
(long-polls with wait=30, re-issued when one returns), `slow` (slowloris connections that send a
header byte every half second and never finish, reconnecting when the server drops them).
Prints one JSON line once everything is open; on "count" on stdin one JSON line with the number
of output events the live readers received; on "slow N" it closes its slowloris connections and
opens N new ones, then prints one JSON line with how many it holds and the slowloris reconnects so
far (so a benchmark can compare with and without them while this process runs throughout); on
"idle S P T" it closes its idle SSE streams and long-polls (`sse` and `polls`; with a reset, as a
client gone away) and opens S and P new ones spread over T seconds, then prints one JSON line with how many it holds, how long the opening took, and the
counts so far (likewise for a benchmark of the bridge with and without them); on "stop" one JSON
line with counts (drops by the server, re-issued polls, slowloris reconnects, events) and exits.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import sys
import threading
import time
from typing import Any

POLL_WAIT = 30
EVENT = b"event: output"
RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


def _connect(host: str, port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=60)
    sock.sendall(data)
    return sock


def _slow(host: str, port: int) -> socket.socket:
    """A slowloris connection: a request line, then (from the trickle) header bytes that never
    end the header."""
    return _connect(host, port, b"GET /healthz HTTP/1.1\r\n")


def open_sse(host: str, port: int, token: str, i: int, path: str = "") -> socket.socket:
    path = path or f"/endpoint/{token}/sessions/idle-{i}/events?userId=idle-{i}"
    sock = _connect(host, port, f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    got = b""
    while b"retry:" not in got:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("an SSE stream closed before its first event")
        got += chunk
    sock.setblocking(False)
    return sock


def poll_request(token: str, i: int) -> bytes:
    path = f"/endpoint/{token}/sessions/poll-{i}/outputs?userId=poll-{i}&wait={POLL_WAIT}"
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def main(argv: list[str] | None = None) -> int:
    spec: dict[str, Any] = json.loads((argv or sys.argv[1:])[0])
    host, port, token = spec["host"], int(spec["port"]), spec.get("token", "")
    sel = selectors.DefaultSelector()
    counts = {"server_closed_sse": 0, "polls_reissued": 0, "slow_reconnects": 0, "events": 0}
    tails: dict[Any, bytes] = {}  # the end of each live reader's last read
    for i, path in enumerate(spec.get("paths", [])):
        sel.register(open_sse(host, port, token, i, path), selectors.EVENT_READ, ("sse", i))
    idle_lock = threading.Lock()  # event handling and an "idle S P T" command both change `sel`

    def open_idle(sse: int, polls: int, spread: float = 0.0) -> None:
        """Open `sse` streams and `polls` long-polls, mixed evenly, spread over `spread` seconds
        (their keep-alives and waits then end spread out, as those of clients that came at
        different times, not all in one burst)."""
        order = sorted(
            [("idle", i, i / sse) for i in range(sse)]
            + [("poll", i, i / polls) for i in range(polls)],
            key=lambda item: item[2],
        )
        t0 = time.monotonic()
        for kind, i, at in order:
            time.sleep(max(t0 + at * spread - time.monotonic(), 0.0))
            if kind == "idle":
                sock = open_sse(host, port, token, i)
            else:
                sock = _connect(host, port, poll_request(token, i))
                sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, (kind, i))

    def set_idle(sse: int, polls: int, spread: float) -> None:
        with idle_lock:
            for key in list(sel.get_map().values()):
                if key.data[0] in ("idle", "poll"):
                    sock = key.fileobj
                    sel.unregister(sock)
                    # Closed with a reset, as a client gone away: the bridge's next keep-alive
                    # write on the stream fails at once rather than one keep-alive later.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)  # type: ignore[union-attr]
                    sock.close()  # type: ignore[union-attr]
            tails.clear()
            open_idle(sse, polls, spread)

    def held() -> dict[str, int]:
        kinds = [key.data[0] for key in sel.get_map().values()]
        return {"sse": kinds.count("idle"), "polls": kinds.count("poll")}

    open_idle(int(spec.get("sse", 0)), int(spec.get("polls", 0)))
    slow = [_slow(host, port) for _ in range(spec.get("slow", 0))]
    slow_lock = threading.Lock()  # the trickle and a "slow N" command both change `slow`
    stopping = threading.Event()

    def trickle() -> None:
        while not stopping.wait(0.5):
            with slow_lock:
                for n, sock in enumerate(slow):
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        sock.close()
                        counts["slow_reconnects"] += 1
                        try:
                            slow[n] = _slow(host, port)
                        except OSError:
                            pass

    def set_slow(n: int) -> None:
        with slow_lock:
            for sock in slow:
                sock.close()
            slow[:] = [_slow(host, port) for _ in range(n)]

    def serve_events() -> None:
        while not stopping.is_set():
            ready = sel.select(0.2)
            with idle_lock:
                for key, _ in ready:
                    serve_event(key)

    def serve_event(key: selectors.SelectorKey) -> None:
        if sel.get_map().get(key.fd) is not key:
            return  # closed by an "idle S P T" command meanwhile
        kind, i = key.data
        sock = key.fileobj
        try:
            data = sock.recv(65536)  # type: ignore[union-attr]
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if kind in ("sse", "idle") and data:
            # An event may be split between two reads: keep the tail of the last one.
            seen = tails.get(sock, b"") + data
            counts["events"] += seen.count(EVENT)
            tails[sock] = seen[-(len(EVENT) - 1) :]
        if kind in ("sse", "idle") and not data:
            sel.unregister(sock)
            sock.close()  # type: ignore[union-attr]
            tails.pop(sock, None)
            counts["server_closed_sse"] += 1
        elif kind == "poll" and (not data or b"\r\n\r\n" in data):
            # A long-poll answered (its wait ended) or dropped: issue the next one.
            sel.unregister(sock)
            sock.close()  # type: ignore[union-attr]
            counts["polls_reissued"] += 1
            try:
                fresh = _connect(host, port, poll_request(token, i))
                fresh.setblocking(False)
                sel.register(fresh, selectors.EVENT_READ, ("poll", i))
            except OSError:
                pass

    threads = [threading.Thread(target=trickle), threading.Thread(target=serve_events)]
    for t in threads:
        t.start()
    print(
        json.dumps(
            {
                "sse": spec.get("sse", 0) + len(spec.get("paths", [])),
                "polls": spec.get("polls", 0),
                "slow": len(slow),
            }
        ),
        flush=True,
    )
    while True:
        command = sys.stdin.readline().split()
        if command == ["count"]:
            print(json.dumps({"events": counts["events"]}), flush=True)
        elif len(command) == 2 and command[0] == "slow":
            set_slow(int(command[1]))
            reply = {"slow": len(slow), "slow_reconnects": counts["slow_reconnects"]}
            print(json.dumps(reply), flush=True)
        elif len(command) == 4 and command[0] == "idle":
            t0 = time.monotonic()
            set_idle(int(command[1]), int(command[2]), float(command[3]))
            reply = {**held(), "open_s": round(time.monotonic() - t0, 3), **counts}
            print(json.dumps(reply), flush=True)
        else:
            break
    stopping.set()
    for t in threads:
        t.join(10)
    for key in list(sel.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    for sock in slow:
        sock.close()
    time.sleep(0)
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
