"""The whole story through the webchat page in headless Chromium, with Alex Agent driven over the agent APIs."""

from __future__ import annotations

import pytest

from tests.browser import Browser, require_chromium
from tests.conftest import wait_until

pytestmark = pytest.mark.browser


def texts(browser: Browser, source: str) -> list[str]:
    from selenium.webdriver.common.by import By

    items = browser.driver.find_elements(
        By.CSS_SELECTOR, f'[data-testid="message"][data-source="{source}"]'
    )
    return [i.find_element(By.CSS_SELECTOR, '[data-testid="message-text"]').text for i in items]


def send(browser: Browser, text: str) -> None:
    box = browser.by_testid("message-input")
    box.send_keys(text)
    browser.by_testid("send-button").click()


def wait_text(browser: Browser, source: str, fragment: str, timeout: float = 20.0) -> None:
    browser.wait(
        lambda _d: any(fragment in t for t in texts(browser, source)),
        timeout,
        what=f"a {source} message containing {fragment!r}",
    )


def banner(browser: Browser) -> str:
    from selenium.webdriver.common.by import By

    el = browser.driver.find_element(By.CSS_SELECTOR, '[data-testid="handover-banner"]')
    return el.text if el.is_displayed() else ""


def transcript_texts(agent, conversation_id: str) -> str:
    """Every message text the agent can read (`MessageData.normalizedMessage.text`)."""
    return "\n".join(
        (m.get("normalizedMessage") or {}).get("text") or ""
        for m in agent.transcript(conversation_id)
    )


def test_webchat_handover_story(bridge_env):
    require_chromium()
    agent = bridge_env.agent
    agent.go_on_queue()
    with Browser() as browser:
        browser.driver.get(bridge_env.bridge_url + "/")
        assert browser.by_testid("chat-log").get_attribute("role") == "log"

        send(browser, "hello")
        wait_text(browser, "bot", "demo bot")

        send(browser, "agent")
        wait_text(browser, "bot", "Connecting you")
        browser.wait(
            lambda _d: "Waiting for an agent" in banner(browser), 20, what="the queue banner"
        )

        conversation = agent.wait_for_offer(timeout=20)
        cid = conversation["id"]
        agent.answer(cid)
        agent.send_typing(cid)
        browser.wait(
            lambda _d: browser.by_testid("typing-indicator").is_displayed(),
            20,
            what="the typing indicator",
        )

        agent.send_text(cid, "Hi, I'm Alex. How can I help?")
        wait_text(browser, "agent", "How can I help?")
        name = browser.by_testid("agent-name").text
        avatar = browser.by_testid("agent-avatar").get_attribute("src")
        assert name == "Alex Agent"
        assert avatar.startswith(bridge_env.sandbox_url)
        browser.wait(
            lambda _d: "You are chatting with Alex Agent" in banner(browser),
            20,
            what="the active banner",
        )

        send(browser, "My parcel is late")
        # Polled gently: the sandbox rate-limits each token to 300 requests a minute, like Genesys.
        wait_until(
            lambda: "My parcel is late" in transcript_texts(agent, cid),
            20,
            interval=0.25,
            what="the agent to see the user's message",
        )

        agent.disconnect(cid)
        agent.wrap_up(cid)
        browser.wait(
            lambda _d: "Back with the bot" in banner(browser), 30, what="the bot-is-back banner"
        )
        wait_text(browser, "bot", "I'm back!")

        send(browser, "thanks")
        wait_text(browser, "bot", 'You said: "thanks"')
        assert not [e for e in browser.console_errors() if "favicon" not in e]
