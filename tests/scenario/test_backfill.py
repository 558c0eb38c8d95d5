"""Agent messages Genesys gave up delivering while the only bridge instance was down reach the
user after it is back: read from the Conversations API, in Genesys' order, once each, and a late
webhook of one of them is a duplicate (docs/reliability.md "Agent messages Genesys gave up on")."""

from __future__ import annotations

from om_bridge.sandbox import seed
from tests.conftest import free_port, wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    collect,
    customer_of,
    said,
    start_handover,
    texts,
)
from tests.scenario.webhook_replay import replay


def _statuses(reader: SandboxReader, conversation_id: str) -> dict[str, str]:
    """Each message's `messageStatus` as the conversation lists it."""
    conversation = reader.conversation(conversation_id)
    return {
        d["messageId"]: d["messageStatus"]
        for p in conversation["participants"]
        for d in p.get("messages") or []
    }


def test_agent_messages_sent_while_the_bridge_was_down_reach_the_user_once_in_order(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_text(conversation_id, "before the outage")
    collect(env, said("agent", "before the outage"))

    env.stop_bridge()  # the only instance: Genesys finds its webhook port closed
    sent = [f"while down {n}" for n in range(6)]
    ids = [env.agent.send_text(conversation_id, text)["id"] for text in sent]
    reader = SandboxReader(env.sandbox_url)
    # Genesys retries each delivery (5 times here) and then marks the message failed for good.
    wait_until(
        lambda: all(_statuses(reader, conversation_id).get(i) == "failed" for i in ids),
        60,
        interval=0.2,
        what="Genesys to give up on every delivery",
    )

    env.start_bridge()  # same store, same port
    shown = collect(env, said("agent", sent[-1]), timeout=30)
    assert texts(shown, "agent") == ["before the outage", *sent]

    # Genesys (or a copy of a webhook) delivering one of them late changes nothing.
    resp, _ = replay(
        env.bridge_url,
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        message_id=ids[0],
        text=sent[0],
    )
    assert resp.json() == {"status": "duplicate"}
    env.agent.send_text(conversation_id, "after the outage")
    shown = collect(env, said("agent", "after the outage"))
    assert texts(shown, "agent") == ["before the outage", *sent, "after the outage"]
    # The bridge told Genesys each backfilled message was delivered.
    wait_until(
        lambda: all(_statuses(reader, conversation_id).get(i) == "delivery-success" for i in ids),
        15,
        interval=0.2,
        what="Delivered receipts for the backfilled messages",
    )


def test_a_restart_with_nothing_missed_shows_nothing_twice(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    sent = [f"seen {n}" for n in range(3)]
    for text in sent:
        env.agent.send_text(conversation_id, text)
    collect(env, said("agent", sent[-1]))

    env.restart_bridge()
    backfill = env.ctx.backfill
    handover_id = env.ctx.store.handover_by_conversation(conversation_id).id
    # The start-up pass reads the conversation back and finds nothing new.
    wait_until(
        lambda: handover_id not in backfill.pending()
        and env.ctx.metrics.registry.get_sample_value("om_bridge_backfill_calls_total"),
        15,
        what="the start-up backfill pass",
    )
    env.agent.send_text(conversation_id, "marker")
    shown = collect(env, said("agent", "marker"))
    assert texts(shown, "agent") == [*sent, "marker"]


def test_a_webhook_url_that_stopped_answering_is_caught_up_by_the_sweep(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    client = env.ctx.clients.for_provider("genesys-demo")
    webhook_url = client.get_integration(seed.DEMO_INTEGRATION_ID)["outboundNotificationWebhookUrl"]
    # The bridge runs, but Genesys cannot reach it: its webhook target is a closed port.
    client.patch_integration(
        seed.DEMO_INTEGRATION_ID,
        webhook_url=f"http://127.0.0.1:{free_port()}/handover/genesysCloudOM",
    )
    sent = [f"unreachable {n}" for n in range(3)]
    ids = [env.agent.send_text(conversation_id, text)["id"] for text in sent]
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: all(_statuses(reader, conversation_id).get(i) == "failed" for i in ids),
        60,
        interval=0.2,
        what="Genesys to give up on every delivery",
    )
    client.patch_integration(seed.DEMO_INTEGRATION_ID, webhook_url=webhook_url)
    assert "unreachable 0" not in texts(env.outputs(0)["outputs"], "agent")

    env.ctx.backfill.schedule_open()  # what the periodic sweep does
    shown = collect(env, said("agent", sent[-1]), timeout=30)
    assert texts(shown, "agent") == sent
