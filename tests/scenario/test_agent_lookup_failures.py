"""A failed agent-details lookup is remembered for a while: a failing Genesys API is asked once per
handover and period, not on every agent message (each lookup counts against the API budget)."""

from __future__ import annotations

import requests

from tests.scenario.handover_helpers import collect, handover_of, start_handover
from tests.scenario.webhook_replay import compact, payload, post_raw

LOOKUPS = "/api/v2/conversations/messages/*"
BUDGET = 100


def lookups_made(env) -> int:  # type: ignore[no-untyped-def]
    faults = requests.get(env.sandbox_url + "/sandbox/faults", timeout=5).json()
    faults = faults.get("faults", faults) if isinstance(faults, dict) else faults
    remaining = [f["remaining"] for f in faults if f["path"] == LOOKUPS]
    return BUDGET - (remaining[0] if remaining else 0)


def agent_says(env, conversation_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    body = payload(
        "outbound_text", customer_id=handover_of(env).customer_id, conversation_id=conversation_id
    )
    body["text"] = text
    assert post_raw(env.bridge_url, compact(body)).status_code == 200
    collect(env, lambda o: o.get("text") == text)


def test_failed_lookup_is_not_retried_on_every_message(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    # Every agent lookup fails (400: not retried by the client, so one lookup is one request).
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=400, path=LOOKUPS, method="GET", count=BUDGET
    )
    for n in range(5):
        agent_says(env, conversation_id, f"agent message {n}")
    assert lookups_made(env) == 1
    # Once the failure is old enough, the next message looks the agent up again.
    env.ctx.engine.agent_side.agents.failure_seconds = 0.0
    agent_says(env, conversation_id, "after the failure expired")
    assert lookups_made(env) == 2
