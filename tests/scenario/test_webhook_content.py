"""Agent content reaching the user: quick replies, attachments, typing, bot messages."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    collect,
    customer_of,
    said,
    start_handover,
    texts,
)
from tests.scenario.webhook_replay import replay


def test_quick_replies_reach_the_user_and_the_answer_goes_back_structured(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp, sent = replay(
        env.bridge_url,
        "outbound_quickreply",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    assert resp.status_code == 200
    outs = collect(env, said("agent", "Do you want to proceed?"))
    out = [o for o in outs if o.get("text") == "Do you want to proceed?"][0]
    replies = out["data"]["_cognigy"]["_default"]["_quickReplies"]
    assert replies["type"] == "quick_replies"
    assert [(r["title"], r["payload"]) for r in replies["quickReplies"]] == [
        ("Yes", "yes-please"),
        ("No", "no-thanks"),
    ]

    # Picking one is answered as an Open Messaging structured response to that message: the
    # sandbox rejects it (404) for a message it never sent, so the outbox dead-letters it — which
    # shows the call that went out was the structured-response route, not a plain message.
    env.say("Yes")
    wait_until(
        lambda: any(i.kind == "structured" for i in env.ctx.store.outbox_dead()),
        10,
        what="the structured response attempt",
    )
    item = [i for i in env.ctx.store.outbox_dead() if i.kind == "structured"][0]
    assert item.payload["body"]["buttonResponse"] == {
        "type": "QuickReply",
        "text": "Yes",
        "payload": "yes-please",
    }
    assert item.payload["body"]["originatingMessageId"] == sent["id"]


def test_attachments_reach_the_user(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    replay(
        env.bridge_url,
        "outbound_attachment",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    outs = collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Here is the invoice")
    out = [o for o in outs if o.get("text") == "Here is the invoice"][0]
    assert out["data"]["attachments"][0]["url"].endswith("/invoice.pdf")
    assert out["data"]["attachments"][0]["mime"] == "application/pdf"


def test_agent_typing_reaches_the_user(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_typing(conversation_id, 4000)
    outs = collect(env, lambda o: o["source"] == "agent" and (o.get("data") or {}).get("typing"))
    typing = [o for o in outs if (o.get("data") or {}).get("typing")][0]
    assert typing["text"] is None and typing["data"]["duration"] == 4000


def test_user_typing_reaches_genesys(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    assert env.post_session("typing").status_code in (200, 202, 204)
    sample = 'om_bridge_genesys_calls_total{route="typing",status="2xx"} 1.0'
    wait_until(
        lambda: sample in requests.get(env.bridge_url + "/metrics", timeout=5).text,
        10,
        interval=0.1,
        what="a typing event accepted by Genesys",
    )
    assert conversation_id


@pytest.mark.bridge_env(flags={"GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE": "false"})
def test_bot_messages_hidden_when_flag_off(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    replay(
        env.bridge_url,
        "outbound_bot_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    replay(
        env.bridge_url,
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="marker",
    )
    outs = collect(env, lambda o: o.get("text") == "marker")
    assert "Connected" not in texts(outs, "bot")
    assert "You are number 2 in the queue" not in texts(outs, "bot") + texts(outs, "agent")


def test_bot_messages_enter_the_flow_when_flag_on(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    replay(
        env.bridge_url,
        "outbound_bot_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    outs = collect(env, said("bot", "You are number 2 in the queue"))
    # Bot messages are not agent messages: the handover is not active yet.
    assert not texts(outs, "agent")


def test_user_leaves_and_returns_agent_is_told(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    env.post_session("disconnect")
    env.post_session("connect")
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: reader.inbound_texts(conversation_id)[-2:]
        == ["User left the conversation", "User joined the conversation"],
        10,
        interval=0.2,
        what="the presence notices at the agent",
    )


def test_flow_outputs_for_the_agent_go_to_the_agent(make_bridge_env, tmp_path):
    from tests.scenario.handover_helpers import demo_flow_with, flow_config

    env = make_bridge_env()
    env.restart_bridge(
        config=flow_config(
            demo_flow_with(
                tmp_path, nodes={"say-genesys-message": {"handoverOutput": "userAndAgent"}}
            )
        )
    )
    conversation_id = start_handover(env, agent_answers=True)
    replay(
        env.bridge_url,
        "outbound_bot_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    collect(env, said("bot", "You are number 2 in the queue"))
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: "You are number 2 in the queue" in reader.inbound_texts(conversation_id),
        10,
        interval=0.2,
        what="the flow output at the agent",
    )
