"""Completion through the Notifications API WebSocket (completion = "notifications"), against the
sandbox's channels and sockets: detection, reconciliation after a gap, socket_closing hand-over,
sharding past 1,000 topics, heartbeat loss."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
import requests

from om_bridge.bridge.completion.listener import ListenerSettings, NotificationsListener
from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import SandboxReader, handover_of, wait_conversation_id

FAST = {
    "heartbeat_timeout": 1.0,
    "pong_timeout": 0.5,
    "backoff_base": 0.05,
    "backoff_cap": 0.2,
    "lock_ttl": 5.0,
    "lock_renew": 0.5,
    "sync_interval": 0.3,
    "tick": 0.05,
    "reconcile_retry_delay": 0.1,
    "watch_queues": True,
}
NOTIFICATIONS = {"providers": [{"id": "genesys-demo", "completion": "notifications"}]}
SANDBOX = {"eventbridge": {"url": ""}, "notifications": {"heartbeat_seconds": 0.2}}


def start(env, **settings) -> None:  # type: ignore[no-untyped-def]
    """Start the app's workers (env made with start_workers=False) with fast listener timings."""
    env.ctx.completion.listener_settings = ListenerSettings(**{**FAST, **settings})
    env.ctx.workers.start()


def listener(env) -> NotificationsListener:  # type: ignore[no-untyped-def]
    [only] = env.ctx.completion.listeners.values()
    return only


def channels(env) -> list[dict]:  # type: ignore[no-untyped-def]
    return requests.get(env.sandbox_url + "/sandbox/notifications/channels", timeout=5).json()[
        "entities"
    ]


def watched(env, conversation_id: str) -> bool:  # type: ignore[no-untyped-def]
    topic = f"v2.detail.events.conversation.{conversation_id}.customer.end"
    return any(c["connected"] and topic in c["topics"] for c in channels(env))


def decisions(env, source: str, decision: str) -> float:  # type: ignore[no-untyped-def]
    metric = env.ctx.metrics.counter(
        "om_bridge_completion_events_total", "", ["source", "decision"]
    )
    return metric.labels(source, decision)._value.get()


def start_handover(env) -> str:  # type: ignore[no-untyped-def]
    env.agent.go_on_queue()
    env.say("hello")
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    env.agent.answer(conversation_id)
    wait_until(
        lambda: watched(env, conversation_id), 10, what="the conversation's topic on a socket"
    )
    return conversation_id


@pytest.fixture
def env(make_bridge_env):  # type: ignore[no-untyped-def]
    return make_bridge_env(config=NOTIFICATIONS, sandbox_config=SANDBOX, start_workers=False)


def test_agent_ends_detected_on_the_socket(env):
    start(env)
    conversation_id = start_handover(env)
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 15, what="the handover ended")
    wait_until(lambda: decisions(env, "notifications", "end") == 1, 5, what="the decision counted")
    assert "demo bot" in env.say("hello again")["text"]
    # The ended conversation's topic leaves the channel.
    wait_until(
        lambda: not any(conversation_id in t for c in channels(env) for t in c["topics"]),
        10,
        what="the topic removed",
    )


def test_end_while_disconnected_is_found_by_reconciliation(env):
    start(env)
    conversation_id = start_handover(env)
    # Genesys refuses the channel check for a while, so the listener stays disconnected.
    env.sandbox_admin.add_fault(
        target="api",
        method="HEAD",
        mode="status",
        status=400,
        count=-1,
        path="/api/v2/notifications/channels/*",
    )
    requests.post(env.sandbox_url + "/sandbox/notifications/drop", json={}, timeout=5)
    wait_until(lambda: not any(c["connected"] for c in channels(env)), 10, what="no socket")
    env.agent.disconnect(conversation_id)
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: reader.customer(conversation_id)["state"] == "disconnected",
        10,
        what="the conversation ended at Genesys",
    )
    assert handover_of(env) is not None  # the customer.end frame was lost with the socket
    env.sandbox_admin.clear_faults("api")
    wait_until(lambda: handover_of(env) is None, 15, what="the end found after reconnecting")
    wait_until(lambda: decisions(env, "reconcile", "end") == 1, 5, what="the decision counted")
    assert decisions(env, "notifications", "end") == 0


def test_reconciliation_that_runs_out_of_retries_is_tried_again_later(env):
    start(env)
    conversation_id = start_handover(env)
    head = env.sandbox_admin.add_fault(
        target="api",
        method="HEAD",
        mode="status",
        status=400,
        count=-1,
        path="/api/v2/notifications/channels/*",
    )
    requests.post(env.sandbox_url + "/sandbox/notifications/drop", json={}, timeout=5)
    wait_until(lambda: not any(c["connected"] for c in channels(env)), 10, what="no socket")
    env.agent.disconnect(conversation_id)
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: reader.customer(conversation_id)["state"] == "disconnected",
        10,
        what="the conversation ended at Genesys",
    )
    # The REST check after the reconnect fails every time (Genesys trouble outlasting retries).
    rest = env.sandbox_admin.add_fault(
        target="api",
        method="GET",
        mode="status",
        status=400,
        count=-1,
        path=f"/api/v2/conversations/messages/{conversation_id}",
    )
    requests.delete(f"{env.sandbox_url}/sandbox/faults/{head['id']}", timeout=5).raise_for_status()
    wait_until(lambda: listener(env).reconciler._unchecked, 15, what="the check giving up")
    assert handover_of(env) is not None
    requests.delete(f"{env.sandbox_url}/sandbox/faults/{rest['id']}", timeout=5).raise_for_status()
    # Not dropped: the conversation is checked again and its end found.
    wait_until(lambda: handover_of(env) is None, 15, what="the end found on a later check")
    # The decision is counted after the handover ended: wait for it rather than race it.
    wait_until(lambda: decisions(env, "reconcile", "end") >= 1, 5, what="the decision counted")
    assert decisions(env, "reconcile", "end") == 1


def test_socket_closing_opens_the_new_socket_first_and_misses_nothing(env):
    start(env)
    conversation_id = start_handover(env)
    state = listener(env).channels.states[0]
    generation, channel_id = state.generation, state.id
    checked = listener(env).reconciler.checked
    requests.post(
        env.sandbox_url + "/sandbox/notifications/socket-closing",
        json={"graceSeconds": 30},
        timeout=5,
    ).raise_for_status()
    # A new socket on the same channel, long before the 30 s grace ends the old one.
    wait_until(
        lambda: (
            state.generation > generation
            and state.socket is not None
            and state.failures == 0
            and listener(env).reconciler.checked > checked
        ),
        10,
        what="the new socket open and the channel reconciled",
    )
    assert state.id == channel_id and watched(env, conversation_id)
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 15, what="the handover ended")
    # From a frame, not from a REST check.
    wait_until(lambda: decisions(env, "notifications", "end") == 1, 5, what="the decision counted")
    assert decisions(env, "reconcile", "end") == 0


def test_expired_channel_is_recreated_with_its_topics(env):
    start(env)
    conversation_id = start_handover(env)
    old = listener(env).channels.states[0].id
    requests.post(
        env.sandbox_url + "/sandbox/notifications/expire", json={}, timeout=5
    ).raise_for_status()
    # The socket closes, HEAD says 404: a new channel with the same topics, then a REST check.
    wait_until(
        lambda: listener(env).channels.states[0].id != old and watched(env, conversation_id),
        10,
        what="a new channel watching the conversation",
    )
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 15, what="the handover ended")


def test_removed_subscriptions_are_restored(env):
    start(env)
    conversation_id = start_handover(env)
    channel_id = listener(env).channels.states[0].id
    reader = SandboxReader(env.sandbox_url)
    # Someone (another process with the same OAuth client) wipes the channel's subscriptions.
    resp = requests.delete(
        f"{env.sandbox_url}/api/v2/notifications/channels/{channel_id}/subscriptions",
        headers=reader.headers,
        timeout=5,
    )
    assert resp.status_code == 204
    wait_until(lambda: watched(env, conversation_id), 10, what="the subscription restored")
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 15, what="the handover ended")


def test_heartbeat_loss_reconnects(make_bridge_env):
    env = make_bridge_env(config=NOTIFICATIONS, sandbox_config=SANDBOX, start_workers=False)
    proxy = FreezableProxy(env.sandbox_port)
    try:
        env.restart_bridge(config={"providers": [{"id": "genesys-demo", "base_url": proxy.url}]})
        start(env)
        conversation_id = start_handover(env)
        state = listener(env).channels.states[0]
        generation = state.generation
        proxy.freeze_websockets()  # a half-open connection: no heartbeat, no pong, no error
        wait_until(
            lambda: (
                state.generation > generation and state.socket is not None and state.failures == 0
            ),
            15,
            what="a reconnect after the heartbeat loss",
        )
        env.agent.disconnect(conversation_id)
        wait_until(lambda: handover_of(env) is None, 15, what="the handover ended")
    finally:
        env.close()
        proxy.close()


def test_the_1001st_topic_goes_to_a_second_channel(env):
    settings = ListenerSettings(**{**FAST, "sync_interval": 600.0})
    client = env.ctx.clients.for_provider("genesys-demo")
    own = NotificationsListener(
        client,
        env.ctx.store,
        lambda e: None,
        client_id=seed.BRIDGE_CLIENT_ID,
        provider_ids=[],
        queue_ids=[seed.DEMO_QUEUE_ID],
        settings=settings,
    )
    ids = [str(uuid.uuid4()) for _ in range(1000)]
    own.start()
    try:
        for cid in ids:
            own.track(cid)
        wait_until(
            lambda: sum(len(c["topics"]) for c in channels(env)) == 1001,
            15,
            what="1,000 conversations + the queue topic subscribed",
        )
        assert sorted(len(c["topics"]) for c in channels(env)) == [1, 1000]
        assert len(own.channels.states) == 2
        own.untrack(ids[0])
        own.track(str(uuid.uuid4()))
        wait_until(
            lambda: sorted(len(c["topics"]) for c in channels(env)) == [1, 1000],
            15,
            what="the freed slot reused",
        )
        wait_until(lambda: all(c["connected"] for c in channels(env)), 10, what="both sockets")
    finally:
        own.stop()


def test_only_one_listener_per_oauth_client(env):
    start(env)
    wait_until(lambda: listener(env).leader, 10, what="the first listener leading")
    client = env.ctx.clients.for_provider("genesys-demo")
    second = NotificationsListener(
        client,
        env.ctx.store,
        lambda e: None,
        client_id=seed.BRIDGE_CLIENT_ID,
        provider_ids=["genesys-demo"],
        settings=ListenerSettings(**FAST),
    )
    second.start()
    try:
        wait_until(lambda: second.frames._thread is not None, 5, what="second started")
        assert not second.leader and listener(env).leader
        listener(env).stop()  # the leader goes away: the lock is released
        wait_until(lambda: second.leader, 10, what="the second listener taking over")
    finally:
        second.stop()


class FreezableProxy:
    """A TCP proxy to the sandbox that can turn its open WebSocket connections into a black hole
    (bytes are swallowed both ways, nothing is closed), as a silently dead network path does."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.links: list[dict] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            link = {"ws": False, "frozen": False, "socks": (client, upstream)}
            self.links.append(link)
            threading.Thread(
                target=self._pump, args=(client, upstream, link, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, link, False), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, link: dict, sniff: bool) -> None:
        first = sniff
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if first:
                link["ws"] = data.startswith(b"GET /channels/")
                first = False
            if link["frozen"]:
                continue
            try:
                dst.sendall(data)
            except OSError:
                return

    def freeze_websockets(self) -> None:
        for link in self.links:
            if link["ws"]:
                link["frozen"] = True

    def close(self) -> None:
        self.closed = True
        self.server.close()
        for link in self.links:
            for s in link["socks"]:
                try:
                    s.close()
                except OSError:
                    pass


def test_readyz_reflects_the_listener_sockets(env):
    start(env)
    start_handover(env)
    readiness = env.app.extensions["om-bridge.readiness"]
    readiness.ttl, readiness.listener_grace = 0, 0.0
    name = f"listener:{seed.BRIDGE_CLIENT_ID}"

    def ready() -> dict:
        body = requests.get(env.bridge_url + "/readyz", timeout=30).json()
        return {c["name"]: c for c in body["checks"]}

    wait_until(lambda: ready()[name]["ok"], 10, what="the listener ready")
    assert "leader" in ready()[name]["detail"]
    text = requests.get(env.bridge_url + "/metrics", timeout=30).text
    assert 'om_bridge_listener_leader{provider="genesys-demo"} 1.0' in text
    assert 'om_bridge_listener_sockets{provider="genesys-demo",state="open"}' in text
    # Genesys refuses the channel check, so the dropped socket cannot come back.
    env.sandbox_admin.add_fault(
        target="api",
        method="HEAD",
        mode="status",
        status=400,
        count=-1,
        path="/api/v2/notifications/channels/*",
    )
    requests.post(env.sandbox_url + "/sandbox/notifications/drop", json={}, timeout=5)
    wait_until(lambda: not ready()[name]["ok"], 10, what="not ready without a socket")
    assert requests.get(env.bridge_url + "/readyz", timeout=30).status_code == 503
    env.sandbox_admin.clear_faults("api")
    wait_until(lambda: ready()[name]["ok"], 15, what="ready again once reconnected")


def test_transfer_seen_on_queue_snapshots_names_the_new_agent(env, tmp_path):
    from tests.scenario.handover_helpers import collect, demo_flow_with, flow_config

    env.restart_bridge(config=flow_config(demo_flow_with(tmp_path, displayAgentDetails=True)))
    start(env)
    conversation_id = start_handover(env)
    wait_until(
        lambda: handover_of(env) is not None and handover_of(env).status == "active",
        20,
        what="active from the queue snapshot of the agent's answer",
    )
    env.agent.send_text(conversation_id, "Alex here")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Alex here")
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    sam.go_on_queue()
    env.agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
    assert sam.wait_for_offer()["id"] == conversation_id
    sam.answer(conversation_id)
    sam.send_text(conversation_id, "Sam here")
    outs = collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Sam here")
    first = next(o for o in outs if o.get("text") == "Sam here")
    assert first["data"]["agent"]["name"] == "Sam Supervisor", first["data"]
