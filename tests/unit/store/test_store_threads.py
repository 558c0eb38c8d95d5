"""Every backend: no store method starts a thread; `start()` starts the store's background
threads (the app's `Workers` calls it) and `stop()` / `close()` join them."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_backends import redis_url  # noqa: F401 - fixture

from om_bridge.bridge.store import Handover, SessionKey, Store, open_store
from tests.conftest import wait_until

KEY = SessionKey("demo", "user-1", "session-1")


@pytest.fixture(params=["sqlite", "sqlite-memory", pytest.param("redis", marks=pytest.mark.redis)])
def unstarted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store as `open_store` returns it, before anything started it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    elif request.param == "sqlite-memory":
        url = "sqlite://:memory:"
    else:
        url = request.getfixturevalue("redis_url") + f"?prefix=threads-{uuid.uuid4().hex}:"
    s = open_store(url)
    try:
        yield s
    finally:
        s.close()


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def test_no_store_method_starts_a_thread(unstarted: Store) -> None:
    before = _threads()
    s = unstarted
    s.save_session(KEY, {"n": 1})
    assert s.load_session(KEY) == {"n": 1}
    with s.session_lock(KEY):
        s.append_session_line(SessionKey("demo", "u", "other"), {"text": "hi"}, 5)
    s.create_handover(Handover.new(KEY, "provider-1", "customer-1"))
    assert s.open_handover_for_session(KEY) is not None
    assert s.seen("dedupe-1", 60) is False
    item_id = s.outbox_put("k", "message", {"text": "x"})
    assert [i.id for i in s.outbox_claim(time.time() + 1, 10, 30, "w1")] == [item_id]
    assert s.outbox_done(item_id, "w1")
    s.append_output(KEY, {"text": "one"})
    assert [o["text"] for o in s.wait_outputs(KEY, 0, timeout=0.05)] == ["one"]
    assert s.wait_outputs(KEY, 1, timeout=0.05) == []
    s.put_upload("up-1", {"name": "a.txt", "session": KEY.as_str()}, b"abc", 60)
    assert s.get_upload("up-1") is not None
    assert s.acquire_lock("leader", "me", 30)
    s.release_lock("leader", "me")
    s.purge(time.time())
    assert s.ping() is True
    assert _threads() - before == set()


def test_start_runs_the_background_threads_and_stop_joins_them(unstarted: Store) -> None:
    before = _threads()
    unstarted.start()
    unstarted.start()  # once only
    started = _threads() - before
    assert unstarted.started
    assert "om-store-lock-renew" in {t.name for t in started}
    unstarted.stop()
    assert not unstarted.started
    assert all(not t.is_alive() for t in started)
    # Still usable when stopped, and it starts again.
    assert unstarted.append_output(KEY, {"text": "after stop"}) == 1
    unstarted.start()
    again = _threads() - before
    assert "om-store-lock-renew" in {t.name for t in again}
    unstarted.close()
    assert all(not t.is_alive() for t in again)


def test_an_unstarted_store_finds_another_processes_appends(tmp_path: Path) -> None:
    """Without the output poller a waiter re-reads by itself, as often as the poller would."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    waiter, writer = open_store(url), open_store(url)
    try:
        got: list = []
        waiting = threading.Thread(target=lambda: got.extend(waiter.wait_outputs(KEY, 0, 20)))
        waiting.start()
        wait_until(lambda: waiter.waiting_outputs() == 1, timeout=10, what="the waiter")
        writer.append_output(KEY, {"text": "from elsewhere"})
        waiting.join(30)
        assert [o["text"] for o in got] == ["from elsewhere"]
    finally:
        waiter.close()
        writer.close()
