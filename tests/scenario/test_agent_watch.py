"""`AgentWatch.check`: a participants read costs a Genesys call only when there is something to
learn (the agent is not active yet, or a change of agent marked the known one stale)."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.scenario.handover_helpers import collect, handover_of, start_handover
from tests.scenario.test_agent_lookup_failures import BUDGET, LOOKUPS, lookups_made


def test_a_read_scheduled_before_the_agent_was_known_costs_nothing_after(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_text(conversation_id, "Alex here")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Alex here")
    wait_until(
        lambda: (handover_of(env).agent or {}).get("name") == "Alex Agent",
        15,
        what="the agent's name on the handover",
    )
    handover = handover_of(env)
    assert handover.status == "active"
    # Count the conversation reads from here on (each answered 400, so one read is one request).
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=400, path=LOOKUPS, method="GET", count=BUDGET
    )
    watch = env.ctx.engine.agent_watch
    watch.check(handover.id)  # e.g. the poll scheduled while the agent was only offered
    assert lookups_made(env) == 0
    watch.changed(handover.id)  # a transfer: the known agent is stale, so the read goes ahead
    wait_until(lambda: lookups_made(env) == 1, 15, what="the read after the change")
