"""latency_p99: the bridge's added latency at a fixed 200 webhooks/s open-loop rate (docs/design.md §11:
p99 of the bridge minus p99 of the bare baseline ≤ 5 ms, and ≤ 2 × the job floor's added p99).

Three servers get the same bodies at the same rate, one after the other: **bare** (Flask + HMAC,
bench/baseline.py), the **job floor** (HMAC, parse, one durable SQLite insert with dedupe, wake the
reader, Delivered receipt; bench/floor.py) and the bridge. A server's added p99 is its p99 minus
bare's. Latency counts from each request's due time (so queueing behind a slow request is included)
to its full response. The bridge answers before it relays; how long the relay itself takes (webhook
due → output stamped in the store) is reported alongside. The messages are the sandbox's own
(bench/genesys_messages.py), so the floor's and the bridge's Delivered receipts are answered 2xx
(counted)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from bench.genesys_messages import (
    RECEIPT,
    REORDER_WINDOW_MS,
    Capture,
    made_by_sandbox,
    replay_rig,
)
from bench.procs import wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import (
    floor_stats,
    output_times,
    run_load,
    start_baseline,
    start_floor,
    wait_outputs,
)

RATE = 200.0
TARGET_MS = 5.0
FLOOR_TARGET = 2.0  # bridge-added p99 / floor-added p99
RESOLUTION_MS = 0.1  # the smallest added p99 the floor comparison divides by
FULL = {"handovers": 200, "duration": 15.0, "warmup": 300}
QUICK = {"handovers": 10, "duration": 1.5, "warmup": 30}
CONNECTIONS = 16


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of finite values; NaN when there are none."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return float("nan")
    rank = max(1, math.ceil(q / 100.0 * len(finite)))
    return finite[rank - 1]


def _summary(latencies_s: list[float]) -> dict:
    ms = [v * 1000.0 for v in latencies_s]
    return {q: round(percentile(ms, float(q[1:])), 3) for q in ("p50", "p90", "p99")} | {
        "max": round(max((v for v in ms if math.isfinite(v)), default=float("nan")), 3)
    }


def _receipts(rig: Rig, mark: int, n: int) -> int:
    """Wait for the bridge's `n` receipts after `mark`; how many were answered 2xx
    (RuntimeError unless all `n` were)."""
    wait_until(
        lambda: sum(rig.requests.answered_since(mark, RECEIPT).values()) >= n,
        120,
        "the bridge's receipts",
        0.02,
    )
    answers = rig.requests.answered_since(mark, RECEIPT)
    ok = sum(v for k, v in answers.items() if 200 <= k < 300)
    if ok != n or sum(answers.values()) != n:
        raise RuntimeError(f"the bridge's receipts for {n} messages: {answers}")
    return ok


def _floor_receipts(url: str, before: dict, n: int) -> int:
    """Wait for the floor's `n` receipts after `before` (its `/stats`); how many were answered
    2xx (RuntimeError unless all `n` were)."""

    def answered() -> int:
        now = floor_stats(url)
        return now["receipts_sent"] + now["failed"] - before["receipts_sent"] - before["failed"]

    wait_until(lambda: answered() >= n, 120, "the floor's receipts", 0.05)
    ok = floor_stats(url)["receipts_sent"] - before["receipts_sent"]
    if ok != n:
        raise RuntimeError(f"the floor's receipts: {ok} of {n} answered 2xx")
    return ok


def run(workdir: Path, quick: bool = False) -> list[Result]:
    """Open-loop load at 200/s on the baseline, the job floor, then the bridge; compare the
    added p99s."""
    p = QUICK if quick else FULL
    load = {"mode": "open", "rate": RATE, "duration": p["duration"], "connections": CONNECTIONS}
    count = int(RATE * p["duration"])
    warmup = int(p["warmup"])
    with replay_rig(workdir, int(p["handovers"])) as (rig, targets):
        capture = Capture()
        try:
            m0 = rig.sandbox_cpu()
            warm = made_by_sandbox(rig, targets, [f"warm {i}" for i in range(warmup)], capture)
            bodies = made_by_sandbox(rig, targets, [f"bench {i}" for i in range(count)], capture)
            making_cpu = rig.sandbox_cpu() - m0
        finally:
            capture.stop()
        made_at = time.time()

        server, url = start_baseline(workdir)
        try:
            run_load(workdir, url, warm, mode="closed", connections=4, duration=30.0)
            base = run_load(workdir, url, bodies, **load)
        finally:
            server.stop()

        floor_server, floor_url = start_floor(workdir, rig)
        try:
            s0 = floor_stats(floor_url)
            run_load(workdir, floor_url, warm, mode="closed", connections=4, duration=30.0)
            _floor_receipts(floor_url, s0, warmup)
            s0 = floor_stats(floor_url)
            floor = run_load(workdir, floor_url, bodies, **load)
            floor_receipts_ok = _floor_receipts(floor_url, s0, floor["statuses"].get(200, 0))
        finally:
            floor_server.stop()

        before, mark = rig.agent_outputs(), rig.requests.answer_mark()
        run_load(workdir, rig.bridge_url, warm, mode="closed", connections=4, duration=30.0)
        wait_outputs(rig, before + warmup)
        _receipts(rig, mark, warmup)
        before = rig.agent_outputs()
        age_at_bridge = time.time() - made_at
        mark = rig.requests.answer_mark()
        here0 = rig.sandbox_cpu()
        bridge = run_load(workdir, rig.bridge_url, bodies, **load)
        sandbox_cpu = rig.sandbox_cpu() - here0
        wait_outputs(rig, before + bridge["statuses"].get(200, 0))
        stamped = output_times(rig)
        receipts_ok = _receipts(rig, mark, bridge["statuses"].get(200, 0))
        sandbox_total = rig.sandbox_cpu()
    relay = [stamped[i] - (bridge["start_wall"] + i / RATE) for i in range(count) if i in stamped]
    base_p99 = percentile(base["latencies"], 99) * 1000.0
    floor_p99 = percentile(floor["latencies"], 99) * 1000.0
    bridge_p99 = percentile(bridge["latencies"], 99) * 1000.0
    floor_added = floor_p99 - base_p99
    comparison = {
        "bare_p99_ms": round(base_p99, 3),
        "floor_p99_ms": round(floor_p99, 3),
        "bridge_p99_ms": round(bridge_p99, 3),
        "floor_added_p99_ms": round(floor_added, 3),
        "bridge_added_p99_ms": round(bridge_p99 - base_p99, 3),
        "order": "bare, floor, bridge; the same bodies at the same rate",
    }
    main = Result(
        name="latency_p99",
        metric="bridge-added p99 latency at 200 req/s",
        unit="ms",
        value=bridge_p99 - base_p99,
        baseline=base_p99,
        target=TARGET_MS,
        compare="<=",
        details={
            "rate": RATE,
            "seconds": p["duration"],
            "requests": count,
            "open_handovers": p["handovers"],
            "baseline_ms": _summary(base["latencies"]),
            "baseline_statuses": base["statuses"],
            "bridge_ms": _summary(bridge["latencies"]),
            "bridge_statuses": bridge["statuses"],
            "bridge_p99_ms": round(bridge_p99, 3),
            "floor_ms": _summary(floor["latencies"]),
            "floor_statuses": floor["statuses"],
            "floor_receipts_2xx": floor_receipts_ok,
            "relay_ms (due → output stamped, 1 ms resolution)": _summary(relay),
            "relayed_outputs_matched": len(relay),
            "messages": "made by the sandbox (agent API, webhooks captured) before the runs in "
            "each handover's own conversation, replayed as signed; the same bodies for all three",
            "receipts_2xx": receipts_ok,
            "webhook_reorder_window_ms": REORDER_WINDOW_MS,
            "channel_time_age_s_at_bridge_run_start": round(age_at_bridge, 1),
            "sandbox_cpu_s": {
                "making_messages": round(making_cpu, 2),
                "bridge_run": round(sandbox_cpu, 2),
                "whole_benchmark": round(sandbox_total, 2),
            },
        },
    )
    vs_floor = Result(
        name="latency_p99_vs_floor",
        metric="bridge-added p99 latency at 200 req/s against the job floor's added p99",
        unit="ms",
        value=bridge_p99 - base_p99,
        # A floor adding less than the resolution counts as adding the resolution: the ratio stays
        # finite and positive (never a pass by dividing by a negative difference).
        baseline=max(floor_added, RESOLUTION_MS),
        target=FLOOR_TARGET,
        compare="<=",
        target_on="ratio",
        details={
            **comparison,
            "floor_added_counted_as_at_least_ms": RESOLUTION_MS,
            "floor_ms": _summary(floor["latencies"]),
            "floor_receipts_2xx": floor_receipts_ok,
        },
    )
    return [main, vs_floor]
