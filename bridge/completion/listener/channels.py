"""Channels, subscriptions and sockets of the notifications listener (control thread only).

Per shard of topics: a channel (`POST /api/v2/notifications/channels`), its subscriptions
(POST adds, PUT replaces — the only way to remove a topic), one WebSocket, a heartbeat watchdog,
reconnects with backoff (first `HEAD` the channel: 404 → a new channel with the same topics), the
`socket_closing` hand-over (new socket first; the old one keeps reading until Genesys closes it)
and resubscription before the 24 h expiry (docs/reference/genesys-completion-detection.md §A.9)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from om_bridge.bridge.genesys.errors import NotFoundError

from .. import messages
from ..events import epoch_seconds
from .settings import ListenerSettings
from .shards import Shard, TopicShards
from .socket import ChannelSocket, Event, Sink

log = logging.getLogger(__name__)


class ChannelState:
    """One live channel and its socket."""

    def __init__(self, index: int, channel: dict[str, Any]) -> None:
        self.index = index
        self.socket: ChannelSocket | None = None
        self.generation = 0
        self.failures = 0
        self.next_connect_at = 0.0
        self.verify = False  # HEAD the channel before the next connect
        self.retiring: list[tuple[float, ChannelSocket]] = []
        self.open = False  # the current socket said it is open (readiness, metrics)
        self.down_since: float | None = time.monotonic()
        self.adopt(channel)

    def adopt(self, channel: dict[str, Any]) -> None:
        """Take over a (new) channel's id, URI and expiry."""
        now = time.time()
        self.id = channel["id"]
        self.connect_uri = channel["connectUri"]
        self.expires_at = epoch_seconds(channel.get("expires")) or now + 86400.0
        self.lifetime = max(1.0, self.expires_at - now)


class ChannelManager:
    """Keeps every shard's channel subscribed and connected."""

    def __init__(
        self,
        client: Any,
        shards: TopicShards,
        lock: threading.RLock,
        settings: ListenerSettings,
        sink: Sink,
        on_open: Callable[[int], None],
    ) -> None:
        self.client = client
        self.shards = shards
        self.lock = lock
        self.settings = settings
        self.sink = sink
        self.on_open = on_open
        self.states: dict[int, ChannelState] = {}
        self._flush_after: dict[int, float] = {}
        self._flush_failures: dict[int, int] = {}

    # --- periodic work ---------------------------------------------------------------------
    def maintain(self, now: float) -> None:
        """Flush subscription changes, connect, watch heartbeats, refresh before expiry."""
        for shard in list(self.shards.shards):
            self._flush(shard, now)
            state = self.states.get(shard.index)
            if state is None:
                continue
            if state.socket is None and now >= state.next_connect_at:
                self._connect(state, now)
            self._watchdog(state, now)
            self._refresh(state, shard)
            self._close_retired(state, now)

    def _flush(self, shard: Shard, now: float) -> None:
        state = self.states.get(shard.index)
        if now < self._flush_after.get(shard.index, 0.0):
            return
        with self.lock:
            if state is not None and not shard.dirty:
                return
            topics, added, full = sorted(shard.topics), sorted(shard.added), shard.removed
            shard.added.clear()
            shard.removed = False
        try:
            if state is None:
                if not topics:
                    return
                state = ChannelState(shard.index, self.client.create_channel())
                self.states[shard.index] = state
                log.info(messages.LOG_CHANNEL_CREATED, state.id, len(topics))
                self._subscribe(state, topics, replace=True)
            elif full:
                self._subscribe(state, topics, replace=True)
            elif added:
                self._subscribe(state, added, replace=False)
            self._flush_failures.pop(shard.index, None)
        except Exception as exc:
            with self.lock:
                shard.removed = True
            if isinstance(exc, NotFoundError) and state is not None:
                state.verify = True  # the channel is gone: recreate before reconnecting
            failures = self._flush_failures.get(shard.index, 0) + 1
            self._flush_failures[shard.index] = failures
            delay = max(self.settings.tick, self.settings.backoff(failures + 1))
            self._flush_after[shard.index] = now + delay
            log.warning(messages.LOG_LISTENER_ERROR, type(exc).__name__, delay)

    def _subscribe(self, state: ChannelState, topics: list[str], replace: bool) -> None:
        answer = self.client.subscribe(state.id, topics, replace=replace) or {}
        for entity in answer.get("entities") or []:
            if entity.get("state") == "Rejected":
                log.warning(
                    "topic %s rejected: %s",
                    entity.get("id"),
                    entity.get("rejectionReason") or entity.get("missingPermissions"),
                )

    def _connect(self, state: ChannelState, now: float) -> None:
        if state.verify:
            try:
                if not self.client.channel_exists(state.id):
                    self._recreate(state)
                state.verify = False
            except Exception as exc:
                self._failed(state, now, type(exc).__name__)
                return
        sock = ChannelSocket(state.connect_uri, state.index, state.generation, self.sink)
        state.socket = sock
        sock.start()

    def _recreate(self, state: ChannelState) -> None:
        with self.lock:
            topics = sorted(self.shards.shards[state.index].topics)
        log.info(messages.LOG_CHANNEL_GONE, state.id, len(topics))
        self._retire(state, close=True)
        state.adopt(self.client.create_channel())
        self._subscribe(state, topics, replace=True)

    def _failed(self, state: ChannelState, now: float, why: str) -> None:
        state.failures += 1
        state.verify = True
        delay = self.settings.backoff(state.failures)
        state.next_connect_at = now + delay
        log.warning(messages.LOG_RECONNECT, state.id, delay, why)

    def _watchdog(self, state: ChannelState, now: float) -> None:
        sock = state.socket
        if sock is None:
            return
        if sock.ping_sent_at is not None and now - sock.ping_sent_at > self.settings.pong_timeout:
            log.warning(messages.LOG_HEARTBEAT_LOST, state.id, now - sock.last_frame)
            self._retire(state, close=True)
            self._failed(state, now, "heartbeat lost")
        elif sock.ping_sent_at is None and now - sock.last_frame > self.settings.heartbeat_timeout:
            sock.send_ping()

    def _refresh(self, state: ChannelState, shard: Shard) -> None:
        # Channels live 24 h; subscribing again extends them (docs/reference/genesys-completion-detection.md §A.8).
        margin = min(self.settings.refresh_margin, state.lifetime * 0.25)
        wall = time.time()
        if state.expires_at - wall > margin:
            return
        with self.lock:
            topics = sorted(shard.topics)
        try:
            self._subscribe(state, topics, replace=True)
            state.expires_at = wall + state.lifetime
        except NotFoundError:
            state.verify = True
            self._retire(state, close=True)
        except Exception as exc:
            log.warning(messages.LOG_LISTENER_ERROR, type(exc).__name__, self.settings.tick)

    def _close_retired(self, state: ChannelState, now: float) -> None:
        keep = []
        for close_at, sock in state.retiring:
            if now >= close_at:
                sock.close()
            else:
                keep.append((close_at, sock))
        state.retiring = keep

    # --- events from sockets and the frame worker ----------------------------------------------
    def handle(self, item: Event) -> None:
        """Act on ("open"|"closed"|"socket_closing"|"reconnect"|"resync", index, ...)."""
        kind, index = item[0], item[1]
        state = self.states.get(index)
        if state is None:
            return
        now = time.monotonic()
        current = (
            state.socket is not None and state.socket.generation == item[2]
            if kind in ("open", "closed", "socket_closing", "reconnect")
            else True
        )
        if not current:
            return  # a retired socket: its successor is already in place
        if kind == "open":
            state.failures = 0
            state.open, state.down_since = True, None
            log.info(messages.LOG_SOCKET_OPEN, state.id)
            # The old socket of a socket_closing hand-over closes once the new one is open.
            soon = now + self.settings.pong_timeout
            state.retiring = [(min(c, soon), s) for c, s in state.retiring]
            self.on_open(index)
        elif kind == "closed":
            log.info(messages.LOG_SOCKET_CLOSED, state.id, item[3])
            state.socket = None
            state.open = False
            if state.down_since is None:
                state.down_since = now
            self._failed(state, now, item[3])
        elif kind == "socket_closing":
            log.info(messages.LOG_SOCKET_CLOSING, state.id)
            self._retire(state, close=False)
            self._connect(state, now)
        elif kind == "reconnect":
            log.info(messages.LOG_TOKEN_REVOKED, state.id)
            self._retire(state, close=True)
            state.next_connect_at = now
        elif kind == "resync":
            self._resync(state, item[2])

    def _resync(self, state: ChannelState, removed: list[str] | None) -> None:
        with self.lock:
            wanted = set(self.shards.shards[state.index].topics)
        if removed and not any(t in wanted for t in removed):
            return  # Genesys confirming topics we removed ourselves
        log.info(messages.LOG_NO_LONGER_SUBSCRIBED, state.id, ",".join(removed or []) or "-")
        try:
            if not self.client.channel_exists(state.id):
                self._recreate(state)
                state.next_connect_at = time.monotonic()
                return
            present = {
                e.get("id")
                for e in (self.client.get_subscriptions(state.id) or {}).get("entities") or []
            }
            if wanted - present:
                self._subscribe(state, sorted(wanted), replace=True)
        except Exception as exc:
            with self.lock:
                self.shards.shards[state.index].removed = True
            log.warning(messages.LOG_LISTENER_ERROR, type(exc).__name__, self.settings.tick)

    def _retire(self, state: ChannelState, close: bool) -> None:
        sock, state.socket = state.socket, None
        state.generation += 1
        if sock is None:
            return
        if close:
            sock.close()
        else:
            # Keep reading until Genesys closes it (or the successor has been open a while).
            state.retiring.append((time.monotonic() + 60.0, sock))

    def health(self) -> tuple[int, int, float | None]:
        """(channels, channels with an open socket, monotonic time since which the longest-down
        channel has been without one, or None)."""
        states = list(self.states.values())
        downs = [s.down_since for s in states if not s.open and s.down_since is not None]
        return len(states), sum(1 for s in states if s.open), (min(downs) if downs else None)

    def retire_all(self) -> None:
        """Close every socket and forget the channels (leadership lost / stopping)."""
        states, self.states = list(self.states.values()), {}
        socks: list[ChannelSocket] = []
        for state in states:
            socks.extend(s for _c, s in state.retiring)
            if state.socket is not None:
                socks.append(state.socket)
            state.socket, state.retiring = None, []
        for sock in socks:
            sock.close()
        for sock in socks:
            sock.join()
        with self.lock:
            for shard in self.shards.shards:
                shard.removed = True  # a new leader subscribes everything again
