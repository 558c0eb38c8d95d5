"""calls_per_message: Genesys API calls per user message during active handovers, counted where
Genesys would see them — at the sandbox, by a request log in front of its app (docs/design.md §8, §11:
exactly 1 in steady state).

Handovers are made the real way (flow → first message → sandbox conversation → the agent answers
and replies once, so token, integration id and agent details are already known). Then users send
messages through `POST /endpoint/<token>`; every API request the sandbox receives that is not the
agent's own is counted, until each message has reached its conversation. Agent replies are
counted separately (each costs one Delivered receipt)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.procs import wait_until
from bench.result import Result
from bench.rig import Rig
from bench.webhook_load import wait_outputs

TARGET = 1.0
FULL = {"handovers": 4, "messages": 50}
QUICK = {"handovers": 2, "messages": 5}
INBOUND = "/inbound/open/message"


def _route(path: str) -> str:
    parts = path.split("/")
    if len(parts) > 5 and parts[3] == "conversations" and parts[4] == "messages":
        parts[5] = "{id}"
    return "/".join(parts)


def run(workdir: Path, quick: bool = False) -> Result:
    """Count sandbox requests during a burst of user messages, then during agent replies."""
    p = QUICK if quick else FULL
    with Rig(workdir) as rig:
        agent = rig.agent()
        agent.go_on_queue()
        users = []
        for i in range(p["handovers"]):
            h = rig.engine_handover(f"calls-user-{i}")
            agent.wait_for_offer()
            agent.answer(h.conversation_id)
            before = rig.agent_outputs()
            agent.send_text(h.conversation_id, "Hi, how can I help?")
            wait_outputs(rig, before + 1, 30)
            users.append((h.session.user_id, h.conversation_id))
        mine = f"Bearer {agent.token}"
        _settle(rig)  # the set-up's own receipts must not count as the users' calls

        def inbound_count(mark: int) -> int:
            return sum(
                1
                for s in rig.requests.since(mark)
                if s.path.endswith(INBOUND) and s.method == "POST"
            )

        mark = rig.requests.mark()
        sent = 0
        for n in range(p["messages"]):
            for user_id, _cid in users:
                rig.say(user_id, f"user message {n}")
                sent += 1
        wait_until(lambda: inbound_count(mark) >= sent, 60, "the inbound calls", 0.02)
        _settle(rig)
        user_calls = [s for s in rig.requests.since(mark) if s.authorization != mine]

        mark = rig.requests.mark()
        before = rig.agent_outputs()
        replies = 0
        for n in range(max(1, p["messages"] // 5)):
            for _uid, cid in users:
                agent.send_text(cid, f"agent reply {n}")
                replies += 1
        wait_outputs(rig, before + replies, 60)
        _settle(rig)
        agent_calls = [s for s in rig.requests.since(mark) if s.authorization != mine]
        sandbox_cpu = round(rig.sandbox_cpu(), 2)
    return Result(
        name="calls_per_message",
        metric="Genesys API calls per user message (steady state)",
        unit="calls/msg",
        value=len(user_calls) / sent,
        baseline=None,
        target=TARGET,
        compare="==",
        details={
            "handovers": p["handovers"],
            "user_messages": sent,
            "calls_by_route": dict(Counter(f"{s.method} {_route(s.path)}" for s in user_calls)),
            "agent_replies": replies,
            "calls_per_agent_reply": round(len(agent_calls) / replies, 3),
            "agent_reply_calls_by_route": dict(
                Counter(f"{s.method} {_route(s.path)}" for s in agent_calls)
            ),
            "sandbox_cpu_s": sandbox_cpu,
        },
    )


def _settle(rig: Rig, quiet: float = 0.5, limit: float = 10.0) -> None:
    """Wait until the bridge's outbox is empty and the sandbox heard nothing for `quiet` s, so
    late calls (retries, lookups) are counted too."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pending = rig.sql("SELECT count(*) FROM outbox WHERE dead = 0")[0][0]
        seen = rig.requests.seen
        last = seen[-1].at if seen else 0.0
        if pending == 0 and time.perf_counter() - last >= quiet:
            return
        time.sleep(0.05)
