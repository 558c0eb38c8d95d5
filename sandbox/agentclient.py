"""`AgentClient`: a Python agent over the sandbox's real agent HTTP routes (password-grant login,
routing status, conversations, answer, send, typing, transfer, disconnect, wrap-up, transcript),
used by tests, scenario tests, benchmarks and the demo."""

from __future__ import annotations

import time
from typing import Any

import requests

from om_bridge.sandbox.seed import AGENT_CONSOLE_CLIENT_ID, AGENT_CONSOLE_CLIENT_SECRET

M = "/api/v2/conversations/messages"


class AgentError(RuntimeError):
    """A sandbox API call answered with an error status (carries status and the ErrorBody)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class AgentClient:
    """One logged-in agent; `login()` runs on first use."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        client_id: str = AGENT_CONSOLE_CLIENT_ID,
        client_secret: str = AGENT_CONSOLE_CLIENT_SECRET,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self._password = username, password
        self._client = (client_id, client_secret)
        self.timeout = timeout
        self.session = requests.Session()
        self.token: str | None = None
        self.user_id: str | None = None

    # ------------------------------------------------------------------ plumbing
    def login(self) -> AgentClient:
        """Password grant through the agent console's OAuth client, then `/users/me`."""
        resp = self.session.post(
            f"{self.base_url}/oauth/token",
            auth=self._client,
            timeout=self.timeout,
            data={"grant_type": "password", "username": self.username, "password": self._password},
        )
        if resp.status_code != 200:
            raise AgentError(resp.status_code, _body(resp))
        self.token = resp.json()["access_token"]
        self.user_id = self._call("GET", "/api/v2/users/me")["id"]
        return self

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        if self.token is None and path != "/api/v2/users/me":
            self.login()
        resp = self.session.request(
            method,
            self.base_url + path,
            json=json,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if resp.status_code >= 400:
            raise AgentError(resp.status_code, _body(resp))
        return _body(resp)

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ routing
    def go_on_queue(self) -> dict:
        return self.set_status("IDLE")

    def go_off_queue(self) -> dict:
        return self.set_status("OFF_QUEUE")

    def set_status(self, status: str) -> dict:
        self._me()
        return self._call("PUT", f"/api/v2/users/{self.user_id}/routingstatus", {"status": status})

    def _me(self) -> None:
        if self.user_id is None:
            self.login()

    # ------------------------------------------------------------------ conversations
    def conversations(self, customer_typing: bool = False) -> list[dict]:
        """The agent's own active conversations (`MessageConversation` list); with
        `customer_typing`, each with the sandbox's `sandboxCustomerTypingTime` (as the console asks)."""
        path = f"{M}?sandboxCustomerTyping=true" if customer_typing else M
        return self._call("GET", path)["entities"]

    def conversation(self, conversation_id: str) -> dict:
        return self._call("GET", f"{M}/{conversation_id}")

    def my_leg(
        self,
        conversation: dict,
        states: tuple[str, ...] = ("alerting", "connected", "disconnected"),
    ) -> dict | None:
        """This agent's latest participant on `conversation` in one of `states`."""
        self._me()
        legs = [
            p
            for p in conversation["participants"]
            if p.get("purpose") == "agent"
            and (p.get("user") or {}).get("id") == self.user_id
            and p.get("state") in states
        ]
        return legs[-1] if legs else None

    def wait_for_offer(self, timeout: float = 10.0, interval: float = 0.05) -> dict:
        """Poll until a conversation alerts this agent; returns the `MessageConversation`."""
        deadline = time.monotonic() + timeout
        while True:
            for conv in self.conversations():
                if self.my_leg(conv, ("alerting",)) is not None:
                    return conv
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no conversation offered to {self.username} in {timeout}s")
            time.sleep(interval)

    def _leg_id(self, conversation_id: str, states: tuple[str, ...]) -> str:
        leg = self.my_leg(self.conversation(conversation_id), states)
        if leg is None:
            raise AgentError(
                400, f"{self.username} has no {'/'.join(states)} leg on {conversation_id}"
            )
        return leg["id"]

    def communication_id(self, conversation_id: str) -> str:
        """The agent's communication id (`participants[].messages[].id` of `/conversations/{id}`)."""
        conv = self._call("GET", f"/api/v2/conversations/{conversation_id}")
        legs = [
            p
            for p in conv["participants"]
            if p.get("purpose") == "agent"
            and p.get("userId") == self.user_id
            and p["messages"][0]["state"] == "connected"
        ]
        if not legs:
            raise AgentError(400, f"{self.username} is not connected to {conversation_id}")
        return legs[-1]["messages"][0]["id"]

    def answer(self, conversation_id: str) -> None:
        pid = self._leg_id(conversation_id, ("alerting",))
        self._call("PATCH", f"{M}/{conversation_id}/participants/{pid}", {"state": "connected"})

    def send_text(self, conversation_id: str, text: str) -> dict:
        """Send a text to the customer; returns the `MessageData`."""
        cid = self.communication_id(conversation_id)
        return self._call(
            "POST", f"{M}/{conversation_id}/communications/{cid}/messages", {"textBody": text}
        )

    def send_content(
        self, conversation_id: str, content: list[dict], text: str | None = None
    ) -> dict:
        """Send structured content (QuickReply, Card, Carousel elements; the sandbox's extension
        of the agent message API) with an optional text; returns the `MessageData`."""
        cid = self.communication_id(conversation_id)
        body: dict[str, Any] = {"content": content}
        if text:
            body["textBody"] = text
        return self._call("POST", f"{M}/{conversation_id}/communications/{cid}/messages", body)

    def send_attachment(
        self,
        conversation_id: str,
        filename: str,
        data: bytes,
        mime: str = "application/octet-stream",
        text: str | None = None,
    ) -> dict:
        """Upload `data` (media upload API + PUT to `uploadUrl`) and send it; returns `MessageData`."""
        cid = self.communication_id(conversation_id)
        up = self._call(
            "POST",
            f"{M}/{conversation_id}/communications/{cid}/messages/media/uploads",
            {"fileName": filename, "contentLengthBytes": len(data)},
        )
        resp = self.session.put(
            up["uploadUrl"], data=data, headers={"Content-Type": mime}, timeout=self.timeout
        )
        if resp.status_code >= 400:
            raise AgentError(resp.status_code, _body(resp))
        body: dict[str, Any] = {"mediaIds": [up["id"]]}
        if text:
            body["textBody"] = text
        return self._call("POST", f"{M}/{conversation_id}/communications/{cid}/messages", body)

    def send_typing(self, conversation_id: str, duration_ms: int = 5000) -> None:
        cid = self.communication_id(conversation_id)
        self._call(
            "POST",
            f"{M}/{conversation_id}/communications/{cid}/typing",
            {"typing": {"type": "On", "duration": duration_ms}},
        )

    def transfer_to_queue(self, conversation_id: str, queue_id: str) -> None:
        pid = self._leg_id(conversation_id, ("connected",))
        self._call(
            "POST", f"{M}/{conversation_id}/participants/{pid}/replace", {"queueId": queue_id}
        )

    def transfer_to_user(self, conversation_id: str, user_id: str) -> None:
        pid = self._leg_id(conversation_id, ("connected",))
        self._call("POST", f"{M}/{conversation_id}/participants/{pid}/replace", {"userId": user_id})

    def disconnect(self, conversation_id: str, wrapup: dict | None = None) -> None:
        """End the agent's leg (the conversation ends when no other agent or queue remains); with
        `wrapup` ({code, notes?}) the wrap-up is applied in the same request."""
        pid = self._leg_id(conversation_id, ("alerting", "connected"))
        body: dict[str, Any] = {"state": "disconnected"}
        if wrapup is not None:
            body["wrapup"] = wrapup
        self._call("PATCH", f"{M}/{conversation_id}/participants/{pid}", body)

    def wrap_up(
        self, conversation_id: str, code: str = "Resolved", notes: str | None = None
    ) -> None:
        """Apply a wrap-up code to the agent's latest disconnected leg."""
        pid = self._leg_id(conversation_id, ("disconnected",))
        wrapup: dict[str, Any] = {"code": code}
        if notes:
            wrapup["notes"] = notes
        self._call("PATCH", f"{M}/{conversation_id}/participants/{pid}", {"wrapup": wrapup})

    def transcript(self, conversation_id: str) -> list[dict]:
        """Every message of the conversation as `MessageData`, oldest first."""
        return self._call("POST", f"{M}/{conversation_id}/messages/bulk", [])["entities"]


def _body(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return resp.text
