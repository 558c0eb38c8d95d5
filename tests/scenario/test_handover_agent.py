"""Who serves the handover: `active` as soon as an agent is connected (before any message), and
after a transfer the new agent's first message carries the new agent's name, learned from the
events the bridge receives, not by a Genesys call per message."""

from __future__ import annotations

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    collect,
    demo_flow_with,
    flow_config,
    handover_of,
    statuses,
    wait_conversation_id,
)


def _start(env, tmp_path) -> str:  # type: ignore[no-untyped-def]
    env.restart_bridge(config=flow_config(demo_flow_with(tmp_path, displayAgentDetails=True)))
    env.agent.go_on_queue()
    env.say("hello")
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    return conversation_id


def test_handover_is_active_when_the_agent_answers_without_typing(bridge_env, tmp_path):
    env = bridge_env
    conversation_id = _start(env, tmp_path)
    env.agent.answer(conversation_id)
    wait_until(
        lambda: (handover_of(env) is not None and handover_of(env).status == "active"),
        30,
        what="the handover active on the agent's connected state",
    )
    env.agent.disconnect(conversation_id)
    outs = collect(env, lambda o: "completed" in statuses([o]), timeout=30)
    seen = [s for s in statuses(outs) if s]
    assert seen.index("active") < seen.index("completed"), seen
    assert not [o for o in outs if o["source"] == "agent" and o.get("text")]


def test_new_agent_after_transfer_is_named_on_their_first_message(bridge_env, tmp_path):
    env = bridge_env
    conversation_id = _start(env, tmp_path)
    env.agent.answer(conversation_id)
    env.agent.send_text(conversation_id, "Alex here")
    collect(
        env,
        lambda o: o["source"] == "agent"
        and o.get("text") == "Alex here"
        and o["data"]["agent"]["name"] == "Alex Agent",
    )
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    sam.go_on_queue()
    env.agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
    assert sam.wait_for_offer()["id"] == conversation_id
    sam.answer(conversation_id)
    sam.send_text(conversation_id, "Sam here, I take over")
    outs = collect(
        env, lambda o: o["source"] == "agent" and o.get("text") == "Sam here, I take over"
    )
    first = next(o for o in outs if o.get("text") == "Sam here, I take over")
    assert first["data"]["agent"]["name"] == "Sam Supervisor", first["data"]
