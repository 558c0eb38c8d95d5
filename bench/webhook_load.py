"""Shared by the webhook benchmarks: open handovers to aim at, the baseline server, the load
generator process, and waiting for relayed outputs to land in the bridge's store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import payloads
from bench.procs import HOST, ROOT, Server, free_port, python_argv, wait_http, wait_until
from bench.rig import Rig
from om_bridge.bridge.demo import WEBHOOK_PATH
from om_bridge.sandbox import seed


def open_handovers(rig: Rig, n: int, real: int = 1) -> list[tuple[str, str]]:
    """(customer id, conversation id) of `n` active handovers: `real` made through the engine
    and the sandbox (each answered by the agent; the first also replied once, so its agent
    details are known), the rest cloned from the first straight into the store. Real ones need
    the sandbox's `routing.agent_capacity` ≥ `real`."""
    agent = rig.agent()
    agent.go_on_queue()
    first = rig.engine_handover("bench-user-0")
    agent.wait_for_offer()
    agent.answer(first.conversation_id)
    before = rig.agent_outputs()
    agent.send_text(first.conversation_id, "Hello, Alex here.")
    wait_outputs(rig, before + 1, 30)
    template = rig.store.get_handover(first.id)
    made = [(first.customer_id, first.conversation_id)]
    real = max(1, min(real, n))
    for i in range(1, real):
        h = rig.engine_handover(f"bench-user-{i}")
        _answer(agent, h.conversation_id)
        made.append((h.customer_id, h.conversation_id))
    clones = rig.clone_handovers(template, n - real)
    return made + [(h.customer_id, h.conversation_id) for h in clones]


def _answer(agent: Any, conversation_id: str, timeout: float = 30.0) -> None:
    """The agent answers the conversation once it is offered to them."""
    from om_bridge.sandbox.agentclient import AgentError

    def answered() -> bool:
        try:
            agent.answer(conversation_id)
        except AgentError:
            return False
        return True

    wait_until(answered, timeout, f"the agent's offer of {conversation_id}", 0.02)


def session_of(rig: Rig, customer_id: str) -> tuple[str, str]:
    """(user id, session id) of the open handover with this Genesys customer id (each handover
    has its own customer id, not the user's)."""
    h = rig.store.handover_by_customer(seed.DEMO_INTEGRATION_ID, customer_id)
    if h is None:
        raise RuntimeError(f"no open handover for customer {customer_id}")
    return h.session.user_id, h.session.session_id


def sse_path(rig: Rig, customer_id: str) -> str:
    """The SSE stream path of the session a customer id's handover belongs to."""
    from om_bridge.bridge.demo import DEMO_TOKEN

    user_id, session_id = session_of(rig, customer_id)
    return f"/endpoint/{DEMO_TOKEN}/sessions/{session_id}/events?userId={user_id}"


def start_baseline(workdir: Path) -> tuple[Server, str]:
    """The baseline gunicorn server; (server, base URL) once it answers."""
    port = free_port()
    server = Server(
        "baseline",
        python_argv("bench.baseline", "--port", str(port), "--secret", seed.DEMO_WEBHOOK_SECRET),
        workdir / "baseline.log",
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_http(url + "/healthz", 30, server)
    except BaseException:
        server.stop()
        raise
    return server, url


def start_floor(workdir: Path, rig: Rig) -> tuple[Server, str]:
    """The job-floor gunicorn server (bench/floor.py) sending receipts to the rig's sandbox."""
    port = free_port()
    provider = rig.config["providers"][0]
    server = Server(
        "floor",
        python_argv(
            "bench.floor",
            "--port",
            str(port),
            "--secret",
            seed.DEMO_WEBHOOK_SECRET,
            "--genesys",
            rig.sandbox_url,
            "--client-id",
            provider["client_id"],
            "--client-secret",
            provider["client_secret"],
            "--db",
            str(workdir / f"floor-{port}.db"),
        ),
        workdir / "floor.log",
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_http(url + "/healthz", 30, server)
    except BaseException:
        server.stop()
        raise
    return server, url


def floor_stats(url: str) -> dict:
    """The floor's stored outputs and receipts sent / failed."""
    import requests

    return dict(requests.get(url + "/stats", timeout=30).json())


def run_load(
    workdir: Path, url: str, bodies: list[dict] | list[tuple[bytes, str]], **spec: Any
) -> dict:
    """Run the load generator process against `url` with these bodies (dicts are signed here,
    (raw, signature) pairs sent as they are); its result."""
    port = int(url.rsplit(":", 1)[1])
    name = f"load-{port}-{time.monotonic_ns()}"
    requests_file = workdir / f"{name}.jsonl"
    payloads.write_requests(requests_file, bodies)
    spec_file = workdir / f"{name}.json"
    spec_file.write_text(
        json.dumps(
            {
                "host": HOST,
                "port": port,
                "path": WEBHOOK_PATH,
                "requests_file": str(requests_file),
                **spec,
            }
        )
    )
    limit = float(spec.get("duration", 30)) + 60
    done = subprocess.run(
        python_argv("bench.loadgen", str(spec_file)),
        cwd=ROOT,
        capture_output=True,
        timeout=limit,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        raise RuntimeError(f"load generator failed with {done.returncode}")
    result = json.loads(done.stdout)
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    return result


def _wait_count(rig: Rig, expected: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if rig.agent_outputs() >= expected:
            return time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {rig.agent_outputs()} of {expected} agent outputs landed "
                f"in the store within {timeout:.0f}s"
            )
        time.sleep(0.005)


def wait_outputs(rig: Rig, expected: int, timeout: float = 120.0) -> float:
    """Wall time at which the store holds `expected` agent outputs (RuntimeError on timeout)."""
    return _wait_count(rig, expected, timeout)


def output_times(rig: Rig) -> dict[int, float]:
    """Agent output "bench <i>" → the epoch seconds the bridge stamped on it (ms precision)."""
    from datetime import datetime

    out: dict[int, float] = {}
    rows = rig.sql(
        "SELECT json_extract(body, '$.text'), json_extract(body, '$.time') "
        "FROM outputs WHERE json_extract(body, '$.source') = 'agent'"
    )
    for text, stamp in rows:
        if isinstance(text, str) and text.startswith("bench "):
            out[int(text[6:])] = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return out
