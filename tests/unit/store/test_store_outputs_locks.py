"""Contract tests, every backend: session outputs (seq, wait) and the leader lock."""

from __future__ import annotations

import threading
import time

import pytest
from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import SessionKey, Store
from om_bridge.bridge.store.base import OUTPUTS_KEPT
from tests.conftest import wait_until

KEY = SessionKey("demo", "user-1", "session-1")
OTHER = SessionKey("demo", "user-2", "session-1")


def test_outputs_get_increasing_seq_per_session(store: Store) -> None:
    assert store.append_output(KEY, {"source": "bot", "text": "one"}) == 1
    assert store.append_output(KEY, {"source": "agent", "text": "two", "data": {"a": 1}}) == 2
    assert store.append_output(OTHER, {"text": "other"}) == 1
    assert store.outputs_after(KEY, 0) == [
        {"source": "bot", "text": "one", "seq": 1},
        {"source": "agent", "text": "two", "data": {"a": 1}, "seq": 2},
    ]
    assert [o["seq"] for o in store.outputs_after(KEY, 1)] == [2]
    assert store.outputs_after(KEY, 2) == []
    for n in range(3, 8):
        store.append_output(KEY, {"text": str(n)})
    assert [o["seq"] for o in store.outputs_after(KEY, 2, limit=3)] == [3, 4, 5]


def test_latest_outputs_are_newest_first(store: Store) -> None:
    assert list(store.latest_outputs(KEY, 3)) == []
    for n in range(1, 6):
        store.append_output(KEY, {"source": "agent", "text": str(n)})
    store.append_output(OTHER, {"text": "other"})
    assert [(o["seq"], o["text"]) for o in store.latest_outputs(KEY, 3)] == [
        (5, "5"),
        (4, "4"),
        (3, "3"),
    ]
    assert [o["seq"] for o in store.latest_outputs(KEY, 10)] == [5, 4, 3, 2, 1]
    assert list(store.latest_outputs(KEY, 0)) == []


def test_only_the_newest_outputs_are_kept(store: Store) -> None:
    for n in range(OUTPUTS_KEPT + 5):
        store.append_output(KEY, {"text": str(n)})
    kept = store.outputs_after(KEY, 0, limit=OUTPUTS_KEPT * 2)
    assert [o["seq"] for o in kept] == list(range(6, OUTPUTS_KEPT + 6))
    assert store.append_output(KEY, {"text": "next"}) == OUTPUTS_KEPT + 6  # seq never reused


def test_wait_outputs_returns_at_once_when_there_are_some(store: Store) -> None:
    store.append_output(KEY, {"text": "ready"})
    assert [o["text"] for o in store.wait_outputs(KEY, 0, timeout=30)] == ["ready"]


def test_wait_outputs_times_out_empty(store: Store) -> None:
    assert store.wait_outputs(KEY, 0, timeout=0.1) == []


def test_a_wait_that_times_out_with_nothing_announced_reads_the_store_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SSE stream's keep-alive (and an empty long-poll) costs one read, not two: the caller
    reads again at once when it waits again."""
    reads: list[int] = []
    real = store.outputs_after
    monkeypatch.setattr(store, "outputs_after", lambda *a, **kw: reads.append(1) or real(*a, **kw))
    assert store.wait_outputs(KEY, 0, timeout=0.2) == []
    assert len(reads) == 1
    # Woken by an append, it reads (and finds it).
    store.append_output(KEY, {"text": "later"})
    assert [o["text"] for o in store.wait_outputs(KEY, 0, timeout=5)] == ["later"]


def test_wait_outputs_is_woken_by_another_thread(store: Store) -> None:
    store.append_output(KEY, {"text": "old"})
    got: list = []
    waiting = threading.Thread(target=lambda: got.extend(store.wait_outputs(KEY, 1, timeout=30)))
    waiting.start()
    store.append_output(OTHER, {"text": "not for this session"})
    store.append_output(KEY, {"text": "new"})
    waiting.join(30)
    assert not waiting.is_alive()
    assert [o["text"] for o in got] == ["new"]


def test_wait_outputs_sees_appends_through_another_store_instance(reopen) -> None:
    """Another process shares only the database: its appends must reach this waiter too."""
    waiter, writer = reopen(), reopen()
    got: list = []
    waiting = threading.Thread(target=lambda: got.extend(waiter.wait_outputs(KEY, 0, timeout=30)))
    waiting.start()
    writer.append_output(KEY, {"text": "from elsewhere"})
    waiting.join(30)
    assert [o["text"] for o in got] == ["from elsewhere"]


def test_outputs_survive_reopening(reopen) -> None:
    first = reopen()
    first.append_output(KEY, {"text": "a"})
    first.close()
    second = reopen()
    assert second.append_output(KEY, {"text": "b"}) == 2
    assert [o["text"] for o in second.outputs_after(KEY, 0)] == ["a", "b"]


def test_leader_lock_is_exclusive_and_renewable(store: Store) -> None:
    assert store.acquire_lock("notifications:client-1", "process-a", 30)
    assert not store.acquire_lock("notifications:client-1", "process-b", 30)
    assert store.acquire_lock("notifications:client-1", "process-a", 30)  # renewal
    assert store.acquire_lock("notifications:client-2", "process-b", 30)  # another name
    store.release_lock("notifications:client-1", "process-b")  # not the holder: no effect
    assert not store.acquire_lock("notifications:client-1", "process-b", 30)
    store.release_lock("notifications:client-1", "process-a")
    assert store.acquire_lock("notifications:client-1", "process-b", 30)


def test_leader_lock_is_taken_over_after_its_ttl(store: Store) -> None:
    assert store.acquire_lock("leader", "crashed", 0.2)
    assert not store.acquire_lock("leader", "successor", 30)
    started = time.monotonic()
    wait_until(
        lambda: store.acquire_lock("leader", "successor", 30),
        timeout=5,
        what="lock takeover after TTL",
    )
    assert time.monotonic() - started >= 0.1
    assert not store.acquire_lock("leader", "crashed", 30)


def test_leader_lock_has_one_winner_among_racing_owners(store: Store) -> None:
    barrier = threading.Barrier(10)
    wins: list[str] = []

    def contend(i: int) -> None:
        barrier.wait()
        if store.acquire_lock("race", f"owner-{i}", 30):
            wins.append(f"owner-{i}")

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(wins) == 1


def test_ping_and_close(reopen) -> None:
    s = reopen()
    assert s.ping() is True
    s.close()


def test_a_session_lock_is_renewed_while_held_and_released_for_good(
    store: Store, monkeypatch
) -> None:
    import om_bridge.bridge.store.base as base

    monkeypatch.setattr(base, "SESSION_LOCK_TTL", 1.0)
    key = SessionKey("t", "u", "held-long")
    name = "session:" + key.as_str()
    with store.session_lock(key):
        # Past the lock's lifetime another process still cannot take it: it is being renewed.
        deadline = time.monotonic() + base.SESSION_LOCK_TTL * 1.2
        while time.monotonic() < deadline:
            assert not store.acquire_lock(name, "another-process", 1.0)
            time.sleep(0.1)
    assert store.acquire_lock(name, "another-process", 1.0)  # released: free at once
