"""Contract tests, every backend: the inbound queue of accepted Genesys webhooks."""

from __future__ import annotations

import time

import pytest
from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import InboundCompletion, SessionKey, Store

LATER = time.time() + 3600
KEY = SessionKey("demo", "u1", "s1")


def accept(store: Store, n: int, queue: str = "in:i1:c1", owner: str | None = None):
    return store.accept_inbound(
        f"dedupe-{queue}-{n}", 60, queue, "Text", {"n": n}, owner=owner, lease_seconds=30
    )


def test_accept_stores_once_per_dedupe_key(store: Store) -> None:
    first = accept(store, 1)
    assert first is not None and first.payload == {"n": 1} and first.kind == "Text"
    assert accept(store, 1) is None  # a duplicate stores nothing
    assert [i.id for i in store.inbound_pending()] == [first.id]
    # The dedupe key is the one `seen` uses: a later check sees it set.
    assert store.seen("dedupe-in:i1:c1-1", 60) is True


def test_the_head_of_an_idle_key_is_leased_to_the_owner_at_once(store: Store) -> None:
    head = accept(store, 1, owner="me")
    behind = accept(store, 2, owner="me")
    other = accept(store, 3, queue="in:i1:c2", owner="me")
    assert head.attempts == 1 and other.attempts == 1
    assert behind.attempts == 0  # an earlier item of its key is pending: not leased
    # Leased heads are not handed to anyone else, and nothing behind a head is claimable.
    assert store.inbound_claim(time.time() + 10, 10, 30, "someone") == []
    store.inbound_done(head.id)
    claimed = store.inbound_claim(time.time() + 10, 10, 30, "someone")
    assert [i.id for i in claimed] == [behind.id] and claimed[0].payload == {"n": 2}


def test_a_lease_that_runs_out_lets_another_process_handle_it(store: Store) -> None:
    item = accept(store, 1, owner="crashed")
    assert store.inbound_claim(time.time() + 29, 10, 30, "next") == []
    taken = store.inbound_claim(time.time() + 31, 10, 30, "next")
    assert [i.id for i in taken] == [item.id] and taken[0].attempts == 2


def test_unleased_items_survive_a_reopen_and_are_claimed_in_order(reopen) -> None:
    first = reopen()
    ids = [accept(first, n).id for n in (1, 2)]
    first.close()
    again = reopen()
    assert [i.id for i in again.inbound_pending("in:i1:c1")] == ids
    claimed = again.inbound_claim(LATER, 10, 30, "w")
    assert [i.id for i in claimed] == ids[:1]
    again.inbound_done(ids[0])
    assert [i.id for i in again.inbound_claim(LATER, 10, 30, "w")] == ids[1:]


def test_retry_and_dead_letter(store: Store) -> None:
    a1, a2 = accept(store, 1), accept(store, 2)
    [claimed] = store.inbound_claim(LATER, 10, 30, "w")
    store.inbound_retry(claimed.id, LATER + 100, "LockTimeout")
    assert store.inbound_claim(LATER, 10, 30, "w2") == []  # not due yet, still the head
    [again] = store.inbound_claim(LATER + 100, 10, 30, "w2")
    assert again.id == a1.id and again.attempts == 2 and again.last_error == "LockTimeout"
    store.inbound_fail(a1.id, "gave up")
    assert [i.id for i in store.inbound_dead()] == [a1.id]
    assert [i.id for i in store.inbound_claim(LATER + 100, 10, 30, "w3")] == [a2.id]


def test_inbound_and_outbox_never_mix(store: Store) -> None:
    accept(store, 1)
    out = store.outbox_put("in:i1:c1", "receipt", {})
    assert [i.id for i in store.outbox_claim(LATER, 10, 30, "w")] == [out]
    assert [i.kind for i in store.inbound_claim(LATER, 10, 30, "w")] == ["Text"]
    assert store.outbox_pending() == [] or all(i.kind == "receipt" for i in store.outbox_pending())


def test_an_output_stored_while_completing_removes_the_item_in_the_same_step(store: Store) -> None:
    item = accept(store, 1, owner="me")
    behind = accept(store, 2)
    completion = InboundCompletion(item.id)
    with store.completing_inbound(completion):
        seq = store.append_output(KEY, {"source": "agent", "text": "hi"})
        store.append_output(KEY, {"source": "agent", "text": "not completing"})
    assert [o["text"] for o in store.outputs_after(KEY, 0)] == ["hi", "not completing"]
    assert [o["seq"] for o in store.outputs_after(KEY, 0)] == [1, 2] and seq == 1
    assert completion.removed and completion.next_item is None
    assert [i.id for i in store.inbound_pending()] == [behind.id]
    # The next item became the head.
    assert [i.id for i in store.inbound_claim(LATER, 10, 30, "w")] == [behind.id]


def test_completing_with_an_owner_leases_the_next_item_of_the_key_to_it(store: Store) -> None:
    first = accept(store, 1, owner="me")
    second, third = accept(store, 2), accept(store, 3)
    completion = InboundCompletion(first.id, owner="me", lease_seconds=30)
    with store.completing_inbound(completion):
        store.append_output(KEY, {"source": "agent", "text": "one"})
    assert completion.removed
    assert completion.next_item.id == second.id and completion.next_item.payload == {"n": 2}
    assert completion.next_item.attempts == 1
    assert store.inbound_claim(time.time() + 10, 10, 30, "someone") == []  # leased to "me"
    # Plain `inbound_done` does the same for an item that stored no output.
    assert store.inbound_done(second.id, owner="me").id == third.id
    assert store.inbound_done(third.id, owner="me") is None
    assert store.inbound_pending() == []
    # Done twice (e.g. after a lease ran out and another process finished it): nothing happens.
    again = InboundCompletion(first.id, owner="me")
    with store.completing_inbound(again):
        store.append_output(KEY, {"source": "agent", "text": "late"})
    assert not again.removed and again.next_item is None


def test_a_failed_output_keeps_the_item(store: Store) -> None:
    item = accept(store, 1, owner="me")
    completion = InboundCompletion(item.id)
    with pytest.raises(TypeError), store.completing_inbound(completion):
        store.append_output(KEY, {"source": "agent", "text": object()})  # not JSON
    assert [i.id for i in store.inbound_pending()] == [item.id]
    assert store.outputs_after(KEY, 0) == [] and not completion.removed


def test_an_outbox_call_queued_while_completing_removes_the_item_in_the_same_step(
    store: Store,
) -> None:
    """A Cognigy Notify for an agent message is the write that retires its webhook: exactly once."""
    item = accept(store, 1, owner="me")
    behind = accept(store, 2)
    completion = InboundCompletion(item.id, owner="me", lease_seconds=30)
    with store.completing_inbound(completion):
        first = store.outbox_put("cognigy:k", "cognigy_notify", {"text": "hi"})
        second = store.outbox_put("cognigy:k", "cognigy_notify", {"text": "not completing"})
    assert [i.id for i in store.outbox_pending("cognigy:k")] == [first, second]
    assert completion.removed and completion.next_item.id == behind.id
    assert [i.id for i in store.inbound_pending()] == [behind.id]  # leased to "me", not gone
    # Outside the block an outbox put retires nothing.
    store.outbox_put("cognigy:k", "cognigy_notify", {"text": "later"})
    assert [i.id for i in store.inbound_pending()] == [behind.id]
