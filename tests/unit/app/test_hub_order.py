"""`OutputHub.emit`: outputs of one session reach the callback URL in seq order under concurrency."""

from __future__ import annotations

import threading
import time

from om_bridge.bridge.config import parse_config
from om_bridge.bridge.endpoint.hub import OutputHub
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.store import SessionKey, open_store

KEY = SessionKey("t", "u", "s")


class RecordingCallback:
    def __init__(self) -> None:
        self.seqs: list[int] = []

    def submit(self, url: str, key: SessionKey, record: dict) -> None:
        self.seqs.append(record["seq"])

    def close(self, timeout: float) -> None:
        pass


class NotingLock:
    """A lock that records when a second thread has to wait for it."""

    def __init__(self, contended: threading.Event) -> None:
        self._lock, self._contended = threading.Lock(), contended

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._contended.set()
            self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_concurrent_emits_reach_the_callback_in_seq_order(tmp_path):
    config = parse_config(
        {
            "bridge": {"store": "sqlite://:memory:"},
            "endpoints": [
                {
                    "url_token": "t",
                    "organisation": "o",
                    "flow": "demo-bot",
                    "callback_url": "http://127.0.0.1:9/cb",
                }
            ],
        },
        environ={},
    )
    store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    callback = RecordingCallback()
    hub = OutputHub(store, config, Metrics(), time.time, callback=callback)  # type: ignore[arg-type]
    contended, second_done = threading.Event(), threading.Event()
    hub._stripes = [NotingLock(contended) for _ in getattr(hub, "_stripes", [None])]
    append = store.append_output

    def append_then_let_another_emit(key, output):  # type: ignore[no-untyped-def]
        seq = append(key, output)
        if output["text"] == "first":
            # Another thread (say a webhook) emits for the same session right now.
            def second() -> None:
                hub.emit(KEY, {"source": "agent", "text": "second"})
                second_done.set()

            threading.Thread(target=second).start()
            while not (second_done.wait(0.01) or contended.is_set()):
                pass
        return seq

    store.append_output = append_then_let_another_emit
    try:
        assert hub.emit(KEY, {"source": "system", "text": "first"}) == 1
        assert second_done.wait(10)
        assert callback.seqs == [1, 2]
    finally:
        store.close()
