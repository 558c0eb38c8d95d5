"""Two sessions of one user id never share a handover's Genesys side: agent replies, the user's
messages and the end of the conversation each reach only the session that handed over."""

from __future__ import annotations

from om_bridge.bridge.store import SessionKey
from tests.conftest import wait_until
from tests.scenario.handover_helpers import SandboxReader, collect, statuses
from tests.scenario.webhook_replay import replay


def _handover(env, session_id):  # type: ignore[no-untyped-def]
    return env.ctx.store.open_handover_for_session(
        SessionKey(env.url_token, env.user_id, session_id)
    )


def _conversation_of(env, session_id):  # type: ignore[no-untyped-def]
    found: list[str] = []

    def known() -> bool:
        h = _handover(env, session_id)
        if h is not None and h.conversation_id:
            found.append(h.conversation_id)
        return bool(found)

    wait_until(known, 15, what=f"the conversation id of {session_id}")
    return found[0]


def test_another_session_of_the_same_user_cannot_take_over_a_handover(bridge_env):
    env = bridge_env
    agent = env.agent
    agent.go_on_queue()
    reader = SandboxReader(env.sandbox_url)
    session_a, session_b = env.session_id, env.session_id + "-other"

    env.say("I want an agent please")
    conv_a = _conversation_of(env, session_a)
    agent.wait_for_offer()
    agent.answer(conv_a)
    agent.send_text(conv_a, "Hello A")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Hello A")
    handover_a = _handover(env, session_a)
    # The Genesys customer id is the handover's own; the user id is only a custom attribute.
    assert handover_a.customer_id != env.user_id
    attrs = reader.customer(conv_a)["attributes"]
    assert attrs["userId"] == env.user_id and attrs["sessionId"] == session_a

    # Same userId, another sessionId (the webchat's "New conversation", or someone who knows it).
    env.say("agent please", session_id=session_b)
    conv_b = _conversation_of(env, session_b)
    handover_b = _handover(env, session_b)
    assert handover_b.id != handover_a.id and conv_b != conv_a
    assert handover_b.customer_id != handover_a.customer_id
    env.say("injected text", session_id=session_b)
    wait_until(
        lambda: "injected text" in reader.inbound_texts(conv_b), 15, what="B's text in B's conv"
    )
    assert "injected text" not in reader.inbound_texts(conv_a)

    # The agent's next reply to A reaches A and only A.
    agent.send_text(conv_a, "Only for A")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Only for A")
    seen_b = env.outputs(0, session_id=session_b)["outputs"]
    assert not [o for o in seen_b if o["source"] == "agent"]

    # Ending A's conversation ends A (and leaves B's own handover alone).
    agent.disconnect(conv_a)
    outs = collect(env, lambda o: o["source"] == "system" and "completed" in statuses([o]), 20)
    assert "completed" in statuses(outs)
    assert _handover(env, session_a) is None
    ended = env.ctx.store.get_handover(handover_a.id)
    assert ended.status == "completed"
    still = _handover(env, session_b)
    assert still is not None and still.id == handover_b.id


def test_a_handover_stored_by_an_older_version_keeps_its_routing(bridge_env):
    # Older versions used the Cognigy user id as the Genesys customer id; such a stored handover
    # keeps receiving what Genesys addresses to that id.
    env = bridge_env
    env.say("I want an agent please")
    conversation_id = _conversation_of(env, env.session_id)
    handover = _handover(env, env.session_id)
    env.ctx.store.update_handover(handover.id, customer_id=env.user_id)
    resp, _ = replay(
        env.bridge_url,
        "outbound_text",
        customer_id=env.user_id,
        conversation_id=conversation_id,
        text="to the older handover",
    )
    assert resp.json() == {"status": "accepted"}
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "to the older handover")
