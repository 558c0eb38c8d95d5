"""Open connections that cost nothing (docs/design.md §11):

- `idle_streams`: 5,000 idle SSE streams plus 1,000 pending long-polls held open against the
  bridge; webhook p99 at 200 req/s with them, against the same run without them (target ≤ 1.5 ×),
  `/healthz` answering throughout (probed four times a second during every run), and the worker's
  memory per idle stream (target ≤ 50 KB);
- `slowloris`: 16 connections that trickle a header byte every half second and never finish
  (reconnecting when the server drops them); webhook p99 at 200 req/s with them against without
  (target ≤ 1.2 ×: nothing measurable), with the worker's CPU with the slow connections alone.

Both compare in interleaved rounds of both sides (median and spread: one 10 s p99 on a shared
2-core machine moves by more than the targets either way), with the worker's CPU per run, so a
real cost shows apart from noise. The connections are held by one separate process
(`python -m bench.holder`) that runs throughout and is told to open or close them between runs,
so the bench process's own scheduling does not colour the load generator's timings and the two
sides differ by the connections alone.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from bench import payloads
from bench.genesys_messages import RECEIPT
from bench.latency_p99 import _summary, percentile
from bench.procs import HOST, ROOT, open_fds, python_argv, rss_bytes, run_seconds, wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import open_handovers, run_load, wait_outputs
from om_bridge.bridge.demo import DEMO_TOKEN
from om_bridge.bridge.endpoint.routes import SSE_KEEPALIVE_SECONDS

RATE = 200.0
# Interleaved rounds, each a run without and a run with the connections held open.
# idle_streams: an idle SSE stream gets a keep-alive comment every SSE_KEEPALIVE_SECONDS, so each
# run lasts that long (every stream's keep-alive falls in every run once) and the streams are
# opened spread over that long (their keep-alives spread out as those of clients that came at
# different times); opening them and letting them go takes that long again, so fewer rounds than
# slowloris.
IDLE_FULL = {
    "sse": 5000,
    "polls": 1000,
    "rounds": 3,
    "duration": SSE_KEEPALIVE_SECONDS,
    "spread": SSE_KEEPALIVE_SECONDS,
    "handovers": 50,
    "warmup": 200,
}
IDLE_QUICK = {
    "sse": 100,
    "polls": 20,
    "rounds": 2,
    "duration": 1.0,
    "spread": 0.0,
    "handovers": 5,
    "warmup": 20,
}
IDLE_TARGET = 1.5
SLOW = 16
SLOWLORIS_FULL = {"rounds": 6, "duration": 6.0, "handovers": 50, "warmup": 200, "idle_seconds": 3.0}
SLOWLORIS_QUICK = {"rounds": 2, "duration": 1.0, "handovers": 5, "warmup": 20, "idle_seconds": 0.3}
SLOWLORIS_TARGET = 1.2
CONNECTIONS = 16
MEMORY_TARGET_KB = 50.0
SIDES = ("without", "with")


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

    def _command(self, line: str) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the connection holder exited on {line!r}")
        return dict(json.loads(reply))

    def set_slow(self, n: int) -> dict:
        """Hold `n` slowloris connections from now on (closing the ones held); the holder's
        reply: how many it holds and the slowloris reconnects so far."""
        return self._command(f"slow {n}")

    def set_idle(self, sse: int, polls: int, spread: float = 0.0) -> dict:
        """Hold `sse` idle SSE streams and `polls` long-polls from now on (closing the ones held),
        opened over `spread` seconds; the holder's reply: how many it holds, the seconds the
        opening took, and its counts."""
        return self._command(f"idle {sse} {polls} {spread}")

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


def _drained(rig: Rig, mark: int, n: int) -> int:
    """Wait until the sandbox has answered the bridge's `n` receipts since `mark` (404s: the bodies'
    message ids are made up), so no run starts with the previous run's receipts still going out;
    how many were still unanswered when the call began."""
    answered = lambda: sum(rig.requests.answered_since(mark, RECEIPT).values())  # noqa: E731
    behind = max(n - answered(), 0)
    wait_until(lambda: answered() >= n, 120, f"the bridge's {n} receipts", 0.02)
    return behind


def _prepared_runs(rig: Rig, workdir: Path, p: dict) -> list[list[dict]]:
    """Open `p["handovers"]` handovers, make fresh bodies for each of the 2 × rounds runs (all
    before the warm-up), and send a warm-up drained of its outputs and receipts."""
    targets = open_handovers(rig, p["handovers"])
    count = int(RATE * p["duration"])
    bodies = [payloads.relay_bodies(targets, count) for _ in range(2 * p["rounds"])]
    warm = payloads.relay_bodies(targets, p["warmup"])
    before, mark = rig.agent_outputs(), rig.requests.answer_mark()
    run_load(workdir, rig.bridge_url, warm, mode="closed", connections=4, duration=30.0)
    wait_outputs(rig, before + p["warmup"])  # warm-up drained before measuring
    _drained(rig, mark, p["warmup"])
    return bodies


def _interleaved(rounds: int, run: Callable[[str], dict]) -> dict[str, list[dict]]:
    """`run(side)` for each side of each round, the rounds alternating the order (without, with
    / with, without / …) so a drift of the machine's load or of the store's size weighs on both
    sides alike; the runs of each side in order."""
    runs: dict[str, list[dict]] = {side: [] for side in SIDES}
    for r in range(rounds):
        for side in SIDES if r % 2 == 0 else SIDES[::-1]:
            runs[side].append(run(side))
    return runs


class _Probe:
    """GET /healthz every `interval` seconds from a thread while the load runs: how many answered
    200 within `timeout`, and the slowest answer."""

    def __init__(self, url: str, interval: float = 0.25, timeout: float = 5.0) -> None:
        self.url, self.interval, self.timeout = url, interval, timeout
        self.sent = self.answered = 0
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.wait(self.interval):
                t0 = time.monotonic()
                try:
                    ok = session.get(self.url + "/healthz", timeout=self.timeout).status_code == 200
                except requests.RequestException:
                    ok = False
                self.sent += 1
                self.answered += ok
                self.slowest = max(self.slowest, time.monotonic() - t0)

    def __enter__(self) -> _Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def summary(self) -> dict:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "slowest_ms": round(self.slowest * 1000.0, 1),
        }


def _measured_run(
    rig: Rig,
    workdir: Path,
    holder: Holder,
    bodies: list[dict],
    duration: float,
    probe: bool = False,
) -> dict:
    """One open-loop run at RATE with whatever the holder process holds now, until the run is
    drained (outputs stored, receipts answered). Its p99; the bridge worker's CPU for the whole
    run (load and drain: receipts still going out when the outputs are stored are this run's
    work) and the holder's; the receipts still unanswered when the outputs were stored; with
    `probe`, the /healthz probes sent during the load and how they were answered."""
    wait_until(lambda: _healthz(rig.bridge_url), 30, "/healthz")
    holder_cpu0 = run_seconds(holder.proc.pid)
    mark, cpu0 = rig.requests.answer_mark(), run_seconds(rig.worker_pid)
    probing = _Probe(rig.bridge_url)
    if probe:
        with probing:
            result = _load(rig, workdir, bodies, duration)
    else:
        result = _load(rig, workdir, bodies, duration)
    receipts_behind = _drained(rig, mark, result["statuses"].get(200, 0))
    return {
        "latencies": result["latencies"],
        "statuses": result["statuses"],
        "p99_ms": percentile(result["latencies"], 99) * 1000.0,
        "worker_cpu_s": run_seconds(rig.worker_pid) - cpu0,
        "holder_cpu_s": run_seconds(holder.proc.pid) - holder_cpu0,
        "receipts_behind": receipts_behind,
        "healthz": probing.summary(),
    }


def _rounds_details(runs: dict[str, list[dict]], count: int) -> dict:
    """What the interleaved runs measured, side by side: the p99s of the rounds (median and
    spread), the per-round ratios, the pooled latencies, statuses, the bridge worker's and the
    holder's CPU per run, and the receipts still going out when the outputs were stored."""
    p99 = {side: [run["p99_ms"] for run in runs[side]] for side in SIDES}
    pooled = {side: [v for run in runs[side] for v in run["latencies"]] for side in SIDES}
    return {
        "p99_ms": {side: _spread(p99[side]) for side in SIDES},
        "ratio_per_round": _spread([w / o for w, o in zip(p99["with"], p99["without"])], 3),
        "pooled_ms": {side: _summary(pooled[side]) for side in SIDES},
        "statuses": {side: _counts(run["statuses"] for run in runs[side]) for side in SIDES},
        "worker_cpu_s_per_run": {
            side: [round(run["worker_cpu_s"], 2) for run in runs[side]] for side in SIDES
        },
        "worker_cpu_ms_per_request": {
            side: round(
                statistics.median(run["worker_cpu_s"] for run in runs[side]) / count * 1000.0, 3
            )
            for side in SIDES
        },
        "holder_cpu_s_per_run": {
            side: [round(run["holder_cpu_s"], 3) for run in runs[side]] for side in SIDES
        },
        "receipts_behind_when_outputs_stored": {
            side: [run["receipts_behind"] for run in runs[side]] for side in SIDES
        },
        "receipts": "bodies with made-up message ids: every Delivered receipt is answered "
        "404 by the sandbox, alike in both conditions",
    }


def _medians(runs: dict[str, list[dict]]) -> tuple[float, float]:
    """The medians of the rounds' p99s: with, without."""
    return (
        statistics.median(run["p99_ms"] for run in runs["with"]),
        statistics.median(run["p99_ms"] for run in runs["without"]),
    )


def _idle_run(
    rig: Rig, workdir: Path, holder: Holder, bodies: list[dict], p: dict, side: str, state: dict
) -> dict:
    """One run with the idle SSE streams and long-polls open (side "with") or none, held by the
    holder process, which runs throughout the benchmark either way. They are opened before a
    "with" run that follows a "without" one and closed before a "without" run that follows a
    "with" one (two "with" runs in a row keep them), and once closed the run waits until the
    bridge worker has let them go, so it starts with none left over. Besides `_measured_run`'s:
    what the holder held, and where this run opened them, the seconds it took and the worker's
    RSS before and after; where it closed them, the seconds until the worker let them go."""
    run: dict[str, Any] = {}
    if side == "with" and not state["open"]:
        state["fds"], rss0 = open_fds(rig.worker_pid), rss_bytes(rig.worker_pid)
        reply = holder.set_idle(p["sse"], p["polls"], p["spread"])
        rss_open = rss_bytes(rig.worker_pid)
        run["opened"] = {
            "seconds": reply["open_s"],
            "rss_mb": [round(rss0 / 2**20, 1), round(rss_open / 2**20, 1)],
            "rss_growth": rss_open - rss0,
        }
        state.update(open=True, held={"sse": reply["sse"], "polls": reply["polls"]})
    elif side == "without" and state["open"]:
        reply = holder.set_idle(0, 0)
        t0 = time.monotonic()
        # the bridge lets a closed SSE stream go when its next keep-alive comment fails
        wait_until(
            lambda: open_fds(rig.worker_pid) <= state["fds"] + 50, 60, "the streams' release", 0.1
        )
        run["released_s"] = round(time.monotonic() - t0, 1)
        state.update(open=False, held={"sse": reply["sse"], "polls": reply["polls"]})
    run["held"] = dict(state["held"])
    return {**_measured_run(rig, workdir, holder, bodies, p["duration"], probe=True), **run}


def idle_streams(workdir: Path, quick: bool = False) -> list[Result]:
    """Webhook p99 at 200 req/s with thousands of idle streams and long-polls open against none,
    interleaved as in `slowloris`; /healthz probed through every run; and the worker's memory
    per idle stream (its RSS growth on opening them / their number, the largest of the openings)."""
    p = IDLE_QUICK if quick else IDLE_FULL
    count = int(RATE * p["duration"])
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        bodies = _prepared_runs(rig, workdir, p)
        holder = Holder({"host": HOST, "port": rig.bridge_port, "token": DEMO_TOKEN})
        try:
            state = {"open": False, "held": {"sse": 0, "polls": 0}}
            runs = _interleaved(
                p["rounds"],
                lambda side: _idle_run(rig, workdir, holder, bodies.pop(), p, side, state),
            )
        finally:
            held = holder.stop()
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    streams = p["sse"] + p["polls"]
    value, baseline = _medians(runs)
    opened = [run["opened"] for side in SIDES for run in runs[side] if "opened" in run]
    per_stream_kb = max(max(o["rss_growth"] for o in opened), 0) / streams / 1024.0
    healthz = {side: [run["healthz"] for run in runs[side]] for side in SIDES}
    common = {
        "sse_streams": p["sse"],
        "long_polls": p["polls"],
        "rounds": p["rounds"],
        "held_per_run": {side: [run["held"] for run in runs[side]] for side in SIDES},
        "opened_over_s": p["spread"],
        "open_s": [o["seconds"] for o in opened],
        "release_s": [run["released_s"] for run in runs["without"] if "released_s" in run],
        "holder": held,
        "sandbox_cpu_s": sandbox_cpu,
    }
    return [
        Result(
            name="idle_streams",
            metric="webhook p99 at 200 req/s with idle streams open, against none "
            "(median of interleaved rounds)",
            unit="ms",
            value=value,
            baseline=baseline,
            target=IDLE_TARGET,
            compare="<=",
            target_on="ratio",
            details={
                **common,
                "rate": RATE,
                "seconds_per_run": p["duration"],
                "order": "rounds alternate: without, with / with, without / …",
                "holder_process": "one process throughout; only the idle streams and long-polls "
                "differ between the sides (opened before a 'with' run after a 'without' one, "
                "closed and let go by the bridge before a 'without' run after a 'with' one)",
                **_rounds_details(runs, count),
                "healthz_probes": healthz,
                "healthz_answered": all(h["answered"] == h["sent"] > 0 for h in healthz["with"]),
            },
        ),
        Result(
            name="idle_stream_memory",
            metric="worker memory per idle stream (RSS growth on opening / streams, "
            "the largest of the openings)",
            unit="KB",
            value=per_stream_kb,
            baseline=None,
            target=MEMORY_TARGET_KB,
            compare="<=",
            details={
                **common,
                "rss_mb_before_after_opening": [o["rss_mb"] for o in opened],
                "rss_growth_kb_per_stream": [
                    round(o["rss_growth"] / streams / 1024.0, 2) for o in opened
                ],
            },
        ),
    ]


def _slow_run(
    rig: Rig, workdir: Path, holder: Holder, bodies: list[dict], duration: float, slow: int
) -> dict:
    """One run with `slow` slowloris connections (0 or SLOW) held by the holder process, which
    runs throughout the benchmark either way, from before the load until the run is drained.
    Besides `_measured_run`'s: the slow connections held and their reconnects."""
    held = holder.set_slow(slow)
    run = _measured_run(rig, workdir, holder, bodies, duration)
    after = holder.set_slow(0)
    return {
        **run,
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
    with Rig(workdir, sandbox_config={"rate_limit": {"per_minute": 0}}) as rig:
        bodies = _prepared_runs(rig, workdir, p)
        holder = Holder({"host": HOST, "port": rig.bridge_port, "slow": 0})
        try:
            idle = _idle_cost(rig, holder, p["idle_seconds"])
            runs = _interleaved(
                p["rounds"],
                lambda side: _slow_run(
                    rig, workdir, holder, bodies.pop(), p["duration"], SLOW if side == "with" else 0
                ),
            )
        finally:
            holder.stop()
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    value, baseline = _medians(runs)
    return Result(
        name="slowloris",
        metric="webhook p99 at 200 req/s with 16 slowloris connections, against none "
        "(median of interleaved rounds)",
        unit="ms",
        value=value,
        baseline=baseline,
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
            **_rounds_details(runs, count),
            "slow_held_per_run": {kind: [run["slow_held"] for run in runs[kind]] for kind in runs},
            "slow_reconnects_per_run": [run["slow_reconnects"] for run in runs["with"]],
            "idle_worker_cpu": idle,
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
