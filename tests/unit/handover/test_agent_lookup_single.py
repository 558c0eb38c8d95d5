"""`AgentDirectory.single_lookup`: one agent lookup per handover at a time; a second caller waits for
it and then uses what it found, instead of asking Genesys again."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from om_bridge.bridge.handover.agents import AgentDirectory
from tests.conftest import wait_until


def test_a_second_lookup_of_the_same_handover_waits_and_does_not_ask_again():
    directory = AgentDirectory(SimpleNamespace(), SimpleNamespace(), time.time)  # type: ignore[arg-type]
    release, results = threading.Event(), {}

    def first() -> None:
        with directory.single_lookup("h1") as mine:
            results["first"] = mine
            release.wait(10)

    def second() -> None:
        with directory.single_lookup("h1") as mine:
            results["second"] = mine

    a = threading.Thread(target=first)
    a.start()
    wait_until(lambda: "first" in results, 5, what="the first lookup")
    b = threading.Thread(target=second)
    b.start()
    # Another handover is not held up by it.
    with directory.single_lookup("h2") as other:
        assert other is True
    assert "second" not in results  # still waiting for the first
    release.set()
    a.join(5)
    b.join(5)
    assert results == {"first": True, "second": False}
    with directory.single_lookup("h1") as again:  # nothing in progress any more
        assert again is True


def test_the_same_thread_may_enter_again():
    directory = AgentDirectory(SimpleNamespace(), SimpleNamespace(), time.time)  # type: ignore[arg-type]
    with directory.single_lookup("h1") as outer:
        with directory.single_lookup("h1") as inner:  # returns at once, no self-wait
            assert (outer, inner) == (True, True)
    with directory.single_lookup("h1") as again:
        assert again is True
