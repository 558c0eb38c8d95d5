"""Handover status changes across processes: two engines (two bridge apps) on one store file."""

from __future__ import annotations

import threading

import pytest
import tomli_w

from om_bridge.bridge.app import create_app
from om_bridge.bridge.demo import demo_config, demo_environ
from om_bridge.bridge.store import Handover, SessionKey


@pytest.fixture
def two_apps(tmp_path):
    config = demo_config("http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path / "data")
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    settings = {"config_path": str(path), "environ": demo_environ(), "start_workers": False}
    apps = [create_app(dict(settings)), create_app(dict(settings))]
    yield [app.extensions["om-bridge"] for app in apps]
    for app in apps:
        app.extensions["om-bridge"].close()


def test_a_stale_queue_never_overwrites_active_of_another_process(two_apps):
    """Worker A's outbox reports the first message sent ("queue") while worker B's webhook makes
    the handover "active": whatever the interleaving, the handover ends up active and the user
    sees "queue" before "active", each once."""
    a, b = two_apps
    key = SessionKey("demo", "u1", "s1")
    h = a.store.create_handover(Handover.new(key, "genesys-demo", customer_id="u1", settings={}))

    b_finished, b_blocked = threading.Event(), threading.Event()
    b_acquire = b.store.acquire_lock

    def acquire_noting_contention(name, owner, ttl):  # type: ignore[no-untyped-def]
        taken = b_acquire(name, owner, ttl)
        if not taken:
            b_blocked.set()
        return taken

    b.store.acquire_lock = acquire_noting_contention
    a_update = a.store.update_handover

    def let_b_run_then_update(handover_id, **fields):  # type: ignore[no-untyped-def]
        # A has read "requested" and decided to write "queue"; now B's webhook advances.
        def run_b() -> None:
            b.engine.advance(h.id, "active")
            b_finished.set()

        threading.Thread(target=run_b).start()
        # Go on once B either finished (nothing protected A's read) or waits for A's lock.
        while not (b_finished.wait(0.01) or b_blocked.is_set()):
            pass
        return a_update(handover_id, **fields)

    a.store.update_handover = let_b_run_then_update
    a.engine.advance(h.id, "queue")
    a.store.update_handover = a_update
    assert b_finished.wait(15)

    assert a.store.get_handover(h.id).status == "active"
    outputs = a.store.outputs_after(key, 0)
    assert [o["data"]["handover"]["status"] for o in outputs] == ["queue", "active"]


def test_advance_is_forward_only_and_announces_once(two_apps):
    a, _ = two_apps
    key = SessionKey("demo", "u2", "s2")
    h = a.store.create_handover(Handover.new(key, "genesys-demo", customer_id="u2", settings={}))
    assert a.engine.advance(h.id, "active").status == "active"
    assert a.engine.advance(h.id, "queue").status == "active"
    assert a.engine.advance(h.id, "active").status == "active"
    assert [o["data"]["handover"]["status"] for o in a.store.outputs_after(key, 0)] == ["active"]
    a.store.finish_handover(h.id, "completed", "test")
    assert a.engine.advance(h.id, "active") is None
