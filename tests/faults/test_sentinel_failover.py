"""Redis Sentinel failover under traffic: a real master, two replicas and three Sentinels; a real
bridge process on `store = "redis+sentinel://..."` (writes waiting for one replica) carries
two-way traffic while the master is SIGKILLed. The Sentinels promote a replica, the bridge
follows it, and nothing is lost, duplicated or reordered; the time until the promotion and the
longest stall a user's message saw are printed (bounded only generously)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import wait_until
from tests.faults.harness import FaultBed, Traffic, check
from tests.faults.sentinel_group import SentinelGroup

pytestmark = [pytest.mark.redis, pytest.mark.slow]
# Rounds (each session's user writes once, its agent once) before the kill, and at least
# this many after the bridge came through it.
BEFORE, AFTER = 3, 4
# Generous: the Sentinels need DOWN_AFTER_MS plus an election; a busy machine adds to that.
RECOVERY_BOUND = 30.0
END_BOUND = 10.0


def test_the_bridge_follows_a_promoted_replica_and_loses_nothing(tmp_path):  # type: ignore[no-untyped-def]
    group = SentinelGroup(tmp_path / "redis", replicas=2)
    try:
        bed = FaultBed(tmp_path, store=group.url("wait_replicas=1", "wait_timeout=10"))
    except BaseException:
        group.close()
        raise
    try:
        traffic = Traffic(bed)
        traffic.open_handovers()
        rounds, stalls, errors = [0], [], []
        stop = threading.Event()

        def pump() -> None:
            n = 0
            try:
                while not stop.is_set() and n < 200:  # bounded whatever happens
                    for session in traffic.sessions:
                        started = time.monotonic()
                        traffic.user_message(session, n)
                        stalls.append((started, time.monotonic()))
                        traffic.agent_message(session, n)
                    n += 1
                    rounds[0] = n
            except Exception as exc:  # reported by the main thread
                errors.append(exc)

        thread = threading.Thread(target=pump, name="traffic", daemon=True)
        thread.start()
        wait_until(lambda: rounds[0] >= BEFORE or errors, 60, what="traffic before the kill")
        old, killed_at = group.kill_master()
        at_kill = rounds[0]
        wait_until(lambda: group.master() not in (None, old), 60, interval=0.05, what="a promotion")
        promoted = time.monotonic() - killed_at
        wait_until(
            lambda: rounds[0] >= at_kill + AFTER or errors or not thread.is_alive(),
            120,
            what="traffic after the failover",
        )
        stop.set()
        thread.join(60)
        assert not errors, errors
        traffic.settle()
        report = traffic.report("redis master SIGKILL (Sentinel failover)", traffic.end_all())
        through = [end - start for start, end in stalls if end >= killed_at]
        stall = max(through) if through else 0.0
        print(
            f"  master {old} killed; Sentinels promoted {group.master()} after {promoted:.1f} s; "
            f"the longest user message across the failover took {stall:.1f} s"
        )
        check(report, END_BOUND)
        assert report.to_agent.sent >= 2 * (at_kill + AFTER)
        assert stall <= RECOVERY_BOUND, f"a user message took {stall:.1f} s across the failover"
    finally:
        bed.close()
        group.close()
