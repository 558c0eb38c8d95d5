"""The handover follows the Genesys conversation the customer is actually in, and a lost end event
costs at most the configured reconcile interval (notifications mode)."""

from __future__ import annotations

import json

from tests.conftest import wait_until
from tests.scenario.handover_helpers import handover_of, wait_conversation_id
from tests.scenario.test_completion_notifications import FAST, NOTIFICATIONS, SANDBOX, start


def _answered_handover(env) -> str:  # type: ignore[no-untyped-def]
    env.agent.go_on_queue()
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    env.agent.answer(conversation_id)
    return conversation_id


def _ended(env, handover_id: str) -> bool:  # type: ignore[no-untyped-def]
    h = env.ctx.store.get_handover(handover_id)
    return h is not None and not h.is_open


def test_a_new_conversation_is_followed_and_its_end_ends_the_handover(make_bridge_env):
    # One EventBridge attempt per event, so the dropped customer.end is lost for good.
    env = make_bridge_env(sandbox_config={"eventbridge": {"max_attempts": 1}})
    first = _answered_handover(env)
    handover_id = handover_of(env).id
    env.sandbox_admin.add_fault(target="eventbridge", mode="drop", count=-1)
    env.agent.disconnect(first)
    wait_until(
        lambda: "customer.end" in json.dumps(env.sandbox_admin.eventbridge()["deliveries"]),
        10,
        what="the lost customer.end delivery",
    )
    assert handover_of(env) is not None  # the end never reached the bridge
    # The user writes again: Genesys (threading window 0) opens a new conversation for it.
    env.say("are you still there?")
    moved: list[str] = []

    def followed() -> bool:
        h = env.ctx.store.get_handover(handover_id)
        if h is not None and h.conversation_id and h.conversation_id != first:
            moved.append(h.conversation_id)
        return bool(moved)

    wait_until(followed, 15, what="the handover following the new conversation")
    second = moved[0]
    env.sandbox_admin.clear_faults("eventbridge")
    assert env.agent.wait_for_offer()["id"] == second
    env.agent.answer(second)
    env.agent.disconnect(second)
    wait_until(lambda: _ended(env, handover_id), 20, what="the handover ended with its new conv")
    assert env.ctx.store.get_handover(handover_id).status == "completed"


def test_a_lost_customer_end_frame_costs_at_most_the_reconcile_interval(make_bridge_env):
    env = make_bridge_env(config=NOTIFICATIONS, sandbox_config=SANDBOX, start_workers=False)
    start(env, **{**FAST, "watch_queues": False, "reconcile_interval": 1.0})
    conversation_id = _answered_handover(env)
    handover_id = handover_of(env).id
    [listener] = env.ctx.completion.listeners.values()
    wait_until(lambda: conversation_id in listener.tracked(), 10, what="the conversation watched")
    env.sandbox_admin.add_fault(target="websocket", mode="drop", count=1, path="*.customer.end")
    env.agent.disconnect(conversation_id)
    # The socket stays up; only the scheduled REST check can see the end.
    wait_until(lambda: _ended(env, handover_id), 15, what="the handover ended by reconcile")
    assert env.ctx.store.get_handover(handover_id).status == "completed"


def test_notifications_watch_moves_to_the_new_conversation(make_bridge_env):
    env = make_bridge_env(config=NOTIFICATIONS, sandbox_config=SANDBOX, start_workers=False)
    # No scheduled check within the test: only the move itself may find the new conversation.
    start(env, **{**FAST, "watch_queues": False, "reconcile_interval": 600.0})
    first = _answered_handover(env)
    handover_id = handover_of(env).id
    [listener] = env.ctx.completion.listeners.values()
    wait_until(lambda: first in listener.tracked(), 10, what="the conversation watched")
    env.sandbox_admin.add_fault(target="websocket", mode="drop", count=1, path="*.customer.end")
    env.agent.disconnect(first)
    env.say("hello again?")
    moved: list[str] = []

    def followed() -> bool:
        h = env.ctx.store.get_handover(handover_id)
        if h is not None and h.conversation_id and h.conversation_id != first:
            moved.append(h.conversation_id)
        return bool(moved)

    wait_until(followed, 15, what="the handover following the new conversation")
    second = moved[0]
    wait_until(
        lambda: second in listener.tracked() and first not in listener.tracked(),
        10,
        what="the watch moved to the new conversation",
    )
    assert env.agent.wait_for_offer()["id"] == second
    env.agent.answer(second)
    env.agent.disconnect(second)
    wait_until(lambda: _ended(env, handover_id), 20, what="the handover ended with its new conv")
