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
request count and a time limit, over open handovers, every one made through the engine and the
sandbox and answered by the agent (the sandbox's agent capacity raised to fit). The sandbox's rate
limit is off: each relayed message also costs a Delivered receipt, and at 300/min those would
queue behind 429s. The messages are the sandbox's own (bench/genesys_messages.py): before each
round the agent sends them through the sandbox's API, round-robin over the handovers' conversations,
with the webhooks captured, and the captured bodies (the sandbox's bytes and signatures,
`channel.time` as the sandbox stamped it) are replayed to all three servers. The sandbox knows
every message id, so floor and bridge receipts are answered 2xx; the benchmark counts them and
fails when one is not."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench.connections import Holder
from bench.genesys_messages import (
    RECEIPT,
    REORDER_WINDOW_MS,
    Capture,
    made_by_sandbox,
    replay_rig,
)
from bench.procs import HOST, THREADS, cpu_seconds
from bench.result import Result
from bench.webhook_load import (
    floor_stats,
    run_load,
    sse_path,
    start_baseline,
    start_floor,
    wait_outputs,
)
from om_bridge.bridge.genesys.wire import epoch

# bridge / bare is reported, not a target: docs/design.md §11 sets the target against the job floor
# (the floor itself reaches a fraction of bare: bare does no durable work and sends no receipt).
TARGET = 0.0
FLOOR_TARGET = 0.80  # bridge / job floor
FULL = {"handovers": 200, "requests": 2000, "duration": 15.0, "warmup": 300, "rounds": 3}
QUICK = {"handovers": 10, "requests": 200, "duration": 3.0, "warmup": 30, "rounds": 1}


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


def _floor_answered(now: dict, before: dict) -> int:
    """Receipts the floor has had answered (2xx or not) between two `/stats`."""
    return now["receipts_sent"] + now["failed"] - before["receipts_sent"] - before["failed"]


def _stamps(bodies: list[tuple[bytes, str]]) -> list[float]:
    """Epoch seconds of each body's `channel.time`."""
    return [epoch(json.loads(raw)["channel"]["time"]) or time.time() for raw, _ in bodies]


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
    receipts_ok: dict[str, list[int]] = {"floor": [], "bridge": []}
    # CPU seconds of the sandbox's process while it makes a round's messages, and while it
    # answers the floor's and the bridge's calls (receipts, the bridge's other calls)
    sandbox_cpu: dict[str, list[float]] = {"making_messages": [], "floor": [], "bridge": []}
    ages: dict[str, list[float]] = {"oldest_at_bare_start": [], "youngest_at_bridge_start": []}
    with replay_rig(workdir, int(p["handovers"])) as (rig, targets):
        capture = Capture()

        def sandbox_bodies(count: int, label: str) -> list[tuple[bytes, str]]:
            texts = [f"bench {label}-{i}" for i in range(count)]
            return made_by_sandbox(rig, targets, texts, capture)

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
            warm = sandbox_bodies(int(p["warmup"]), "warm")
            run_load(workdir, base_url, warm, **load)
            e0, s0 = floor_readers.events(), floor_stats(floor_url)
            run_load(workdir, floor_url, warm, **load)
            _wait(lambda: floor_readers.events() - e0 >= p["warmup"], 120, "the floor's warm-up")
            _wait(
                lambda: _floor_answered(floor_stats(floor_url), s0) >= p["warmup"],
                120,
                "the floor's warm-up receipts",
            )
            before, e0 = rig.agent_outputs(), bridge_readers.events()
            mark = rig.requests.answer_mark()
            run_load(workdir, rig.bridge_url, warm, **load)
            wait_outputs(rig, before + int(p["warmup"]))
            _wait(lambda: bridge_readers.events() - e0 >= p["warmup"], 120, "the bridge's warm-up")
            _wait(
                lambda: sum(rig.requests.answered_since(mark, RECEIPT).values()) >= p["warmup"],
                120,
                "the bridge's warm-up receipts",
            )
            base_pid, floor_pid = base_server.worker_pid(), floor_server.worker_pid()
            for round_no in range(int(p["rounds"])):
                m0 = rig.sandbox_cpu()
                bodies = sandbox_bodies(int(p["requests"]), str(round_no))
                sandbox_cpu["making_messages"].append(rig.sandbox_cpu() - m0)
                stamps = _stamps(bodies)
                ages["oldest_at_bare_start"].append(time.time() - min(stamps))
                c0 = cpu_seconds(base_pid)
                base = run_load(workdir, base_url, bodies, **load)
                rates["bare"].append(_ok(base) / base["elapsed"])
                cpu["bare"].append((cpu_seconds(base_pid) - c0) / max(1, _ok(base)) * 1e6)

                s0, c0, m0 = floor_stats(floor_url), cpu_seconds(floor_pid), rig.sandbox_cpu()
                fe0 = floor_readers.events()
                floor = run_load(workdir, floor_url, bodies, **load)
                n = _ok(floor)

                def floor_done(s0: dict = s0, n: int = n, fe0: int = fe0) -> bool:
                    s = floor_stats(floor_url)
                    return (
                        s["stored"] - s0["stored"] >= n
                        and _floor_answered(s, s0) >= n
                        and floor_readers.events() - fe0 >= n
                    )

                done_at = _wait(floor_done, 120, "the floor's outputs and receipts")
                rates["floor"].append(n / (done_at - floor["start_wall"]))
                cpu["floor"].append((cpu_seconds(floor_pid) - c0) / max(1, n) * 1e6)
                sandbox_cpu["floor"].append(rig.sandbox_cpu() - m0)
                s1 = floor_stats(floor_url)
                ok = s1["receipts_sent"] - s0["receipts_sent"]
                if ok != n:
                    raise RuntimeError(f"the floor's receipts: {ok} of {n} answered 2xx")
                receipts_ok["floor"].append(ok)

                before, mark = rig.agent_outputs(), rig.requests.answer_mark()
                be0 = bridge_readers.events()
                ages["youngest_at_bridge_start"].append(time.time() - max(stamps))
                c0, m0 = cpu_seconds(rig.worker_pid), rig.sandbox_cpu()
                bridge = run_load(workdir, rig.bridge_url, bodies, **load)
                n = _ok(bridge)

                def bridge_done(
                    before: int = before, mark: int = mark, n: int = n, be0: int = be0
                ) -> bool:
                    answered = sum(rig.requests.answered_since(mark, RECEIPT).values())
                    return (
                        answered >= n
                        and rig.agent_outputs() - before >= n
                        and bridge_readers.events() - be0 >= n
                    )

                done_at = _wait(bridge_done, 180, "the bridge's outputs and receipts")
                rates["bridge"].append(n / (done_at - bridge["start_wall"]))
                cpu["bridge"].append((cpu_seconds(rig.worker_pid) - c0) / max(1, n) * 1e6)
                sandbox_cpu["bridge"].append(rig.sandbox_cpu() - m0)
                answers = rig.requests.answered_since(mark, RECEIPT)
                ok = sum(v for k, v in answers.items() if 200 <= k < 300)
                if ok != n or sum(answers.values()) != n:
                    raise RuntimeError(f"the bridge's receipts for {n} messages: {answers}")
                receipts_ok["bridge"].append(ok)
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
            capture.stop()
            sandbox_total = rig.sandbox_cpu()
    bare, floor_rate, bridge_rate = (
        statistics.median(rates[k]) for k in ("bare", "floor", "bridge")
    )
    details = {
        "open_handovers": p["handovers"],
        "handovers_made": "all through the engine + sandbox (agent answered)",
        "connections": THREADS,
        "gunicorn": "1 worker, gevent (serve's worker class), all three servers",
        "requests_per_round": p["requests"],
        "rounds": p["rounds"],
        "msg_per_s": {k: _spread(v) for k, v in rates.items()},
        "cpu_us_per_message": {k: _spread(v) for k, v in cpu.items()},
        "statuses": checks,
        "clock_stops": "outputs stored, read by live SSE readers, receipts answered",
        "live_sse_readers": len(targets),
        "sandbox": "its own process: gunicorn, 1 gthread worker, keep-alive connections",
        "sandbox_cpu_s": {
            **{k: [round(v, 2) for v in vs] for k, vs in sandbox_cpu.items()},
            "whole_benchmark": round(sandbox_total, 2),
        },
        "messages": "made by the sandbox (agent API, webhooks captured) before each round in "
        "each handover's own conversation, replayed as signed; the same bodies for all three",
        "receipts_2xx": receipts_ok,
        "webhook_reorder_window_ms": REORDER_WINDOW_MS,
        "channel_time_age_s": {k: [round(a, 2) for a in v] for k, v in ages.items()},
        "reorder_window_note": "nothing is held: each agent message reads its session's last "
        "outputs to place itself (the replayed bodies arrive in order)",
        "sandbox_rate_limit": "off (receipts would otherwise queue behind 429s)",
    }
    return [
        Result(
            name="relay_throughput",
            metric="webhook → user relay throughput, bridge vs bare (median of rounds; reported)",
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
            details={
                "msg_per_s": details["msg_per_s"],
                "rounds": p["rounds"],
                "receipts_2xx": receipts_ok,
                "sandbox_cpu_s": details["sandbox_cpu_s"],
            },
        ),
    ]
