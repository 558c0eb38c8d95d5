"""`ReorderBuffer`: deliveries of one key stored in channel.time order; old ones never held."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from om_bridge.bridge.webhooks.reorder import ReorderBuffer

NOW = 1_800_000_000.0


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_delivery_older_than_the_window_is_stored_at_once():
    # A one-hour window and a clock that never moves: anything held would wait an hour.
    buffer = ReorderBuffer(3600.0, clock=lambda: NOW)
    stored: list[str] = []
    assert buffer.submit("k", iso(NOW - 3601), "m1", lambda: stored.append("m1") or True)
    assert stored == ["m1"] and buffer.held() == 0


def test_window_off_or_unparseable_time_stores_at_once():
    stored: list[str] = []
    assert ReorderBuffer(0.0).submit("k", iso(NOW), "a", lambda: stored.append("a") or 1) == 1
    assert ReorderBuffer(60.0).submit("k", "not a time", "b", lambda: stored.append("b") or 2) == 2
    assert stored == ["a", "b"]


def test_an_earlier_delivery_arriving_later_releases_in_order():
    # The later message (t+1) waits; the earlier one (t) arrives after it but is stored first, and
    # being not held itself (old enough) it releases nothing later than itself.
    clock = [NOW]
    buffer = ReorderBuffer(3600.0, clock=lambda: clock[0])
    stored: list[str] = []
    later = threading.Thread(
        target=buffer.submit, args=("k", iso(NOW + 1), "late", lambda: stored.append("late"))
    )
    later.start()
    while buffer.held() == 0:
        threading.Event().wait(0.01)
    clock[0] = NOW + 7200  # now everything is old enough
    buffer.submit("k", iso(NOW), "early", lambda: stored.append("early"))
    assert stored == ["early"]
    # The held one is released by its own timer or by the next delivery of its key.
    buffer.submit("k", iso(NOW + 2), "last", lambda: stored.append("last"))
    later.join(5)
    assert stored == ["early", "late", "last"]


def test_errors_reach_the_delivery_they_belong_to():
    buffer = ReorderBuffer(0.05)

    def boom() -> None:
        raise RuntimeError("store down")

    try:
        buffer.submit("k", iso(datetime.now(UTC).timestamp()), "m", boom)
    except RuntimeError as exc:
        assert str(exc) == "store down"
    else:
        raise AssertionError("the store error was swallowed")
