"""The story every test of a served bridge process plays: a user hands over to the demo agent, the
agent answers, the user writes back, the agent ends and the bot is back. Over HTTP(S) only, so it
runs against `om-bridge serve` from the dev venv, a clean install or a container alike."""

from __future__ import annotations

import uuid

import requests

from om_bridge.bridge.demo import DEMO_TOKEN
from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from tests.conftest import wait_until
from tests.scenario.handover_helpers import SandboxReader, collect, statuses


class Channel:
    """The user's side of the endpoint, over HTTP (what `collect` needs: `outputs`)."""

    def __init__(self, bridge_url: str) -> None:
        self.base = f"{bridge_url}/endpoint/{DEMO_TOKEN}"
        self.user_id = f"user-{uuid.uuid4().hex[:12]}"
        self.session_id = f"session-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> dict:
        body = {"userId": self.user_id, "sessionId": self.session_id, "text": text}
        resp = requests.post(self.base, json=body, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def outputs(self, after: int = 0, wait: float = 0) -> dict:
        resp = requests.get(
            f"{self.base}/sessions/{self.session_id}/outputs",
            params={"userId": self.user_id, "after": after, "wait": wait},
            timeout=wait + 10,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()


def hand_over_and_back(sandbox_url: str, bridge_url: str) -> None:
    """Hand a conversation over to Alex and back to the bot through the served bridge."""
    agent = AgentClient(sandbox_url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD).login()
    try:
        agent.go_on_queue()
        user = Channel(bridge_url)
        assert "demo bot" in user.say("hello")["text"]
        assert "Connecting you to a human agent" in user.say("I want an agent please")["text"]
        conversation_id = agent.wait_for_offer(timeout=30)["id"]
        agent.answer(conversation_id)
        agent.send_text(conversation_id, "Hi, I am Alex.")
        outs = collect(user, lambda o: o["source"] == "agent" and o.get("text"), timeout=30)
        assert [o["text"] for o in outs if o["source"] == "agent"] == ["Hi, I am Alex."]

        assert user.say("My order is late")["outputStack"] == []
        reader = SandboxReader(sandbox_url)
        wait_until(
            lambda: "My order is late" in reader.inbound_texts(conversation_id),
            30,
            interval=0.2,
            what="the user's message at the agent",
        )
        agent.disconnect(conversation_id)
        outs = collect(
            user, lambda o: o["source"] == "bot" and "I'm back" in (o.get("text") or ""), 30
        )
        assert "completed" in statuses(outs)
    finally:
        agent.close()
