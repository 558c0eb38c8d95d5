"""The endpoint's history, uploads and end-of-conversation routes over real HTTP (bridge + sandbox):
user inputs and direct bot replies kept for `history=true` only, files stored and served to
Genesys, bad uploads refused naming the problem, a Genesys bot message's quick replies kept as
buttons and answered as a structured response, and a user leaving ending the handover."""

from __future__ import annotations

from typing import Any

import requests
from handover_helpers import collect, handover_of, start_handover

from tests.conftest import wait_until

PDF = b"%PDF-1.4\n%%EOF\n"


def history(env: Any, after: int = 0) -> list[dict]:
    resp = requests.get(
        env.session_url("/outputs"),
        params={"userId": env.user_id, "after": after, "history": "true"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["outputs"]


def upload(env: Any, body: bytes, mime: str, name: str = "file.pdf") -> requests.Response:
    return requests.post(
        env.session_url("/uploads"),
        params={"userId": env.user_id, "name": name},
        data=body,
        headers={"Content-Type": mime},
        timeout=10,
    )


def test_history_holds_user_inputs_and_direct_replies_only_when_asked(bridge_env):
    env = bridge_env
    env.say("hello")
    plain = env.outputs(0)["outputs"]
    assert all(o["source"] != "user" and not o.get("reply") for o in plain)
    full = history(env)
    assert [(o["source"], o["text"]) for o in full[:1]] == [("user", "hello")]
    assert full[1]["source"] == "bot" and full[1]["reply"] is True and "demo bot" in full[1]["text"]
    assert [o["seq"] for o in full] == sorted(o["seq"] for o in full)
    # the long-poll's `next` moves past records it leaves out, so a client never re-reads them
    assert env.outputs(0)["next"] == full[-1]["seq"]


def test_bad_history_flag_is_refused(bridge_env):
    resp = requests.get(
        bridge_env.session_url("/outputs"),
        params={"userId": bridge_env.user_id, "history": "maybe"},
        timeout=10,
    )
    assert resp.status_code == 400 and resp.json()["path"] == "history"


def test_upload_is_stored_served_and_bad_ones_refused(bridge_env):
    env = bridge_env
    start_handover(env)
    before = [o for o in history(env) if o["source"] == "user"]
    resp = upload(env, PDF, "application/pdf", "../../etc/my invoice.pdf")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["filename"] == "my invoice.pdf" and body["contentSizeBytes"] == len(PDF)
    assert body["mediaType"] == "File" and body["url"].startswith(env.bridge_url + "/endpoint/")
    got = requests.get(body["url"], timeout=10)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")
    # a wrong name or id finds nothing
    assert requests.get(body["url"] + "x", timeout=10).status_code == 404
    assert requests.get(body["url"].replace(body["id"], "0" * 32), timeout=10).status_code == 404

    html = upload(env, b"<script>alert(1)</script>", "text/html", "x.html")
    assert html.status_code == 415 and "text/html" in html.json()["message"]
    empty = upload(env, b"", "application/pdf")
    assert empty.status_code == 400 and empty.json()["message"] == "the file is empty"
    big = upload(env, b"0" * (10 * 1024 * 1024 + 1), "text/plain", "big.txt")
    assert big.status_code == 413 and "limit" in big.json()["message"]
    no_user = requests.post(
        env.session_url("/uploads"), data=PDF, headers={"Content-Type": "application/pdf"}
    )
    assert no_user.status_code == 400 and no_user.json()["path"] == "userId"
    # none of that touched the conversation (the handover's own messages may still arrive)
    assert [o for o in history(env) if o["source"] == "user"] == before


def test_genesys_bot_quick_replies_stay_buttons_and_a_click_answers_them(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp = requests.post(
        f"{env.sandbox_url}/sandbox/conversations/{conversation_id}/bot-messages",
        json={"text": "Shall we call you back?", "quickReplies": ["Yes please", "No"]},
        timeout=10,
    )
    assert resp.status_code == 202, resp.text
    outputs = collect(env, lambda o: o.get("text") == "Shall we call you back?")
    shown = [o for o in outputs if o.get("text") == "Shall we call you back?"][0]
    buttons = shown["data"]["_cognigy"]["_default"]["_quickReplies"]["quickReplies"]
    assert [b["title"] for b in buttons] == ["Yes please", "No"]

    env.say("Yes please")
    env.agent.go_on_queue()
    env.agent.wait_for_offer()
    env.agent.answer(conversation_id)

    def answered() -> list[dict]:
        return [
            c["buttonResponse"]
            for m in env.agent.transcript(conversation_id)
            for c in (m.get("normalizedMessage") or {}).get("content") or []
            if c.get("contentType") == "ButtonResponse"
        ]

    wait_until(lambda: answered(), 15, interval=0.25, what="the structured response")
    assert answered()[0] == {"type": "QuickReply", "text": "Yes please", "payload": "Yes please"}


def test_user_leaving_ends_the_handover_and_disconnects_the_customer(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    handover = handover_of(env)
    resp = env.post_session("end")
    assert resp.status_code == 204
    wait_until(
        lambda: env.ctx.store.get_handover(handover.id).status == "cancelled",
        20,
        interval=0.1,
        what="the handover to end cancelled",
    )
    conv = env.agent.conversation(conversation_id)
    customer = [p for p in conv["participants"] if p["purpose"] == "customer"][0]
    assert customer["state"] == "disconnected"
    texts = [
        (m.get("normalizedMessage") or {}).get("text")
        for m in env.agent.transcript(conversation_id)
    ]
    assert "User left the conversation" in texts
    # ending again, or a session without a handover, changes nothing
    assert env.post_session("end").status_code == 204
    assert env.post_session("end", session_id="no-such-session").status_code == 204


def test_the_active_status_names_the_agent(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_text(conversation_id, "Hello from Alex")

    def active(o: dict) -> bool:
        return ((o.get("data") or {}).get("handover") or {}).get("status") == "active"

    outputs = collect(env, active)
    status = [o for o in outputs if active(o)][0]
    assert status["data"]["agent"]["name"] == "Alex Agent"
