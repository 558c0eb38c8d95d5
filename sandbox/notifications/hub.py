"""The notifications hub: channels, connected sockets and the bus listener that turns published
Genesys topics into WebSocket frames. Events produced while a channel has no socket are not
queued anywhere (Genesys gives no durability on this path)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import messages
from .channels import Channel, ChannelRegistry
from .settings import NotificationSettings
from .socket import CLOSE_NORMAL, SocketSession

log = logging.getLogger(__name__)


def event_frame(topic: str, body: dict) -> dict:
    """The WebSocket frame Genesys sends for one event."""
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": body,
        "metadata": {"CorrelationId": str(uuid.uuid4())},
    }


class NotificationHub:
    """Owns the channel registry and the live sockets; `on_event` is the bus listener."""

    def __init__(
        self,
        settings: NotificationSettings,
        faults: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.faults = faults
        self.clock = clock
        self.channels = ChannelRegistry(settings.channel_ttl_seconds, settings.max_channels, clock)
        self._lock = threading.Lock()
        self._live: set[SocketSession] = set()  # every socket still being served

    # --- channels --------------------------------------------------------------------------
    def create_channel(
        self, client_id: str, user_id: str | None, org_id: str | None, token: str
    ) -> Channel:
        """Create a channel; an evicted channel's socket is told and closed."""
        channel, evicted = self.channels.create(client_id, user_id, org_id, token)
        if evicted is not None:
            log.info(messages.LOG_CHANNEL_EVICTED, evicted.id, self.settings.max_channels)
            session = evicted.session
            if session is not None:
                session.send_system(
                    self.system_frame(
                        evicted,
                        "no_longer_subscribed",
                        messages.CHANNEL_EVICTED.format(limit=self.settings.max_channels),
                    )
                )
                session.close("channel evicted")
        log.info(messages.LOG_CHANNEL_CREATED, channel.id, client_id)
        return channel

    def topics_removed(self, channel: Channel, removed: list[str]) -> None:
        """Tell the connected socket (if any) that topics were removed."""
        session = channel.session
        if removed and session is not None:
            session.send_system(
                self.system_frame(
                    channel,
                    "no_longer_subscribed",
                    messages.NO_LONGER_SUBSCRIBED,
                    data={"topics": ",".join(removed)},
                )
            )

    def system_frame(
        self, channel: Channel, kind: str, message: str, data: dict | None = None
    ) -> dict:
        """A `v2.system.*` frame with a `SystemMessageSystemMessage` body."""
        correlation = str(uuid.uuid4())
        topic = (
            "v2.system.socket_closing"
            if kind == "socket_closing"
            else f"v2.system.{kind}.{channel.id}"
        )
        body: dict[str, Any] = {
            "channelId": channel.id,
            "correlationId": correlation,
            "organizationId": channel.org_id,
            "userId": channel.user_id,
            "oauthClientId": channel.client_id,
            "message": message,
        }
        if kind != "socket_closing":
            body["systemTopicType"] = kind
        if data:
            body["data"] = data
        return {
            "topicName": topic,
            "version": "2",
            "eventBody": {k: v for k, v in body.items() if v is not None},
            "metadata": {"CorrelationId": correlation},
        }

    # --- sockets ---------------------------------------------------------------------------
    def serve_socket(self, channel: Channel, ws: Any) -> None:
        """Attach `ws` to the channel (closing any previous socket) and serve it until it ends."""
        session = SocketSession(
            channel, ws, self.settings.heartbeat_seconds, self.faults, self.clock
        )
        with self._lock:
            previous, channel.session = channel.session, session
            self._live.add(session)
        if previous is not None:
            log.info(messages.LOG_SOCKET_REPLACED, channel.id)
            previous.close("replaced by a new connection", CLOSE_NORMAL)
        self.channels.touch(channel)
        log.info(messages.LOG_SOCKET_OPEN, channel.id)
        try:
            session.run()
        finally:
            with self._lock:
                self._live.discard(session)
                if channel.session is session:
                    channel.session = None
            self.channels.touch(channel)

    def sessions(self, channel_ids: list[str] | None = None) -> list[SocketSession]:
        """Connected sockets, all or those of the given channels."""
        chans = self.channels.all()
        return [
            c.session
            for c in chans
            if c.session is not None and (channel_ids is None or c.id in channel_ids)
        ]

    def socket_closing(self, channel_ids: list[str] | None, grace: float | None) -> list[str]:
        """Send `v2.system.socket_closing` and close each socket after the grace period."""
        grace = self.settings.socket_closing_grace_seconds if grace is None else grace
        done = []
        for session in self.sessions(channel_ids):
            session.send_system(
                self.system_frame(session.channel, "socket_closing", messages.SOCKET_CLOSING)
            )
            session.close_after(grace)
            done.append(session.channel.id)
        return done

    def drop(self, channel_ids: list[str] | None) -> list[str]:
        """Cut the TCP connection of each socket (no close frame)."""
        sessions = self.sessions(channel_ids)
        for session in sessions:
            session.drop()
        return [s.channel.id for s in sessions]

    def expire(self, channel_ids: list[str] | None) -> list[str]:
        """Expire channels now: REST forgets them and their sockets close."""
        now = self.clock()
        done = []
        for channel in self.channels.all():
            if channel_ids is None or channel.id in channel_ids:
                channel.expires = now
                self.channels.remove(channel)
                if channel.session is not None:
                    channel.session.close("channel expired")
                done.append(channel.id)
        return done

    def close(self) -> None:
        """Close every socket still served (sandbox shutdown), including sockets of channels that
        expired or were evicted but are still closing, and wait briefly for their loops to end."""
        with self._lock:
            sessions = list(self._live)
        for session in sessions:
            session.shutdown()
        for session in sessions:
            session.closed.wait(timeout=2)

    # --- the bus listener ------------------------------------------------------------------
    def on_event(self, topic: str, body: dict) -> None:
        """Fan a published topic out to the sockets of subscribed channels (non-blocking)."""
        subscribers = self.channels.subscribers(topic)
        if not subscribers:
            return
        frame = event_frame(topic, body)
        for channel in subscribers:
            session = channel.session
            if session is not None:
                session.offer_event(frame)
