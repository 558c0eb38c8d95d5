"""`OutputHub.emit`: an agent message that arrives after later ones of its session is placed in
front of them (`before`), within the window, without holding anything back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from om_bridge.bridge.config import parse_config
from om_bridge.bridge.endpoint.hub import OutputHub, order_key
from om_bridge.bridge.genesys.wire import iso_time
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.store import SessionKey, open_store
from tests.display import displayed

KEY = SessionKey("t", "u", "s")
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def make_hub(tmp_path, window_ms: int = 5000) -> tuple[OutputHub, Clock]:
    config = parse_config(
        {
            "bridge": {"store": "sqlite://:memory:", "webhook_reorder_window_ms": window_ms},
            "endpoints": [{"url_token": "t", "organisation": "o", "flow": "demo-bot"}],
        },
        environ={},
    )
    clock = Clock()
    store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    return OutputHub(store, config, Metrics(), clock), clock


def agent(n: float, message_id: str = "") -> dict:
    """An agent output Genesys sent `n` seconds after START."""
    return {
        "source": "agent",
        "text": f"m{n}",
        "sent": iso_time(datetime.fromtimestamp(START + n, UTC)),
        "messageId": message_id or f"id-{n}",
    }


def texts(hub: OutputHub) -> list[str]:
    return [o["text"] for o in displayed(hub.after(KEY, 0))]


def test_in_order_messages_get_no_placement(tmp_path):
    hub, _ = make_hub(tmp_path)
    for n in (1, 2, 3):
        hub.emit(KEY, agent(n))
    assert all("before" not in o for o in hub.after(KEY, 0))
    assert texts(hub) == ["m1", "m2", "m3"]


def test_a_late_message_goes_in_front_of_the_earliest_later_one(tmp_path):
    hub, clock = make_hub(tmp_path)
    b = hub.emit(KEY, agent(2))
    hub.emit(KEY, {"source": "bot", "text": "bot line"})
    hub.emit(KEY, agent(3))
    clock.now += 1
    a = hub.emit(KEY, agent(1))
    stored = {o["seq"]: o for o in hub.after(KEY, 0)}
    assert stored[a]["before"] == b
    assert texts(hub) == ["m1", "m2", "bot line", "m3"]


@pytest.mark.parametrize("arrival", [[3, 1, 2], [3, 2, 1], [2, 3, 1], [1, 3, 2], [4, 2, 3, 1]])
def test_any_arrival_order_within_the_window_is_shown_in_sent_order(tmp_path, arrival):
    hub, _ = make_hub(tmp_path)
    for n in arrival:
        hub.emit(KEY, agent(n))
    assert texts(hub) == [f"m{n}" for n in sorted(arrival)]


def test_equal_sent_times_are_ordered_by_message_id(tmp_path):
    hub, _ = make_hub(tmp_path)
    hub.emit(KEY, agent(1, "b"))
    hub.emit(KEY, agent(1, "a"))
    assert [o["messageId"] for o in displayed(hub.after(KEY, 0))] == ["a", "b"]


def test_beyond_the_window_a_late_message_is_shown_last(tmp_path):
    hub, clock = make_hub(tmp_path, window_ms=1000)
    hub.emit(KEY, agent(2))
    clock.now += 1.5
    late = hub.emit(KEY, agent(1))
    assert "before" not in hub.after(KEY, late - 1)[0]
    assert texts(hub) == ["m2", "m1"]


def test_window_zero_keeps_arrival_order(tmp_path):
    hub, _ = make_hub(tmp_path, window_ms=0)
    hub.emit(KEY, agent(2))
    hub.emit(KEY, agent(1))
    assert texts(hub) == ["m2", "m1"]


def test_only_agent_messages_with_a_sent_time_are_placed(tmp_path):
    hub, _ = make_hub(tmp_path)
    hub.emit(KEY, agent(2))
    hub.emit(KEY, {"source": "agent", "text": None, "data": {"typing": True}})
    hub.emit(KEY, {"source": "bot", "text": "no time"})
    assert order_key({"source": "bot", "sent": iso_time(), "messageId": "x"}) is None
    assert order_key({"source": "agent", "sent": "not a time"}) is None
    assert all("before" not in o for o in hub.after(KEY, 0))


@pytest.mark.parametrize("seed", range(20))
def test_random_arrival_orders_with_other_outputs_between(tmp_path, seed):
    import random

    rng = random.Random(seed)
    arrival = list(range(1, 11))
    rng.shuffle(arrival)
    hub, clock = make_hub(tmp_path)
    for n in arrival:
        if rng.random() < 0.3:
            hub.emit(KEY, {"source": "bot", "text": "between"})
        hub.emit(KEY, agent(n))
        clock.now += 0.1
    shown = [t for t in texts(hub) if t != "between"]
    assert shown == [f"m{n}" for n in range(1, 11)]
