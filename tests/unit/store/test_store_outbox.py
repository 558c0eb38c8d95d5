"""Contract tests, every backend: the durable outbox of calls to Genesys."""

from __future__ import annotations

import time

from store_backends import race, redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import Store

LATER = time.time() + 3600  # a logical "now" by which every item put during a test is due


def ids(items) -> list[int]:
    return [i.id for i in items]


def test_put_and_pending_keep_fifo_order_per_key(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"text": "a1"})
    b1 = store.outbox_put("conv-b", "message", {"text": "b1"})
    a2 = store.outbox_put("conv-a", "typing", {})
    assert ids(store.outbox_pending("conv-a")) == [a1, a2]
    assert ids(store.outbox_pending()) == [a1, b1, a2]
    item = store.outbox_pending("conv-a")[0]
    assert (item.key, item.kind, item.payload, item.attempts, item.last_error) == (
        "conv-a",
        "message",
        {"text": "a1"},
        0,
        None,
    )
    assert item.created_at > 0 and item.next_attempt_at <= time.time()


def test_claim_gives_only_the_head_of_each_key_and_leases_it(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"n": 1})
    store.outbox_put("conv-a", "message", {"n": 2})
    b1 = store.outbox_put("conv-b", "message", {"n": 1})
    claimed = store.outbox_claim(LATER, 10, 30, "worker-1")
    assert sorted(ids(claimed)) == sorted([a1, b1])
    assert all(i.attempts == 1 for i in claimed)
    # Leased: another owner gets nothing until the lease runs out; nothing behind a head either.
    assert store.outbox_claim(LATER, 10, 30, "worker-2") == []
    # The owner itself may claim its items again (e.g. after it restarted under the same name).
    assert sorted(ids(store.outbox_claim(LATER, 10, 30, "worker-1"))) == sorted([a1, b1])
    assert store.outbox_claim(LATER + 10, 1, 30, "worker-2") == []


def test_claim_by_kind_takes_only_heads_of_those_kinds(store: Store) -> None:
    # Cognigy calls queue beside Genesys calls; a claim for one lane never takes the other's.
    cognigy = [store.outbox_put(f"cognigy:{n}", "cognigy_notify", {}) for n in range(5)]
    genesys = store.outbox_put("handover-1", "message", {})
    behind = store.outbox_put("handover-1", "cognigy_notify", {})  # not a head: not claimable
    taken = store.outbox_claim(LATER, 2, 30, "w", kinds={"message", "typing"})
    assert ids(taken) == [genesys]
    assert store.outbox_claim(LATER, 10, 30, "w2", kinds=set()) == []
    others = store.outbox_claim(LATER, 3, 30, "w3", kinds={"cognigy_notify"})
    assert ids(others) == cognigy[:3] and behind not in ids(others)
    # The owner's own leases come back only for their kinds, too.
    assert ids(store.outbox_claim(LATER, 10, 30, "w3", kinds={"message"})) == []
    assert sorted(ids(store.outbox_claim(LATER, 10, 30, "w4"))) == cognigy[3:]


def test_limit_and_not_yet_due(store: Store) -> None:
    for key in ("k1", "k2", "k3"):
        store.outbox_put(key, "message", {})
    assert store.outbox_claim(time.time() - 3600, 10, 30, "w") == []  # not due yet
    assert len(store.outbox_claim(LATER, 2, 30, "w")) == 2
    assert len(store.outbox_claim(LATER, 2, 30, "other")) == 1


def test_an_expired_lease_lets_another_owner_take_the_item(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {})
    assert ids(store.outbox_claim(LATER, 10, 5, "crashed-worker")) == [a1]
    assert store.outbox_claim(LATER + 4, 10, 5, "worker-2") == []
    taken = store.outbox_claim(LATER + 5, 10, 5, "worker-2")
    assert ids(taken) == [a1] and taken[0].attempts == 2


def test_done_moves_the_head_forward(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"n": 1})
    a2 = store.outbox_put("conv-a", "message", {"n": 2})
    assert ids(store.outbox_claim(LATER, 10, 30, "w")) == [a1]
    store.outbox_done(a1)
    store.outbox_done(a1)  # a second report (e.g. from an expired lease holder) changes nothing
    assert ids(store.outbox_pending("conv-a")) == [a2]
    assert ids(store.outbox_claim(LATER, 10, 30, "w")) == [a2]
    store.outbox_done(a2)
    assert store.outbox_pending() == []
    assert store.outbox_claim(LATER, 10, 30, "w") == []


def test_retry_keeps_the_item_at_the_head(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"n": 1})
    a2 = store.outbox_put("conv-a", "message", {"n": 2})
    store.outbox_claim(LATER, 10, 30, "w")
    store.outbox_retry(a1, LATER + 60, "503 Service Unavailable")
    # Not due yet, and the item behind it must not overtake it.
    assert store.outbox_claim(LATER + 30, 10, 30, "w") == []
    assert ids(store.outbox_pending("conv-a")) == [a1, a2]
    again = store.outbox_claim(LATER + 60, 10, 30, "other")  # retry released the lease
    assert ids(again) == [a1]
    assert again[0].attempts == 2 and again[0].last_error == "503 Service Unavailable"
    assert again[0].next_attempt_at == LATER + 60


def test_fail_dead_letters_and_unblocks_the_key(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"n": 1})
    a2 = store.outbox_put("conv-a", "message", {"n": 2})
    store.outbox_claim(LATER, 10, 30, "w")
    store.outbox_fail(a1, "400 Bad Request: invalid body")
    dead = store.outbox_dead()
    assert ids(dead) == [a1] and dead[0].last_error == "400 Bad Request: invalid body"
    assert dead[0].payload == {"n": 1}
    assert ids(store.outbox_pending()) == [a2]
    assert ids(store.outbox_claim(LATER, 10, 30, "w")) == [a2]
    store.outbox_done(a1)  # a dead item stays dead
    assert ids(store.outbox_dead()) == [a1]


def test_fail_or_done_of_an_item_behind_the_head_keeps_the_head(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {})
    a2 = store.outbox_put("conv-a", "message", {})
    a3 = store.outbox_put("conv-a", "message", {})
    store.outbox_fail(a2, "dropped by an operator")
    assert ids(store.outbox_claim(LATER, 10, 30, "w")) == [a1]
    store.outbox_done(a1)
    assert ids(store.outbox_claim(LATER, 10, 30, "w")) == [a3]


def test_the_outbox_survives_reopening_the_store(reopen) -> None:
    first = reopen()
    a1 = first.outbox_put("conv-a", "message", {"text": "kept"})
    a2 = first.outbox_put("conv-a", "message", {"text": "kept too"})
    first.outbox_claim(LATER, 10, 30, "w")
    first.outbox_retry(a1, LATER, "timeout")
    first.close()
    second = reopen()
    assert ids(second.outbox_pending("conv-a")) == [a1, a2]
    claimed = second.outbox_claim(LATER, 10, 30, "w2")
    assert ids(claimed) == [a1] and claimed[0].payload == {"text": "kept"}
    second.outbox_done(a1)
    a3 = second.outbox_put("conv-a", "message", {})
    assert a3 > a2  # ids are never reused
    assert ids(second.outbox_claim(LATER, 10, 30, "w2")) == [a2]


def test_racing_puts_to_one_key_leave_exactly_one_head(reopen) -> None:
    # Each thread has its own store (its own connection), like separate worker processes.
    stores = [reopen() for _ in range(12)]
    put = race(12, lambda i: stores[i].outbox_put("conv-a", "message", {"n": i}))
    assert sorted(put) == ids(stores[0].outbox_pending("conv-a"))
    for expected in sorted(put):  # strictly one at a time, in id order
        claimed = stores[0].outbox_claim(LATER, 50, 30, "w")
        assert ids(claimed) == [expected]
        stores[0].outbox_done(expected)
    assert stores[0].outbox_pending() == []


def test_racing_claimers_never_share_an_item(reopen) -> None:
    first = reopen()
    heads = [first.outbox_put(f"conv-{k}", "message", {}) for k in range(30)]
    for k in range(30):
        first.outbox_put(f"conv-{k}", "message", {})  # behind each head: never claimable yet
    stores = [first] + [reopen() for _ in range(9)]
    claims = race(10, lambda i: stores[i].outbox_claim(LATER, 5, 30, f"worker-{i}"))
    claimed = [item.id for batch in claims for item in batch]
    assert len(claimed) == len(set(claimed)), "an item was leased to two owners"
    assert sorted(claimed) == heads
    assert all(item.attempts == 1 for batch in claims for item in batch)


def test_a_renewed_lease_holds_and_done_retry_fail_are_fenced_by_the_owner(store: Store) -> None:
    a1 = store.outbox_put("conv-a", "message", {"n": 1})
    a2 = store.outbox_put("conv-a", "message", {"n": 2})
    now = time.time()
    assert ids(store.outbox_claim(now, 10, 5, "w1")) == [a1]
    assert store.outbox_renew(a1, "w1", 30)  # still sending: the lease now lasts 30 s more
    assert store.outbox_claim(now + 10, 10, 5, "w2") == []
    assert not store.outbox_renew(a1, "w2", 30)  # only the holder renews
    # The holder stalls past its lease; another process takes the item over.
    taken = store.outbox_claim(now + 40, 10, 5, "w2")
    assert ids(taken) == [a1]
    assert not store.outbox_renew(a1, "w1", 30)
    assert not store.outbox_retry(a1, now, "late", "w1")
    assert not store.outbox_fail(a1, "late", "w1")
    assert not store.outbox_done(a1, "w1")
    assert ids(store.outbox_pending("conv-a")) == [a1, a2]  # the stale owner changed nothing
    assert store.outbox_dead() == []
    assert store.outbox_done(a1, "w2")
    assert ids(store.outbox_pending("conv-a")) == [a2]
    assert ids(store.outbox_claim(now + 40, 10, 5, "w2")) == [a2]
    assert store.outbox_retry(a2, now, "busy", "w2")
    assert store.outbox_done(a2)  # unfenced still works (tools, tests)
    assert store.outbox_pending() == []


def test_an_inbound_lease_is_renewed_and_released_by_its_holder_only(store: Store) -> None:
    item = store.accept_inbound("d1", 60, "k", "Text", {}, owner="w1", lease_seconds=5)
    assert item is not None and item.attempts == 1
    assert store.inbound_renew(item.id, "w1", 30)
    assert not store.inbound_renew(item.id, "w2", 30)
    assert store.inbound_claim(time.time() + 10, 10, 5, "w2") == []
    assert ids(store.inbound_claim(time.time() + 40, 10, 5, "w2")) == [item.id]
    assert not store.inbound_renew(item.id, "w1", 30)
    assert not store.inbound_retry(item.id, time.time(), "late", "w1")
    assert not store.inbound_fail(item.id, "late", "w1")
    assert ids(store.inbound_pending("k")) == [item.id] and store.inbound_dead() == []
    assert store.inbound_retry(item.id, time.time(), "busy", "w2")
