"""scaling: per-message cost with 100 and with 10,000 open handovers (docs/design.md §11: ratio ≤ 1.2),
and memory per idle handover (≤ 30 KB).

A message's cost is measured on probe handovers made through the engine and the sandbox, one
message at a time on an otherwise quiet bridge: user message → the inbound call arriving at the
sandbox, plus agent webhook → the output readable from the bridge (a long-poll that returns as it
lands). The other open handovers are cloned into the store with matching customer ids. Memory:
the bridge worker's RSS before and after `idle` more handovers are opened through the engine's
real paths (the demo flow over `POST /endpoint`, first message to the sandbox, conversation
queued with no free agent)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import requests

from bench import payloads
from bench.procs import cpu_seconds, rss_bytes, wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import wait_outputs
from om_bridge.bridge.demo import DEMO_TOKEN, WEBHOOK_PATH
from om_bridge.bridge.store import Handover

TARGET_RATIO = 1.2
MEMORY_TARGET_KB = 30.0
FULL = {"small": 100, "large": 10_000, "probes": 4, "rounds": 30, "idle": 400}
QUICK = {"small": 10, "large": 60, "probes": 2, "rounds": 3, "idle": 10}
INBOUND = "/inbound/open/message"


class Probe:
    """One real handover used to time messages both ways."""

    def __init__(self, rig: Rig, handover: Handover) -> None:
        self.rig, self.conversation_id = rig, handover.conversation_id or ""
        self.user_id, self.customer_id = handover.session.user_id, handover.customer_id
        self.http = requests.Session()
        self.cursor = self._outputs(0, 0)["next"]

    def _outputs(self, after: int, wait: float) -> dict:
        url = f"{self.rig.bridge_url}/endpoint/{DEMO_TOKEN}/sessions/s-{self.user_id}/outputs"
        resp = self.http.get(
            url, params={"userId": self.user_id, "after": after, "wait": wait}, timeout=wait + 10
        )
        resp.raise_for_status()
        return resp.json()

    def user_to_inbound(self, text: str) -> float:
        """Seconds from posting a user message until the sandbox receives its inbound call."""
        log = self.rig.requests
        mark = log.mark()
        start = time.perf_counter()
        self.http.post(
            f"{self.rig.bridge_url}/endpoint/{DEMO_TOKEN}",
            timeout=10,
            json={"userId": self.user_id, "sessionId": f"s-{self.user_id}", "text": text},
        ).raise_for_status()
        seen = log.wait_for(lambda s: s.method == "POST" and s.path.endswith(INBOUND), mark, 10)
        return seen.at - start

    def webhook_to_output(self, text: str) -> float:
        """Seconds from posting a signed agent Text until its output can be read."""
        raw, signature = payloads.signed(
            payloads.agent_text(self.customer_id, self.conversation_id, text)
        )
        start = time.perf_counter()
        self.http.post(
            self.rig.bridge_url + WEBHOOK_PATH,
            data=raw,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature,
            },
        ).raise_for_status()
        while True:
            page = self._outputs(self.cursor, 5)
            self.cursor = page["next"]
            if any(o.get("text") == text for o in page["outputs"]):
                return time.perf_counter() - start


def _measure(rig: Rig, probes: list[Probe], rounds: int, tag: str) -> dict:
    user, hook = [], []
    cpu0 = cpu_seconds(rig.worker_pid)
    for r in range(rounds):
        for probe in probes:
            user.append(probe.user_to_inbound(f"{tag} user {r}"))
            hook.append(probe.webhook_to_output(f"{tag} agent {r}"))
    cpu = cpu_seconds(rig.worker_pid) - cpu0
    pairs = [u + h for u, h in zip(user, hook)]
    return {
        "pairs": len(pairs),
        "median_ms": statistics.median(pairs) * 1000,
        "mean_ms": statistics.fmean(pairs) * 1000,
        "user_to_inbound_median_ms": statistics.median(user) * 1000,
        "webhook_to_output_median_ms": statistics.median(hook) * 1000,
        "bridge_cpu_ms_per_pair": cpu / len(pairs) * 1000,
    }


def _open_count(rig: Rig) -> int:
    return rig.sql("SELECT count(*) FROM handovers WHERE ended_at IS NULL")[0][0]


def run(workdir: Path, quick: bool = False) -> list[Result]:
    """Cost at `small` open handovers, memory of `idle` engine-made ones, cost at `large`."""
    p = QUICK if quick else FULL
    # The probes send one message after another, faster than a person types: the per-session
    # input rate limit is not what is measured here.
    with Rig(
        workdir,
        sandbox_config={"rate_limit": {"per_minute": 0}},
        bridge={"input_rate_per_minute": 0},
    ) as rig:
        agent = rig.agent()
        agent.go_on_queue()
        probes, template = [], None
        for i in range(p["probes"]):
            h = rig.engine_handover(f"probe-{i}")
            agent.wait_for_offer()
            agent.answer(h.conversation_id)
            before = rig.agent_outputs()
            agent.send_text(h.conversation_id, "Hello, Alex here.")
            wait_outputs(rig, before + 1, 30)
            template = rig.store.get_handover(h.id)
            probes.append(Probe(rig, h))
        assert template is not None
        rig.clone_handovers(template, p["small"] - _open_count(rig))
        _measure(rig, probes, 2, "warm")
        small = _measure(rig, probes, p["rounds"], "small")
        small["open_handovers"] = _open_count(rig)

        rss0 = rss_bytes(rig.worker_pid)
        for i in range(p["idle"]):
            rig.say(f"idle-{i}", "hello")
            rig.say(f"idle-{i}", "I want an agent please")
        wait_until(
            lambda: rig.sql(
                "SELECT count(*) FROM handovers WHERE ended_at IS NULL AND "
                "conversation_id IS NOT NULL AND user_id LIKE 'idle-%'"
            )[0][0]
            >= p["idle"],
            120,
            "the idle handovers' conversations",
            0.05,
        )
        wait_until(
            lambda: rig.sql("SELECT count(*) FROM outbox WHERE dead = 0")[0][0] == 0,
            60,
            "the outbox to drain",
            0.05,
        )
        rss1 = rss_bytes(rig.worker_pid)

        clones = rig.clone_handovers(template, p["large"] - _open_count(rig))
        _measure(rig, probes, 2, "warm-large")
        large = _measure(rig, probes, p["rounds"], "large")
        large["open_handovers"] = _open_count(rig)
        rss2 = rss_bytes(rig.worker_pid)
        # Back to `small` open handovers (the clones end; their rows stay): a second small
        # measurement after the large one, so time and table size are not mistaken for scale.
        idle = [
            r[0]
            for r in rig.sql(
                "SELECT id FROM handovers WHERE ended_at IS NULL AND user_id LIKE 'idle-%'"
            )
        ]
        for handover_id in (idle + [h.id for h in clones])[: _open_count(rig) - p["small"]]:
            rig.store.finish_handover(handover_id, "completed", "benchmark")
        again = _measure(rig, probes, p["rounds"], "small-again")
        again["open_handovers"] = _open_count(rig)
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    per_handover_kb = (rss1 - rss0) / p["idle"] / 1024
    rounded = [
        {k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()}
        for m in (small, large, again)
    ]
    small_ms = (small["median_ms"] + again["median_ms"]) / 2
    small_cpu = (small["bridge_cpu_ms_per_pair"] + again["bridge_cpu_ms_per_pair"]) / 2
    return [
        Result(
            name="scaling",
            metric=f"per-message cost, {large['open_handovers']} vs "
            f"{small['open_handovers']} open handovers (median of user→inbound + "
            "webhook→output)",
            unit="ms",
            value=large["median_ms"],
            baseline=small_ms,
            target=TARGET_RATIO,
            compare="<=",
            target_on="ratio",
            details={
                "small_before": rounded[0],
                "large": rounded[1],
                "small_after": rounded[2],
                "baseline": "mean of the two small medians (before and after large)",
                "cpu_ratio": round(large["bridge_cpu_ms_per_pair"] / small_cpu, 3),
                "handovers_made": f"{p['probes']} probes + {p['idle']} idle through the "
                "engine and sandbox, the rest cloned into the store",
                "sandbox_cpu_s": sandbox_cpu,
            },
        ),
        Result(
            name="memory_per_handover",
            metric="bridge worker RSS per idle handover",
            unit="KB",
            value=per_handover_kb,
            baseline=None,
            target=MEMORY_TARGET_KB,
            compare="<=",
            details={
                "idle_handovers": p["idle"],
                "rss_before_mb": round(rss0 / 2**20, 2),
                "rss_after_mb": round(rss1 / 2**20, 2),
                "rss_with_large_mb": round(rss2 / 2**20, 2),
                "how": "opened through POST /endpoint (demo flow → handover node → first "
                "message to the sandbox), conversations left queued",
                "sandbox_cpu_s": sandbox_cpu,
            },
        ),
    ]
