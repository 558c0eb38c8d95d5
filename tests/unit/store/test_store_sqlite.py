"""SQLite backend specifics: URLs, schema versioning, :memory:, and index use on hot paths."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from om_bridge.bridge.store import (
    Handover,
    InboundCompletion,
    SessionKey,
    StoreError,
    open_store,
    sqlite_path,
)
from om_bridge.bridge.store.sqlite_db import SCHEMA_VERSION

KEY = SessionKey("demo", "u", "s")


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///relative/dir/store.db") == "relative/dir/store.db"
    assert sqlite_path("sqlite:////abs/store.db") == "/abs/store.db"
    assert sqlite_path("sqlite://:memory:") == ":memory:"
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("sqlite://nohost.db")
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("postgres://db/om")


def test_unsupported_url_error_hides_a_password() -> None:
    with pytest.raises(StoreError) as info:
        open_store("mysql://user:hunter2@db/om")
    assert "hunter2" not in str(info.value)


def test_file_store_creates_its_directory_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "om-bridge.db"
    store = open_store(f"sqlite:///{path}")
    store.save_session(KEY, {"a": 1})
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "handovers", "dedupe", "outbox", "outputs", "locks"} <= tables


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this om-bridge"):
        open_store(f"sqlite:///{path}")


def test_memory_store_is_shared_by_all_threads() -> None:
    store = open_store("sqlite://:memory:")
    try:
        t = threading.Thread(target=store.save_session, args=(KEY, {"from": "thread"}))
        t.start()
        t.join(10)
        assert store.load_session(KEY) == {"from": "thread"}
        assert store.finish_handover(
            store.create_handover(Handover.new(KEY, "p", "c")).id, "completed", "done"
        )
    finally:
        store.close()


def hot_path_statements(store) -> list[str]:
    """Every SQL statement the per-message operations run, with their values filled in."""
    statements: list[str] = []
    store.seen("opens-the-writing-connection", 60)
    # Reads use the pool, writes the one writing connection: both are traced.
    connections = {store._db.connection(), store._db._writer}
    for conn in connections:
        conn.set_trace_callback(statements.append)
    h = store.create_handover(Handover.new(KEY, "p", "cust", "integ"))
    store.update_handover(h.id, conversation_id="conv", status="active")
    store.open_handover_for_session(KEY)
    store.handover_by_conversation("conv")
    store.handover_by_customer("integ", "cust")
    store.open_handovers("p")
    store.seen("message-id", 60)
    store.save_session(KEY, {"a": 1})
    store.load_session(KEY)
    item = store.outbox_put("conv", "message", {})
    store.outbox_put("conv", "message", {})
    store.outbox_claim(1e12, 10, 30, "w")
    store.outbox_retry(item, 0, "e")
    store.outbox_done(item)
    store.outbox_fail(item + 1, "e")
    store.append_output(KEY, {"text": "x"})
    store.outputs_after(KEY, 0)
    inbound = store.accept_inbound("webhook-id", 60, "in:integ:cust", "Text", {}, owner="w")
    store.accept_inbound("webhook-id-2", 60, "in:integ:cust", "Text", {}, owner="w")
    with store.completing_inbound(InboundCompletion(inbound.id, "w")):
        store.append_output(KEY, {"text": "y"})
    store.inbound_claim(1e12, 10, 30, "w2")
    store.acquire_lock("l", "o", 30)
    store.release_lock("l", "o")
    store.finish_handover(h.id, "completed", "done")
    for conn in connections:
        conn.set_trace_callback(None)
    return [
        s for s in statements if s.split()[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT")
    ]


def test_hot_path_statements_never_scan_a_table(tmp_path: Path) -> None:
    """Per-message cost must not grow with the number of handovers (docs/design.md §11): every
    statement of the per-message operations is an index search, never a scan."""
    path = tmp_path / "plan.db"
    store = open_store(f"sqlite:///{path}")
    try:
        statements = hot_path_statements(store)
    finally:
        store.close()
    assert len(statements) > 20
    with sqlite3.connect(path) as conn:
        for sql in statements:
            plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            # A one-row constant or subquery "scan" reads no table; any other SCAN does.
            scans = [
                step
                for step in plan
                if step.startswith("SCAN")
                and step != "SCAN CONSTANT ROW"
                and not step.startswith("SCAN (subquery")
            ]
            assert not scans, (sql, plan)


def test_close_waits_for_a_statement_in_another_thread_and_refuses_later_use(tmp_path):
    """Closing a connection another thread is executing on crashes the sqlite3 module; close()
    waits for the user to finish, and any use after close is a clear StoreError."""
    import threading

    from om_bridge.bridge.store.errors import StoreError
    from om_bridge.bridge.store.sqlite_db import SqliteDatabase

    db = SqliteDatabase(str(tmp_path / "c.db"))
    inside, release, closed = threading.Event(), threading.Event(), threading.Event()
    seen: list = []

    def reader() -> None:
        with db.read() as conn:
            inside.set()
            release.wait(5)
            seen.append(conn.execute("SELECT 1").fetchone()[0])  # still open: close() waits

    t = threading.Thread(target=reader)
    t.start()
    assert inside.wait(5)
    closer = threading.Thread(target=lambda: (db.close(), closed.set()))
    closer.start()
    assert not closed.wait(0.2)  # blocked on the reader's statement
    release.set()
    t.join(5)
    assert closed.wait(5) and seen == [1]
    with pytest.raises(StoreError, match="closed"):
        with db.read() as conn:
            conn.execute("SELECT 1")
    closer.join(5)


def test_the_output_poller_reads_only_after_another_process_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process's own appends wake their waiters directly: they never make the poller read
    the waited keys (with thousands of streams open that read is the poller's whole cost);
    another process's commit does, and so does a key seen for the first time."""
    from om_bridge.bridge.store.sqlite import _OutputPoller

    url = f"sqlite:///{tmp_path / 'poll.db'}"
    store, other = open_store(url), open_store(url)
    reads: list[list[str]] = []
    real = _OutputPoller._newest
    monkeypatch.setattr(
        _OutputPoller, "_newest", lambda self, keys: reads.append(list(keys)) or real(self, keys)
    )
    poller = _OutputPoller(store.path, store._waiters, store._db.data_version)
    key, second = KEY.as_str(), SessionKey("demo", "u2", "s").as_str()
    try:
        version = store._db.data_version
        assert poller._changed([key], version()) == [key]  # first sight: woken once
        for n in range(5):
            store.append_output(KEY, {"text": f"own {n}"})
            store.save_session(KEY, {"n": n})
            assert poller._changed([key], version()) == []
        assert reads == [[key]]  # nothing read for this process's own writes
        # A newly waited key is read alone.
        assert poller._changed([key, second], version()) == [second]
        assert reads[-1] == [second]
        # Another process's append is found and woken; one that changed nothing waited is not.
        other.append_output(KEY, {"text": "from elsewhere"})
        assert poller._changed([key, second], version()) == [key]
        other.save_session(KEY, {"n": "elsewhere"})
        assert poller._changed([key, second], version()) == []
        assert len(reads) == 4
    finally:
        store.close()
        other.close()
