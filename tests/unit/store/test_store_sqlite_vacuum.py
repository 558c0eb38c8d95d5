"""SQLite gives space back: incremental auto-vacuum in new files, a one-time migration of older
ones (schema 3, auto_vacuum off), and `reclaim_space` after a purge shrinking the real file."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest

from om_bridge.bridge.store import SessionKey, UploadUsage, open_store, sqlite_db
from om_bridge.bridge.store.sqlite_db import (
    AUTO_VACUUM_INCREMENTAL,
    MIGRATIONS,
    SCHEMA_VERSION,
)
from tests.conftest import wait_until

KEY = SessionKey("demo", "u", "s")
FILLER = "x" * 2000


def old_file(path: Path, sessions: int) -> None:
    """A file as om-bridge made it before schema 4: auto_vacuum off, schema 3, some sessions
    and one upload."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for version in (1, 2, 3):
        conn.executescript(MIGRATIONS[version])
    conn.execute("PRAGMA user_version = 3")
    conn.execute("BEGIN")
    for n in range(sessions):
        conn.execute(
            "INSERT INTO sessions (skey, state, updated_at) VALUES (?, ?, ?)",
            (f"demo:u:s{n}", '{"f":"' + FILLER + '"}', time.time()),
        )
    conn.execute(
        "INSERT INTO uploads (id, meta, body, expires_at) VALUES (?, ?, ?, ?)",
        (
            "a" * 32,
            '{"name":"a.txt","mime":"text/plain","size":3,"session":"demo:u:s"}',
            b"abc",
            time.time() + 3600,
        ),
    )
    conn.execute("COMMIT")
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    conn.close()


def auto_vacuum(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
    finally:
        conn.close()


def test_a_new_file_is_made_in_incremental_auto_vacuum_mode(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    store.close()
    assert auto_vacuum(tmp_path / "new.db") == AUTO_VACUUM_INCREMENTAL


def test_an_older_file_is_migrated_once_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_file(path, sessions=200)
    store = open_store(f"sqlite:///{path}")
    try:
        assert auto_vacuum(path) == AUTO_VACUUM_INCREMENTAL
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()
        assert store.load_session(SessionKey("demo", "u", "s199")) == {"f": FILLER}
        # Schema 4 filled in each older upload's session and size.
        assert store.upload_usage(KEY) == UploadUsage(1, 3)
        assert store.get_upload("a" * 32) is not None
    finally:
        store.close()


def test_without_room_for_the_compaction_the_file_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tight.db"
    old_file(path, sessions=50)
    real = sqlite_db.shutil.disk_usage

    def tight(folder: str):  # type: ignore[no-untyped-def]
        usage = real(folder)
        return usage._replace(free=os.path.getsize(path))  # less than twice the file

    monkeypatch.setattr(sqlite_db.shutil, "disk_usage", tight)
    with caplog.at_level(logging.WARNING, logger="om_bridge.bridge.store.sqlite_db"):
        store = open_store(f"sqlite:///{path}")
    try:
        assert auto_vacuum(path) == 0
        assert "twice its size" in caplog.text
        assert store.load_session(SessionKey("demo", "u", "s49")) == {"f": FILLER}
    finally:
        store.close()
    monkeypatch.setattr(sqlite_db.shutil, "disk_usage", real)
    # The next start with room migrates it.
    open_store(f"sqlite:///{path}").close()
    assert auto_vacuum(path) == AUTO_VACUUM_INCREMENTAL


def checkpointed_size(conn: sqlite3.Connection, path: Path) -> int:
    """The database file's size once every committed page reached it (a complete checkpoint)."""
    busy, logged, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return os.path.getsize(path) if busy == 0 and logged == done else -1


def test_reclaim_space_after_a_purge_shrinks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shrink.db"
    store = open_store(f"sqlite:///{path}")
    checkpoint = sqlite3.connect(path, isolation_level=None)
    try:
        store.set_retention(60.0, 60.0)
        store.save_session(KEY, {"small": True})
        sizes: list[int] = []
        wait_until(
            lambda: sizes.append(checkpointed_size(checkpoint, path)) or sizes[-1] > 0,
            30,
            what="a complete checkpoint",
        )
        before = sizes[-1]
        for n in range(3000):
            store.save_session(SessionKey("demo", "flood", f"s{n}"), {"f": FILLER})
        wait_until(
            lambda: checkpointed_size(checkpoint, path) > before + 5_000_000,
            30,
            what="the flood to reach the file",
        )
        flooded = os.path.getsize(path)
        counts = store.purge(time.time() + 120)
        assert counts["sessions"] == 3001
        freed = store.reclaim_space()
        assert freed > 5_000_000
        db = store._db  # type: ignore[attr-defined]
        assert db.incremental_vacuum(1024) == (0, 0)  # nothing left to give back
        wait_until(
            lambda: 0 < checkpointed_size(checkpoint, path) <= before + 64 * 1024,
            30,
            what="the file to shrink at a checkpoint",
        )
        print(f"file: {before} bytes, {flooded} after the flood, {os.path.getsize(path)} after")
    finally:
        checkpoint.close()
        store.close()
