"""Contract tests, every backend: sessions, session lock, handovers, dedupe."""

from __future__ import annotations

import threading
import time

import pytest
from store_backends import race, redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import Handover, NotFound, SessionKey, Store, StoreConflict
from tests.conftest import wait_until

KEY = SessionKey("demo", "user:1", "session/1")


def test_session_state_round_trips_and_is_replaced(store: Store) -> None:
    assert store.load_session(KEY) is None
    store.save_session(KEY, {"entry": "a", "context": {"n": 1, "list": [1, "x"]}})
    assert store.load_session(KEY) == {"entry": "a", "context": {"n": 1, "list": [1, "x"]}}
    store.save_session(KEY, {"entry": "b"})
    assert store.load_session(KEY) == {"entry": "b"}
    assert store.load_session(SessionKey("demo", "user", "1:session/1")) is None


def test_session_key_string_form_is_unambiguous() -> None:
    a, b = SessionKey("t", "u:1", "s"), SessionKey("t", "u", "1:s")
    assert a.as_str() != b.as_str()
    assert SessionKey.from_str(a.as_str()) == a


def test_session_lock_excludes_a_second_thread(store: Store) -> None:
    entered = threading.Event()
    release = threading.Event()
    second_in = threading.Event()

    def holder() -> None:
        with store.session_lock(KEY):
            entered.set()
            release.wait(10)

    def second() -> None:
        with store.session_lock(KEY, timeout=10):
            second_in.set()

    t1 = threading.Thread(target=holder)
    t1.start()
    assert entered.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    # While the first holds it, a bounded attempt from this thread times out ...
    with pytest.raises(TimeoutError):
        with store.session_lock(KEY, timeout=0.2):
            pass
    assert not second_in.is_set()
    release.set()
    t1.join(10)
    # ... and the waiting thread gets in once it is released.
    assert second_in.wait(10)
    t2.join(10)
    with store.session_lock(SessionKey("demo", "other", "s"), timeout=1):
        pass


def test_session_lock_serialises_read_modify_write(store: Store) -> None:
    store.save_session(KEY, {"n": 0})

    def bump(_: int) -> None:
        for _ in range(10):
            with store.session_lock(KEY):
                state = store.load_session(KEY)
                store.save_session(KEY, {"n": state["n"] + 1})

    race(8, bump)
    assert store.load_session(KEY) == {"n": 80}


def new(session: SessionKey = KEY, customer: str = "cust-1", **kw) -> Handover:
    return Handover.new(session, "genesys-demo", customer, "integration-1", **kw)


def test_handover_create_and_lookups(store: Store) -> None:
    h = store.create_handover(new(settings={"queue": "q"}))
    assert h.created_at > 0 and h.status == "requested" and h.is_open
    assert store.get_handover(h.id) == h
    assert store.open_handover_for_session(KEY).id == h.id
    assert store.handover_by_customer("integration-1", "cust-1").id == h.id
    assert store.handover_by_customer("integration-2", "cust-1") is None
    assert store.handover_by_conversation("conv-1") is None
    updated = store.update_handover(
        h.id,
        conversation_id="conv-1",
        status="queue",
        agent={"name": "Alex"},
        data={"x": 1},
        pending_end_at=5.0,
    )
    assert (updated.conversation_id, updated.status, updated.agent) == (
        "conv-1",
        "queue",
        {"name": "Alex"},
    )
    assert store.get_handover(h.id) == updated
    assert store.handover_by_conversation("conv-1") == updated
    assert store.get_handover("nope") is None


def test_second_open_handover_for_a_session_conflicts(store: Store) -> None:
    first = store.create_handover(new())
    with pytest.raises(StoreConflict):
        store.create_handover(new())
    with pytest.raises(StoreConflict):  # the same id for another session
        store.create_handover(
            Handover(
                id=first.id,
                session=SessionKey("demo", "u2", "s2"),
                provider_id="p",
                integration_id=None,
                customer_id="c",
            )
        )
    assert store.open_handover_for_session(SessionKey("demo", "u2", "s2")) is None
    assert store.finish_handover(first.id, "completed", "agent ended")
    again = store.create_handover(new())
    assert store.open_handover_for_session(KEY).id == again.id


def test_lookups_find_the_newest(store: Store) -> None:
    old = store.create_handover(new(created_at=100.0))
    store.update_handover(old.id, conversation_id="conv-x")
    store.finish_handover(old.id, "completed", "done")
    assert store.handover_by_customer("integration-1", "cust-1") is None  # only open ones
    assert store.handover_by_conversation("conv-x").id == old.id  # ended ones too
    newer = store.create_handover(new(created_at=200.0))
    store.update_handover(newer.id, conversation_id="conv-x")
    assert store.handover_by_conversation("conv-x").id == newer.id
    assert store.handover_by_customer("integration-1", "cust-1").id == newer.id


def test_update_rules(store: Store) -> None:
    h = store.create_handover(new())
    with pytest.raises(ValueError, match="finish_handover"):
        store.update_handover(h.id, status="completed")
    with pytest.raises(ValueError, match="cannot set"):
        store.update_handover(h.id, ended_at=1.0)
    with pytest.raises(NotFound):
        store.update_handover("missing", status="queue")
    store.update_handover(h.id, customer_id="cust-2", integration_id="integration-9")
    assert store.handover_by_customer("integration-1", "cust-1") is None
    assert store.handover_by_customer("integration-9", "cust-2").id == h.id
    store.finish_handover(h.id, "cancelled", "user")
    with pytest.raises(StoreConflict):
        store.update_handover(h.id, status="active")
    assert store.update_handover(h.id, data={"late": True}).data == {"late": True}
    assert store.get_handover(h.id).status == "cancelled"


def test_finish_handover_is_exactly_once_under_racing_threads(store: Store) -> None:
    h = store.create_handover(new())
    store.update_handover(h.id, pending_end_at=123.0)
    results = race(20, lambda i: store.finish_handover(h.id, "completed", f"caller {i}"))
    assert results.count(True) == 1 and results.count(False) == 19
    ended = store.get_handover(h.id)
    assert ended.status == "completed" and ended.ended_at is not None
    assert ended.end_reason == f"caller {results.index(True)}"
    assert ended.pending_end_at is None
    assert store.open_handover_for_session(KEY) is None
    assert store.open_handovers() == []
    assert store.finish_handover("missing", "completed", "x") is False
    with pytest.raises(ValueError):
        store.finish_handover(h.id, "active", "not an end status")


def test_open_handovers_by_provider(store: Store) -> None:
    a = store.create_handover(
        Handover.new(SessionKey("t", "u1", "s"), "p1", "c1", None, created_at=1.0)
    )
    b = store.create_handover(
        Handover.new(SessionKey("t", "u2", "s"), "p2", "c2", None, created_at=2.0)
    )
    c = store.create_handover(
        Handover.new(SessionKey("t", "u3", "s"), "p1", "c3", None, created_at=3.0)
    )
    assert [h.id for h in store.open_handovers()] == [a.id, b.id, c.id]
    assert [h.id for h in store.open_handovers("p1")] == [a.id, c.id]
    store.finish_handover(a.id, "error", "boom")
    assert [h.id for h in store.open_handovers("p1")] == [c.id]
    assert store.handover_by_customer(None, "c3").id == c.id


def test_seen_is_exactly_once_under_racing_threads(store: Store) -> None:
    results = race(20, lambda i: store.seen("message-1", 60))
    assert results.count(False) == 1 and results.count(True) == 19
    assert store.seen("message-1", 60) is True
    assert store.seen("message-2", 60) is False


def test_seen_forgets_after_its_ttl(store: Store) -> None:
    assert store.seen("short", 0.2) is False
    assert store.seen("short", 0.2) is True
    started = time.monotonic()
    # Offering the key again does not extend its life: it becomes new once the TTL is over.
    wait_until(lambda: store.seen("short", 60) is False, timeout=5, what="dedupe key expiry")
    assert time.monotonic() - started >= 0.1
    assert store.seen("short", 60) is True


def test_handovers_survive_reopening(reopen) -> None:
    first = reopen()
    h = first.create_handover(new())
    first.update_handover(h.id, conversation_id="conv-9", status="active")
    first.save_session(KEY, {"kept": True})
    first.close()
    second = reopen()
    assert second.open_handover_for_session(KEY).conversation_id == "conv-9"
    assert second.load_session(KEY) == {"kept": True}


def test_lookup_by_customer_never_returns_another_sessions_handover(store: Store) -> None:
    # Handovers stored before customer ids were per handover carry the Cognigy user id: two
    # sessions of one user share it. Only the webhook's conversation may single one out.
    a = store.create_handover(
        Handover.new(SessionKey("t", "u", "s-a"), "p", "u", "integ", created_at=1.0)
    )
    b = store.create_handover(
        Handover.new(SessionKey("t", "u", "s-b"), "p", "u", "integ", created_at=2.0)
    )
    store.update_handover(a.id, conversation_id="conv-a")
    store.update_handover(b.id, conversation_id="conv-b")
    assert store.handover_by_customer("integ", "u") is None  # ambiguous: never a guess
    assert store.handover_by_customer("integ", "u", "conv-a").id == a.id
    assert store.handover_by_customer("integ", "u", "conv-b").id == b.id
    assert store.handover_by_customer("integ", "u", "conv-x") is None
    assert [h.id for h in store.open_handovers_by_customer("integ", "u")] == [a.id, b.id]
    store.finish_handover(b.id, "completed", "done")
    assert store.handover_by_customer("integ", "u").id == a.id
