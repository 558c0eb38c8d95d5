"""The demo story in headless Chromium, with the agents driven over the sandbox's agent APIs:
queue position in the banner, the agent's name on typing, an agent image, PDF, card and carousel,
quick replies and card buttons answered by click, a file the user uploads reaching the agent, a
reload in the middle of the handover restoring history and banner, a message sent while the
bridge is down marked and re-sent, a transfer to Sam and back with the right names, no sideways
scroll at 360 px, and "New conversation" ending the old handover. Screenshots of every step are
written under `.om-bridge/screenshots/webchat/` (the path is printed)."""

from __future__ import annotations

import struct
import zlib

import pytest
import requests

from om_bridge.sandbox import seed
from tests.browser import Browser, require_chromium
from tests.conftest import wait_until

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png(width: int = 160, height: int = 90) -> bytes:
    """A small valid PNG (solid orange), so the browser really decodes the image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xff\x80\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def elements(browser: Browser, css: str) -> list:
    from selenium.webdriver.common.by import By

    return browser.driver.find_elements(By.CSS_SELECTOR, css)


def texts(browser: Browser, source: str) -> list[str]:
    return [
        i.find_element("css selector", '[data-testid="message-text"]').text
        for i in elements(browser, f'[data-testid="message"][data-source="{source}"]')
    ]


def send(browser: Browser, text: str) -> None:
    browser.by_testid("message-input").send_keys(text)
    browser.by_testid("send-button").click()


def wait_text(browser: Browser, source: str, fragment: str, timeout: float = 20.0) -> None:
    browser.wait(
        lambda _d: any(fragment in t for t in texts(browser, source)),
        timeout,
        what=f"a {source} message containing {fragment!r}",
    )


def banner(browser: Browser) -> str:
    found = elements(browser, '[data-testid="handover-banner"]')
    return found[0].text if found and found[0].is_displayed() else ""


def wait_banner(browser: Browser, fragment: str, timeout: float = 30.0) -> None:
    browser.wait(lambda _d: fragment in banner(browser), timeout, what=f"banner {fragment!r}")


def agent_names(browser: Browser) -> list[str]:
    return [e.text for e in elements(browser, '[data-testid="agent-name"]')]


def inbound(agent, conversation_id: str) -> list[dict]:
    """The customer's messages as the agent reads them (`normalizedMessage`)."""
    return [
        m.get("normalizedMessage") or {}
        for m in agent.transcript(conversation_id)
        if m.get("direction") == "inbound"
    ]


def button_responses(agent, conversation_id: str) -> list[dict]:
    return [
        c["buttonResponse"]
        for m in inbound(agent, conversation_id)
        for c in m.get("content") or []
        if c.get("contentType") == "ButtonResponse"
    ]


def test_webchat_demo_story_with_rich_content(bridge_env, tmp_path):
    require_chromium()
    env = bridge_env
    alex = env.agent
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    alex.go_off_queue()  # so the customer waits, and the queue position shows
    with Browser(story="webchat") as browser:
        browser.driver.get(env.bridge_url + "/")
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        send(browser, "agent")
        wait_text(browser, "bot", "Connecting you")
        wait_banner(browser, "You are number 1 in the queue")
        browser.shot("queued-with-position")

        alex.go_on_queue()
        cid = alex.wait_for_offer(timeout=20)["id"]
        alex.answer(cid)
        alex.send_typing(cid)
        browser.wait(
            lambda _d: "Alex Agent is typing" in browser.by_testid("typing-indicator").text,
            20,
            what="the typing indicator with the agent's name",
        )
        browser.shot("agent-typing")
        alex.send_text(cid, "Hi, I'm Alex. How can I help?")
        wait_text(browser, "agent", "How can I help?")
        wait_banner(browser, "You are chatting with Alex Agent")
        # the user typing reaches the agent (the console shows it from this field)
        browser.by_testid("message-input").send_keys("Let me ch")
        wait_until(
            lambda: any(
                c["id"] == cid and c.get("sandboxCustomerTypingTime") for c in alex.conversations()
            ),
            20,
            interval=0.25,
            what="the customer's typing at the agent",
        )
        browser.by_testid("message-input").clear()

        # agent -> user: an image inline, a PDF as a link with name and size, a card, a carousel
        alex.send_attachment(cid, "parcel.png", png(), "image/png", text="Your parcel")
        alex.send_attachment(cid, "terms.pdf", PDF, "application/pdf")
        alex.send_content(
            cid,
            [
                {
                    "contentType": "Card",
                    "card": {
                        "title": "Refund",
                        "description": "Money back in 3 days",
                        "actions": [
                            {"type": "Postback", "text": "Refund me", "payload": "refund"},
                            {"type": "Link", "text": "Policy", "url": "https://example.com/p"},
                        ],
                    },
                }
            ],
            text="Here are your options",
        )
        alex.send_content(
            cid,
            [
                {
                    "contentType": "Carousel",
                    "carousel": {
                        "cards": [
                            {"title": "Plan A", "actions": [{"type": "Postback", "text": "A"}]},
                            {"title": "Plan B", "actions": [{"type": "Postback", "text": "B"}]},
                        ]
                    },
                }
            ],
        )
        browser.wait(
            lambda d: any(
                d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
                for i in elements(browser, '[data-testid="attachment-image"]')
            ),
            20,
            what="the agent's image, decoded",
        )
        browser.wait(
            lambda _d: any(
                e.text == "terms.pdf" for e in elements(browser, '[data-testid="attachment-link"]')
            ),
            20,
            what="the PDF link",
        )
        pdf_link = [
            e for e in elements(browser, '[data-testid="attachment-link"]') if e.text == "terms.pdf"
        ][0]
        assert "45 B" in pdf_link.find_element("xpath", "..").text
        assert requests.get(pdf_link.get_attribute("href"), timeout=5).content == PDF
        browser.wait(
            lambda _d: len(elements(browser, '[data-testid="card"]')) == 3,
            20,
            what="the card and the carousel's two cards",
        )
        link = elements(browser, '[data-testid="card-button-link"]')[0]
        assert link.text == "Policy" and link.get_attribute("href") == "https://example.com/p"
        browser.shot("agent-rich-content")

        # a card's postback button, then quick replies, answered by click
        [b for b in elements(browser, '[data-testid="card-button"]') if b.text == "Refund me"][
            0
        ].click()
        wait_until(
            lambda: any(r["type"] == "Button" for r in button_responses(alex, cid)),
            20,
            interval=0.25,
            what="the card button's structured response",
        )
        alex.send_content(
            cid,
            [
                {"contentType": "QuickReply", "quickReply": {"text": "Yes", "payload": "yes"}},
                {"contentType": "QuickReply", "quickReply": {"text": "No", "payload": "no"}},
            ],
            text="Is that all?",
        )
        browser.wait(
            lambda _d: any(
                b.text == "Yes" and b.is_enabled()
                for b in elements(browser, '[data-testid="quick-reply"]')
            ),
            20,
            what="the quick replies",
        )
        [b for b in elements(browser, '[data-testid="quick-reply"]') if b.text == "Yes"][0].click()
        wait_until(
            lambda: {"type": "QuickReply", "text": "Yes", "payload": "yes"}
            in button_responses(alex, cid),
            20,
            interval=0.25,
            what="the quick reply's structured response",
        )
        browser.shot("answered-by-click")

        # user -> agent: a PDF through the upload route, delivered as an attachment
        upload = tmp_path / "receipt.pdf"
        upload.write_bytes(PDF)
        browser.by_testid("attach-button")
        elements(browser, '[data-testid="file-input"]')[0].send_keys(str(upload))

        def user_attachment() -> dict | None:
            for m in inbound(alex, cid):
                for c in m.get("content") or []:
                    att = c.get("attachment") or {}
                    if att.get("filename") == "receipt.pdf":
                        return att
            return None

        wait_until(lambda: user_attachment() is not None, 20, interval=0.25, what="the user's file")
        att = user_attachment()
        assert att["mime"] == "application/pdf" and att["url"].startswith(env.sandbox_url)
        assert requests.get(att["url"], timeout=5).content == PDF
        browser.wait(
            lambda _d: any(
                e.text == "receipt.pdf"
                for e in elements(browser, '.msg.user [data-testid="attachment-link"]')
            ),
            what="the user's file in the chat",
        )
        browser.shot("user-uploaded-file")

        # a reload in the middle of the handover restores the conversation and the banner
        before = {s: texts(browser, s) for s in ("user", "bot", "agent")}
        browser.driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        wait_banner(browser, "You are chatting with Alex Agent")
        assert {s: texts(browser, s) for s in ("user", "bot", "agent")} == before
        assert "agent" in before["user"] and "Hi, I'm Alex. How can I help?" in before["agent"]
        assert len(elements(browser, '[data-testid="card"]')) == 3
        assert elements(browser, '.msg.user [data-testid="attachment-link"]')
        browser.shot("reloaded")

        # no sideways scroll on a 360 px phone, with all of that content
        browser.resize(360, 740)
        browser.wait(lambda _d: browser.horizontal_overflow() == 0, what="no sideways scroll")
        browser.shot("phone-360px")
        browser.resize(1280, 900)

        # a message sent while the bridge is down is marked, then re-sent
        env.stop_bridge()
        send(browser, "Are you still there?")
        browser.wait(
            lambda _d: elements(browser, ".msg.user")[-1].get_attribute("data-state") == "failed",
            20,
            what="the message marked as not sent",
        )
        assert elements(browser, '[data-testid="retry"]')
        browser.shot("not-sent")
        env.start_bridge()
        browser.wait(
            lambda _d: elements(browser, ".msg.user")[-1].get_attribute("data-state") == "sent",
            40,
            what="the message re-sent",
        )
        wait_until(
            lambda: any(m.get("text") == "Are you still there?" for m in inbound(alex, cid)),
            20,
            interval=0.25,
            what="the agent to get the re-sent message",
        )

        # transfer to Sam (Second Queue) and back to Alex (Demo Queue), names right each time
        alex.transfer_to_queue(cid, seed.SECOND_QUEUE_ID)
        wait_banner(browser, "transferred")
        browser.shot("transferring")
        assert sam.wait_for_offer(timeout=20)["id"] == cid
        sam.answer(cid)
        sam.send_text(cid, "Sam here, I take over.")
        wait_text(browser, "agent", "Sam here")
        wait_banner(browser, "You are chatting with Sam Supervisor")
        assert agent_names(browser)[-1] == "Sam Supervisor"
        browser.shot("with-sam")
        alex.wrap_up(cid)
        sam.transfer_to_queue(cid, seed.DEMO_QUEUE_ID)
        wait_banner(browser, "transferred")
        assert alex.wait_for_offer(timeout=20)["id"] == cid
        alex.answer(cid)
        alex.send_text(cid, "Alex again.")
        wait_text(browser, "agent", "Alex again.")
        wait_banner(browser, "You are chatting with Alex Agent")
        assert agent_names(browser)[-1] == "Alex Agent"
        sam.wrap_up(cid)
        browser.shot("back-with-alex")

        # "New conversation" ends the old handover: the agent is told, Genesys disconnects the
        # customer, the handover ends cancelled, and the page starts empty
        browser.by_testid("new-conversation").click()

        def old_handover():  # type: ignore[no-untyped-def]
            return env.ctx.store.handover_by_conversation(cid)

        wait_until(
            lambda: old_handover() is not None and old_handover().status == "cancelled",
            30,
            interval=0.25,
            what="the old handover to end",
        )
        customer = [
            p for p in alex.conversation(cid)["participants"] if p["purpose"] == "customer"
        ][0]
        assert customer["state"] == "disconnected"
        assert any(m.get("text") == "User left the conversation" for m in inbound(alex, cid))
        assert texts(browser, "agent") == [] and banner(browser) == ""
        # the new conversation greets without typing
        wait_text(browser, "bot", "demo bot", timeout=5)
        assert texts(browser, "user") == []
        send(browser, "hello")
        wait_text(browser, "bot", 'You said: "hello"')
        browser.shot("new-conversation")
        # (requests refused, and the event stream cut, while the bridge was down are expected)
        outage = ("ERR_CONNECTION_REFUSED", "ERR_INCOMPLETE_CHUNKED_ENCODING")
        unexpected = [
            e
            for e in browser.console_errors()
            if "favicon" not in e and not any(o in e for o in outage)
        ]
        assert unexpected == []


def test_an_unsent_message_survives_a_reload_and_is_sent_once(bridge_env):
    require_chromium()
    env = bridge_env
    with Browser(story="webchat-unsent") as browser:
        driver = browser.driver
        driver.get(env.bridge_url + "/")
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        send(browser, "hello")
        wait_text(browser, "bot", "demo bot")
        # only the input route is unreachable (the page, history and stream still load): a
        # network error for POSTs to it while sessionStorage["block-input"] is set
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": """
                const realFetch = window.fetch;
                window.fetch = function (url, opts) {
                  if (sessionStorage.getItem("block-input") && String(url).endsWith("/endpoint/demo")) {
                    return Promise.reject(new TypeError("Failed to fetch"));
                  }
                  return realFetch.apply(this, arguments);
                };"""
            },
        )
        driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        driver.execute_script("sessionStorage.setItem('block-input', '1')")
        send(browser, "did this arrive?")
        browser.wait(
            lambda _d: elements(browser, ".msg.user")[-1].get_attribute("data-state") == "failed",
            20,
            what="the message marked as not sent",
        )
        driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        browser.wait(
            lambda _d: texts(browser, "user") == ["hello", "did this arrive?"]
            and elements(browser, ".msg.user")[-1].get_attribute("data-state") == "failed",
            20,
            what="the unsent message shown again after the reload",
        )
        browser.shot("unsent-after-reload")
        driver.execute_script("sessionStorage.removeItem('block-input')")
        browser.by_testid("retry").click()
        browser.wait(
            lambda _d: elements(browser, ".msg.user")[-1].get_attribute("data-state") == "sent",
            20,
            what="the message sent",
        )
        wait_text(browser, "bot", 'You said: "did this arrive?"')
        driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        browser.wait(
            lambda _d: texts(browser, "user") == ["hello", "did this arrive?"],
            what="the message once in the history",
        )
        stored = [
            o["text"]
            for o in requests.get(
                env.session_url(
                    "/outputs",
                    driver.execute_script(
                        "return localStorage.getItem('om-bridge:demo:sessionId')"
                    ),
                ),
                params={
                    "userId": driver.execute_script(
                        "return localStorage.getItem('om-bridge:demo:userId')"
                    ),
                    "history": "true",
                },
                timeout=10,
            ).json()["outputs"]
            if o["source"] == "user"
        ]
        # the conversation's Get Started input (not shown), then each message once
    assert stored == ["GET_STARTED", "hello", "did this arrive?"]
