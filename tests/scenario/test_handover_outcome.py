"""The handover's outcome back in the flow, through real HTTP against the sandbox: the resumed
input's `handover` object after a transfer and a wrap-up, the agent conversation in the next
handover's transcript, the demo bot thanking the agent, and Send Queue / Active Event."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    FLOWS_DIR,
    SandboxReader,
    collect,
    demo_flow_with,
    flow_config,
    handover_of,
    wait_conversation_id,
)

ALEX_SAYS = "Hi, I am Alex. How can I help?"
SAM_SAYS = "Sam here, your refund is on its way."
TRANSCRIPT = [
    ("agent", ALEX_SAYS),
    ("user", "My order is late"),
    ("agent", SAM_SAYS),
    ("user", "Thanks Sam"),
]


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def wait_inbound(reader: SandboxReader, conversation_id: str, text: str) -> None:
    wait_until(
        lambda: text in reader.inbound_texts(conversation_id),
        15,
        interval=0.2,
        what=f"{text!r} at the agent",
    )


def play_transfer_and_wrap_up(env):
    """Alex answers, transfers to Sam, Sam ends with a wrap-up; returns the conversation id."""
    alex = env.agent
    alex.go_on_queue()
    env.say("hello")
    env.say("agent please")
    conversation_id = wait_conversation_id(env)
    reader = SandboxReader(env.sandbox_url)
    alex.wait_for_offer()
    alex.answer(conversation_id)
    alex.send_text(conversation_id, ALEX_SAYS)
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == ALEX_SAYS)
    assert env.say("My order is late")["outputStack"] == []
    wait_inbound(reader, conversation_id, "My order is late")

    alex.transfer_to_user(conversation_id, seed.SECOND_AGENT_ID)
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    assert sam.wait_for_offer()["id"] == conversation_id
    sam.answer(conversation_id)
    sam.send_text(conversation_id, SAM_SAYS)
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == SAM_SAYS)
    env.say("Thanks Sam")
    wait_inbound(reader, conversation_id, "Thanks Sam")
    assert handover_of(env) is not None
    sam.disconnect(conversation_id, wrapup={"code": "Resolved", "notes": "refund issued"})
    return conversation_id


def test_resumed_input_carries_the_outcome_and_the_next_transcript_the_agent_conversation(
    bridge_env, tmp_path
):
    env = bridge_env
    # The demo bot, saying the whole input.handover object as JSON when the handover completes.
    flow = demo_flow_with(tmp_path, says={"say-thanks-agent": "{{ input.handover }}"})
    env.restart_bridge(config=flow_config(flow))
    conversation_id = play_transfer_and_wrap_up(env)

    outs = collect(
        env, lambda o: o["source"] == "bot" and (o.get("text") or "").startswith("{"), timeout=20
    )
    outcome = json.loads(next(o["text"] for o in outs if (o.get("text") or "").startswith("{")))
    assert outcome["status"] == "completed"
    assert "customer.end" in outcome["reason"]
    assert outcome["conversationId"] == conversation_id
    sam = outcome["agent"]
    assert (sam["name"], sam["id"]) == ("Sam Supervisor", seed.SECOND_AGENT_ID)
    assert "avatar" in sam
    assert [(a["name"], a["id"]) for a in outcome["agents"]] == [
        ("Alex Agent", seed.DEMO_AGENT_ID),
        ("Sam Supervisor", seed.SECOND_AGENT_ID),
    ]
    assert outcome["agents"][0]["avatar"]  # Alex has an image in the sandbox seed
    started, ended = epoch(outcome["startedAt"]), epoch(outcome["endedAt"])
    assert started <= ended
    # Whole seconds of the same span (the ISO times are cut to milliseconds).
    assert isinstance(outcome["durationSeconds"], int)
    assert abs(outcome["durationSeconds"] - (ended - started)) <= 0.501
    assert outcome["wrapup"] == {"code": "Resolved", "name": "Resolved", "notes": "refund issued"}
    assert [(line["source"], line["text"]) for line in outcome["transcript"]] == TRANSCRIPT
    times = [epoch(line["time"]) for line in outcome["transcript"]]
    assert times == sorted(times) and started <= times[0] and times[-1] <= ended
    assert "error" not in outcome

    # A second handover: its first message (the transcript) holds the first agent conversation.
    env.agent.go_on_queue()
    env.say("agent again")
    reader = SandboxReader(env.sandbox_url)

    def second_transcript() -> str | None:
        h = handover_of(env)
        if h is None or not h.conversation_id:
            return None
        found = [t for t in reader.inbound_texts(h.conversation_id) if t.startswith("Transcript:")]
        return found[-1] if found and "agent again" in found[-1] else None

    wait_until(lambda: second_transcript() is not None, 15, what="the second handover's transcript")
    text = second_transcript()
    assert text is not None
    lines = text.split("\n")
    expected = [f"{'Agent' if s == 'agent' else 'User'}: {t}" for s, t in TRANSCRIPT]
    start = lines.index(expected[0])
    assert lines[start : start + 4] == expected
    assert lines.index("User: agent please") < start < lines.index("User: agent again")


def test_demo_bot_thanks_the_agent_who_ended_it(bridge_env):
    env = bridge_env  # the shipped demo bot
    play_transfer_and_wrap_up(env)
    outs = collect(
        env,
        lambda o: o["source"] == "bot" and "Thanks for talking to" in (o.get("text") or ""),
        timeout=20,
    )
    thanks = [o["text"] for o in outs if "Thanks for talking to" in (o.get("text") or "")]
    assert thanks == [
        "Thanks for talking to Sam Supervisor. I'm back! What else can I do for you? "
        'Type "agent" to reach a person again.'
    ]


def _events_flow(tmp_path: Path) -> str:
    """The demo bot with Send Queue Event and Send Active Event on, and Cases for both."""
    chart = json.loads((FLOWS_DIR / "demo-bot.json").read_text(encoding="utf-8"))
    for node in chart["nodes"]:
        if node["type"] == "handoverV2":
            node["config"].update(sendOnQueueEvent=True, sendOnActiveEvent=True)
    lookup = next(r for r in chart["relations"] if r["node"] == "lookup-status")
    for status in ("queue", "active"):
        chart["nodes"] += [
            {"_id": f"case-{status}", "type": "case", "config": {"case": {"value": status}}},
            {
                "_id": f"say-{status}",
                "type": "say",
                "config": {
                    "say": {
                        "type": "text",
                        "text": [f"event {status}: {{{{ input.handover.status }}}}"],
                    },
                    "handoverOutput": "userOnly",
                },
            },
            {
                "_id": f"back-{status}",
                "type": "goTo",
                "config": {
                    "flowNode": {"flow": "demo-bot", "node": "lookup-status"},
                    "executionMode": "wait",
                },
            },
        ]
        lookup["children"].insert(0, f"case-{status}")
        chart["relations"] += [
            {"node": f"case-{status}", "children": [], "next": f"say-{status}"},
            {"node": f"say-{status}", "children": [], "next": f"back-{status}"},
            {"node": f"back-{status}", "children": [], "next": None},
        ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(chart), encoding="utf-8")
    return str(path)


def test_send_queue_and_active_events_re_enter_the_flow(bridge_env, tmp_path):
    env = bridge_env
    env.restart_bridge(config=flow_config(_events_flow(tmp_path)))
    env.say("hello")
    env.say("agent please")
    conversation_id = wait_conversation_id(env)
    collect(env, lambda o: o["source"] == "bot" and o.get("text") == "event queue: queue")
    env.agent.go_on_queue()
    env.agent.wait_for_offer()
    env.agent.answer(conversation_id)
    env.agent.send_text(conversation_id, "Hello from Alex")
    outs = collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Hello from Alex")
    shown = [o.get("text") for o in outs if o["source"] in ("bot", "agent")]
    # The active event runs before the agent's first message is shown.
    assert shown.index("event active: active") < shown.index("Hello from Alex")
    # The flow waits at the Lookup again: the end still resumes there.
    env.agent.disconnect(conversation_id)
    collect(env, lambda o: "Thanks for talking to Alex Agent." in (o.get("text") or ""), timeout=20)


def test_repeat_handover_accepted_message_while_waiting_for_an_agent(bridge_env, tmp_path):
    env = bridge_env
    flow = demo_flow_with(
        tmp_path, text="Please hold on, an agent is coming.", repeatHandoverMessage=True
    )
    env.restart_bridge(config=flow_config(flow))
    env.say("hello")
    reply = env.say("agent please")
    assert "Please hold on, an agent is coming." in reply["text"]
    conversation_id = wait_conversation_id(env)
    again = env.say("still there?")
    assert [o["text"] for o in again["outputStack"]] == ["Please hold on, an agent is coming."]
    env.agent.go_on_queue()
    env.agent.wait_for_offer()
    env.agent.answer(conversation_id)
    env.agent.send_text(conversation_id, "Here now")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Here now")
    assert env.say("great")["outputStack"] == []  # an agent has joined: not repeated
    reader = SandboxReader(env.sandbox_url)
    wait_inbound(reader, conversation_id, "still there?")
