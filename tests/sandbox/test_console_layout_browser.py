"""The agent console in headless Chromium, for layout and rich content: nothing hidden shows
before login, the reply box and wrap-up form fit a 1280x900 screen, 360 px wide needs no sideways
scroll, conversations carry the customer's name or id, customer typing and attachments show, and
the agent sends quick replies, a card, a carousel and a file (each reaching the webhook)."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.wire import Customer
from om_bridge.sandbox.seed import BRIDGE_CLIENT_ID, BRIDGE_CLIENT_SECRET, DEMO_INTEGRATION_ID
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Browser, Receiver, require_chromium
from tests.conftest import wait_until

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HIDDEN_BEFORE_LOGIN = (
    "routing-toggle",
    "logout",
    "agent-name",
    "conversations",
    "no-conversations",
    "transfer-form",
    "send-form",
    "wrapup-form",
    "answer",
    "end",
)


class FileServer:
    """Serves one file over HTTP GET on 127.0.0.1 (the customer's attachment URL)."""

    def __init__(self, body: bytes, mime: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def displayed(browser: Browser, testid: str) -> bool:
    from selenium.webdriver.common.by import By

    found = browser.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')
    return any(e.is_displayed() for e in found)


def structured(webhook: Receiver, kind: str) -> list[dict]:
    out = []
    for req in webhook.matching(lambda r: r.path == "/handover/genesysCloudOM"):
        body = req.json()
        if any(c.get("contentType") == kind for c in body.get("content") or []):
            out.append(body)
    return out


def test_console_layout_rich_content_and_customer_typing(tmp_path):
    require_chromium()
    files = FileServer(PDF, "application/pdf")
    with Receiver() as webhook:
        server = SandboxServer(
            config={
                "seed": {"webhook_url": webhook.url + "/handover/genesysCloudOM"},
                "flow": {"queue_position_messages": False},
            }
        ).start()
        genesys = GenesysClient(
            base_url=server.url, client_id=BRIDGE_CLIENT_ID, client_secret=BRIDGE_CLIENT_SECRET
        )
        browser = Browser(story="console")
        try:
            customer = Customer(id=f"cust-{uuid.uuid4().hex[:8]}")
            sent = genesys.send_message(
                DEMO_INTEGRATION_ID,
                customer,
                message_id=str(uuid.uuid4()),
                text="I need a human",
                custom_attributes={"userId": "web-jane"},
            )
            cid = sent["conversationId"]
            driver = browser.driver
            driver.get(f"{server.url}/console")
            browser.by_testid("login-form")
            browser.shot("login")
            shown = [t for t in HIDDEN_BEFORE_LOGIN if displayed(browser, t)]
            assert shown == [], f"visible before login: {shown}"
            assert not driver.find_element("id", "avatar").is_displayed()
            assert not driver.find_element("id", "workspace").is_displayed()

            browser.resize(360, 740)
            assert browser.horizontal_overflow() == 0
            browser.resize(1280, 900)

            browser.by_testid("login-submit").click()
            offer = browser.by_testid(f"conversation-{cid}")
            assert offer.text.startswith("web-jane")
            browser.wait(lambda d: displayed(browser, "answer"), what="the Answer button")
            # an offered conversation: no transfer, reply or wrap-up controls
            for testid in ("transfer-form", "send-form", "wrapup-form"):
                assert not displayed(browser, testid), testid
            browser.shot("offered")
            browser.by_testid("answer").click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "active", what="active"
            )
            assert browser.in_viewport(browser.by_testid("message-text"))
            assert browser.in_viewport(browser.by_testid("send"))

            # the customer types, then sends a PDF: the agent sees both
            genesys.send_typing(DEMO_INTEGRATION_ID, customer)
            browser.wait(
                lambda d: "web-jane is typing" in browser.by_testid("customer-typing").text,
                what="customer typing",
            )
            browser.shot("customer-typing")
            genesys.send_message(
                DEMO_INTEGRATION_ID,
                customer,
                message_id=str(uuid.uuid4()),
                text="Here is my invoice",
                content=[
                    {
                        "attachment": {
                            "mediaType": "File",
                            "url": files.url + "/invoice.pdf",
                            "mime": "application/pdf",
                            "filename": "invoice.pdf",
                        }
                    }
                ],
            )
            link = browser.by_testid("transcript-attachment", timeout=20)
            assert link.text.startswith("invoice.pdf")
            href = link.get_attribute("href")
            assert href.startswith(server.url)
            assert requests.get(href, timeout=5).content == PDF

            def send_rich(kind: str, text: str, buttons: str) -> None:
                browser.driver.execute_script(
                    "arguments[0].value = arguments[1]", browser.by_testid("rich-kind"), kind
                )
                browser.by_testid("rich-buttons").send_keys(buttons)
                browser.by_testid("message-text").send_keys(text)
                browser.by_testid("send").click()

            send_rich("quickreplies", "Shall I refund it?", "Yes, No")
            wait_until(lambda: structured(webhook, "QuickReply"), what="quick replies")
            body = structured(webhook, "QuickReply")[0]
            assert body["type"] == "Structured" and body["text"] == "Shall I refund it?"
            assert [c["quickReply"]["text"] for c in body["content"]] == ["Yes", "No"]

            browser.wait(
                lambda d: browser.by_testid("message-text").get_attribute("value") == "",
                what="the reply box to clear",
            )
            send_rich("card", "Refund options", "Refund, Help|https://example.com/help")
            wait_until(lambda: structured(webhook, "Card"), what="a card")
            card = structured(webhook, "Card")[0]["content"][0]["card"]
            assert card["title"] == "Refund options"
            assert card["actions"] == [
                {"type": "Postback", "text": "Refund", "payload": "Refund"},
                {"type": "Link", "text": "Help", "url": "https://example.com/help"},
            ]

            browser.wait(
                lambda d: browser.by_testid("message-text").get_attribute("value") == "",
                what="the reply box to clear",
            )
            browser.driver.execute_script(
                "arguments[0].value = arguments[1]", browser.by_testid("rich-kind"), "carousel"
            )
            browser.by_testid("rich-buttons").send_keys("Choose")
            browser.driver.execute_script(
                "arguments[0].value = 'Plan A\\nPlan B'", browser.by_testid("message-text")
            )
            browser.by_testid("send").click()
            wait_until(lambda: structured(webhook, "Carousel"), what="a carousel")
            cards = structured(webhook, "Carousel")[0]["content"][0]["carousel"]["cards"]
            assert [c["title"] for c in cards] == ["Plan A", "Plan B"]

            browser.wait(
                lambda d: browser.by_testid("message-text").get_attribute("value") == "",
                what="the reply box to clear",
            )
            upload = tmp_path / "receipt.pdf"
            upload.write_bytes(PDF)
            driver.find_element("id", "attach-file").send_keys(str(upload))
            browser.by_testid("send").click()
            wait_until(lambda: structured(webhook, "Attachment"), what="the agent's file")
            att = structured(webhook, "Attachment")[0]["content"][0]["attachment"]
            assert att["filename"] == "receipt.pdf" and att["mime"] == "application/pdf"
            assert requests.get(att["url"], timeout=5).content == PDF
            browser.wait(
                lambda d: len(d.find_elements("css selector", '[data-testid="transcript-card"]'))
                >= 3,
                what="the card and carousel in the transcript",
            )
            browser.shot("rich-sent")

            browser.resize(360, 740)
            browser.wait(lambda d: browser.horizontal_overflow() == 0, what="no sideways scroll")
            browser.shot("narrow")
            browser.resize(1280, 900)

            browser.by_testid("end").click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "wrap-up", what="wrap-up"
            )
            assert not displayed(browser, "transfer-form")
            assert browser.in_viewport(browser.by_testid("wrapup"))
            browser.shot("wrap-up")
            assert browser.console_errors() == []
        finally:
            browser.close()
            genesys.close()
            server.stop()
            files.close()
