"""`Backfill`'s call budget: at most `calls_per_minute` Genesys calls in any 60 s, oldest handovers
first, each handover's messages in Genesys' order (messageTime), each message offered once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from om_bridge.bridge.handover.backfill import Backfill, CallBudget, message_ids, webhook_body
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.store import Handover, SessionKey, open_store

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


class Conversations:
    """Records each call with the time it was made; one agent message per conversation, and two
    listed out of order for conversation `c0`."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.calls = clock, []  # type: ignore[var-annotated]

    def _messages(self, cid: str) -> list[tuple[str, float]]:
        if cid == "c0":
            return [(f"{cid}-late", START - 10), (f"{cid}-early", START - 20)]
        return [(f"{cid}-m", START - 5)]

    def get_message_conversation(self, cid: str) -> dict[str, Any]:
        self.calls.append((self.clock(), "read", cid))
        details = [{"messageId": m, "messageTime": iso(t)} for m, t in self._messages(cid)]
        return {
            "id": cid,
            "participants": [
                {
                    "purpose": "customer",
                    "messages": [{"messageId": "in", "messageTime": iso(START)}],
                },
                {"purpose": "agent", "messages": details},
            ],
        }

    def get_messages(self, cid: str, ids: list[str]) -> list[dict[str, Any]]:
        self.calls.append((self.clock(), "bulk", cid))
        return [
            {
                "id": mid,
                "direction": "outbound",
                "normalizedMessage": {"type": "Text", "text": mid, "channel": {"time": iso(t)}},
            }
            for mid, t in reversed(self._messages(cid))
            if mid in ids
        ]


class Clients:
    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations

    def for_provider(self, provider_id: str) -> Conversations:
        return self.conversations


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path / 'backfill.db'}")
    yield s
    s.close()


def _handovers(store: Any, count: int) -> list[Handover]:
    made = []
    # Created newest first, so store order is not the order the budget must follow.
    for i in reversed(range(count)):
        h = Handover.new(
            SessionKey("demo", f"u{i}", f"s{i}"),
            "p",
            f"om-{i}",
            "integ",
            created_at=START - 1000 + i,
            conversation_id=f"c{i}",
            status="active",
        )
        made.append(store.create_handover(h))
    return made


def test_the_budget_allows_per_minute_calls_in_any_window():
    clock = Clock()
    budget = CallBudget(3, clock)
    for _ in range(3):
        assert budget.delay() == 0
        budget.spend()
        clock.now += 1
    assert budget.delay() == pytest.approx(57.0)  # the first call leaves the window at +60 s
    clock.now = START + 60
    assert budget.delay() == 0


def test_passes_stay_within_the_budget_oldest_handover_first(store):  # type: ignore[no-untyped-def]
    clock = Clock()
    conversations = Conversations(clock)
    offered: list[str] = []
    seen: set[str] = set()

    def accept(provider_id: str, body: dict, key: str, ttl: float) -> bool:
        assert key == f"genesys-webhook:{provider_id}:{body['id']}"
        if key in seen:
            return False
        seen.add(key)
        offered.append(body["id"])
        return True

    backfill = Backfill(
        accept,
        store=store,
        clients=Clients(conversations),  # type: ignore[arg-type]
        metrics=Metrics(),
        clock=clock,
        calls_per_minute=10,
        sleep=clock.sleep,
    )
    _handovers(store, 12)
    assert backfill.schedule_open() == 12
    pending = [store.get_handover(h).conversation_id for h in backfill.pending()]
    assert pending == [f"c{i}" for i in range(12)]  # oldest handover first
    while (handover_id := backfill._next_due()) is not None:
        backfill.run_pass(handover_id)

    times = [t for t, _kind, _cid in conversations.calls]
    assert len(times) == 24  # one read and one bulk read per handover
    for t in times:
        assert sum(1 for u in times if t <= u < t + 60) <= 10
    assert times[-1] - times[0] >= 120  # 24 calls at 10 a minute take over two minutes
    read_order = [cid for _t, kind, cid in conversations.calls if kind == "read"]
    assert read_order == [f"c{i}" for i in range(12)]
    # Genesys' order within a conversation, whatever order the API listed them in.
    assert offered[:2] == ["c0-early", "c0-late"]
    assert len(offered) == 13

    # A second round finds everything settled: one read each, no bulk read, nothing offered.
    conversations.calls.clear()
    backfill.schedule_open()
    while (handover_id := backfill._next_due()) is not None:
        assert backfill.run_pass(handover_id) == 0
    assert [kind for _t, kind, _c in conversations.calls] == ["read"] * 12


def test_only_outbound_text_addressed_to_the_handovers_customer_is_offered():
    h = Handover.new(SessionKey("demo", "u", "s"), "p", "om-x", "integ", conversation_id="c")
    inbound = {"id": "m1", "direction": "inbound", "normalizedMessage": {"type": "Text"}}
    typing = {"id": "m2", "direction": "outbound", "normalizedMessage": {"type": "Event"}}
    text = {
        "id": "m3",
        "direction": "outbound",
        "timestamp": "2026-12-08T00:00:00Z",
        "normalizedMessage": {"type": "Text", "text": "hi", "originatingEntity": "Human"},
    }
    assert webhook_body(h, "c", inbound) is None
    assert webhook_body(h, "c", typing) is None
    body = webhook_body(h, "c", text)
    assert body is not None
    assert body["channel"]["to"]["id"] == "om-x" and body["channel"]["id"] == "integ"
    assert body["channel"]["time"] == "2026-12-08T00:00:00Z"
    assert (body["id"], body["text"], body["type"], body["conversationId"]) == (
        "m3",
        "hi",
        "Text",
        "c",
    )


def test_messages_older_than_their_dedupe_mark_are_not_read_back():
    conversation = {
        "participants": [
            {
                "purpose": "agent",
                "messages": [
                    {"messageId": "old", "messageTime": iso(START - 2 * 86_400)},
                    {"messageId": "new", "messageTime": iso(START - 60)},
                ],
            }
        ]
    }
    assert message_ids(conversation, START) == ["new"]
