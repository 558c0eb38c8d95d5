"""`serve`'s worker tunes the garbage collector once the app is loaded: start-up objects frozen,
full collections spaced out (a full collection stops the worker for every open stream's objects)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_tune_gc_freezes_start_up_objects_and_spaces_full_collections():
    script = (
        "import gc, json\n"
        "from om_bridge.bridge.gworker import GC_FULL_EVERY, tune_gc\n"
        "before = gc.get_threshold()\n"
        "tune_gc()\n"
        "print(json.dumps({'before': before, 'after': gc.get_threshold(),"
        " 'frozen': gc.get_freeze_count(), 'every': GC_FULL_EVERY}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    seen = json.loads(out)
    assert seen["after"][:2] == seen["before"][:2]  # young collections as CPython does them
    assert seen["after"][2] == seen["every"] > seen["before"][2]
    assert seen["frozen"] > 1000  # the modules and the app's start-up objects


def test_the_worker_tunes_after_loading_the_app(monkeypatch):
    from gunicorn.workers.base import Worker

    from om_bridge.bridge import gworker

    calls: list[str] = []
    monkeypatch.setattr(Worker, "load_wsgi", lambda self: calls.append("load"))
    monkeypatch.setattr(gworker, "tune_gc", lambda: calls.append("tune"))
    worker = gworker.BridgeGeventWorker.__new__(gworker.BridgeGeventWorker)
    worker.load_wsgi()
    assert calls == ["load", "tune"]
