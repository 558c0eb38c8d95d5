"""relay_throughput: signed outbound-webhook agent Texts → user outputs, as fast as each server
takes them, three servers interleaved for several rounds (docs/design.md §11):

- **bare**: Flask + HMAC under the same gunicorn settings (bench/baseline.py);
- **job floor**: HMAC, parse, one durable SQLite insert with dedupe, wake the reader, Delivered
  receipt over a keep-alive `http.client` connection (bench/floor.py);
- **bridge**: `om-bridge serve`.

Each round runs bare, floor and bridge in turn with fresh bodies; the reported values are the
medians over the rounds, with the spread (min–max). Every session has a live SSE reader (one per
handover, held by a separate process, `bench/holder.py`). A server's clock stops when every
accepted message is stored as an output, **read by its live reader**, and its receipt answered
(floor: the floor's own count of receipts answered; bridge: receipt calls seen by the sandbox).
Warm-up is drained first (outputs, events and receipts).

Load: a closed loop of keep-alive connections from the load generator process, bounded by a
request count and a time limit, over open handovers (one made through the engine and the sandbox,
the rest cloned into the store with matching customer ids). The sandbox's rate limit is off: each
relayed message also costs a Delivered receipt, and at 300/min those would queue behind 429s.
The message ids are made up, so the sandbox answers the receipts 404: both floor and bridge pay a
full receipt round trip, but a successful one is not what is measured (see bench/RESULTS.md)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench import payloads
from bench.connections import Holder
from bench.procs import HOST, THREADS, cpu_seconds
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import (
    floor_stats,
    open_handovers,
    run_load,
    sse_path,
    start_baseline,
    start_floor,
    wait_outputs,
)

TARGET = 0.70  # bridge / bare
FLOOR_TARGET = 0.80  # bridge / job floor
FULL = {"handovers": 200, "requests": 2000, "duration": 15.0, "warmup": 300, "rounds": 3}
QUICK = {"handovers": 10, "requests": 200, "duration": 3.0, "warmup": 30, "rounds": 1}
RECEIPT = "/inbound/open/receipt"


def _ok(result: dict) -> int:
    return result["statuses"].get(200, 0)


def _spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "rounds": [round(v, 1) for v in values],
    }


def _wait(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)
    return time.time()


def run(workdir: Path, quick: bool = False) -> list[Result]:
    """Measure bare, floor and bridge with the same bodies, connections and limits, interleaved."""
    p = QUICK if quick else FULL
    load = {
        "mode": "closed",
        "connections": THREADS,
        "duration": p["duration"],
        "max_requests": p["requests"],
    }
    rates: dict[str, list[float]] = {"bare": [], "floor": [], "bridge": []}
    cpu: dict[str, list[float]] = {"bare": [], "floor": [], "bridge": []}
    checks: list[dict] = []
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        targets = open_handovers(rig, p["handovers"])
        base_server, base_url = start_baseline(workdir)
        floor_server, floor_url = start_floor(workdir, rig)
        floor_port = int(floor_url.rsplit(":", 1)[1])
        readers: list[Holder] = []
        try:
            floor_readers = Holder(
                {"host": HOST, "port": floor_port, "paths": [f"/events/{c}" for c, _ in targets]}
            )
            readers.append(floor_readers)
            bridge_readers = Holder(
                {
                    "host": HOST,
                    "port": rig.bridge_port,
                    "paths": [sse_path(rig, c) for c, _ in targets],
                }
            )
            readers.append(bridge_readers)
            # Warm-up, drained: every server has relayed (and receipted) its warm-up bodies.
            run_load(workdir, base_url, payloads.relay_bodies(targets, p["warmup"]), **load)
            e0 = floor_readers.events()
            run_load(workdir, floor_url, payloads.relay_bodies(targets, p["warmup"]), **load)
            _wait(lambda: floor_readers.events() - e0 >= p["warmup"], 120, "the floor's warm-up")
            before, e0 = rig.agent_outputs(), bridge_readers.events()
            run_load(workdir, rig.bridge_url, payloads.relay_bodies(targets, p["warmup"]), **load)
            wait_outputs(rig, before + p["warmup"])
            _wait(lambda: bridge_readers.events() - e0 >= p["warmup"], 120, "the bridge's warm-up")
            base_pid, floor_pid = base_server.worker_pid(), floor_server.worker_pid()
            for _ in range(p["rounds"]):
                c0 = cpu_seconds(base_pid)
                base = run_load(
                    workdir, base_url, payloads.relay_bodies(targets, p["requests"]), **load
                )
                rates["bare"].append(_ok(base) / base["elapsed"])
                cpu["bare"].append((cpu_seconds(base_pid) - c0) / max(1, _ok(base)) * 1e6)

                s0, c0 = floor_stats(floor_url), cpu_seconds(floor_pid)
                fe0 = floor_readers.events()
                floor = run_load(
                    workdir, floor_url, payloads.relay_bodies(targets, p["requests"]), **load
                )
                n = _ok(floor)

                def floor_done(s0: dict = s0, n: int = n, fe0: int = fe0) -> bool:
                    s = floor_stats(floor_url)
                    answered = s["receipts_sent"] + s["failed"] - s0["receipts_sent"] - s0["failed"]
                    return (
                        s["stored"] - s0["stored"] >= n
                        and answered >= n
                        and floor_readers.events() - fe0 >= n
                    )

                done_at = _wait(floor_done, 120, "the floor's outputs and receipts")
                rates["floor"].append(n / (done_at - floor["start_wall"]))
                cpu["floor"].append((cpu_seconds(floor_pid) - c0) / max(1, n) * 1e6)

                before, mark = rig.agent_outputs(), rig.requests.mark()
                be0 = bridge_readers.events()
                c0 = cpu_seconds(rig.worker_pid)
                bridge = run_load(
                    workdir, rig.bridge_url, payloads.relay_bodies(targets, p["requests"]), **load
                )
                n = _ok(bridge)

                def bridge_done(
                    before: int = before, mark: int = mark, n: int = n, be0: int = be0
                ) -> bool:
                    receipts = sum(1 for r in rig.requests.since(mark) if r.path.endswith(RECEIPT))
                    return (
                        receipts >= n
                        and rig.agent_outputs() - before >= n
                        and bridge_readers.events() - be0 >= n
                    )

                done_at = _wait(bridge_done, 180, "the bridge's outputs and receipts")
                rates["bridge"].append(n / (done_at - bridge["start_wall"]))
                cpu["bridge"].append((cpu_seconds(rig.worker_pid) - c0) / max(1, n) * 1e6)
                checks.append(
                    {
                        "bare": base["statuses"],
                        "floor": floor["statuses"],
                        "bridge": bridge["statuses"],
                    }
                )
        finally:
            for holder in readers:
                holder.stop()
            base_server.stop()
            floor_server.stop()
    bare, floor_rate, bridge_rate = (
        statistics.median(rates[k]) for k in ("bare", "floor", "bridge")
    )
    details = {
        "open_handovers": p["handovers"],
        "handovers_made": "1 through the engine + sandbox (agent answered), "
        f"{p['handovers'] - 1} cloned into the store",
        "connections": THREADS,
        "gunicorn": "1 worker, gevent (serve's worker class), all three servers",
        "requests_per_round": p["requests"],
        "rounds": p["rounds"],
        "msg_per_s": {k: _spread(v) for k, v in rates.items()},
        "cpu_us_per_message": {k: _spread(v) for k, v in cpu.items()},
        "statuses": checks,
        "clock_stops": "outputs stored, read by live SSE readers, receipts answered",
        "live_sse_readers": len(targets),
        "sandbox": "in the benchmark process (shares the cores)",
        "sandbox_rate_limit": "off (receipts would otherwise queue behind 429s)",
    }
    return [
        Result(
            name="relay_throughput",
            metric="webhook → user relay throughput, bridge vs bare (median of rounds)",
            unit="msg/s",
            value=bridge_rate,
            baseline=bare,
            target=TARGET,
            compare=">=",
            target_on="ratio",
            details=details,
        ),
        Result(
            name="relay_vs_floor",
            metric="webhook → user relay throughput, bridge vs job floor (median of rounds)",
            unit="msg/s",
            value=bridge_rate,
            baseline=floor_rate,
            target=FLOOR_TARGET,
            compare=">=",
            target_on="ratio",
            details={"msg_per_s": details["msg_per_s"], "rounds": p["rounds"]},
        ),
    ]
