"""ReceiptSender: receipts go out in order per customer, off the caller's thread, and a backlog
past the bound is dropped and counted instead of growing without limit."""

from __future__ import annotations

import threading

from om_bridge.bridge.handover.receipts import ReceiptSender
from om_bridge.bridge.ops import Metrics
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


def test_receipts_of_a_customer_go_out_in_order_and_a_backlog_is_bounded():
    clients, metrics = _Clients(), Metrics()
    sender = ReceiptSender(clients, metrics, workers=2, max_queued=5)
    try:
        for n in range(8):
            sender.send("p", "integ/1", "cust", _body(n))
        clients.client.gate.set()
        wait_until(lambda: len(clients.client.calls) >= 5, 10, what="the queued receipts")
        ids = [body["id"] for _path, body in clients.client.calls]
        # At most 5 waited (one may already have been taken by a worker); the rest were dropped.
        assert ids == [f"m{n}" for n in range(len(ids))] and 5 <= len(ids) <= 6
        assert all(
            path == "/api/v2/conversations/messages/integ%2F1/inbound/open/receipt"
            for path, _ in clients.client.calls
        )
        assert "receipts_dropped_total" in metrics.render().decode()
        sender.send("p", "integ/1", "cust", _body(99))
        wait_until(lambda: clients.client.calls[-1][1]["id"] == "m99", 10, what="a later receipt")
    finally:
        sender.stop()
    sender.send("p", "integ/1", "cust", _body(100))  # after stop: dropped, not sent
    assert clients.client.calls[-1][1]["id"] == "m99"
