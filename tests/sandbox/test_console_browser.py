"""The agent console in headless Chromium: log in as the demo agent, see the offered conversation
with the customer's custom attributes, answer, reply — and the reply reaches the Open Messaging
webhook as a signed Human text message."""

from __future__ import annotations

import uuid

import pytest

from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.signature import verify_signature
from om_bridge.bridge.genesys.wire import Customer
from om_bridge.sandbox.seed import (
    BRIDGE_CLIENT_ID,
    BRIDGE_CLIENT_SECRET,
    DEMO_AGENT_ID,
    DEMO_INTEGRATION_ID,
    DEMO_WEBHOOK_SECRET,
)
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Browser, Receiver, require_chromium
from tests.conftest import wait_until

pytestmark = pytest.mark.browser


def test_agent_answers_and_replies_from_the_console():
    require_chromium()
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
        browser = Browser()
        try:
            sent = genesys.send_message(
                DEMO_INTEGRATION_ID,
                Customer(id="cust-browser-1", nickname="Jane D."),
                message_id=str(uuid.uuid4()),
                text="Hello, I need a human",
                custom_attributes={"language": "en-US", "orderId": "A-1042"},
            )
            cid = sent["conversationId"]

            driver = browser.driver
            driver.get(f"{server.url}/console")
            assert browser.by_testid("login-form")
            # prefilled with the demo agent and the agent-console OAuth client
            assert browser.by_testid("login-submit")
            username = driver.find_element("id", "username")
            assert username.get_attribute("value") == "alex@example.com"
            browser.by_testid("login-submit").click()
            assert browser.by_testid("agent-name").text == "Alex Agent"

            offer = browser.by_testid(f"conversation-{cid}")
            assert offer.get_attribute("data-phase") == "offered"
            browser.wait(
                lambda d: browser.by_testid("attribute-orderId").text == "A-1042",
                what="custom attribute orderId",
            )
            assert browser.by_testid("attribute-language").text == "en-US"
            browser.wait(
                lambda d: "Hello, I need a human" in browser.by_testid("transcript").text,
                what="the customer's message in the transcript",
            )

            browser.by_testid("answer").click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "active",
                what="conversation active",
            )
            box = browser.by_testid("message-text")
            box.send_keys("Hi Jane, Alex here. How can I help?")
            browser.by_testid("send").click()

            def human_text():
                for req in webhook.matching(lambda r: r.path == "/handover/genesysCloudOM"):
                    body = req.json()
                    if (
                        body.get("type") == "Text"
                        and body.get("text") == "Hi Jane, Alex here. How can I help?"
                    ):
                        return req
                return None

            wait_until(lambda: human_text() is not None, what="the agent's text at the webhook")
            req = human_text()
            body = req.json()
            assert body["direction"] == "Outbound"
            assert body["originatingEntity"] == "Human"
            assert body["channel"]["to"]["id"] == "cust-browser-1"
            signature = req.headers["X-Hub-Signature-256"]
            assert verify_signature(DEMO_WEBHOOK_SECRET, req.body, signature)
            browser.wait(
                lambda d: "Alex here" in browser.by_testid("transcript").text,
                what="the reply in the transcript",
            )

            # typing on keypress reached the webhook as a Typing event
            wait_until(
                lambda: any(r.json().get("type") == "Event" for r in webhook.requests),
                what="agent typing event",
            )
            assert browser.console_errors() == []
        finally:
            browser.close()
            genesys.close()
            server.stop()


def test_transfer_end_and_wrap_up_from_the_console():
    require_chromium()
    from om_bridge.sandbox.seed import SECOND_QUEUE_ID

    with Receiver() as webhook:
        server = SandboxServer(
            config={
                "seed": {"webhook_url": webhook.url},
                "flow": {"queue_position_messages": False},
            }
        ).start()
        genesys = GenesysClient(
            base_url=server.url, client_id=BRIDGE_CLIENT_ID, client_secret=BRIDGE_CLIENT_SECRET
        )
        browser = Browser()
        try:

            def start(customer: str) -> str:
                sent = genesys.send_message(
                    DEMO_INTEGRATION_ID,
                    Customer(id=customer),
                    message_id=str(uuid.uuid4()),
                    text="hi",
                )
                return sent["conversationId"]

            first = start("cust-browser-2")
            browser.driver.get(f"{server.url}/console")
            browser.by_testid("login-submit").click()
            browser.by_testid(f"conversation-{first}")
            browser.by_testid("answer").click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "active",
                what="first conversation active",
            )
            select = browser.by_testid("transfer-queue")
            browser.driver.execute_script(
                "arguments[0].value = arguments[1]", select, SECOND_QUEUE_ID
            )
            browser.by_testid("transfer").click()
            # after a transfer the agent's leg is in after-call work, as in Genesys
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "wrap-up",
                what="wrap-up after the transfer",
            )
            browser.by_testid("wrapup").click()
            browser.wait(
                lambda d: browser.by_testid("no-conversations").is_displayed(),
                what="the transferred conversation to leave the list",
            )
            conv = genesys.get_message_conversation(first)
            acd = [p for p in conv["participants"] if p["purpose"] == "acd"]
            assert acd[-1]["queue"]["id"] == SECOND_QUEUE_ID and acd[-1]["state"] != "disconnected"
            agent_leg = [
                p
                for p in conv["participants"]
                if p["purpose"] == "agent" and p["user"]["id"] == DEMO_AGENT_ID
            ][-1]
            assert agent_leg["disconnectType"] == "transfer"

            second = start("cust-browser-3")
            browser.by_testid(f"conversation-{second}").click()
            browser.wait(lambda d: browser.by_testid("answer").is_displayed(), what="answer button")
            browser.by_testid("answer").click()
            browser.wait(
                lambda d: browser.by_testid("end").text == "End conversation", what="end button"
            )
            browser.by_testid("end").click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "wrap-up", what="wrap-up phase"
            )
            customer = [
                p
                for p in genesys.get_message_conversation(second)["participants"]
                if p["purpose"] == "customer"
            ][0]
            assert customer["state"] == "disconnected" and customer["disconnectType"] == "peer"
            notes = browser.by_testid("wrapup-notes")
            notes.send_keys("solved in chat")
            browser.by_testid("wrapup").click()
            browser.wait(
                lambda d: browser.by_testid("no-conversations").is_displayed(),
                what="wrapped-up conversation to leave the list",
            )
            leg = [
                p
                for p in genesys.get_message_conversation(second)["participants"]
                if p["purpose"] == "agent"
            ][-1]
            assert (leg["wrapup"]["code"], leg["wrapup"]["notes"]) == ("Resolved", "solved in chat")
            assert browser.console_errors() == []
        finally:
            browser.close()
            genesys.close()
            server.stop()
