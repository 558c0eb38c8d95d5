"""Callback URL delivery in Cognigy's Webhook-endpoint format: background, ordered, retried on 429/5xx only."""

from __future__ import annotations

import pytest

from om_bridge.bridge.endpoint.callback import CallbackDelivery, webhook_body
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.store.records import SessionKey
from tests.browser import Receiver
from tests.conftest import wait_until

KEY = SessionKey("demo", "user-1", "session-1")


def output(seq: int, text: str, source: str = "agent") -> dict:
    return {
        "seq": seq,
        "source": source,
        "text": text,
        "data": {"agent": {"name": "Alex Agent"}},
        "time": "2024-01-01T00:00:00.000Z",
    }


@pytest.fixture
def metrics():
    return Metrics()


def outcome(metrics: Metrics, name: str) -> float:
    return metrics.counter("callback_deliveries_total", "", ["outcome"]).labels(name)._value.get()


def test_body_is_cognigy_webhook_format():
    body = webhook_body(KEY, output(3, "hello"))
    assert body["userId"] == "user-1" and body["sessionId"] == "session-1"
    assert body["AIOutput"]["text"] == "hello"
    assert body["AIOutput"]["source"] == "agent"
    assert body["AIOutput"]["data"] == {"agent": {"name": "Alex Agent"}}
    assert set(body["AIOutput"]) == {"text", "data", "traceId", "disableSensitiveLogging", "source"}


def test_delivers_in_order_and_retries_5xx_and_429(metrics):
    with Receiver(script=[(503, {}), (429, {"Retry-After": "0"})]) as rx:
        delivery = CallbackDelivery(metrics, delays=(0.01, 0.01, 0.01))
        delivery.start()
        delivery.submit(rx.url + "/hook", KEY, output(1, "first"))
        delivery.submit(rx.url + "/hook", KEY, output(2, "second"))
        wait_until(lambda: outcome(metrics, "delivered") == 2, what="two deliveries")
        delivery.close()
        texts = [r.json()["AIOutput"]["text"] for r in rx.requests]
    # 503 and 429 on the first output, then both in order.
    assert texts == ["first", "first", "first", "second"]


def test_other_4xx_is_not_retried(metrics):
    with Receiver(script=[(400, {})]) as rx:
        delivery = CallbackDelivery(metrics, delays=(0.01, 0.01))
        delivery.start()
        delivery.submit(rx.url, KEY, output(1, "rejected"))
        delivery.submit(rx.url, KEY, output(2, "next"))
        wait_until(lambda: outcome(metrics, "delivered") == 1, what="the next delivery")
        delivery.close()
        texts = [r.json()["AIOutput"]["text"] for r in rx.requests]
    assert texts == ["rejected", "next"]
    assert outcome(metrics, "rejected") == 1


def test_unreachable_url_gives_up_after_bounded_attempts(metrics):
    from tests.conftest import free_port

    delivery = CallbackDelivery(metrics, delays=(0.01, 0.01))
    delivery.start()
    delivery.submit(f"http://127.0.0.1:{free_port()}/gone", KEY, output(1, "lost"))
    wait_until(lambda: outcome(metrics, "failed") == 1, what="the failure to be counted")
    delivery.close()
