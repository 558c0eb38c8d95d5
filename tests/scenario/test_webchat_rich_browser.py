"""A Say node's buttons and quick replies, rendered by the webchat in headless Chromium and answered by
clicking them."""

from __future__ import annotations

import pytest

from tests.browser import Browser, require_chromium
from tests.scenario.handover_helpers import demo_flow_with, flow_config

pytestmark = pytest.mark.browser


def _say(output_type: str, key: str, body: dict) -> dict:
    return {"say": {"type": output_type, "text": [], "_cognigy": {"_default": {key: body}}}}


BUTTONS = _say(
    "buttons",
    "_buttons",
    {
        "type": "buttons",
        "text": "Hi! What would you like?",
        "buttons": [
            {"type": "postback", "title": "Tell me more", "payload": "tell me more"},
            {"type": "web_url", "title": "Read the docs", "url": "https://example.com/docs"},
        ],
    },
)
QUICK_REPLIES = _say(
    "quickReplies",
    "_quickReplies",
    {
        "type": "quick_replies",
        "text": 'You said "{{ input.text }}". Anything else?',
        "quickReplies": [{"title": "No thanks", "payload": "no thanks"}],
    },
)


def test_buttons_and_quick_replies_render_and_send_their_payload(bridge_env, tmp_path):
    require_chromium()
    from selenium.webdriver.common.by import By

    flow = demo_flow_with(tmp_path, nodes={"say-hello": BUTTONS, "say-answer": QUICK_REPLIES})
    bridge_env.restart_bridge(config=flow_config(flow))
    with Browser() as browser:
        browser.driver.get(bridge_env.bridge_url + "/")
        browser.by_testid("message-input").send_keys("hello")
        browser.by_testid("send-button").click()

        def elements(testid: str) -> list:
            return browser.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

        browser.wait(lambda _d: len(elements("button")) == 2, 20, what="the two buttons")
        postback, link = elements("button")
        assert (postback.tag_name, postback.text) == ("button", "Tell me more")
        assert (link.tag_name, link.text) == ("a", "Read the docs")
        assert link.get_attribute("href") == "https://example.com/docs"

        # "hello" also ran the Answer node: its quick reply is shown under its text.
        browser.wait(
            lambda _d: [e.text for e in elements("quick-reply")] == ["No thanks"],
            20,
            what="the quick reply",
        )
        postback.click()  # sends its payload as the user's message
        answer = 'You said "tell me more". Anything else?'
        browser.wait(
            lambda _d: answer in [e.text for e in elements("message-text")],
            20,
            what="the answer to the button's payload",
        )
        assert "tell me more" in [e.text for e in elements("message-text")]
        assert [e.text for e in elements("quick-reply")] == ["No thanks", "No thanks"]
        assert not [e for e in browser.console_errors() if "favicon" not in e]
