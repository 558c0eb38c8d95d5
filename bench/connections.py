"""Open connections that cost nothing (docs/design.md §11):

- `idle_streams`: 5,000 idle SSE streams plus 1,000 pending long-polls held open against the
  bridge; webhook p99 at 200 req/s with them, against the same run without them (target ≤ 1.5 ×),
  `/healthz` answering throughout, and the worker's memory per idle stream (target ≤ 50 KB);
- `slowloris`: 16 connections that trickle a header byte every half second and never finish
  (reconnecting when the server drops them); webhook p99 at 200 req/s with them against without
  (target ≤ 1.2 ×: nothing measurable).

The streams are held by a separate process (`python -m bench.holder`), so the bench process's
own scheduling does not colour the load generator's timings.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from bench import payloads
from bench.latency_p99 import _summary, percentile
from bench.procs import HOST, ROOT, python_argv, rss_bytes, wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import open_handovers, run_load, wait_outputs
from om_bridge.bridge.demo import DEMO_TOKEN

RATE = 200.0
FULL = {"sse": 5000, "polls": 1000, "duration": 10.0, "handovers": 50, "warmup": 200}
QUICK = {"sse": 100, "polls": 20, "duration": 1.5, "handovers": 5, "warmup": 20}
SLOW = 16
CONNECTIONS = 16
MEMORY_TARGET_KB = 50.0


class Holder:
    """`python -m bench.holder`: holds connections open until stopped; reports on stdout."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            python_argv("bench.holder", json.dumps(spec)),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the connection holder exited before holding its connections")
        self.ready = json.loads(line)

    def events(self) -> int:
        """Output events the live readers have received so far."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(json.loads(self.proc.stdout.readline())["events"])

    def stop(self) -> dict:
        """Close every connection; the holder's report."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        self.proc.wait(60)
        return json.loads(line) if line else {}


def _healthz(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=30).status_code == 200
    except requests.RequestException:
        return False


def _load(rig: Rig, workdir: Path, bodies: list[dict], duration: float) -> dict:
    before = rig.agent_outputs()
    result = run_load(
        workdir,
        rig.bridge_url,
        bodies,
        mode="open",
        rate=RATE,
        duration=duration,
        connections=CONNECTIONS,
    )
    wait_outputs(rig, before + result["statuses"].get(200, 0))
    return result


def _prepared(rig: Rig, workdir: Path, p: dict) -> tuple[list[dict], list[dict]]:
    targets = open_handovers(rig, p["handovers"])
    warm = payloads.relay_bodies(targets, p["warmup"])
    before = rig.agent_outputs()
    run_load(workdir, rig.bridge_url, warm, mode="closed", connections=4, duration=30.0)
    wait_outputs(rig, before + p["warmup"])  # warm-up drained before measuring
    count = int(RATE * p["duration"])
    return payloads.relay_bodies(targets, count), payloads.relay_bodies(targets, count)


def idle_streams(workdir: Path, quick: bool = False) -> list[Result]:
    """Webhook p99 with thousands of idle streams and long-polls open, against none."""
    p = QUICK if quick else FULL
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        first, second = _prepared(rig, workdir, p)
        quiet = _load(rig, workdir, first, p["duration"])
        rss_before = rss_bytes(rig.worker_pid)
        holder = Holder(
            {
                "host": HOST,
                "port": rig.bridge_port,
                "token": DEMO_TOKEN,
                "sse": p["sse"],
                "polls": p["polls"],
            }
        )
        try:
            rss_open = rss_bytes(rig.worker_pid)
            health_during = _healthz(rig.bridge_url)
            busy = _load(rig, workdir, second, p["duration"])
            health_after = _healthz(rig.bridge_url)
        finally:
            held = holder.stop()
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    streams = p["sse"] + p["polls"]
    quiet_p99 = percentile(quiet["latencies"], 99) * 1000.0
    busy_p99 = percentile(busy["latencies"], 99) * 1000.0
    per_stream_kb = max(rss_open - rss_before, 0) / streams / 1024.0
    common = {
        "sse_streams": p["sse"],
        "long_polls": p["polls"],
        "rate": RATE,
        "seconds": p["duration"],
        "holder": {**holder.ready, **held},
        "sandbox_cpu_s": sandbox_cpu,
    }
    return [
        Result(
            name="idle_streams",
            metric="webhook p99 at 200 req/s with idle streams open, against none",
            unit="ms",
            value=busy_p99,
            baseline=quiet_p99,
            target=1.5,
            compare="<=",
            target_on="ratio",
            details={
                **common,
                "without_ms": _summary(quiet["latencies"]),
                "with_ms": _summary(busy["latencies"]),
                "statuses_without": quiet["statuses"],
                "statuses_with": busy["statuses"],
                "healthz_answered": health_during and health_after,
            },
        ),
        Result(
            name="idle_stream_memory",
            metric="worker memory per idle stream (RSS growth / streams)",
            unit="KB",
            value=per_stream_kb,
            baseline=None,
            target=MEMORY_TARGET_KB,
            compare="<=",
            details={
                **common,
                "rss_before_mb": round(rss_before / 2**20, 1),
                "rss_open_mb": round(rss_open / 2**20, 1),
            },
        ),
    ]


def slowloris(workdir: Path, quick: bool = False) -> Result:
    """Webhook p99 at 200 req/s with 16 slowloris connections, against none."""
    p = QUICK if quick else FULL
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        first, second = _prepared(rig, workdir, p)
        quiet = _load(rig, workdir, first, p["duration"])
        holder = Holder({"host": HOST, "port": rig.bridge_port, "slow": SLOW})
        try:
            wait_until(lambda: _healthz(rig.bridge_url), 30, "/healthz with slow clients")
            started = time.monotonic()
            busy = _load(rig, workdir, second, p["duration"])
            held_for = time.monotonic() - started
        finally:
            held = holder.stop()
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    quiet_p99 = percentile(quiet["latencies"], 99) * 1000.0
    busy_p99 = percentile(busy["latencies"], 99) * 1000.0
    return Result(
        name="slowloris",
        metric="webhook p99 at 200 req/s with 16 slowloris connections, against none",
        unit="ms",
        value=busy_p99,
        baseline=quiet_p99,
        target=1.2,
        compare="<=",
        target_on="ratio",
        details={
            "slow_connections": SLOW,
            "rate": RATE,
            "seconds": round(held_for, 1),
            "without_ms": _summary(quiet["latencies"]),
            "with_ms": _summary(busy["latencies"]),
            "statuses_without": quiet["statuses"],
            "statuses_with": busy["statuses"],
            "holder": {**holder.ready, **held},
            "sandbox_cpu_s": sandbox_cpu,
        },
    )
