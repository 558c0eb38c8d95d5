"""The durable outbox, one attempt at a time (`drain_once`): real SQLite store, mocked HTTP."""

from __future__ import annotations

import json
import time

import pytest
import responses

from om_bridge.bridge.app import ClientRegistry
from om_bridge.bridge.config import parse_config
from om_bridge.bridge.handover.outbox import Outbox
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.store import Handover, SessionKey, open_store
from tests.conftest import wait_until

BASE = "https://genesys.test"
INTEGRATION = "int-1"
MESSAGE_URL = f"{BASE}/api/v2/conversations/messages/{INTEGRATION}/inbound/open/message"
EVENT_URL = f"{BASE}/api/v2/conversations/messages/{INTEGRATION}/inbound/open/event"
RECEIPT_URL = f"{BASE}/api/v2/conversations/messages/{INTEGRATION}/inbound/open/receipt"
LIST_URL = f"{BASE}/api/v2/conversations/messaging/integrations/open"


def _config():
    return parse_config(
        {
            "bridge": {"store": "sqlite://:memory:"},
            "endpoints": [
                {
                    "url_token": "t",
                    "organisation": "o",
                    "flow": "demo-bot",
                    "handover_provider": "p",
                }
            ],
            "providers": [
                {
                    "id": "p",
                    "type": "genesysCloudOM",
                    "base_url": BASE,
                    "deployment_name": "my-deployment",
                    "queue_id": "q",
                    "webhook_secret": "secret-0123456789-abcdef",
                    "client_id": "c",
                    "client_secret": "s",
                }
            ],
        },
        environ={},
    )


@pytest.fixture
def rig(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'outbox.db'}")
    config = _config()
    clients = ClientRegistry(config)
    sent, resolved = [], []
    clock = {"offset": 0.0}
    outbox = Outbox(
        store,
        clients,
        config,
        Metrics(),
        on_sent=lambda item, integ, result: sent.append((item.kind, integ, result)),
        on_resolved=lambda item, integ: resolved.append(integ),
        clock=lambda: time.time() + clock["offset"],
        rng=lambda: 0.0,
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{BASE}/oauth/token",
            json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600},
        )
        yield outbox, store, mock, sent, resolved, clock
    clients.close()
    store.close()


def _message(text, message_id):
    return {
        "channel": {
            "messageId": message_id,
            "from": {"id": "u", "idType": "Opaque"},
            "time": "2025-01-01T00:00:00.000Z",
        },
        "text": text,
    }


def _put(outbox, key, text, message_id, **payload):
    return outbox.put(
        key,
        "message",
        {
            "provider_id": "p",
            "integration_id": INTEGRATION,
            "body": _message(text, message_id),
            **payload,
        },
    )


def _bodies(mock, url):
    return [json.loads(c.request.body) for c in mock.calls if c.request.url.split("?")[0] == url]


def test_in_order_per_key_with_the_same_message_id_on_retry(rig):
    outbox, store, mock, sent, _, clock = rig
    mock.add(
        responses.POST, MESSAGE_URL, status=503, json={"status": 503, "code": "service.unavailable"}
    )
    mock.add(responses.POST, MESSAGE_URL, json={"id": "g1"})
    _put(outbox, "h1", "one", "m-1")
    _put(outbox, "h1", "two", "m-2")
    assert outbox.drain_once() == 1  # only the head of h1 is claimed, and it fails
    pending = store.outbox_pending("h1")
    assert [p.payload["body"]["text"] for p in pending] == ["one", "two"]
    assert pending[0].next_attempt_at > time.time()  # backed off
    clock["offset"] = 60.0
    outbox.drain_once()
    outbox.drain_once()
    assert [b["text"] for b in _bodies(mock, MESSAGE_URL)] == ["one", "one", "two"]
    assert [b["channel"]["messageId"] for b in _bodies(mock, MESSAGE_URL)] == ["m-1", "m-1", "m-2"]
    assert store.outbox_pending() == [] and [k for k, _, _ in sent] == ["message", "message"]


def test_429_waits_for_retry_after(rig):
    outbox, store, mock, _, _, _ = rig
    mock.add(
        responses.POST,
        MESSAGE_URL,
        status=429,
        headers={"Retry-After": "7"},
        json={"status": 429, "code": "too.many.requests.retry.after"},
    )
    before = time.time()
    _put(outbox, "h1", "hi", "m-1")
    outbox.drain_once()
    (item,) = store.outbox_pending("h1")
    assert item.next_attempt_at >= before + 7
    assert "429" in item.last_error


def test_other_4xx_is_dead_lettered_and_unblocks_the_key(rig):
    outbox, store, mock, _, _, _ = rig
    mock.add(
        responses.POST,
        MESSAGE_URL,
        status=400,
        json={"status": 400, "code": "bad.request", "message": "nope"},
    )
    mock.add(responses.POST, MESSAGE_URL, json={"id": "g2"})
    _put(outbox, "h1", "bad", "m-1")
    _put(outbox, "h1", "good", "m-2")
    outbox.drain_once()
    outbox.drain_once()
    assert [d.payload["body"]["text"] for d in store.outbox_dead()] == ["bad"]
    assert [b["text"] for b in _bodies(mock, MESSAGE_URL)] == ["bad", "good"]
    assert store.outbox_pending() == []


def test_stale_typing_is_dropped_without_a_call(rig):
    outbox, store, mock, _, _, clock = rig
    outbox.put(
        "h1",
        "typing",
        {
            "provider_id": "p",
            "integration_id": INTEGRATION,
            "body": {
                "channel": {
                    "from": {"id": "u", "idType": "Opaque"},
                    "time": "2025-01-01T00:00:00.000Z",
                },
                "events": [{"eventType": "Typing"}],
            },
        },
    )
    clock["offset"] = outbox.typing_ttl + 1
    outbox.drain_once()
    assert _bodies(mock, EVENT_URL) == []
    assert store.outbox_pending() == [] and store.outbox_dead() == []


def test_failed_typing_is_not_retried(rig):
    outbox, store, mock, _, _, _ = rig
    mock.add(responses.POST, EVENT_URL, status=404, json={"status": 404, "code": "not.found"})
    outbox.put(
        "h1",
        "typing",
        {
            "provider_id": "p",
            "integration_id": INTEGRATION,
            "body": {
                "channel": {"from": {"id": "u"}, "time": "x"},
                "events": [{"eventType": "Typing"}],
            },
        },
    )
    outbox.drain_once()
    assert store.outbox_pending() == [] and store.outbox_dead() == []


def test_messages_of_an_ended_handover_are_not_sent_but_receipts_are(rig):
    outbox, store, mock, _, _, _ = rig
    mock.add(responses.POST, RECEIPT_URL, json={"id": "g9"})
    handover = store.create_handover(
        Handover.new(SessionKey("t", "u", "s"), "p", "u", integration_id=INTEGRATION)
    )
    store.finish_handover(handover.id, "completed", "test")
    _put(outbox, handover.id, "late", "m-1", handover_id=handover.id)
    outbox.put(
        handover.id,
        "receipt",
        {
            "provider_id": "p",
            "integration_id": INTEGRATION,
            "handover_id": handover.id,
            "body": {
                "id": "g1",
                "status": "Delivered",
                "channel": {"to": {"id": "u"}, "time": "x"},
            },
        },
    )
    outbox.drain_once()
    outbox.drain_once()
    assert _bodies(mock, MESSAGE_URL) == []
    assert len(_bodies(mock, RECEIPT_URL)) == 1
    assert [d.payload["body"]["text"] for d in store.outbox_dead()] == ["late"]


def test_integration_id_resolved_by_deployment_name(rig):
    outbox, store, mock, sent, resolved, _ = rig
    mock.add(
        responses.GET,
        LIST_URL,
        json={
            "entities": [{"id": INTEGRATION, "name": "my-deployment"}],
            "pageNumber": 1,
            "pageCount": 1,
            "total": 1,
        },
    )
    mock.add(responses.POST, MESSAGE_URL, json={"id": "g1", "conversationId": "conv-1"})
    outbox.put(
        "h1", "message", {"provider_id": "p", "body": _message("hi", "m-1"), "prefetch": True}
    )
    outbox.drain_once()
    assert resolved == [INTEGRATION]
    assert sent == [("message", INTEGRATION, {"id": "g1", "conversationId": "conv-1"})]
    call = [c for c in mock.calls if c.request.url.startswith(MESSAGE_URL)][0]
    assert "prefetchConversationId=true" in call.request.url


def test_worker_thread_sends_what_was_put(rig):
    outbox, store, mock, sent, _, _ = rig
    mock.add(responses.POST, MESSAGE_URL, json={"id": "g1"})
    outbox.start()
    try:
        _put(outbox, "h1", "threaded", "m-1")
        wait_until(lambda: store.outbox_pending() == [], 10, what="the item sent")
    finally:
        outbox.stop()
    assert [b["text"] for b in _bodies(mock, MESSAGE_URL)] == ["threaded"]


def test_a_stuck_cognigy_lane_never_holds_up_the_calls_to_genesys(rig):
    """Cognigy's Inject/Notify calls share the durable outbox but not its senders: with every
    Cognigy sender stuck, a message to Genesys still goes out at once."""
    import threading

    outbox, store, mock, _, _, _ = rig
    mock.add(responses.POST, MESSAGE_URL, json={"id": "g1"})
    release, started = threading.Event(), []

    def stuck_cognigy(item) -> None:  # type: ignore[no-untyped-def]
        started.append(item.id)
        release.wait(30)

    outbox.senders["cognigy_notify"] = stuck_cognigy
    for n in range(outbox._workers + 2):
        outbox.put(f"cognigy:s{n}", "cognigy_notify", {"text": str(n)})
    outbox.start()
    try:
        wait_until(lambda: len(started) == outbox._workers, 10, what="every Cognigy sender busy")
        _put(outbox, "h1", "to the agent", "m-1")
        wait_until(lambda: store.outbox_pending("h1") == [], 10, what="the Genesys message sent")
        assert [b["text"] for b in _bodies(mock, MESSAGE_URL)] == ["to the agent"]
        assert len(started) == outbox._workers  # the rest of Cognigy's items wait their turn
        release.set()
        wait_until(lambda: store.outbox_pending() == [], 10, what="Cognigy's items, once free")
        assert len(started) == outbox._workers + 2
    finally:
        release.set()
        outbox.stop()


def test_unknown_kind_is_refused(rig):
    outbox, store, *_ = rig
    with pytest.raises(ValueError, match="unknown outbox kind"):
        outbox.put("h1", "presence", {})
    assert store.outbox_pending() == []


def test_a_message_that_may_have_landed_is_not_sent_again_before_the_in_flight_bound(rig):
    import requests as _requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    outbox, store, mock, _, _, _ = rig
    # A read timeout: the request reached Genesys, which may still post it.
    mock.add(responses.POST, MESSAGE_URL, body=_requests.ReadTimeout("read timed out"))
    before = time.time()
    _put(outbox, "h1", "maybe landed", "m-1")
    outbox.drain_once()
    (item,) = store.outbox_pending("h1")
    assert item.next_attempt_at >= before + outbox.in_flight_seconds
    # The read timeout of a message is the in-flight bound, not the client's 10 s.
    (call,) = [c for c in mock.calls if c.request.url.split("?")[0] == MESSAGE_URL]
    assert call.request.req_kwargs["timeout"][1] == outbox.in_flight_seconds
    # A refused connection never reached Genesys: retried after the ordinary backoff.
    store.outbox_done(item.id)
    refused = _requests.ConnectionError(
        MaxRetryError(None, MESSAGE_URL, NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    )
    mock.add(responses.POST, MESSAGE_URL, body=refused)
    _put(outbox, "h2", "never arrived", "m-2")
    outbox.drain_once()
    (item,) = store.outbox_pending("h2")
    assert item.next_attempt_at < before + outbox.in_flight_seconds


def test_a_lease_is_renewed_while_a_slow_send_is_in_flight(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    config = _config()
    clients = ClientRegistry(config)
    outbox = Outbox(store, clients, config, Metrics(), lease_seconds=0.3, rng=lambda: 0.0)
    stolen: list[list] = []

    def slow(request):  # type: ignore[no-untyped-def]
        # Well past the 0.3 s lease, another process tries to take the item over.
        for _ in range(4):
            time.sleep(0.25)
            stolen.append(store.outbox_claim(time.time(), 10, 0.3, "another-process"))
        return (200, {}, json.dumps({"id": "g1"}))

    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(
                responses.POST,
                f"{BASE}/oauth/token",
                json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600},
            )
            mock.add_callback(responses.POST, MESSAGE_URL, callback=slow)
            _put(outbox, "h1", "slow", "m-1")
            assert outbox.drain_once() == 1
        assert stolen == [[], [], [], []]
        assert store.outbox_pending() == []
    finally:
        outbox.stop()
        clients.close()
        store.close()
