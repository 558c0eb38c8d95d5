"""Timings and limits of the notifications listener; every interval is injectable so tests run
fast against a sandbox with a short heartbeat."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from om_bridge.bridge.backoff import backoff

from .shards import MAX_CHANNELS, MAX_TOPICS


@dataclass
class ListenerSettings:
    """Defaults follow Genesys: heartbeats about every 30 s, so 75 s of silence means trouble;
    channels live 24 h and are extended by subscribing again an hour before they expire."""

    heartbeat_timeout: float = 75.0  # silence before a ping
    pong_timeout: float = 10.0  # no frame this long after the ping: reconnect
    backoff_base: float = 0.5  # reconnect backoff: base * 2^failures, full jitter ...
    backoff_cap: float = 30.0  # ... capped
    # Failover bound, kill to listening again: a killed leader's lock runs out within lock_ttl
    # of its last renewal; a follower tries every lock_renew, seen by a control loop that wakes
    # every tick, so another process leads within lock_ttl + lock_renew + tick (7 s); it then
    # subscribes and opens its channel's socket at once (one channel create, one subscribe,
    # one WebSocket connect: well under a second against the sandbox, about a second against
    # Genesys), 8 s in all. The leader renews three times before its lock could run out.
    lock_ttl: float = 5.0  # leader lock lifetime ...
    lock_renew: float = 1.5  # ... renewed (and tried by followers) this often
    sync_interval: float = 5.0  # re-read open handovers from the store
    refresh_margin: float = 3600.0  # resubscribe this long before the channel expires
    tick: float = 0.5  # control loop granularity
    max_topics: int = MAX_TOPICS
    max_channels: int = MAX_CHANNELS
    # Also subscribe each provider's queue topic (snapshots of every conversation on the queue,
    # filtered by conversation id): a second signal, but it costs one topic and carries the whole
    # queue's traffic. Off by default so 20 channels x 1,000 topics watch 20,000 conversations.
    watch_queues: bool = False
    # Every tracked conversation is also checked through REST about every reconcile_interval,
    # so a lost customer.end frame costs at most about that long; at most reconcile_per_minute
    # checks a minute (a third of Genesys's 300 requests/minute per OAuth client), the ones
    # checked longest ago first, when there are more conversations than that covers.
    reconcile_interval: float = 20.0
    reconcile_per_minute: int = 100
    reconcile_retries: int = 3
    reconcile_retry_delay: float = 2.0
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, failures: int) -> float:
        """Delay before reconnect attempt number `failures` (1, 2, ...): exponential, jittered."""
        if failures <= 1:
            return 0.0  # the first reconnect is immediate
        return backoff(failures - 1, self.backoff_base, self.backoff_cap, rng=self.rng)
