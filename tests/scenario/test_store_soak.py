"""Soak: a flood of sessions grows the bridge's real SQLite file; once retention swept them, the
incremental vacuum after the sweep gives the space back and the file returns near its size from
before the flood."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from om_bridge.bridge.store import SessionKey
from om_bridge.bridge.store.sqlite_db import JOURNAL_SIZE_LIMIT_BYTES
from tests.conftest import wait_until

SESSIONS = 24  # new sessions from one address: within the anonymous-traffic bounds
MESSAGES = 8  # per session, under the per-session input rate
TEXT = "flood " * 3150  # 19 KB, under the 20,000 characters a text may have
LONG = {"bridge": {"session_retention_hours": 1.0, "sweep_interval_seconds": 1}}
SHORT = {"bridge": {"session_retention_hours": 0.0001, "sweep_interval_seconds": 1}}  # 0.36 s


def db_path(env) -> Path:  # type: ignore[no-untyped-def]
    return Path(env.ctx.store.path)


def checkpointed(path: Path) -> int | None:
    """The file's size once every committed page reached it (a complete checkpoint), else None."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        busy, logged, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return os.path.getsize(path) if busy == 0 and logged == done else None


def settled_size(path: Path, what: str, below: int | None = None) -> int:
    found: list[int] = []

    def settled() -> bool:
        size = checkpointed(path)
        if size is None or (below is not None and size > below):
            return False
        found.append(size)
        return True

    wait_until(settled, 60, what=what)
    return found[-1]


@pytest.mark.bridge_env(config=LONG)
def test_the_file_shrinks_back_after_retention_swept_a_flood(bridge_env):
    env = bridge_env
    path = db_path(env)
    env.say("hello")
    before = settled_size(path, "a complete checkpoint before the flood")

    def flood(n: int) -> int:
        for m in range(MESSAGES):
            resp = requests.post(
                env.endpoint_url(),
                json={"userId": f"flood-{n}", "sessionId": f"s-{n}", "text": f"{m} {TEXT}"},
                timeout=60,
            )
            assert resp.status_code == 200, resp.text
        return n

    with ThreadPoolExecutor(4) as pool:
        assert len(list(pool.map(flood, range(SESSIONS)))) == SESSIONS
    flooded = settled_size(path, "the flood to reach the file")
    assert flooded > before + 2_000_000, (before, flooded)
    wal_flooded = os.path.getsize(f"{path}-wal")

    # Restarted with a retention the flood is long past: the sweep at start deletes every
    # session and the incremental vacuum after it gives the pages back.
    env.restart_bridge(config=SHORT)
    wait_until(
        lambda: all(
            env.ctx.store.load_session(SessionKey(env.url_token, f"flood-{n}", f"s-{n}")) is None
            for n in range(SESSIONS)
        ),
        60,
        what="retention to sweep the flood",
    )
    after = settled_size(
        path, "the file to shrink back", below=before + max(256 * 1024, (flooded - before) // 20)
    )

    # The WAL the moved pages went through is emptied after the vacuum, or, when a reader or a
    # checkpoint was busy then, cut back to its size limit when the next write restarts it.
    def wal_cut() -> bool:
        env.ctx.store.save_session(SessionKey(env.url_token, "probe", "s"), {"n": 1})
        return os.path.getsize(f"{path}-wal") <= JOURNAL_SIZE_LIMIT_BYTES

    wait_until(wal_cut, 60, interval=0.2, what="the WAL to be cut back")
    wal_after = os.path.getsize(f"{path}-wal")
    print(
        f"\nsoak: file {before} bytes before the flood, {flooded} after it "
        f"(WAL {wal_flooded}), {after} after retention (WAL {wal_after})"
    )
