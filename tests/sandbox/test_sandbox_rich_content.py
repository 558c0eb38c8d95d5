"""The sandbox's agent message `content` extension (QuickReply, Card, Carousel sent as a Structured
message), its validation (400 naming the element, nothing sent), and customer attachments
re-hosted by the sandbox (served at its download URL with their size)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from sandbox_testkit import WebhookReceiver, inbound, start, token

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient, AgentError

M = "/api/v2/conversations/messages"


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start({"flow": {"queue_position_messages": False}}, receiver)
    alex = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    alex.go_on_queue()
    yield server, token(server.url), receiver, alex
    alex.close()
    server.stop()
    receiver.stop()


def answered(server, tok, alex, customer: str) -> str:  # type: ignore[no-untyped-def]
    cid = inbound(server.url, tok, customer).json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    return cid


def test_agent_sends_quick_replies_card_and_carousel(env):
    server, tok, receiver, alex = env
    cid = answered(server, tok, alex, "cust-rich-1")
    card = {
        "title": "Refund",
        "description": "3 days",
        "actions": [
            {"type": "Postback", "text": "Yes", "payload": "refund"},
            {"type": "Link", "text": "Policy", "url": "https://example.com/p"},
        ],
    }
    alex.send_content(
        cid,
        [{"contentType": "QuickReply", "quickReply": {"text": "Yes"}}],
        text="Proceed?",
    )
    alex.send_content(cid, [{"contentType": "Card", "card": card}])
    alex.send_content(cid, [{"contentType": "Carousel", "carousel": {"cards": [card, card]}}])
    receiver.wait_for(lambda: len(receiver.of_type("Structured")) >= 3)
    bodies = [h.json for h in receiver.of_type("Structured")]
    assert bodies[0]["text"] == "Proceed?" and bodies[0]["originatingEntity"] == "Human"
    assert bodies[0]["content"] == [
        {
            "contentType": "QuickReply",
            "quickReply": {"text": "Yes", "payload": "Yes", "action": "Message"},
        }
    ]
    assert bodies[1]["content"][0]["card"] == card
    assert bodies[2]["content"][0]["carousel"]["cards"] == [card, card]


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ([{"contentType": "Sticker"}], "content[0].contentType"),
        ([{"contentType": "QuickReply", "quickReply": {"text": ""}}], "content[0].quickReply.text"),
        (
            [{"contentType": "Card", "card": {"title": "T", "actions": [{"type": "Call"}]}}],
            "content[0].card.actions[0].type",
        ),
        ([{"contentType": "Carousel", "carousel": {"cards": []}}], "content[0].carousel.cards"),
        ("not a list", "content must be a list"),
    ],
)
def test_bad_content_is_refused_naming_the_element(env, content, path):
    server, tok, receiver, alex = env
    cid = answered(server, tok, alex, f"cust-bad-{abs(hash(path))}")
    before = len(receiver.hits)
    with pytest.raises(AgentError) as err:
        alex.send_content(cid, content)
    assert err.value.status == 400 and path in str(err.value.body)
    assert len(receiver.hits) == before


def test_customer_attachment_is_rehosted_with_its_size(env):
    server, tok, _receiver, alex = env
    body = b"%PDF-1.4\n%%EOF\n"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    files = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{files.server_address[1]}/a.pdf"
        content = [{"attachment": {"mediaType": "File", "url": url, "mime": "application/pdf"}}]
        cid = inbound(server.url, tok, "cust-file", text=None, content=content).json()[
            "conversationId"
        ]
        message = [m for m in alex.transcript(cid) if m["direction"] == "inbound"][-1]
        att = message["normalizedMessage"]["content"][0]["attachment"]
        assert att["url"].startswith(server.url + "/sandbox/downloads/")
        assert att["filename"] == "a.pdf" and att["contentSizeBytes"] == len(body)
        assert requests.get(att["url"], timeout=5).content == body
    finally:
        files.shutdown()
        files.server_close()
