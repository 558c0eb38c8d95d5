"""The frame worker: heartbeats and pongs are no work, system frames become control actions,
detail and queue frames become completion events (queue frames only for watched conversations)."""

from __future__ import annotations

import json
import queue
import threading

from om_bridge.bridge.completion import events as ev
from om_bridge.bridge.completion.listener.worker import FrameWorker


def worker(tracked=("c-1",)):  # type: ignore[no-untyped-def]
    got: list = []
    control: queue.Queue = queue.Queue()
    w = FrameWorker(got.append, control, lambda cid: cid in tracked, threading.Event())
    return w, got, control


def frame(topic: str, body: dict) -> str:
    return json.dumps({"topicName": topic, "version": "2", "eventBody": body})


SNAPSHOT = {
    "participants": [
        {
            "id": "p",
            "purpose": "customer",
            "state": "disconnected",
            "endTime": "2024-06-01T10:07:12.000Z",
            "disconnectType": "peer",
        }
    ]
}


def test_heartbeat_pong_and_garbage_do_nothing():
    w, got, control = worker()
    w.handle(0, 1, frame("channel.metadata", {"message": "WebSocket Heartbeat"}))
    w.handle(0, 1, frame("channel.metadata", {"message": "pong"}))
    w.handle(0, 1, "not json")
    w.handle(0, 1, json.dumps({"no": "topic"}))
    assert got == [] and control.empty()


def test_system_frames_become_control_actions():
    w, _got, control = worker()
    w.handle(2, 7, frame("v2.system.socket_closing", {"message": "closing"}))
    w.handle(2, 7, frame("v2.system.no_longer_subscribed.ch", {"data": {"topics": "a,b"}}))
    w.handle(2, 7, frame("v2.system.token_revoked.ch", {}))
    assert control.get_nowait() == ("socket_closing", 2, 7)
    assert control.get_nowait() == ("resync", 2, ["a", "b"])
    assert control.get_nowait()[:3] == ("reconnect", 2, 7)


def test_detail_frame_is_dispatched():
    w, got, _control = worker()
    w.handle(
        0,
        1,
        frame(
            "v2.detail.events.conversation.c-9.customer.end",
            {
                "conversationId": "c-9",
                "eventTime": 1717236432000,
                "mediaType": "MESSAGE",
                "messageType": "OPEN",
            },
        ),
    )
    assert [(e.kind, e.conversation_id, e.source) for e in got] == [
        (ev.CUSTOMER_END, "c-9", ev.NOTIFICATIONS)
    ]


def test_queue_snapshot_only_for_watched_conversations():
    w, got, _control = worker()
    topic = "v2.routing.queues.q1.conversations.messages"
    w.handle(0, 1, frame(topic, {"id": "foreign", **SNAPSHOT}))
    assert got == []
    w.handle(0, 1, frame(topic, {"id": "c-1", **SNAPSHOT}))
    assert [(e.kind, e.conversation_id) for e in got] == [(ev.CUSTOMER_END, "c-1")]
