"""Topic sharding across notification channels: Genesys allows 1,000 topics per channel and 20
channels per OAuth client (docs/reference/genesys-completion-detection.md §A.8), so topics fill the
first channel with room and a new channel opens only when every existing one is full."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

MAX_TOPICS: Final = 1000
MAX_CHANNELS: Final = 20


class TopicBudgetExceeded(RuntimeError):
    """Every channel the OAuth client may have is full."""


@dataclass
class Shard:
    """The topics one channel should carry, and what changed since the last subscription call."""

    index: int
    topics: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)  # to POST (add) on the next flush
    removed: bool = False  # something left: PUT (replace) the set

    @property
    def dirty(self) -> bool:
        return bool(self.added) or self.removed


class TopicShards:
    """Assigns topics to shards (one shard = one channel); not thread-safe (the listener locks)."""

    def __init__(self, max_topics: int = MAX_TOPICS, max_channels: int = MAX_CHANNELS) -> None:
        self.max_topics = max_topics
        self.max_channels = max_channels
        self.shards: list[Shard] = []
        self._where: dict[str, int] = {}

    def add(self, topic: str) -> int:
        """Put `topic` on the first shard with room (a new one if needed); its shard index.
        Raises `TopicBudgetExceeded` when all `max_channels` shards are full."""
        if topic in self._where:
            return self._where[topic]
        shard = next((s for s in self.shards if len(s.topics) < self.max_topics), None)
        if shard is None:
            if len(self.shards) >= self.max_channels:
                raise TopicBudgetExceeded(topic)
            shard = Shard(len(self.shards))
            self.shards.append(shard)
        shard.topics.add(topic)
        shard.added.add(topic)
        self._where[topic] = shard.index
        return shard.index

    def remove(self, topic: str) -> int | None:
        """Take `topic` off its shard; the shard index, or None if it was not there."""
        index = self._where.pop(topic, None)
        if index is None:
            return None
        shard = self.shards[index]
        shard.topics.discard(topic)
        if topic in shard.added:
            shard.added.discard(topic)  # never subscribed: nothing to undo at Genesys
        else:
            shard.removed = True
        return index

    def shard_of(self, topic: str) -> int | None:
        """The shard carrying `topic`, if any."""
        return self._where.get(topic)

    def __contains__(self, topic: object) -> bool:
        return topic in self._where

    def __len__(self) -> int:
        return len(self._where)
