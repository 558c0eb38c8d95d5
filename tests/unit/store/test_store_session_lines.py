"""Contract tests, every backend: `append_session_line` (a handover line added to the saved
session state in one step, never lost to or losing a load-change-save under the session lock)."""

from __future__ import annotations

import threading

from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import SessionKey, Store

KEY = SessionKey("demo", "user-1", "session-1")


def _line(n: int) -> dict:
    return {"handover": "h-1", "source": "agent", "text": f"line {n} é", "data": None}


def test_a_line_is_appended_and_the_rest_of_the_state_is_kept(store: Store) -> None:
    state = {"wait_node": "n1", "context": {"a": [1, 2]}, "handover_lines": [_line(0)]}
    store.save_session(KEY, state)
    store.append_session_line(KEY, _line(1), 10)
    store.append_session_line(KEY, {**_line(2), "data": {"attachments": [{"url": "u"}]}}, 10)
    saved = store.load_session(KEY)
    assert saved is not None
    assert saved["wait_node"] == "n1" and saved["context"] == {"a": [1, 2]}
    assert [line["text"] for line in saved["handover_lines"]] == [
        "line 0 é",
        "line 1 é",
        "line 2 é",
    ]
    assert saved["handover_lines"][2]["data"] == {"attachments": [{"url": "u"}]}


def test_only_the_last_lines_are_kept(store: Store) -> None:
    store.save_session(KEY, {"handover_lines": []})
    for n in range(7):
        store.append_session_line(KEY, _line(n), 3)
    saved = store.load_session(KEY)
    assert saved is not None
    assert [line["text"] for line in saved["handover_lines"]] == [
        "line 4 é",
        "line 5 é",
        "line 6 é",
    ]


def test_a_session_without_saved_state_or_lines_gets_the_line(store: Store) -> None:
    store.append_session_line(KEY, _line(1), 5)
    assert store.load_session(KEY) == {"handover_lines": [_line(1)]}
    other = SessionKey("demo", "user-2", "session-1")
    store.save_session(other, {"wait_node": "n2"})  # saved before lines existed
    store.append_session_line(other, _line(2), 5)
    assert store.load_session(other) == {"wait_node": "n2", "handover_lines": [_line(2)]}


def test_a_line_waits_for_a_holder_of_the_session_lock_in_another_process(reopen) -> None:
    """A holder (here: another store on the same database, as another process) loads the state,
    changes it and saves it under the lock; a line appended meanwhile is added after that save,
    so neither change is lost."""
    holder, appender = reopen(), reopen()
    holder.save_session(KEY, {"wait_node": "n1", "handover_lines": [_line(0)]})
    appended = threading.Thread(target=appender.append_session_line, args=(KEY, _line(2), 10))
    with holder.session_lock(KEY):
        state = holder.load_session(KEY)
        assert state is not None
        appended.start()
        appended.join(0.5)
        assert appended.is_alive()  # waiting for the lock, not writing under the holder
        state["handover_lines"].append({**_line(1), "source": "user"})
        holder.save_session(KEY, state)
    appended.join(15)
    assert not appended.is_alive()
    saved = appender.load_session(KEY)
    assert saved is not None
    assert [(line["source"], line["text"]) for line in saved["handover_lines"]] == [
        ("agent", "line 0 é"),
        ("user", "line 1 é"),
        ("agent", "line 2 é"),
    ]
