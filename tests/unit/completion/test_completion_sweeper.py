"""The pending-end sweeper: ends after the grace period only when REST shows nobody took over."""

from __future__ import annotations

import time

import pytest

from om_bridge.bridge.completion import events as ev
from om_bridge.bridge.completion.dispatcher import CompletionDispatcher
from om_bridge.bridge.completion.events import CompletionEvent
from om_bridge.bridge.completion.sweeper import (
    AGENT,
    ENDED,
    IDLE,
    QUEUED,
    PendingEndSweeper,
    assess,
)
from om_bridge.bridge.genesys.errors import ServerError
from om_bridge.bridge.store import Handover, SessionKey, open_store


def conv(*legs: dict) -> dict:
    return {
        "id": "conv-1",
        "participants": [{"id": "c", "purpose": "customer", "state": "connected"}, *legs],
    }


AGENT_GONE = {
    "id": "a1",
    "purpose": "agent",
    "state": "disconnected",
    "disconnectType": "client",
    "endTime": "2024-06-01T10:07:12.000Z",
}
AGENT_TRANSFERRED = {**AGENT_GONE, "disconnectType": "transfer"}


def test_assess_shapes():
    ended = conv(AGENT_GONE)
    ended["participants"][0].update(state="disconnected", endTime="2024-06-01T10:07:12.000Z")
    assert assess(ended) == ENDED
    assert (
        assess(conv(AGENT_TRANSFERRED, {"id": "q2", "purpose": "acd", "state": "connected"}))
        == QUEUED
    )
    assert (
        assess(conv(AGENT_TRANSFERRED, {"id": "a2", "purpose": "agent", "state": "alerting"}))
        == AGENT
    )
    assert assess(conv(AGENT_GONE)) == IDLE


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path}/bridge.db")
    clock = Clock()
    h = store.create_handover(
        Handover.new(
            SessionKey("demo", "u", "s"),
            "p1",
            "u",
            integration_id="i",
            conversation_id="conv-1",
            status="active",
        )
    )
    answers: list = []

    def fetch(handover):  # type: ignore[no-untyped-def]
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    disp = CompletionDispatcher(
        store,
        store.finish_handover,
        grace_seconds=2.0,
        org_of=lambda _p: None,
        check_org=False,
        find_by_customer=lambda *_: None,
        clock=clock,
    )
    sweeper = PendingEndSweeper(
        store, disp, fetch, clock=clock, retry_seconds=1.0, max_verify_failures=2
    )
    disp.on_pending = sweeper.schedule
    yield store, clock, h, answers, disp, sweeper
    store.close()


def wait_event(disp, kind=ev.ACW):  # type: ignore[no-untyped-def]
    disp.dispatch(CompletionEvent(kind=kind, source=ev.DATA_ACTION, conversation_id="conv-1"))


def test_nothing_happens_before_the_grace_period(world):
    store, clock, h, _answers, disp, sweeper = world
    wait_event(disp)
    clock.now += 1.0
    assert sweeper.run_due() == []
    assert store.get_handover(h.id).is_open


def test_idle_conversation_ends_after_the_grace_period(world):
    store, clock, h, answers, disp, sweeper = world
    wait_event(disp)
    clock.now += 2.5
    answers.append(conv(AGENT_GONE))
    [decision] = sweeper.run_due()
    assert decision.action == "end"
    assert store.get_handover(h.id).status == "completed"


def test_transfer_in_progress_cancels_the_pending_end(world):
    store, clock, h, answers, disp, sweeper = world
    wait_event(disp)
    clock.now += 2.5
    answers.append(conv(AGENT_TRANSFERRED, {"id": "q2", "purpose": "acd", "state": "connected"}))
    [decision] = sweeper.run_due()
    assert decision.action == "cancel"
    stored = store.get_handover(h.id)
    assert stored.is_open and stored.pending_end_at is None


def test_genesys_unreachable_retries_then_ends(world):
    store, clock, h, answers, disp, sweeper = world
    wait_event(disp)
    clock.now += 2.5
    answers.append(ServerError("down", status=503))
    assert sweeper.run_due() == []
    assert store.get_handover(h.id).is_open
    clock.now += 1.5
    answers.append(ServerError("down", status=503))
    [decision] = sweeper.run_due()
    assert decision.action == "end" and "unreachable" in decision.reason


def test_restart_reloads_pending_ends_from_the_store(world):
    store, clock, _h, _answers, disp, _sweeper = world
    wait_event(disp)
    fresh = PendingEndSweeper(store, disp, lambda _h: conv(AGENT_GONE), clock=clock)
    fresh.rescan()
    clock.now += 3
    assert [d.action for d in fresh.run_due()] == ["end"]


def test_thread_ends_a_due_handover(world):
    from tests.conftest import wait_until

    store, _clock, h, answers, disp, sweeper = world
    answers.append(conv(AGENT_GONE))
    disp.grace_seconds = 0.0
    sweeper.start()
    try:
        wait_event(disp)
        wait_until(lambda: not store.get_handover(h.id).is_open, 5, what="the sweeper's end")
    finally:
        sweeper.stop()


def customer_only_end(disp):  # type: ignore[no-untyped-def]
    return disp.dispatch(
        CompletionEvent(kind=ev.CUSTOMER_END, source=ev.DATA_ACTION, customer_id="u")
    )


@pytest.fixture
def by_customer(world):  # type: ignore[no-untyped-def]
    store, clock, h, answers, disp, sweeper = world
    disp._find_by_customer = lambda cid, _allowed: store.handover_by_customer("i", cid)
    return world


def test_customer_only_end_is_confirmed_through_rest_at_once(by_customer):
    store, _clock, h, answers, disp, sweeper = by_customer
    assert customer_only_end(disp).action == "wait"
    gone = conv(AGENT_GONE)
    gone["participants"][0].update(state="disconnected", endTime="2024-06-01T10:07:12.000Z")
    answers.append(gone)
    [decision] = sweeper.run_due()  # due now: no grace period for a customer.end
    assert decision.action == "end" and "customer participant has ended" in decision.reason
    assert store.get_handover(h.id).status == "completed"


def test_customer_only_end_of_an_earlier_handover_does_not_end_a_reopened_one(by_customer):
    store, _clock, h, answers, disp, sweeper = by_customer
    assert customer_only_end(disp).action == "wait"
    # The conversation id was re-opened: the customer is back and queued for an agent.
    answers.append(conv(AGENT_GONE, {"id": "q2", "purpose": "acd", "state": "connected"}))
    [decision] = sweeper.run_due()
    assert decision.action == "cancel"
    stored = store.get_handover(h.id)
    assert stored.is_open and stored.pending_end_at is None


def check_only_event(disp, kind=ev.ACW):  # type: ignore[no-untyped-def]
    return disp.dispatch(
        CompletionEvent(kind=kind, source=ev.DATA_ACTION, conversation_id="conv-1"),
        check_only=True,
    )


def test_check_only_request_ends_nothing_when_genesys_cannot_confirm(world):
    # An unauthenticated request: Genesys unreachable, or nobody serving but the customer still
    # there, ends nothing (an authenticated one would end after its retries).
    store, clock, h, answers, disp, sweeper = world
    check_only_event(disp)
    clock.now += 2.5
    answers.append(ServerError("down", status=503))
    assert sweeper.run_due() == []
    clock.now += 1.5
    answers.append(ServerError("down", status=503))
    [decision] = sweeper.run_due()
    assert decision.action == "cancel" and "nothing ended" in decision.reason
    stored = store.get_handover(h.id)
    assert stored.is_open and stored.pending_end_at is None
    check_only_event(disp)
    clock.now += 2.5
    answers.append(conv(AGENT_GONE))  # idle, but the customer has not ended
    [decision] = sweeper.run_due()
    assert decision.action == "cancel" and store.get_handover(h.id).is_open


def test_check_only_request_ends_once_genesys_shows_the_customer_left(world):
    store, clock, h, answers, disp, sweeper = world
    check_only_event(disp, ev.CUSTOMER_END)
    answers.append(conv(AGENT_GONE, {"id": "c", "purpose": "customer", "state": "disconnected"}))
    [decision] = sweeper.run_due()
    assert decision.action == "end"
    assert store.get_handover(h.id).status == "completed"
