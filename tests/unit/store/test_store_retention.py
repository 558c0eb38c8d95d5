"""Retention: SQLite's purge deletes idle sessions (with outputs), old ended handovers and expired
dedupe keys, never a session with an open handover; Redis sets TTLs on the same records."""

from __future__ import annotations

import time

import pytest
from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import Handover, SessionKey, Store

IDLE = SessionKey("demo", "idle-user", "s1")
BUSY = SessionKey("demo", "busy-user", "s1")
WEEK = 7 * 86400.0


def handover(key: SessionKey, customer: str) -> Handover:
    return Handover(
        id=f"h-{customer}",
        session=key,
        provider_id="p",
        integration_id="i",
        customer_id=customer,
    )


def fill(store: Store) -> tuple[Handover, Handover]:
    for key in (IDLE, BUSY):
        store.save_session(key, {"entry": "x"})
        store.append_output(key, {"source": "bot", "text": "hi"})
    ended = store.create_handover(handover(IDLE, "c-idle"))
    store.update_handover(ended.id, conversation_id="conv-ended")
    assert store.finish_handover(ended.id, "completed", "agent ended")
    open_one = store.create_handover(handover(BUSY, "c-busy"))
    return ended, open_one


def test_sqlite_purge_deletes_what_retention_no_longer_keeps(tmp_path):  # type: ignore[no-untyped-def]
    from om_bridge.bridge.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        store.set_retention(WEEK, WEEK)
        ended, open_one = fill(store)
        assert not store.seen("dedupe-1", 1.0)
        # Nothing is old yet.
        assert store.purge(time.time()) == {
            "sessions": 0,
            "outputs": 0,
            "handovers": 0,
            "dedupe": 0,
            "uploads": 0,
        }
        counts = store.purge(time.time() + WEEK + 60)
        assert counts == {"sessions": 1, "outputs": 1, "handovers": 1, "dedupe": 1, "uploads": 0}
        assert store.load_session(IDLE) is None and store.outputs_after(IDLE, 0) == []
        assert store.get_handover(ended.id) is None
        # The session with an open handover is kept whatever its age, with its outputs.
        assert store.load_session(BUSY) == {"entry": "x"}
        assert [o["text"] for o in store.outputs_after(BUSY, 0)] == ["hi"]
        assert store.get_handover(open_one.id) is not None
    finally:
        store.close()


@pytest.mark.redis
def test_redis_records_carry_retention_ttls(redis_url):  # type: ignore[no-untyped-def]
    import uuid

    from om_bridge.bridge.store import open_store

    store = open_store(redis_url + f"?prefix=ret-{uuid.uuid4().hex}:")
    try:
        store.set_retention(WEEK, 2 * 86400.0)
        ended, open_one = fill(store)
        r, k = store._r, store._k  # type: ignore[attr-defined]
        for key in (IDLE, BUSY):
            for name in (
                k("s:", key.as_str()),
                k("out:", key.as_str()),
                k("outseq:", key.as_str()),
            ):
                assert 0 < r.ttl(name) <= WEEK, name
        assert 0 < r.ttl(k("h:", ended.id)) <= 2 * 86400
        assert r.ttl(k("h:", open_one.id)) == -1  # an open handover never expires
        assert 0 < r.ttl(k("h:conv:", "conv-ended")) <= 2 * 86400
        # Changing an ended handover keeps its retention.
        store.update_handover(ended.id, agent={"name": "Alex"})
        assert 0 < r.ttl(k("h:", ended.id)) <= 2 * 86400
    finally:
        store.close()


def test_sqlite_purge_sweeps_expired_uploads(tmp_path):  # type: ignore[no-untyped-def]
    from om_bridge.bridge.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'u.db'}")
    try:
        meta = {"name": "a.txt", "mime": "text/plain", "size": 1, "session": IDLE.as_str()}
        store.put_upload("1" * 32, meta, b"x", ttl_seconds=60)
        store.put_upload("2" * 32, meta, b"y", ttl_seconds=3600)
        assert store.purge(time.time())["uploads"] == 0
        assert store.purge(time.time() + 120)["uploads"] == 1
        assert store.get_upload("2" * 32) == (meta, b"y")
    finally:
        store.close()
