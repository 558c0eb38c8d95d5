"""ReceiptSender: receipts go out in order per customer, off the caller's thread, and a full
backlog makes the caller wait for room (back-pressure) instead of dropping receipts."""

from __future__ import annotations

import threading

from om_bridge.bridge.handover.receipts import ReceiptSender
from om_bridge.bridge.metrics import Metrics
from tests.conftest import wait_until


class _Client:
    """Records receipt calls; blocks while `gate` is clear (Genesys slow to answer)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls: list[tuple[str, dict]] = []

    def request(self, method: str, path: str, *, json_body: dict) -> dict:
        self.gate.wait(10)
        self.calls.append((path, json_body))
        return {}


class _Clients:
    def __init__(self) -> None:
        self.client = _Client()

    def for_provider(self, provider_id: str) -> _Client:
        return self.client


def _body(n: int) -> dict:
    return {"id": f"m{n}", "status": "Delivered"}


def test_receipts_of_a_customer_go_out_in_order_and_a_full_backlog_applies_back_pressure():
    clients, metrics = _Clients(), Metrics()
    sender = ReceiptSender(clients, metrics, workers=2, max_queued=5)
    sent_all = threading.Event()

    def producer() -> None:
        for n in range(8):
            sender.send("p", "integ/1", "cust", _body(n))
        sent_all.set()

    try:
        thread = threading.Thread(target=producer)
        thread.start()
        wait_until(
            lambda: "om_bridge_receipts_backpressure_total 1.0" in metrics.render().decode(),
            10,
            what="the producer waiting for room",
        )
        assert not sent_all.is_set()  # the producer waits while Genesys does not answer
        assert "om_bridge_receipts_queued 5.0" in metrics.render().decode()
        clients.client.gate.set()
        assert sent_all.wait(10)
        thread.join(10)
        wait_until(lambda: len(clients.client.calls) == 8, 10, what="every receipt")
        # None dropped, in order.
        assert [body["id"] for _path, body in clients.client.calls] == [f"m{n}" for n in range(8)]
        assert all(
            path == "/api/v2/conversations/messages/integ%2F1/inbound/open/receipt"
            for path, _ in clients.client.calls
        )
        assert "om_bridge_receipts_dropped_total 0.0" in metrics.render().decode()
    finally:
        sender.stop()
    sender.send("p", "integ/1", "cust", _body(100))  # after stop: dropped, not sent
    assert clients.client.calls[-1][1]["id"] == "m7"
    assert "om_bridge_receipts_dropped_total 1.0" in metrics.render().decode()
