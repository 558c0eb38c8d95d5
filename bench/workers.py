"""redis_workers: `om-bridge serve --workers 2` on a Redis store (docs/design.md §11):

- stream wake-up: an SSE reader on one handover's session while agent messages for it arrive as
  signed webhooks at 50/s, each on a new connection (so either worker takes it, and the other
  worker's stream is woken through Redis pub/sub); p99 from sending a webhook to its event
  arriving on the stream (target ≤ 20 ms);
- relay throughput with 2 workers against 1 worker on the same Redis (reported, no target).

A private redis-server (no persistence) is started in the benchmark's directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

from bench import payloads
from bench.latency_p99 import _summary, percentile
from bench.procs import HOST, THREADS, free_port, wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import open_handovers, run_load, sse_path, wait_outputs
from om_bridge.bridge.demo import WEBHOOK_PATH

WAKE_TARGET_MS = 20.0
WAKE_RATE = 50.0
FULL = {"handovers": 50, "requests": 2000, "duration": 15.0, "warmup": 200, "wakes": 500}
QUICK = {"handovers": 5, "requests": 200, "duration": 3.0, "warmup": 20, "wakes": 30}


class Redis:
    """A private redis-server on a free port."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        argv = [binary, "--port", str(self.port), "--bind", HOST, "--save", ""]
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [*argv, "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until(up, 30, "redis-server")

    def url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class StreamReader(threading.Thread):
    """Reads one SSE stream; records when each "bench <i>" event arrived (perf_counter)."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((HOST, port), timeout=60)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        self.arrived: dict[int, float] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            buf += chunk
            if b"retry:" in buf:
                self.ready.set()
            while b'"text":"bench ' in buf:
                _head, _, rest = buf.partition(b'"text":"bench ')
                number, _, buf = rest.partition(b'"')
                self.arrived.setdefault(int(number), now)

    def close(self) -> None:
        self.sock.close()


def _wakeups(rig: Rig, target: tuple[str, str], count: int) -> list[float]:
    customer, conversation = target
    reader = StreamReader(rig.bridge_port, sse_path(rig, customer))
    reader.start()
    assert reader.ready.wait(30), "the SSE stream did not open"
    sent: dict[int, float] = {}
    url = rig.bridge_url + WEBHOOK_PATH
    start = time.perf_counter()
    for i in range(count):
        due = start + i / WAKE_RATE
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        raw, signature = payloads.signed(payloads.agent_text(customer, conversation, f"bench {i}"))
        sent[i] = time.perf_counter()
        # A new connection each time: the kernel hands it to either worker.
        requests.post(
            url,
            data=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=30,
        )
    wait_until(lambda: len(reader.arrived) >= count, 60, "every event on the stream", 0.01)
    reader.close()
    return [reader.arrived[i] - sent[i] for i in range(count)]


def _throughput(rig: Rig, workdir: Path, targets: list, p: dict) -> float:
    load = {
        "mode": "closed",
        "connections": THREADS,
        "duration": p["duration"],
        "max_requests": p["requests"],
    }
    before = rig.agent_outputs()
    run_load(workdir, rig.bridge_url, payloads.relay_bodies(targets, p["warmup"]), **load)
    wait_outputs(rig, before + p["warmup"])
    before = rig.agent_outputs()
    result = run_load(
        workdir, rig.bridge_url, payloads.relay_bodies(targets, p["requests"]), **load
    )
    accepted = result["statuses"].get(200, 0)
    landed_at = wait_outputs(rig, before + accepted, 180)
    return accepted / (landed_at - result["start_wall"])


def run(workdir: Path, quick: bool = False) -> list[Result]:
    p = QUICK if quick else FULL
    redis = Redis(workdir / "redis")
    rates: dict[int, float] = {}
    sandbox_cpu: dict[str, float] = {}
    wake: list[float] = []
    try:
        for workers, db in ((1, 0), (2, 1)):
            sub = workdir / f"w{workers}"
            sub.mkdir()
            with Rig(
                sub,
                sandbox_config={"rate_limit": {"per_minute": 0}},
                store=redis.url(db),
                workers=workers,
            ) as rig:
                targets = open_handovers(rig, p["handovers"])
                if workers == 2:
                    wake = _wakeups(rig, targets[1 % len(targets)], p["wakes"])
                rates[workers] = _throughput(rig, sub, targets, p)
                sandbox_cpu[str(workers)] = round(rig.sandbox_cpu(), 2)
    finally:
        redis.stop()
    wake_ms = [v * 1000.0 for v in wake]
    return [
        Result(
            name="redis_wakeup_p99",
            metric="2 workers on Redis: webhook sent → event on an SSE stream, p99",
            unit="ms",
            value=percentile(wake_ms, 99),
            baseline=None,
            target=WAKE_TARGET_MS,
            compare="<=",
            details={
                "webhooks": len(wake_ms),
                "rate": WAKE_RATE,
                "ms": _summary(wake),
                "note": "each webhook on a new connection, so either worker takes it",
                "sandbox_cpu_s_by_workers": sandbox_cpu,
            },
        ),
        Result(
            name="redis_workers_throughput",
            metric="relay throughput, 2 workers vs 1 worker on Redis",
            unit="msg/s",
            value=rates[2],
            baseline=rates[1],
            target=0.0,
            compare=">=",
            target_on="ratio",
            details={
                "msg_per_s": {str(k): round(v, 1) for k, v in rates.items()},
                "sandbox_cpu_s_by_workers": sandbox_cpu,
            },
        ),
    ]
