"""The SQLite store under gevent (serve's worker model), in a subprocess patched as the worker is:
waiting for another process's write lock lets other greenlets run, a waiter is woken by an
append, and one connection serves many greenlets."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import json, sqlite3, sys, threading, time
    import gevent
    from om_bridge.bridge.store import SessionKey
    from om_bridge.bridge.store.sqlite import SqliteStore

    path = sys.argv[1]
    store = SqliteStore(path)
    key = SessionKey("t", "u", "s")

    # Another process's writer holds the write lock (a connection the store does not own).
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    ticks = []
    def ticker():
        while len(ticks) < 20:
            ticks.append(1)
            time.sleep(0.01)
    t = gevent.spawn(ticker)
    def release():
        while len(ticks) < 20:
            time.sleep(0.01)
        other.execute("COMMIT")
    gevent.spawn(release)
    store.save_session(key, {"n": 1})  # waits for the lock, cooperatively
    t.join()

    # Many greenlets wait for outputs; one append wakes the session's waiters.
    got = []
    waiters = [gevent.spawn(lambda: got.append(store.wait_outputs(key, 0, 30))) for _ in range(50)]
    gevent.sleep(0.05)
    store.append_output(key, {"text": "hi"})
    gevent.joinall(waiters, timeout=30)
    print(json.dumps({
        "ticks": len(ticks),
        "saved": store.load_session(key),
        "woken": sum(1 for g in got if g and g[0]["text"] == "hi"),
        "connections": len(store._db._open),
    }))
    store.close()
    """
)


def test_sqlite_store_cooperates_under_gevent(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "g.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # The ticker ran to its end while the store waited for the other writer's lock.
    assert result["ticks"] == 20
    assert result["saved"] == {"n": 1}
    assert result["woken"] == 50
    # Connections follow statements running at once (SQLite calls do not yield), not greenlets.
    assert result["connections"] <= 2
