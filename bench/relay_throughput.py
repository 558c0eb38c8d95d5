"""relay_throughput: signed outbound-webhook agent Texts → user outputs, as fast as the bridge
takes them, against the baseline's throughput (docs/design.md §11: ≥ 70 %).

Load: a closed loop of keep-alive connections from the load generator process, bounded by a
request count and a time limit, over open handovers (one made through the engine and the sandbox,
the rest cloned into the store with matching customer ids). The bridge answers a webhook before
it relays it, so its throughput counts until the last output actually landed in the store, and
the count is checked. The sandbox's rate limit is off here: each relayed message also costs a
Delivered receipt to Genesys, and at 300/min those receipts would queue behind 429s instead of
being part of the work measured."""

from __future__ import annotations

import time
from pathlib import Path

from bench import payloads
from bench.procs import THREADS, cpu_seconds, rss_bytes
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import open_handovers, run_load, start_baseline, wait_outputs

TARGET = 0.70
FULL = {"handovers": 200, "requests": 8000, "duration": 15.0, "warmup": 300}
QUICK = {"handovers": 10, "requests": 300, "duration": 3.0, "warmup": 30}


def _ok(result: dict) -> int:
    return result["statuses"].get(200, 0)


def run(workdir: Path, quick: bool = False) -> Result:
    """Measure both servers with the same bodies, connections and limits."""
    p = QUICK if quick else FULL
    load = {
        "mode": "closed",
        "connections": THREADS,
        "duration": p["duration"],
        "max_requests": p["requests"],
    }
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        targets = open_handovers(rig, p["handovers"])
        warm = payloads.relay_bodies(targets, p["warmup"])
        bodies = payloads.relay_bodies(targets, p["requests"])

        server, url = start_baseline(workdir)
        try:
            run_load(workdir, url, warm, **load)
            pid = server.worker_pid()
            cpu0 = cpu_seconds(pid)
            base = run_load(workdir, url, bodies, **load)
            base_cpu = cpu_seconds(pid) - cpu0
        finally:
            server.stop()
        base_rate = _ok(base) / base["elapsed"]

        before = rig.agent_outputs()
        run_load(workdir, rig.bridge_url, warm, **load)
        wait_outputs(rig, before + p["warmup"])
        before = rig.agent_outputs()
        cpu0, rss0 = cpu_seconds(rig.worker_pid), rss_bytes(rig.worker_pid)
        here0 = time.process_time()
        bridge = run_load(workdir, rig.bridge_url, bodies, **load)
        accepted = _ok(bridge)
        landed_at = wait_outputs(rig, before + accepted)
        bridge_cpu = cpu_seconds(rig.worker_pid) - cpu0
        sandbox_cpu = time.process_time() - here0
        landed = rig.agent_outputs() - before
        relay_seconds = landed_at - bridge["start_wall"]
        bridge_rate = landed / relay_seconds
    return Result(
        name="relay_throughput",
        metric="webhook → user relay throughput",
        unit="msg/s",
        value=bridge_rate,
        baseline=base_rate,
        target=TARGET,
        compare=">=",
        target_on="ratio",
        details={
            "open_handovers": p["handovers"],
            "handovers_made": "1 through the engine + sandbox (agent answered), "
            f"{p['handovers'] - 1} cloned into the store",
            "connections": THREADS,
            "gunicorn": "1 worker, gevent (serve's worker class)",
            "baseline_requests": base["sent"],
            "baseline_statuses": base["statuses"],
            "baseline_seconds": round(base["elapsed"], 3),
            "baseline_cpu_us_per_request": round(base_cpu / max(1, base["sent"]) * 1e6, 1),
            "bridge_requests": bridge["sent"],
            "bridge_statuses": bridge["statuses"],
            "bridge_http_seconds": round(bridge["elapsed"], 3),
            "bridge_http_rate": round(bridge["sent"] / bridge["elapsed"], 1),
            "bridge_relay_seconds": round(relay_seconds, 3),
            "outputs_landed": landed,
            "outputs_expected": accepted,
            "bridge_cpu_us_per_message": round(bridge_cpu / max(1, landed) * 1e6, 1),
            "bridge_worker_rss_mb_before": round(rss0 / 2**20, 1),
            # The sandbox runs in the benchmark process and shares the 2 cores: its CPU during the
            # bridge run (receiving the receipts, plus this process's store polling).
            "sandbox_process_cpu_s": round(sandbox_cpu, 2),
            "sandbox_rate_limit": "off (receipts would otherwise queue behind 429s)",
        },
    )
