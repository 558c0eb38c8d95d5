"""Topic sharding: 1,000 topics per channel, 20 channels, a clear refusal beyond."""

from __future__ import annotations

import pytest

from om_bridge.bridge.completion.listener import (
    NotificationsListener,
    TopicBudgetExceeded,
    TopicShards,
    customer_end_topic,
)
from om_bridge.bridge.completion.listener.settings import ListenerSettings


def test_the_1001st_topic_opens_a_second_shard():
    shards = TopicShards()
    for i in range(1000):
        assert shards.add(f"t{i}") == 0
    assert shards.add("t1000") == 1
    assert [len(s.topics) for s in shards.shards] == [1000, 1]


def test_past_twenty_full_channels_is_refused():
    shards = TopicShards(max_topics=2, max_channels=20)
    for i in range(40):
        shards.add(f"t{i}")
    with pytest.raises(TopicBudgetExceeded):
        shards.add("t40")
    assert len(shards) == 40


def test_removal_marks_a_replace_and_frees_room():
    shards = TopicShards(max_topics=2, max_channels=1)
    shards.add("a")
    shards.add("b")
    for s in shards.shards:
        s.added.clear()
    assert shards.remove("a") == 0
    assert shards.shards[0].removed
    assert shards.add("c") == 0
    assert shards.remove("missing") is None


def test_removing_a_never_subscribed_topic_needs_no_call():
    shards = TopicShards()
    shards.add("a")
    shards.remove("a")
    assert not shards.shards[0].dirty


def test_listener_refusal_names_the_limit_and_the_fix():
    listener = NotificationsListener(
        client=None,
        store=None,
        dispatch=lambda e: None,
        client_id="bridge-client",
        provider_ids=["p"],
        settings=ListenerSettings(max_topics=1, max_channels=2),
    )
    listener.track("c1")
    listener.track("c2")
    with pytest.raises(TopicBudgetExceeded) as info:
        listener.track("c3")
    text = str(info.value)
    assert "c3" in text and "bridge-client" in text and "2 channels x 1 topics" in text
    assert "eventbridge" in text
    assert listener.tracked() == ["c1", "c2"]
    listener.untrack("c1")
    listener.track("c3")
    assert sorted(listener.tracked()) == ["c2", "c3"]
    assert customer_end_topic("c3") == "v2.detail.events.conversation.c3.customer.end"


def test_backoff_grows_and_is_capped():
    s = ListenerSettings(backoff_base=1.0, backoff_cap=4.0, rng=lambda: 1.0)
    assert [s.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [0.0, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_queue_topic_only_when_asked():
    plain = NotificationsListener(
        None, None, lambda e: None, client_id="c", provider_ids=[], queue_ids=["q1"]
    )
    assert plain.queue_topics == []
    watching = NotificationsListener(
        None,
        None,
        lambda e: None,
        client_id="c",
        provider_ids=[],
        queue_ids=["q1"],
        settings=ListenerSettings(watch_queues=True),
    )
    assert watching.queue_topics == ["v2.routing.queues.q1.conversations.messages"]


def test_scheduled_reconcile_stays_within_its_budget_and_covers_every_conversation():
    # 100 checks a minute every 6 s: at most 10 a round; 25 conversations are all checked within
    # 3 rounds, those never or longest ago checked first.
    listener = NotificationsListener(
        client=None,
        store=None,
        dispatch=lambda e: None,
        client_id="bridge-client",
        provider_ids=["p"],
        settings=ListenerSettings(reconcile_interval=6.0, reconcile_per_minute=100),
    )
    every = [f"c{n}" for n in range(25)]
    for cid in every:
        listener.track(cid)
    rounds = [listener.reconcile_round(now=float(r)) for r in range(1, 4)]
    assert [len(r) for r in rounds] == [10, 10, 10]
    assert set(rounds[0]) | set(rounds[1]) | set(rounds[2]) == set(every)
    assert not set(rounds[0]) & set(rounds[1])
    assert set(every) - set(rounds[0]) - set(rounds[1]) <= set(rounds[2])
    listener.untrack(rounds[0][-1])
    assert rounds[0][-1] not in listener.reconcile_round(now=4.0)
