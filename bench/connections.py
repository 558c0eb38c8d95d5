"""Open connections that cost nothing (docs/design.md §11):

- `idle_streams`: 5,000 idle SSE streams plus 1,000 pending long-polls held open against the
  bridge; webhook p99 at 200 req/s with them, against the same run without them (target ≤ 1.5 ×),
  `/healthz` answering throughout, and the worker's memory per idle stream (target ≤ 50 KB);
- `slowloris`: 16 connections that trickle a header byte every half second and never finish
  (reconnecting when the server drops them); webhook p99 at 200 req/s with them against without
  (target ≤ 1.2 ×: nothing measurable), in interleaved rounds of both (median and spread: one
  10 s p99 on a shared 2-core machine moves by more than the target either way), with the worker's
  CPU per run and with the slow connections alone, so a real cost shows apart from noise.

The streams are held by a separate process (`python -m bench.holder`), so the bench process's
own scheduling does not colour the load generator's timings.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from bench import payloads
from bench.genesys_messages import RECEIPT
from bench.latency_p99 import _summary, percentile
from bench.procs import HOST, ROOT, python_argv, rss_bytes, run_seconds, wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import open_handovers, run_load, wait_outputs
from om_bridge.bridge.demo import DEMO_TOKEN

RATE = 200.0
FULL = {"sse": 5000, "polls": 1000, "duration": 10.0, "handovers": 50, "warmup": 200}
QUICK = {"sse": 100, "polls": 20, "duration": 1.5, "handovers": 5, "warmup": 20}
SLOW = 16
# slowloris: interleaved rounds (each a run without and a run with the slow connections).
SLOWLORIS_FULL = {"rounds": 6, "duration": 6.0, "handovers": 50, "warmup": 200, "idle_seconds": 3.0}
SLOWLORIS_QUICK = {"rounds": 2, "duration": 1.0, "handovers": 5, "warmup": 20, "idle_seconds": 0.3}
SLOWLORIS_TARGET = 1.2
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

    def set_slow(self, n: int) -> dict:
        """Hold `n` slowloris connections from now on (closing the ones held); the holder's
        reply: how many it holds and the slowloris reconnects so far."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"slow {n}\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

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


def _drained(rig: Rig, mark: int, n: int) -> int:
    """Wait until the sandbox has answered the bridge's `n` receipts since `mark` (404s: the bodies'
    message ids are made up), so no run starts with the previous run's receipts still going out;
    how many were still unanswered when the call began."""
    answered = lambda: sum(rig.requests.answered_since(mark, RECEIPT).values())  # noqa: E731
    behind = max(n - answered(), 0)
    wait_until(lambda: answered() >= n, 120, f"the bridge's {n} receipts", 0.02)
    return behind


def _slow_run(
    rig: Rig, workdir: Path, holder: Holder, bodies: list[dict], duration: float, slow: int
) -> dict:
    """One open-loop run at RATE with `slow` slowloris connections (0 or SLOW) held by the holder
    process, which runs throughout the benchmark either way, from before the load until the run
    is drained (outputs stored, receipts answered). Its p99; the bridge worker's CPU for the whole
    run (load and drain: receipts still going out when the outputs are stored are this run's
    work) and the holder's; the receipts still unanswered when the outputs were stored; the slow
    connections held and their reconnects."""
    held = holder.set_slow(slow)
    wait_until(lambda: _healthz(rig.bridge_url), 30, "/healthz")
    holder_cpu0 = run_seconds(holder.proc.pid)
    mark, cpu0 = rig.requests.answer_mark(), run_seconds(rig.worker_pid)
    result = _load(rig, workdir, bodies, duration)
    receipts_behind = _drained(rig, mark, result["statuses"].get(200, 0))
    worker_cpu = run_seconds(rig.worker_pid) - cpu0
    holder_cpu = run_seconds(holder.proc.pid) - holder_cpu0
    after = holder.set_slow(0)
    return {
        "latencies": result["latencies"],
        "statuses": result["statuses"],
        "p99_ms": percentile(result["latencies"], 99) * 1000.0,
        "worker_cpu_s": worker_cpu,
        "holder_cpu_s": holder_cpu,
        "receipts_behind": receipts_behind,
        "slow_held": held["slow"],
        "slow_reconnects": after["slow_reconnects"] - held["slow_reconnects"],
    }


def _idle_cost(rig: Rig, holder: Holder, seconds: float) -> dict:
    """The bridge worker's CPU (ms per second) with no load, without and with SLOW slowloris
    connections open, in the order without, with, with, without; and the slowloris reconnects."""
    got: dict[str, list[float]] = {"without": [], "with": []}
    reconnects = 0
    for kind in ("without", "with", "with", "without"):
        held = holder.set_slow(SLOW if kind == "with" else 0)
        cpu0, t0 = run_seconds(rig.worker_pid), time.monotonic()
        time.sleep(seconds)
        cpu = run_seconds(rig.worker_pid) - cpu0
        got[kind].append(cpu / (time.monotonic() - t0) * 1000.0)
        reconnects += holder.set_slow(0)["slow_reconnects"] - held["slow_reconnects"]
    return {
        "worker_cpu_ms_per_s": {k: [round(v, 2) for v in got[k]] for k in got},
        "seconds_each": seconds,
        "slow_reconnects": reconnects,
    }


def slowloris(workdir: Path, quick: bool = False) -> Result:
    """Webhook p99 at 200 req/s with 16 slowloris connections against none, interleaved.

    One holder process runs throughout and opens or closes the slow connections between runs, so
    the two sides differ by the slow connections alone. Rounds alternate the order (without/with,
    then with/without, …) so a drift of the machine's load or of the store's size weighs on both
    sides alike; each run gets fresh bodies (all made before the warm-up) and is drained (outputs
    stored, receipts answered) before the next starts. The value and baseline are the medians of
    the rounds' p99s; the spread, the per-round ratios, the bridge worker's CPU per run, and the
    worker's CPU with only the slow connections open (no load) against idle are in the details."""
    p = SLOWLORIS_QUICK if quick else SLOWLORIS_FULL
    count = int(RATE * p["duration"])
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        targets = open_handovers(rig, p["handovers"])
        bodies = [payloads.relay_bodies(targets, count) for _ in range(2 * p["rounds"])]
        warm = payloads.relay_bodies(targets, p["warmup"])
        before, mark = rig.agent_outputs(), rig.requests.answer_mark()
        run_load(workdir, rig.bridge_url, warm, mode="closed", connections=4, duration=30.0)
        wait_outputs(rig, before + p["warmup"])  # warm-up drained before measuring
        _drained(rig, mark, p["warmup"])
        holder = Holder({"host": HOST, "port": rig.bridge_port, "slow": 0})
        try:
            idle = _idle_cost(rig, holder, p["idle_seconds"])
            for r in range(p["rounds"]):
                order = ("without", "with") if r % 2 == 0 else ("with", "without")
                for kind in order:
                    slow = SLOW if kind == "with" else 0
                    runs[kind].append(
                        _slow_run(rig, workdir, holder, bodies.pop(), p["duration"], slow)
                    )
        finally:
            holder.stop()
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    without = [run["p99_ms"] for run in runs["without"]]
    with_slow = [run["p99_ms"] for run in runs["with"]]
    pooled = {kind: [v for run in runs[kind] for v in run["latencies"]] for kind in runs}
    return Result(
        name="slowloris",
        metric="webhook p99 at 200 req/s with 16 slowloris connections, against none "
        "(median of interleaved rounds)",
        unit="ms",
        value=statistics.median(with_slow),
        baseline=statistics.median(without),
        target=SLOWLORIS_TARGET,
        compare="<=",
        target_on="ratio",
        details={
            "slow_connections": SLOW,
            "rate": RATE,
            "rounds": p["rounds"],
            "seconds_per_run": p["duration"],
            "order": "rounds alternate: without, with / with, without / …",
            "holder": "one process throughout; only the slow connections differ between the sides",
            "p99_ms": {"without": _spread(without), "with": _spread(with_slow)},
            "ratio_per_round": _spread([w / o for w, o in zip(with_slow, without)], 3),
            "pooled_ms": {kind: _summary(pooled[kind]) for kind in pooled},
            "statuses": {kind: _counts(run["statuses"] for run in runs[kind]) for kind in runs},
            "worker_cpu_s_per_run": {
                kind: [round(run["worker_cpu_s"], 2) for run in runs[kind]] for kind in runs
            },
            "worker_cpu_ms_per_request": {
                kind: round(
                    statistics.median(run["worker_cpu_s"] for run in runs[kind]) / count * 1000.0,
                    3,
                )
                for kind in runs
            },
            "holder_cpu_s_per_run": {
                kind: [round(run["holder_cpu_s"], 3) for run in runs[kind]] for kind in runs
            },
            "slow_held_per_run": {kind: [run["slow_held"] for run in runs[kind]] for kind in runs},
            "slow_reconnects_per_run": [run["slow_reconnects"] for run in runs["with"]],
            "receipts_behind_when_outputs_stored": {
                kind: [run["receipts_behind"] for run in runs[kind]] for kind in runs
            },
            "idle_worker_cpu": idle,
            "receipts": "bodies with made-up message ids: every Delivered receipt is answered "
            "404 by the sandbox, alike in both conditions",
            "sandbox_cpu_s": sandbox_cpu,
        },
    )


def _spread(values: list[float], digits: int = 2) -> dict:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "rounds": [round(v, digits) for v in values],
    }


def _counts(items: Iterable[dict[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for item in items:
        for status, n in item.items():
            out[status] = out.get(status, 0) + n
    return out
