"""Durable outbox against a misbehaving Genesys: 429, 503, 4xx, Genesys down, bridge restart."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    collect,
    handover_of,
    start_handover,
    statuses,
    wait_conversation_id,
)

MESSAGE_ROUTE = "/api/v2/conversations/messages/*/inbound/open/message"


def _fast(env) -> None:
    env.ctx.engine.outbox.backoff_base = 0.05
    env.ctx.engine.outbox.backoff_cap = 0.3


def _agent_sees(env, conversation_id, expected: list[str], timeout: float = 20.0) -> list[str]:
    reader = SandboxReader(env.sandbox_url)
    seen: list[str] = []

    def arrived() -> bool:
        seen[:] = [t for t in reader.inbound_texts(conversation_id) if t in expected]
        return len(seen) >= len(expected)

    wait_until(arrived, timeout, interval=0.2, what=f"{expected} at the agent")
    return seen


def test_503_and_429_delay_but_keep_order(bridge_env):
    env = bridge_env
    _fast(env)
    conversation_id = start_handover(env, agent_answers=True)
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=503, count=2, path=MESSAGE_ROUTE, method="POST"
    )
    env.sandbox_admin.add_fault(
        target="api",
        mode="status",
        status=429,
        retry_after=1,
        count=1,
        path=MESSAGE_ROUTE,
        method="POST",
    )
    for text in ("one", "two", "three"):
        assert env.say(text)["outputStack"] == []
    assert _agent_sees(env, conversation_id, ["one", "two", "three"]) == ["one", "two", "three"]
    assert env.ctx.store.outbox_dead() == []


def test_other_4xx_dead_letters_and_unblocks(bridge_env):
    env = bridge_env
    _fast(env)
    conversation_id = start_handover(env, agent_answers=True)
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=400, count=1, path=MESSAGE_ROUTE, method="POST"
    )
    env.say("rejected")
    env.say("accepted")
    assert _agent_sees(env, conversation_id, ["accepted"]) == ["accepted"]
    dead = env.ctx.store.outbox_dead()
    assert [d.payload["body"]["text"] for d in dead] == ["rejected"]
    assert "400" in (dead[0].last_error or "")
    # The user is told, not left believing the agent read it.
    notice = collect(env, lambda o: (o.get("data") or {}).get("undelivered"))
    notice = [o for o in notice if (o.get("data") or {}).get("undelivered")]
    assert [o["data"]["undelivered"]["text"] for o in notice] == ["rejected"]
    assert notice[0]["source"] == "system" and "rejected" in notice[0]["text"]


def test_messages_held_when_the_conversation_ends_are_reported_to_the_user(bridge_env):
    env = bridge_env
    _fast(env)
    conversation_id = start_handover(env, agent_answers=True)
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=503, count=-1, path=MESSAGE_ROUTE, method="POST"
    )
    env.say("are you still there?")
    wait_until(
        lambda: any(i.attempts >= 1 for i in env.ctx.store.outbox_pending()),
        10,
        what="a failed attempt",
    )
    env.agent.disconnect(conversation_id)  # the end still arrives (EventBridge)
    outs = collect(env, lambda o: (o.get("data") or {}).get("undelivered"), timeout=20)
    assert "completed" in statuses(outs)
    notice = [o for o in outs if (o.get("data") or {}).get("undelivered")]
    assert notice[0]["data"]["undelivered"]["text"] == "are you still there?"
    assert "conversation had ended" in notice[0]["text"]
    assert "are you still there?" not in SandboxReader(env.sandbox_url).inbound_texts(
        conversation_id
    )
    assert env.ctx.store.outbox_pending() == []


def test_genesys_down_messages_wait_and_go_out_in_order(bridge_env):
    env = bridge_env
    _fast(env)
    start_handover(env, agent_answers=True)
    env.stop_sandbox()
    for text in ("while", "genesys", "was", "down"):
        env.say(text)
    wait_until(lambda: len(env.ctx.store.outbox_pending()) >= 4, 10, what="messages held")
    env.start_sandbox()
    # The restarted sandbox has forgotten the old conversation: the held messages open a new one.
    env.agent.go_on_queue()
    conversation = env.agent.wait_for_offer(timeout=20)
    assert _agent_sees(env, conversation["id"], ["while", "genesys", "was", "down"]) == [
        "while",
        "genesys",
        "was",
        "down",
    ]


def test_handover_started_while_genesys_is_down(bridge_env):
    env = bridge_env
    _fast(env)
    env.say("hello")
    env.stop_sandbox()
    reply = env.say("agent")
    assert "Connecting you" in reply["text"]
    assert handover_of(env).status == "requested"
    env.start_sandbox()
    conversation_id = wait_conversation_id(env, timeout=20)
    outs = collect(env, lambda o: "queue" in statuses([o]))
    assert statuses(outs)[:2] == ["requested", "queue"]
    transcript = SandboxReader(env.sandbox_url).inbound_texts(conversation_id)[0]
    assert transcript.startswith("Transcript:\nUser: hello")


def test_restart_with_messages_in_the_outbox(bridge_env):
    env = bridge_env
    _fast(env)
    conversation_id = start_handover(env, agent_answers=True)
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=503, count=-1, path=MESSAGE_ROUTE, method="POST"
    )
    env.say("first")
    env.say("second")
    wait_until(
        lambda: any(i.attempts >= 1 for i in env.ctx.store.outbox_pending()),
        10,
        what="a failed attempt",
    )
    env.stop_bridge()
    env.sandbox_admin.clear_faults()
    env.start_bridge()  # a new process on the same SQLite file
    _fast(env)
    assert _agent_sees(env, conversation_id, ["first", "second"]) == ["first", "second"]
    wait_until(lambda: env.ctx.store.outbox_pending() == [], 10, what="an empty outbox")


def test_first_message_refused_ends_the_handover_in_error(bridge_env):
    env = bridge_env
    _fast(env)
    env.say("hello")
    env.sandbox_admin.add_fault(
        target="api", mode="status", status=400, count=1, path=MESSAGE_ROUTE, method="POST"
    )
    env.say("agent")
    outs = collect(env, lambda o: "couldn't reach an agent" in (o.get("text") or ""))
    assert statuses(outs) == ["requested", "error"]
    assert handover_of(env) is None
    assert "You said" in env.say("ok, never mind")["text"]
