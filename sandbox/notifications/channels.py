"""Notification channels: creation with the per-(user, OAuth client) limit and eviction, expiry,
and the topic subscriptions with a topic -> channels index for fan-out."""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .socket import SocketSession

_ALPHABET = string.ascii_lowercase + string.digits


def new_channel_id() -> str:
    """A channel id shaped like Genesys's (`streaming-<n>-<26 chars>`)."""
    return "streaming-0-" + "".join(secrets.choice(_ALPHABET) for _ in range(26))


@dataclass(eq=False)
class Channel:
    """One channel: owner (OAuth client, user, token), lifetime and subscribed topics."""

    id: str
    client_id: str
    user_id: str | None
    org_id: str | None
    token: str
    created: float
    expires: float
    last_used: float
    topics: dict[str, dict] = field(default_factory=dict)  # topic -> ChannelTopic, in order
    session: SocketSession | None = None

    @property
    def owner(self) -> tuple[str, str]:
        return (self.client_id, self.user_id or "")


class ChannelRegistry:
    """Thread-safe store of channels; times are wall-clock seconds from `clock`."""

    def __init__(self, ttl: float, max_channels: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self.max_channels = max_channels
        self.clock = clock
        self._channels: dict[str, Channel] = {}
        self._by_topic: dict[str, set[str]] = {}
        self._lock = threading.RLock()

    def create(
        self, client_id: str, user_id: str | None, org_id: str | None, token: str
    ) -> tuple[Channel, Channel | None]:
        """Create a channel; when the owner already has `max_channels`, evict the one used longest
        ago, preferring channels without a connected socket. Returns (new, evicted or None)."""
        now = self.clock()
        with self._lock:
            self._purge_expired(now)
            evicted = None
            owned = [c for c in self._channels.values() if c.owner == (client_id, user_id or "")]
            if len(owned) >= self.max_channels:
                evicted = min(owned, key=lambda c: (c.session is not None, c.last_used))
                self._remove(evicted)
            channel = Channel(
                new_channel_id(),
                client_id,
                user_id,
                org_id,
                token,
                created=now,
                expires=now + self.ttl,
                last_used=now,
            )
            self._channels[channel.id] = channel
            return channel, evicted

    def get(self, channel_id: str) -> Channel | None:
        """The live channel with this id (None when unknown or expired)."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is not None and channel.expires <= self.clock():
                self._remove(channel)
                return None
            return channel

    def owned_by(self, client_id: str, user_id: str | None) -> list[Channel]:
        """Live channels of one (OAuth client, user), oldest first."""
        with self._lock:
            self._purge_expired(self.clock())
            return sorted(
                (c for c in self._channels.values() if c.owner == (client_id, user_id or "")),
                key=lambda c: c.created,
            )

    def all(self) -> list[Channel]:
        """Every channel, expired ones included until purged (admin view)."""
        with self._lock:
            return list(self._channels.values())

    def touch(self, channel: Channel, extend: bool = False) -> None:
        """Mark the channel used now; `extend` also restarts its lifetime (resubscribing does)."""
        with self._lock:
            channel.last_used = self.clock()
            if extend:
                channel.expires = channel.last_used + self.ttl

    def set_topics(self, channel: Channel, entities: list[dict], replace: bool) -> list[str]:
        """Subscribe the `Permitted` entities (replacing or adding); returns the removed topics."""
        with self._lock:
            removed: list[str] = []
            if replace:
                keep = {e["id"] for e in entities}
                removed = [t for t in channel.topics if t not in keep]
                for topic in removed:
                    self._unindex(channel, topic)
                    del channel.topics[topic]
            for entity in entities:
                if entity.get("state") == "Permitted":
                    channel.topics[entity["id"]] = entity
                    self._by_topic.setdefault(entity["id"], set()).add(channel.id)
            return removed

    def count_after(self, channel: Channel, topics: list[str], replace: bool) -> int:
        """How many topics the channel would hold after a PUT (`replace`) or POST of `topics`."""
        with self._lock:
            return len(set(topics) if replace else set(channel.topics) | set(topics))

    def clear_topics(self, channel: Channel) -> list[str]:
        """Remove every subscription; returns the removed topics."""
        with self._lock:
            removed = list(channel.topics)
            for topic in removed:
                self._unindex(channel, topic)
            channel.topics.clear()
            return removed

    def subscribers(self, topic: str) -> list[Channel]:
        """Live channels subscribed to `topic`."""
        with self._lock:
            ids = self._by_topic.get(topic)
            if not ids:
                return []
            now = self.clock()
            return [c for c in (self._channels.get(i) for i in ids) if c and c.expires > now]

    def remove(self, channel: Channel) -> None:
        """Delete a channel (expiry, eviction)."""
        with self._lock:
            self._remove(channel)

    def _remove(self, channel: Channel) -> None:
        for topic in list(channel.topics):
            self._unindex(channel, topic)
        self._channels.pop(channel.id, None)

    def _unindex(self, channel: Channel, topic: str) -> None:
        ids = self._by_topic.get(topic)
        if ids is not None:
            ids.discard(channel.id)
            if not ids:
                del self._by_topic[topic]

    def _purge_expired(self, now: float) -> None:
        for channel in [c for c in self._channels.values() if c.expires <= now]:
            # A connected socket closes itself at expiry; its channel is gone for REST already.
            self._remove(channel)
