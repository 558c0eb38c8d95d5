"""The inline accept (`Store.accepting`): a webhook's output, its dedupe mark and its transcript
line in one transaction, or nothing at all. SQLite offers it; Redis refuses to be asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from store_backends import redis_url  # noqa: F401 - fixture

from om_bridge.bridge.store import InboundAccept, SessionKey, Store, open_store
from om_bridge.bridge.store.errors import AcceptRefused, StoreError

KEY = SessionKey("demo", "u1", "s1")
QUEUE = "in:i1:c1"


def _accept(n: int = 1, line: bool = True) -> InboundAccept:
    return InboundAccept(
        f"genesys-webhook:p:m{n}",
        60,
        QUEUE,
        line_session=KEY if line else None,
        line={"source": "agent", "text": f"agent {n}"} if line else None,
        lines_kept=3,
    )


def _output(n: int) -> dict:
    return {"source": "agent", "text": f"agent {n}", "data": None, "time": "t"}


def _state(store: Store) -> dict:
    state = store.load_session(KEY)
    assert state is not None
    return state


@pytest.fixture
def reopen(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens (again) one SQLite file, as another process would; all closed after the test."""
    opened: list[Store] = []

    def open_again() -> Store:
        opened.append(open_store(f"sqlite:///{tmp_path / 'store.db'}"))
        return opened[-1]

    yield open_again
    for s in opened:
        s.close()


@pytest.fixture
def sqlite(reopen: Callable[[], Store]) -> Store:
    store = reopen()
    assert store.accepts_inline
    store.save_session(KEY, {"wait_node": "n1", "handover_lines": []})
    return store


def test_output_mark_and_line_commit_together(sqlite: Store) -> None:
    with sqlite.accepting(_accept(1)):
        seq = sqlite.append_output(KEY, _output(1))
    assert [o["text"] for o in sqlite.outputs_after(KEY, 0)] == ["agent 1"] and seq == 1
    assert sqlite.seen("genesys-webhook:p:m1", 60) is True
    assert _state(sqlite) == {
        "wait_node": "n1",
        "handover_lines": [{"source": "agent", "text": "agent 1"}],
    }
    assert sqlite.inbound_pending() == []  # no inbound item was ever written


def test_only_the_next_append_carries_it(sqlite: Store) -> None:
    with sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, _output(1))
        sqlite.append_output(KEY, _output(2))  # a plain append: no second mark or line
    assert len(_state(sqlite)["handover_lines"]) == 1
    sqlite.append_output(KEY, _output(3))
    assert [o["seq"] for o in sqlite.outputs_after(KEY, 0)] == [1, 2, 3]


def test_a_duplicate_writes_nothing(sqlite: Store) -> None:
    with sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, _output(1))
    with pytest.raises(AcceptRefused) as refused, sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, _output(1))
    assert refused.value.reason == "duplicate"
    assert len(sqlite.outputs_after(KEY, 0)) == 1
    assert len(_state(sqlite)["handover_lines"]) == 1


def test_waiting_webhooks_of_the_customer_make_it_queue(sqlite: Store) -> None:
    waiting = sqlite.accept_inbound("genesys-webhook:p:m0", 60, QUEUE, "Text", {"n": 0})
    assert waiting is not None
    with pytest.raises(AcceptRefused) as refused, sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, _output(1))
    assert refused.value.reason == "queued"
    # Nothing written: not the output, not the line, and the mark is free for the queued copy.
    assert sqlite.outputs_after(KEY, 0) == [] and _state(sqlite)["handover_lines"] == []
    assert sqlite.accept_inbound("genesys-webhook:p:m1", 60, QUEUE, "Text", {"n": 1}) is not None
    # Another customer is not held up by this one's queue.
    other = InboundAccept("genesys-webhook:p:x", 60, "in:i1:c2")
    with sqlite.accepting(other):
        sqlite.append_output(KEY, _output(9))
    # A dead-lettered item does not hold its key.
    sqlite.inbound_fail(waiting.id, "gave up")
    [left] = [i for i in sqlite.inbound_pending(QUEUE)]
    sqlite.inbound_done(left.id)
    with sqlite.accepting(_accept(2)):
        sqlite.append_output(KEY, _output(2))


def test_a_held_session_lock_makes_it_queue(sqlite: Store, reopen: Callable[[], Store]) -> None:
    holder = reopen()
    with holder.session_lock(KEY):
        with pytest.raises(AcceptRefused) as refused, sqlite.accepting(_accept(1)):
            sqlite.append_output(KEY, _output(1))
    assert refused.value.reason == "line"
    assert sqlite.outputs_after(KEY, 0) == []
    assert sqlite.seen("genesys-webhook:p:m1", 60) is False  # the mark rolled back too


def test_a_session_without_a_line_list_makes_it_queue(sqlite: Store) -> None:
    sqlite.save_session(KEY, {"wait_node": "n1"})
    with pytest.raises(AcceptRefused) as refused, sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, _output(1))
    assert refused.value.reason == "line"
    # Without a line to keep, the line's conditions do not apply.
    with sqlite.accepting(_accept(2, line=False)):
        sqlite.append_output(KEY, _output(2))
    assert [o["text"] for o in sqlite.outputs_after(KEY, 0)] == ["agent 2"]


def test_only_the_last_lines_are_kept(sqlite: Store) -> None:
    for n in range(1, 6):
        with sqlite.accepting(_accept(n)):
            sqlite.append_output(KEY, _output(n))
    assert [line["text"] for line in _state(sqlite)["handover_lines"]] == [
        "agent 3",
        "agent 4",
        "agent 5",
    ]


def test_a_failed_append_leaves_nothing(sqlite: Store) -> None:
    with pytest.raises((TypeError, ValueError, StoreError)), sqlite.accepting(_accept(1)):
        sqlite.append_output(KEY, {"source": "agent", "text": object()})  # not JSON
    sqlite.append_output(KEY, _output(2))  # nor is the accept left armed for the next append
    assert _state(sqlite)["handover_lines"] == []
    assert sqlite.seen("genesys-webhook:p:m1", 60) is False


@pytest.mark.redis
def test_redis_refuses_to_be_asked(redis_url: str) -> None:
    """Several processes share a Redis store: the per-customer order of the inbound queue cannot
    be kept by one process's lanes, so Redis always queues."""
    store = open_store(redis_url + "?prefix=test-inline:")
    try:
        assert store.accepts_inline is False
        with pytest.raises(NotImplementedError), store.accepting(_accept(1)):
            pass
    finally:
        store.close()
