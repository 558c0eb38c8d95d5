"""The whole story against the sandbox: bot → agent → bot, through real HTTP only."""

from __future__ import annotations

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    collect,
    demo_flow_with,
    flow_config,
    handover_of,
    statuses,
    wait_conversation_id,
)


def test_greeting_agent_and_back(bridge_env, tmp_path):
    env = bridge_env
    env.restart_bridge(config=flow_config(demo_flow_with(tmp_path, displayAgentDetails=True)))
    agent = env.agent
    agent.go_on_queue()

    hello = env.say("hello")
    assert "demo bot" in hello["text"]
    reply = env.say("I want an agent please")
    assert "Connecting you to a human agent" in reply["text"]

    conversation_id = wait_conversation_id(env)
    reader = SandboxReader(env.sandbox_url)
    customer = reader.customer(conversation_id)
    attrs = customer["attributes"]
    assert attrs["queueId"] == seed.DEMO_QUEUE_ID
    assert attrs["myLanguage"] == "english"
    assert attrs["userId"] == env.user_id and attrs["sessionId"] == env.session_id
    assert attrs["URLToken"] == "demo"
    first = reader.inbound_texts(conversation_id)[0]
    assert first.startswith("Transcript:\nUser: hello\nBot: Hi!")
    assert "User: I want an agent please" in first

    # The inbound flow's "Connected" Send Response reaches the user via the Lookup/Case/Say recipe.
    outs = collect(env, lambda o: o["source"] == "bot" and o.get("text") == "Connected")
    assert "queue" in statuses(outs)

    offered = agent.wait_for_offer()
    assert offered["id"] == conversation_id
    agent.answer(conversation_id)
    agent.send_text(conversation_id, "Hi, I am Alex. How can I help?")
    outs = collect(env, lambda o: o["source"] == "agent" and o.get("text"))
    said = [o for o in outs if o["source"] == "agent" and o.get("text")][0]
    assert said["text"] == "Hi, I am Alex. How can I help?"
    assert said["data"]["agent"]["name"] == "Alex Agent"
    assert said["data"]["agent"]["avatar"]
    assert "active" in statuses(outs)
    # The agent message was reported Delivered back to Genesys.
    wait_until(
        lambda: (reader.outbound(conversation_id, "Hi, I am Alex. How can I help?") or {}).get(
            "status"
        )
        == "delivery-success",
        10,
        interval=0.2,
        what="a Delivered receipt",
    )

    reply = env.say("My order is late")
    assert reply["outputStack"] == []
    wait_until(
        lambda: "My order is late" in reader.inbound_texts(conversation_id),
        10,
        interval=0.2,
        what="the user's message at the agent",
    )

    # The end reaches the bridge through the sandbox's EventBridge delivery (customer.end).
    agent.disconnect(conversation_id)
    outs = collect(
        env, lambda o: o["source"] == "bot" and "I'm back" in (o.get("text") or ""), timeout=20
    )
    assert "completed" in statuses(outs)
    assert handover_of(env) is None
    again = env.say("hello again")
    assert "demo bot" in again["text"] and "You said" in again["text"]
