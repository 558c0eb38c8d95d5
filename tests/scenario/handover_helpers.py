"""Helpers for the handover scenario tests: flow variants, sandbox conversation reads, waits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from om_bridge.sandbox import seed
from tests.conftest import wait_until

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"


def demo_flow_with(
    tmp_path: Path,
    says: dict[str, str] | None = None,
    nodes: dict[str, dict] | None = None,
    **handover_config: Any,
) -> str:
    """A copy of flows/demo-bot.json whose Handover node config is updated (and Say nodes, by id,
    given new text); returns its path."""
    chart = json.loads((FLOWS_DIR / "demo-bot.json").read_text(encoding="utf-8"))
    for node in chart["nodes"]:
        if node["type"] == "handoverV2":
            node["config"].update(handover_config)
        if says and node["_id"] in says:
            node["config"]["say"]["text"] = [says[node["_id"]]]
        if nodes and node["_id"] in nodes:
            node["config"].update(nodes[node["_id"]])
    path = tmp_path / "demo-bot-variant.json"
    path.write_text(json.dumps(chart), encoding="utf-8")
    return str(path)


def flow_config(path: str) -> dict:
    """A bridge config override pointing the demo endpoint at flow `path`."""
    return {"endpoints": [{"url_token": "demo", "flow": path}]}


class SandboxReader:
    """Reads the sandbox through its real API with the bridge's OAuth client (as an admin would)."""

    def __init__(self, sandbox_url: str) -> None:
        self.base = sandbox_url
        resp = requests.post(
            f"{sandbox_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(seed.BRIDGE_CLIENT_ID, seed.BRIDGE_CLIENT_SECRET),
            timeout=10,
        )
        resp.raise_for_status()
        self.headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}

    def get(self, path: str) -> Any:
        resp = requests.get(self.base + path, headers=self.headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def post(self, path: str, body: Any) -> Any:
        resp = requests.post(self.base + path, json=body, headers=self.headers, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def conversation(self, conversation_id: str) -> dict:
        return self.get(f"/api/v2/conversations/messages/{conversation_id}")

    def customer(self, conversation_id: str) -> dict:
        conv = self.conversation(conversation_id)
        return next(p for p in conv["participants"] if p.get("purpose") == "customer")

    def messages(self, conversation_id: str) -> list[dict]:
        """Every message of the conversation (`MessageData`), oldest first."""
        path = f"/api/v2/conversations/messages/{conversation_id}/messages/bulk"
        return self.post(path, [])["entities"]

    def inbound_texts(self, conversation_id: str) -> list[str]:
        """Texts the customer sent (what the agent sees), oldest first."""
        return [
            message_text(m)
            for m in self.messages(conversation_id)
            if m.get("direction") == "inbound"
        ]

    def outbound(self, conversation_id: str, text: str) -> dict | None:
        """The outbound (agent/bot) message with this text, or None."""
        found = [
            m
            for m in self.messages(conversation_id)
            if m.get("direction") == "outbound" and message_text(m) == text
        ]
        return found[-1] if found else None


def message_text(message: dict) -> str | None:
    """The text of a `MessageData`."""
    return message.get("textBody") or (message.get("normalizedMessage") or {}).get("text")


def handover_of(env: Any) -> Any:
    """The session's open handover in the bridge's store (None when there is none)."""
    from om_bridge.bridge.store import SessionKey

    key = SessionKey(env.url_token, env.user_id, env.session_id)
    return env.ctx.store.open_handover_for_session(key)


def wait_conversation_id(env: Any, timeout: float = 15.0) -> str:
    """The Genesys conversation id of the session's handover, once its first message went out."""
    found: list[str] = []

    def known() -> bool:
        h = handover_of(env)
        if h is not None and h.conversation_id:
            found.append(h.conversation_id)
        return bool(found)

    wait_until(known, timeout, what="the handover's conversation id")
    return found[0]


def texts(outputs: list[dict], source: str) -> list[str]:
    return [o["text"] for o in outputs if o["source"] == source and o.get("text")]


def said(source: str, text: str) -> Any:
    """A predicate: an output from `source` with exactly `text`."""
    return lambda o: o["source"] == source and o.get("text") == text


def statuses(outputs: list[dict]) -> list[str]:
    return [
        ((o.get("data") or {}).get("handover") or {}).get("status")
        for o in outputs
        if o["source"] == "system"
    ]


def collect(env: Any, predicate: Any, timeout: float = 15.0) -> list[dict]:
    """All outputs so far, once one of them satisfies `predicate` (polling the long-poll route)."""
    got: list[dict] = []

    def ok() -> bool:
        got[:] = env.outputs(0, wait=0.5)["outputs"]
        return any(predicate(o) for o in got)

    wait_until(ok, timeout, interval=0, what="a matching output")
    return got


def start_handover(env: Any, *, agent_answers: bool = False) -> str:
    """Greeting → "agent" → the conversation id; optionally the agent answers it."""
    env.say("hello")
    env.say("agent please")
    conversation_id = wait_conversation_id(env)
    if agent_answers:
        env.agent.go_on_queue()
        env.agent.wait_for_offer()
        env.agent.answer(conversation_id)
    return conversation_id


def agent_texts(env: Any) -> list[str]:
    return texts(env.outputs(0)["outputs"], "agent")


def customer_of(env: Any) -> str:
    """The Genesys customer id (`channel.to.id` of webhooks) of the session's open handover; the
    user id when there is none (a webhook then names no handover)."""
    h = handover_of(env)
    return h.customer_id if h is not None else env.user_id
