"""The dispatcher against a real SQLite store: ends exactly once, waits on user.end/acw, ignores
transfers, unknown, duplicate, stale and foreign events, rejects another organisation."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from om_bridge.bridge.completion import dispatcher as d
from om_bridge.bridge.completion import events as ev
from om_bridge.bridge.completion.dispatcher import CompletionDispatcher
from om_bridge.bridge.completion.events import CompletionEvent
from om_bridge.bridge.store import Handover, SessionKey, open_store

ORG = "org-a"


class Ends:
    """The engine's end as far as completion sees it: the store's exactly-once finish."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.calls: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, handover_id: str, status: str, reason: str) -> bool:
        with self.lock:
            self.calls.append((handover_id, status, reason))
        return self.store.finish_handover(handover_id, status, reason)


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path}/bridge.db")
    yield s
    s.close()


@pytest.fixture
def ends(store):  # type: ignore[no-untyped-def]
    return Ends(store)


def make(store, ends, **kw):  # type: ignore[no-untyped-def]
    pending: list[tuple[str, float]] = []
    disp = CompletionDispatcher(
        store,
        ends,
        grace_seconds=kw.get("grace", 10.0),
        org_of=lambda pid: kw.get("org", ORG),
        check_org=kw.get("check_org", True),
        find_by_customer=lambda cid, allowed: store.handover_by_customer("integ-1", cid),
        clock=time.time,
        on_pending=lambda hid, due: pending.append((hid, due)),
    )
    disp.pending = pending  # type: ignore[attr-defined]
    return disp


def handover(store, conversation="conv-1", customer="cust-1", provider="p1", created=None):  # type: ignore[no-untyped-def]
    h = Handover.new(
        SessionKey("demo", customer, "s-" + conversation),
        provider,
        customer,
        integration_id="integ-1",
        conversation_id=conversation,
        status="active",
    )
    if created is not None:
        h.created_at = created
    return store.create_handover(h)


def event(kind, conversation="conv-1", t=None, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault(
        "organization_id", ORG
    )  # Genesys names its organisation in every EventBridge source
    return CompletionEvent(
        kind=kind,
        source=ev.EVENTBRIDGE,
        conversation_id=conversation,
        event_time=t if t is not None else time.time(),
        **kw,
    )


def test_customer_end_ends_once_and_duplicates_are_ignored(store, ends):
    h = handover(store)
    disp = make(store, ends)
    first = disp.dispatch(event(ev.CUSTOMER_END, disconnect_type="PEER"))
    assert first.action == d.END and first.handover_id == h.id
    again = disp.dispatch(event(ev.CUSTOMER_END))
    assert again.action == d.IGNORE and "already ended" in again.reason
    assert len(ends.calls) == 1
    assert store.get_handover(h.id).status == "completed"


def test_racing_duplicates_end_exactly_once(store, ends):
    h = handover(store)
    disp = make(store, ends)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def go() -> None:
        barrier.wait()
        results.append(disp.dispatch(event(ev.CUSTOMER_END)).action)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(d.END) == 1
    assert len(ends.calls) == 1 and store.get_handover(h.id).ended_at is not None


def test_two_dispatchers_share_the_store_exactly_once(store, ends):
    handover(store)
    a, b = make(store, ends), make(store, ends)
    assert a.dispatch(event(ev.CUSTOMER_END)).action == d.END
    assert b.dispatch(event(ev.CUSTOMER_END)).action == d.IGNORE


def test_unknown_conversation_is_ignored(store, ends):
    decision = make(store, ends).dispatch(event(ev.CUSTOMER_END, conversation="nope"))
    assert decision.action == d.IGNORE and "no handover" in decision.reason
    assert ends.calls == []


def test_event_before_the_handover_started_is_stale(store, ends):
    h = handover(store)
    decision = make(store, ends).dispatch(event(ev.CUSTOMER_END, t=h.created_at - 60))
    assert decision.action == d.IGNORE and "stale" in decision.reason
    assert store.get_handover(h.id).is_open


def test_reopened_conversation_matches_the_newest_handover(store, ends):
    old = handover(store, created=time.time() - 600)
    store.finish_handover(old.id, "completed", "earlier")
    new = handover(store, customer="cust-1b")
    disp = make(store, ends)
    late = disp.dispatch(event(ev.CUSTOMER_END, t=old.created_at + 10))
    assert late.action == d.IGNORE and "stale" in late.reason
    assert disp.dispatch(event(ev.CUSTOMER_END)).handover_id == new.id


def test_transfer_is_ignored(store, ends):
    h = handover(store)
    decision = make(store, ends).dispatch(event(ev.TRANSFER, disconnect_type="TRANSFER"))
    assert decision.action == d.IGNORE and "transfer" in decision.reason
    assert store.get_handover(h.id).pending_end_at is None


def test_user_end_and_acw_wait_and_persist_the_due_time(store, ends):
    h = handover(store)
    disp = make(store, ends, grace=5.0)
    before = time.time()
    decision = disp.dispatch(event(ev.AGENT_END, disconnect_type="CLIENT"))
    assert decision.action == d.WAIT
    stored = store.get_handover(h.id)
    assert before + 5.0 <= stored.pending_end_at <= time.time() + 5.0
    assert stored.data["completion"]["pending_kind"] == "user.end"
    assert disp.pending == [(h.id, stored.pending_end_at)]
    # The reason (logged) gives the due time in ISO 8601, not as an epoch number.
    due = datetime.fromtimestamp(stored.pending_end_at, UTC).isoformat(timespec="milliseconds")
    assert f"ending at {due.replace('+00:00', 'Z')} unless" in decision.reason
    # A second one keeps the first due time.
    assert disp.dispatch(event(ev.ACW)).action == d.WAIT
    assert store.get_handover(h.id).pending_end_at == stored.pending_end_at
    assert ends.calls == []


def test_a_later_agent_start_cancels_an_older_one_does_not(store, ends):
    h = handover(store)
    disp = make(store, ends)
    now = time.time()
    disp.dispatch(event(ev.ACW, t=now))
    older = disp.dispatch(event(ev.AGENT_START, t=now - 1))
    assert older.action == d.IGNORE and store.get_handover(h.id).pending_end_at is not None
    newer = disp.dispatch(event(ev.AGENT_START, t=now + 1))
    assert newer.action == d.CANCEL and store.get_handover(h.id).pending_end_at is None


def test_customer_end_while_waiting_ends_at_once(store, ends):
    h = handover(store)
    disp = make(store, ends)
    disp.dispatch(event(ev.AGENT_END))
    assert disp.dispatch(event(ev.CUSTOMER_END)).action == d.END
    assert store.get_handover(h.id).status == "completed"


def test_other_organisation_is_rejected_unless_the_check_is_skipped(store, ends):
    h = handover(store)
    rejected = make(store, ends).dispatch(event(ev.CUSTOMER_END, organization_id="org-b"))
    assert rejected.action == d.REJECT and "org-b" in rejected.reason
    assert store.get_handover(h.id).is_open
    skipped = make(store, ends, check_org=False).dispatch(
        event(ev.CUSTOMER_END, organization_id="org-b")
    )
    assert skipped.action == d.END


def test_missing_organisation_is_rejected_unless_the_check_is_skipped(store, ends):
    h = handover(store)
    rejected = make(store, ends).dispatch(event(ev.CUSTOMER_END, organization_id=None))
    assert rejected.action == d.REJECT and "names no Genesys organisation" in rejected.reason
    assert store.get_handover(h.id).is_open
    skipped = make(store, ends, check_org=False).dispatch(
        event(ev.CUSTOMER_END, organization_id=None)
    )
    assert skipped.action == d.END


def test_check_only_end_waits_for_genesys_and_never_ends_itself(store, ends):
    disp = make(store, ends)
    for i, kind in enumerate((ev.CUSTOMER_END, ev.AGENT_END, ev.ACW)):
        h = handover(store, conversation=f"conv-{i}", customer=f"cust-{i}")
        decision = disp.dispatch(event(kind, conversation=f"conv-{i}"), check_only=True)
        assert decision.action == d.WAIT and "request to check" in decision.reason
        assert store.get_handover(h.id).is_open
        assert store.get_handover(h.id).data["completion"]["confirm_only"] is True
    assert disp.dispatch(event(ev.AGENT_START, conversation="conv-0"), check_only=True).action in (
        d.IGNORE,
    )


def test_non_open_messaging_media_is_ignored(store, ends):
    handover(store)
    decision = make(store, ends).dispatch(event(ev.CUSTOMER_END, media_type="CHAT"))
    assert decision.action == d.IGNORE and ends.calls == []


def test_customer_id_lookup_and_provider_restriction(store, ends):
    h = handover(store)
    disp = make(store, ends)
    by_customer = CompletionEvent(kind=ev.CUSTOMER_END, source=ev.DATA_ACTION, customer_id="cust-1")
    assert disp.dispatch(by_customer, providers=["other"]).action == d.IGNORE
    assert store.get_handover(h.id).is_open
    # Named by the customer only, it could be a late body of an earlier handover on a re-opened
    # conversation: the end is pending now, for the sweeper's REST confirmation.
    before = time.time()
    decision = disp.dispatch(by_customer, providers=["p1"])
    assert decision.action == d.WAIT and "confirms the customer left" in decision.reason
    assert ends.calls == [] and store.get_handover(h.id).is_open
    [(hid, due)] = disp.pending
    assert hid == h.id and before <= due <= time.time()
    assert store.get_handover(h.id).pending_end_at == due


def test_customer_only_end_brings_an_acw_wait_forward(store, ends):
    h = handover(store)
    disp = make(store, ends, grace=600.0)
    assert disp.dispatch(event(ev.ACW)).action == d.WAIT
    later = store.get_handover(h.id).pending_end_at
    by_customer = CompletionEvent(kind=ev.CUSTOMER_END, source=ev.DATA_ACTION, customer_id="cust-1")
    assert disp.dispatch(by_customer).action == d.WAIT
    sooner = store.get_handover(h.id).pending_end_at
    assert sooner < later - 500
    assert store.get_handover(h.id).data["completion"]["pending_kind"] == "customer.end"
    # A later acw keeps the sooner due time.
    assert disp.dispatch(event(ev.ACW)).action == d.WAIT
    assert store.get_handover(h.id).pending_end_at == sooner


def test_end_failure_is_reported_and_can_be_retried(store):
    h = handover(store)
    calls = []

    def flaky(hid: str, status: str, reason: str) -> bool:
        calls.append(hid)
        if len(calls) == 1:
            raise RuntimeError("flow failed")
        return store.finish_handover(hid, status, reason)

    disp = make(store, flaky)
    assert disp.dispatch(event(ev.CUSTOMER_END)).action == d.FAILED
    assert disp.dispatch(event(ev.CUSTOMER_END)).action == d.END
    assert store.get_handover(h.id).status == "completed"


def test_the_end_of_a_conversation_two_older_handovers_share_ends_both(store, ends):
    # Handovers stored by an older version used the user id as the Genesys customer id, so two
    # sessions of one user could be threaded into one conversation.
    old = []
    for n, session in enumerate(("s-a", "s-b")):
        h = Handover.new(
            SessionKey("demo", "user-1", session),
            "p1",
            "user-1",
            integration_id="integ-1",
            conversation_id="shared",
            status="active",
            created_at=time.time() - 10 + n,
        )
        old.append(store.create_handover(h))
    own = handover(store, conversation="other", customer="om-own")  # not in that conversation
    disp = make(store, ends)
    decision = disp.dispatch(event(ev.CUSTOMER_END, conversation="shared"))
    assert decision.action == d.END
    assert [store.get_handover(h.id).status for h in old] == ["completed", "completed"]
    assert store.get_handover(own.id).is_open
