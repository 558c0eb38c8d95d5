"""listener_capacity: the notifications listener of one OAuth client tracking 20,000
conversations against the sandbox, whose Notifications API has Genesys's limits (1,000 topics per
channel, 20 channels per OAuth client; docs/design.md §7, §11).

The listener is built as the bridge builds it for a `completion = "notifications"` provider (the
bridge's Genesys client and OAuth client, its SQLite store, the provider's queue, Genesys's
timings) and started first, as at bridge start. Then conversations are tracked in order, as the
engine tracks them when it learns their ids: 19,999 made up, and the 20,000th a real sandbox
conversation (customer message through Open Messaging, answered by the agent). The open handovers
are in the store too, so the listener's own store sync agrees. Reported: the time until the
sandbox shows every topic subscribed on connected sockets, how many were tracked, and whether
the agent ending the 20,000th conversation reaches the dispatcher as a customer end."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import requests

from bench.procs import HOST, free_port
from bench.result import Result
from bench.rig import merge
from om_bridge.bridge.completion.events import CUSTOMER_END
from om_bridge.bridge.completion.listener import (
    ListenerSettings,
    NotificationsListener,
    TopicBudgetExceeded,
)
from om_bridge.bridge.demo import DEMO_PROVIDER, DEMO_TOKEN
from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.wire import Customer, message_body
from om_bridge.bridge.store import Handover, SessionKey, open_store
from om_bridge.sandbox import seed

FULL = {"conversations": 20_000, "subscribe_limit": 240.0}
QUICK = {"conversations": 1_500, "subscribe_limit": 25.0}
INBOUND = f"/api/v2/conversations/messages/{seed.DEMO_INTEGRATION_ID}/inbound/open/message"


def _sandbox(quick: bool):  # type: ignore[no-untyped-def]
    from om_bridge.sandbox.server import SandboxServer

    dead = f"http://{HOST}:{free_port()}/nowhere"  # no bridge here: webhooks fail fast, unretried
    config = merge(
        {"seed": {"webhook_url": dead}},
        {"webhook": {"retries": 0, "timeout": 1.0}, "eventbridge": {"url": ""}},
    )
    return SandboxServer(config, host=HOST, port=0).start()


def _real_conversation(client: GenesysClient) -> tuple[str, str]:
    """A customer message through Open Messaging; (customer id, conversation id)."""
    customer = f"cap-{uuid.uuid4().hex[:12]}"
    body = message_body(
        Customer(customer),
        str(uuid.uuid4()),
        text="hello",
        content=None,
        time=None,
        custom_attributes=None,
        metadata=None,
    )
    echo = client.request(
        "POST", INBOUND, params={"prefetchConversationId": "true"}, json_body=body
    )
    return customer, echo["conversationId"]


def _channels(url: str) -> list[dict]:
    resp = requests.get(url + "/sandbox/notifications/channels", timeout=30)
    resp.raise_for_status()
    return resp.json()["entities"]


def run(workdir: Path, quick: bool = False) -> Result:
    """Track, wait for the subscriptions, end the last conversation, look for its end event."""
    from om_bridge.sandbox.agentclient import AgentClient

    p = QUICK if quick else FULL
    n = p["conversations"]
    sandbox = _sandbox(quick)
    store = open_store(f"sqlite:///{workdir / 'listener.db'}")
    client = GenesysClient(
        None, seed.BRIDGE_CLIENT_ID, seed.BRIDGE_CLIENT_SECRET, base_url=sandbox.url
    )
    events: list = []
    got_end = threading.Event()
    listener = None
    agent = AgentClient(sandbox.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    try:
        limits = sandbox.app.extensions["sandbox.notifications"].settings
        agent.login().go_on_queue()
        customer, real = _real_conversation(client)
        agent.wait_for_offer()
        agent.answer(real)
        ids = [str(uuid.uuid4()) for _ in range(n - 1)] + [real]
        for i, cid in enumerate(ids):
            user = customer if cid == real else f"cap-fake-{i}"
            store.create_handover(
                Handover.new(
                    SessionKey(DEMO_TOKEN, user, f"s-{user}"),
                    DEMO_PROVIDER,
                    customer_id=user,
                    integration_id=seed.DEMO_INTEGRATION_ID,
                    conversation_id=cid,
                    status="active",
                )
            )

        def dispatch(event) -> None:  # type: ignore[no-untyped-def]
            events.append(event)
            if event.conversation_id == real and event.kind == CUSTOMER_END:
                got_end.set()

        listener = NotificationsListener(
            client,
            store,
            dispatch,
            client_id=seed.BRIDGE_CLIENT_ID,
            provider_ids=[DEMO_PROVIDER],
            queue_ids=[seed.DEMO_QUEUE_ID],
            settings=ListenerSettings(),
        )
        listener.start()
        deadline = time.monotonic() + 30
        while not listener.leader and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.perf_counter()
        refused = []
        for cid in ids:
            try:
                listener.track(cid)
            except TopicBudgetExceeded as exc:
                refused.append((cid, str(exc)))
        track_seconds = time.perf_counter() - start
        wanted = len(listener.tracked()) + len(listener.queue_topics)
        subscribed = connected = 0
        subscribe_seconds = float("nan")
        deadline = time.monotonic() + p["subscribe_limit"]
        while time.monotonic() < deadline:
            chans = _channels(sandbox.url)
            subscribed = sum(len(c["topics"]) for c in chans)
            connected = sum(len(c["topics"]) for c in chans if c["connected"])
            if connected >= wanted:
                subscribe_seconds = time.perf_counter() - start
                break
            time.sleep(0.25)
        real_tracked = listener.is_tracked(real)
        end_start = time.perf_counter()
        agent.disconnect(real)
        detected = got_end.wait(30 if not quick else 10)
        detect_seconds = time.perf_counter() - end_start if detected else float("nan")
        source = next((e.source for e in events if e.conversation_id == real), None)
        chans = _channels(sandbox.url)
    finally:
        if listener is not None:
            listener.stop()
        agent.close()
        client.close()
        store.close()
        sandbox.stop()
    tracked_ok = real_tracked and not refused
    return Result(
        name="listener_capacity",
        metric=f"conversations tracked by one OAuth client's listener, end of the {n:,}th detected",
        unit="conversations",
        value=float(n - len(refused))
        if detected and tracked_ok
        else float(n - len(refused)) - 0.5 * (not detected),
        baseline=None,
        target=float(n),
        compare=">=",
        details={
            "sandbox_limits": {
                "max_topics": limits.max_topics,
                "max_channels": limits.max_channels,
            },
            "conversations": n,
            "tracked": len(ids) - len(refused),
            "refused": len(refused),
            "refused_reason": refused[0][1] if refused else None,
            "queue_topics": listener.queue_topics if listener else [],
            "track_seconds": round(track_seconds, 3),
            "topics_wanted": wanted,
            "topics_subscribed": subscribed,
            "topics_on_connected_sockets": connected,
            "subscribe_seconds": round(subscribe_seconds, 3),
            "channels": len(chans),
            "last_conversation_tracked": real_tracked,
            "end_detected": detected,
            "end_detect_seconds": round(detect_seconds, 3),
            "end_event_source": source,
            "reconcile_checks": listener.reconciler.checked if listener else 0,
        },
    )
