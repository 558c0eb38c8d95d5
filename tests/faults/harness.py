"""Fault-suite harness: the sandbox in this process, the bridge as real `om-bridge serve` processes
(so a SIGKILL is a real one), steady two-way traffic, and a per-fault report.

`FaultBed` starts the sandbox and one or two bridges on free loopback ports, all with short
configured bounds (`BOUNDS`); `Traffic` opens handovers, sends numbered messages both ways and
reads what each side received (the agent's side through the sandbox's REST API, the user's side
through the bridge's long-poll route); `Report` counts sent, delivered, duplicated and out of order
per direction, and the time until every handover had its right status.

With `tls` (a `tests.tlsca.TLSFiles`) the sandbox serves HTTPS and wss:// on the test CA's
certificate and the bridges verify it through REQUESTS_CA_BUNDLE; the test's own calls to the
sandbox need the same bundle (the `ca_bundle_env` fixture).
"""

from __future__ import annotations

import copy
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import tomli_w

from om_bridge.bridge.demo import DEMO_TOKEN, demo_config, demo_environ, sandbox_demo_config
from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_until
from tests.display import displayed
from tests.scenario.harness import merge
from tests.tlsca import TLSFiles, bridge_environ

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# The configured bounds of the suite (short, so faults recover within a test's patience).
# The placement window covers the sandbox's reorder fault (the held delivery goes out right after
# the next one) with room for a busy machine.
BOUNDS = {
    "lease_seconds": 2.0,
    "in_flight_seconds": 6.0,
    "reconcile_seconds": 2.0,
    "webhook_reorder_window_ms": 3000,
}
# Genesys keeps retrying a webhook long enough to outlast a bridge restart (a few seconds here;
# 5 retries 5 s apart in Genesys), and EventBridge retries quickly.
SANDBOX = {
    "webhook": {"timeout": 5.0, "retries": 40, "retry_delay": 0.25},
    "eventbridge": {"retry_delay_seconds": 0.1, "max_retry_delay_seconds": 0.5},
}
INBOUND_PATH = "/api/v2/conversations/messages/*/inbound/open/*"


class BridgeProcess:
    """`om-bridge serve --dev` in its own process on a fixed port (restartable)."""

    def __init__(self, config_path: Path, port: int, environ: dict[str, str], log: Path) -> None:
        self.config_path, self.port, self.environ, self.log_path = config_path, port, environ, log
        self.url = f"http://{HOST}:{port}"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        self._log = open(self.log_path, "a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "om_bridge",
                "serve",
                "--dev",
                "--config",
                str(self.config_path),
                "--host",
                HOST,
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=self.environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            try:
                return requests.get(self.url + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, 30, interval=0.1, what=f"the bridge on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8").splitlines()[-lines:])
        except OSError:
            return ""


class FaultBed:
    """The sandbox plus `bridges` bridge processes sharing one store (SQLite file or Redis)."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        bridges: int = 1,
        store: str | None = None,
        completion: str = "eventbridge",
        webhook_to: int = 0,
        sandbox_config: dict | None = None,
        stagger: Any = None,
        tls: TLSFiles | None = None,
    ) -> None:
        """`stagger`: waited for (a predicate) between starting one bridge and the next."""
        self.tmp_path = tmp_path
        ports = [free_port() for _ in range(bridges)]
        target = f"http://{HOST}:{ports[webhook_to]}"
        sandbox_cfg = merge(merge(sandbox_demo_config(target), SANDBOX), sandbox_config or {})
        if completion != "eventbridge":
            sandbox_cfg["eventbridge"]["url"] = ""
        if completion == "notifications":
            sandbox_cfg["notifications"] = {"heartbeat_seconds": 0.5}
        self.sandbox = SandboxServer(
            config=copy.deepcopy(sandbox_cfg),
            host=HOST,
            port=0,
            **(tls.server_args if tls else {}),
        )
        self.sandbox.start()
        self.sandbox_url = self.sandbox.url
        data = tmp_path / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = demo_config(target, self.sandbox_url, data)
        config["bridge"].update(BOUNDS)
        if store:
            config["bridge"]["store"] = store
        config["providers"][0]["completion"] = completion
        self.config = config
        self.store_url = config["bridge"]["store"]
        path = tmp_path / "om-bridge.toml"
        path.write_text(tomli_w.dumps(config), encoding="utf-8")
        environ = {**os.environ, **demo_environ()}
        if tls is not None:
            environ = bridge_environ(tls.ca_bundle, environ)
        self.bridges = [
            BridgeProcess(path, port, environ, tmp_path / f"bridge-{i}.log")
            for i, port in enumerate(ports)
        ]
        self.agent: AgentClient | None = None
        try:
            for i, bridge in enumerate(self.bridges):
                if i and stagger is not None:
                    wait_until(stagger, 15, interval=0.05, what="the first bridge settled")
                bridge.start()
            self.agent = AgentClient(
                self.sandbox_url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD
            ).login()
            self.agent.go_on_queue()
        except BaseException:
            self.close()
            raise

    # -- sandbox fault injection --
    def add_fault(self, **fault: Any) -> None:
        resp = requests.post(self.sandbox_url + "/sandbox/faults", json=fault, timeout=5)
        assert resp.status_code == 201, resp.text

    def fault_taken(self) -> bool:
        """True once every fault added has fired as often as it may."""
        # A fault that fired its `count` times leaves the list.
        return not requests.get(self.sandbox_url + "/sandbox/faults", timeout=5).json()["faults"]

    def clear_faults(self) -> None:
        requests.delete(self.sandbox_url + "/sandbox/faults", timeout=5).raise_for_status()

    def close(self) -> None:
        if self.agent is not None:
            self.agent.close()
        for bridge in self.bridges:
            bridge.stop()
        self.sandbox.stop()


@dataclass
class Session:
    session_id: str
    user_id: str
    conversation_id: str = ""
    sent_to_agent: list[str] = field(default_factory=list)
    sent_to_user: list[str] = field(default_factory=list)


@dataclass
class Direction:
    sent: int = 0
    delivered: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    lost: list[str] = field(default_factory=list)


@dataclass
class Report:
    fault: str
    to_agent: Direction
    to_user: Direction
    status_seconds: float | None

    def table(self) -> str:
        rows = [
            ("direction", "sent", "delivered", "duplicated", "out of order"),
            *(
                (name, str(d.sent), str(d.delivered), str(d.duplicated), str(d.out_of_order))
                for name, d in (("user -> agent", self.to_agent), ("agent -> user", self.to_user))
            ),
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = [f"fault: {self.fault}"]
        lines += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
        ]
        took = "never" if self.status_seconds is None else f"{self.status_seconds:.1f} s"
        lines.append(f"  every handover at its right status after: {took}")
        return "\n".join(lines)


def compare(sent: list[str], received: list[str]) -> Direction:
    """Counts for one direction of one session (only this session's own numbered texts)."""
    mine = [t for t in received if t in set(sent)]
    d = Direction(sent=len(sent), delivered=len(set(mine)))
    d.duplicated = len(mine) - len(set(mine))
    first_seen: list[str] = []
    for text in mine:
        if text not in first_seen:
            first_seen.append(text)
    order = [sent.index(t) for t in first_seen]
    d.out_of_order = sum(1 for a, b in itertools.pairwise(order) if b < a)
    d.lost = [t for t in sent if t not in mine]
    return d


def add(total: Direction, part: Direction) -> None:
    total.sent += part.sent
    total.delivered += part.delivered
    total.duplicated += part.duplicated
    total.out_of_order += part.out_of_order
    total.lost += part.lost


class Traffic:
    """Handovers of `sessions` webchat sessions and numbered messages both ways."""

    def __init__(self, bed: FaultBed, sessions: int = 2) -> None:
        self.bed = bed
        self.bridge_url = bed.bridges[0].url
        run = uuid.uuid4().hex[:6]
        self.sessions = [Session(f"s{i}-{run}", f"u{i}-{run}") for i in range(sessions)]

    # -- the user side (through the bridge) --
    def say(self, session: Session, text: str) -> None:
        resp = requests.post(
            f"{self.bridge_url}/endpoint/{DEMO_TOKEN}",
            json={"userId": session.user_id, "sessionId": session.session_id, "text": text},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text

    def say_until_accepted(self, session: Session, text: str, patience: float = 120.0) -> str:
        """POST like the webchat does: one Idempotency-Key for the message, re-sent with the
        same key while the bridge cannot be reached (or answers 5xx, 409, 429). Returns how it
        was accepted: "first", "resent" or "replayed" (a kept answer given again)."""
        key, deadline = uuid.uuid4().hex, time.monotonic() + patience
        attempts = 0
        while True:
            wait = 0.1
            attempts += 1
            try:
                resp = requests.post(
                    f"{self.bridge_url}/endpoint/{DEMO_TOKEN}",
                    json={"userId": session.user_id, "sessionId": session.session_id, "text": text},
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
                if resp.status_code == 200:
                    if resp.headers.get("Idempotent-Replayed") == "true":
                        return "replayed"
                    return "first" if attempts == 1 else "resent"
                assert resp.status_code in (409, 429) or resp.status_code >= 500, resp.text
                wait = float(resp.headers.get("Retry-After", wait))
            except requests.RequestException:
                pass  # the bridge is down or was killed mid-request: send again
            assert time.monotonic() < deadline, f"{text!r} was never accepted"
            time.sleep(wait)  # a client's pause between re-sends

    def outputs(self, session: Session) -> list[dict]:
        found: list[dict] = []
        after = 0
        while True:
            resp = requests.get(
                f"{self.bridge_url}/endpoint/{DEMO_TOKEN}/sessions/{session.session_id}/outputs",
                params={"userId": session.user_id, "after": after, "wait": 0},
                timeout=10,
            )
            resp.raise_for_status()
            page = resp.json()
            found += page["outputs"]
            if not page["outputs"] or page["next"] == after:
                return found
            after = page["next"]

    def user_saw(self, session: Session) -> list[str]:
        """The agent's lines as the webchat shows them (a late delivery in front of its `before`)."""
        return [
            o["text"]
            for o in displayed(self.outputs(session))
            if o["source"] == "agent" and o.get("text")
        ]

    def status(self, session: Session) -> list[str]:
        return [
            ((o.get("data") or {}).get("handover") or {}).get("status")
            for o in self.outputs(session)
            if o["source"] == "system"
        ]

    # -- the agent side (through the sandbox) --
    def agent_saw(self, session: Session) -> list[str]:
        assert self.bed.agent is not None
        texts = []
        for m in self.bed.agent.transcript(session.conversation_id):
            if m.get("direction") == "inbound":
                texts.append(m.get("textBody") or (m.get("normalizedMessage") or {}).get("text"))
        return texts

    # -- phases --
    def open_handovers(self) -> None:
        agent = self.bed.agent
        assert agent is not None
        for session in self.sessions:
            self.say(session, "hello")
            self.say(session, "agent please")
            offer = agent.wait_for_offer(timeout=20)
            agent.answer(offer["id"])
            customer = next(p for p in offer["participants"] if p.get("purpose") == "customer")
            assert customer["attributes"]["sessionId"] == session.session_id
            session.conversation_id = offer["id"]
        for session in self.sessions:
            wait_until(lambda s=session: "queue" in self.status(s), 20, what="the handover queued")

    def user_message(self, session: Session, n: int) -> None:
        text = f"user {session.session_id} #{n}"
        session.sent_to_agent.append(text)
        self.say(session, text)

    def agent_message(self, session: Session, n: int | str) -> None:
        assert self.bed.agent is not None
        text = f"agent {session.session_id} #{n}"
        session.sent_to_user.append(text)
        self.bed.agent.send_text(session.conversation_id, text)

    def exchange(self, rounds: int, start: int = 0, burst: int = 1) -> None:
        """`rounds` rounds: each session's user writes once, then its agent `burst` times."""
        for n in range(start, start + rounds):
            for session in self.sessions:
                self.user_message(session, n)
                for k in range(burst):
                    self.agent_message(session, n if burst == 1 else f"{n}.{k}")

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until both sides received every message sent (or `timeout`: the counts tell)."""

        def complete() -> bool:
            for s in self.sessions:
                if not set(s.sent_to_agent) <= set(self.agent_saw(s)):
                    return False
                if not set(s.sent_to_user) <= set(self.user_saw(s)):
                    return False
            return True

        try:
            wait_until(complete, timeout, interval=0.2, what="every message delivered")
        except AssertionError:
            pass  # reported as lost below

    def end_all(self, timeout: float = 30.0) -> float | None:
        """The agent ends every conversation; seconds until every handover was completed."""
        assert self.bed.agent is not None
        started = time.monotonic()
        for session in self.sessions:
            self.bed.agent.disconnect(session.conversation_id)
        try:
            wait_until(
                lambda: all("completed" in self.status(s) for s in self.sessions),
                timeout,
                interval=0.1,
                what="every handover completed",
            )
        except AssertionError:
            return None
        return time.monotonic() - started

    def report(self, fault: str, status_seconds: float | None) -> Report:
        to_agent, to_user = Direction(), Direction()
        for s in self.sessions:
            add(to_agent, compare(s.sent_to_agent, self.agent_saw(s)))
            add(to_user, compare(s.sent_to_user, self.user_saw(s)))
        report = Report(fault, to_agent, to_user, status_seconds)
        print("\n" + report.table())
        return report


def check(report: Report, recovery_bound: float) -> None:
    """0 lost, 0 duplicated, order kept, every handover completed within the bound."""
    for name, d in (("user -> agent", report.to_agent), ("agent -> user", report.to_user)):
        assert d.lost == [], f"{report.fault}: {name} lost {d.lost}"
        assert d.duplicated == 0, f"{report.fault}: {name} duplicated {d.duplicated}"
        assert d.out_of_order == 0, f"{report.fault}: {name} out of order {d.out_of_order}"
    assert report.status_seconds is not None, f"{report.fault}: a handover never completed"
    assert report.status_seconds <= recovery_bound, (
        f"{report.fault}: handovers completed after {report.status_seconds:.1f} s, "
        f"beyond the configured bound of {recovery_bound:.1f} s"
    )
