"""Reordered Genesys deliveries: every delivery is relayed when it arrives, and what a client that
follows `before` shows is `channel.time` order (message id as tie-break), whatever the arrival
order within the window."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from om_bridge.bridge.genesys.wire import iso_time
from tests.conftest import wait_until
from tests.display import displayed
from tests.scenario.handover_helpers import handover_of, start_handover, texts
from tests.scenario.webhook_replay import compact, payload, post_raw

# Wide enough that 20 concurrent posts all arrive within it on a slow machine.
WINDOW_MS = 20000


def inversions(seen: list[int]) -> int:
    return sum(1 for i in range(len(seen)) for j in range(i + 1, len(seen)) if seen[i] > seen[j])


@pytest.mark.bridge_env(config={"bridge": {"webhook_reorder_window_ms": WINDOW_MS}})
def test_twenty_shuffled_messages_are_shown_in_channel_time_order(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    customer_id = handover_of(env).customer_id
    base = time.time()
    bodies = []
    for n in range(20):
        body = payload("outbound_text", customer_id=customer_id, conversation_id=conversation_id)
        body["text"] = f"ordered {n:02d}"
        # Two messages share a millisecond: the message id breaks the tie.
        body["channel"]["time"] = iso_time(datetime.fromtimestamp(base + (n // 2) * 0.01, UTC))
        body["id"] = f"m-{n // 2:02d}-{n % 2}"
        bodies.append(body)
    shuffled = bodies[:]
    random.Random(13).shuffle(shuffled)
    assert shuffled != bodies
    with ThreadPoolExecutor(len(shuffled)) as pool:
        statuses = list(pool.map(lambda b: post_raw(env.bridge_url, compact(b)), shuffled))
    assert [r.status_code for r in statuses] == [200] * 20

    def shown() -> list[int]:
        outs = displayed(env.outputs(0)["outputs"])
        return [int(t.split()[1]) for t in texts(outs, "agent") if t.startswith("ordered")]

    wait_until(lambda: len(shown()) >= 20, 30, what="the 20 agent messages")
    seen = shown()
    assert sorted(seen) == list(range(20))
    assert inversions(seen) == 0, seen


@pytest.mark.bridge_env(config={"bridge": {"webhook_reorder_window_ms": WINDOW_MS}})
def test_nothing_waits_for_a_straggler(bridge_env):
    """The later message is shown before the earlier one arrives (no hold for the window), and the
    earlier one then goes in front of it."""
    env = bridge_env
    conversation_id = start_handover(env)
    customer_id = handover_of(env).customer_id
    now = time.time()
    bodies = {}
    for name, at in (("first", now - 0.5), ("second", now)):
        body = payload("outbound_text", customer_id=customer_id, conversation_id=conversation_id)
        body["text"] = f"{name} line"
        body["channel"]["time"] = iso_time(datetime.fromtimestamp(at, UTC))
        bodies[name] = body

    def agent_outputs() -> list[dict]:
        outs = env.outputs(0)["outputs"]
        return [o for o in outs if o["source"] == "agent" and (o["text"] or "").endswith("line")]

    assert post_raw(env.bridge_url, compact(bodies["second"])).status_code == 200
    # Shown while the window (20 s) is still open for the first message: nothing is held.
    wait_until(lambda: len(agent_outputs()) == 1, 10, what="the second line, relayed at once")
    second = agent_outputs()[0]
    assert second["text"] == "second line" and "before" not in second
    assert post_raw(env.bridge_url, compact(bodies["first"])).status_code == 200
    wait_until(lambda: len(agent_outputs()) == 2, 10, what="the first line")
    first = agent_outputs()[1]
    assert first["before"] == second["seq"]
    assert first["sent"] == bodies["first"]["channel"]["time"]
    assert first["messageId"] == bodies["first"]["id"]
    shown = [o["text"] for o in displayed(env.outputs(0)["outputs"]) if o in agent_outputs()]
    assert shown == ["first line", "second line"]
