"""The load generator process: keep-alive HTTP/1.1 POSTs of pre-built, pre-signed bodies over
loopback, closed loop (N connections as fast as they go) or open loop (a fixed rate).

A raw-socket client keeps the generator's own cost per request to a few microseconds, so on a
small machine the server, not the client, is what saturates (Debian's `wrk` is often absent).

Run: `python -m bench.loadgen SPEC.json` — the spec names host, port, path, the requests file
(JSON lines `{"body": str, "signature": str}`), mode, connections, rate, duration and max
requests; the result is one JSON object on stdout.
"""

from __future__ import annotations

import json
import queue
import socket
import sys
import threading
import time
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


class Connection:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.sock: socket.socket | None = None

    def _open(self) -> None:
        self.sock = socket.create_connection(self.addr, timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, raw: bytes) -> int:
        """Send one request, read the whole response; its status (0 when the connection failed)."""
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._open()
                assert self.sock is not None
                self.sock.sendall(raw)
                return self._response()
            except (OSError, ValueError):
                self.close()
                if attempt:
                    return 0
        return 0

    def _response(self) -> int:
        line = self.rfile.readline()
        if not line:
            raise ConnectionResetError("closed")
        status = int(line.split()[1])
        length, close = 0, False
        while True:
            header = self.rfile.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            self.rfile.read(length)
        if close:
            self.close()
        return status


def build_requests(spec: dict) -> list[bytes]:
    """The raw HTTP requests of the spec's requests file, in order."""
    out = []
    head = f"POST {spec['path']} HTTP/1.1\r\nHost: {spec['host']}:{spec['port']}\r\n"
    with open(spec["requests_file"], encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            body = item["body"].encode("utf-8")
            out.append(
                (
                    head + "Content-Type: application/json\r\n"
                    f"{SIGNATURE_HEADER}: {item['signature']}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode("ascii")
                + body
            )
    return out


def closed_loop(spec: dict, raws: list[bytes]) -> dict[str, Any]:
    """`connections` workers send back to back until `max_requests` or `duration` is reached."""
    counter = iter(range(min(len(raws), spec.get("max_requests") or len(raws))))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + spec["duration"]

    def work() -> None:
        conn = Connection(spec["host"], spec["port"])
        local: dict[int, int] = {}
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            status = conn.request(raws[i])
            local[status] = local.get(status, 0) + 1
        conn.close()
        with lock:
            for k, v in local.items():
                statuses[k] = statuses.get(k, 0) + v

    start_wall, start = time.time(), time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(spec["connections"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {
        "mode": "closed",
        "start_wall": start_wall,
        "elapsed": elapsed,
        "sent": sum(statuses.values()),
        "statuses": statuses,
    }


def open_loop(spec: dict, raws: list[bytes]) -> dict[str, Any]:
    """Request i is due at start + i/rate; its latency counts from that due time (so a slow
    server cannot hide queueing delay by slowing the sender down)."""
    rate, count = spec["rate"], min(len(raws), int(spec["rate"] * spec["duration"]))
    due: queue.Queue = queue.Queue()
    latencies = [float("nan")] * count
    statuses = [0] * count
    start_wall, start = time.time(), time.perf_counter() + 0.05

    def work() -> None:
        conn = Connection(spec["host"], spec["port"])
        while True:
            i = due.get()
            if i is None:
                break
            statuses[i] = conn.request(raws[i])
            latencies[i] = time.perf_counter() - (start + i / rate)
        conn.close()

    workers = [threading.Thread(target=work) for _ in range(spec["connections"])]
    for t in workers:
        t.start()
    for i in range(count):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        due.put(i)
    for _ in workers:
        due.put(None)
    for t in workers:
        t.join()
    counts: dict[int, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return {
        "mode": "open",
        "start_wall": start_wall + 0.05,
        "rate": rate,
        "elapsed": time.perf_counter() - start,
        "sent": count,
        "statuses": counts,
        "latencies": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the spec named on the command line and print the result as JSON."""
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as f:
        spec = json.load(f)
    raws = build_requests(spec)
    result = (open_loop if spec["mode"] == "open" else closed_loop)(spec, raws)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
