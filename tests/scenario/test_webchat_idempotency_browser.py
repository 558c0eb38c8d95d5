"""The webchat in headless Chromium sends an `Idempotency-Key` with each message and the same one
with its re-sends: a message whose answer is lost on the way back is re-sent and handled once."""

from __future__ import annotations

import pytest
import requests

from tests.browser import Browser, require_chromium
from tests.scenario.test_webchat_story_browser import elements, send, texts, wait_text

pytestmark = pytest.mark.browser

# While sessionStorage["lose-answers"] is set, the answers of the first two POSTs of each message
# to the input route are lost (the request reached the bridge) and the event stream never opens
# (so nothing but an answer confirms a message); every Idempotency-Key sent is recorded.
LOSE_ANSWERS = """
if (sessionStorage.getItem("lose-answers")) {
  window.EventSource = function () { this.close = function () {}; this.addEventListener = function () {}; };
}
const realFetch = window.fetch;
window.fetch = function (url, opts) {
  if (!String(url).endsWith("/endpoint/demo")) { return realFetch.apply(this, arguments); }
  const key = (opts && opts.headers && opts.headers["Idempotency-Key"]) || "";
  const keys = JSON.parse(sessionStorage.getItem("keys") || "[]");
  keys.push(key);
  sessionStorage.setItem("keys", JSON.stringify(keys));
  const sent = keys.filter(function (k) { return k === key; }).length;
  return realFetch.apply(this, arguments).then(function (resp) {
    if (sessionStorage.getItem("lose-answers") && sent <= 2) {
      throw new TypeError("Failed to fetch");
    }
    return resp;
  });
};"""


def test_a_message_whose_answer_was_lost_is_resent_with_its_key_and_handled_once(bridge_env):
    require_chromium()
    env = bridge_env
    with Browser(story="webchat-idempotency") as browser:
        driver = browser.driver
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOSE_ANSWERS})
        driver.get(env.bridge_url + "/")
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        send(browser, "hello")
        wait_text(browser, "bot", "demo bot")
        driver.execute_script("sessionStorage.setItem('lose-answers', '1')")
        driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        send(browser, "only once")
        browser.wait(
            lambda _d: elements(browser, ".msg.user")[-1].get_attribute("data-state") == "sent",
            30,
            what="the message sent after its automatic re-sends",
        )
        keys = driver.execute_script("return JSON.parse(sessionStorage.getItem('keys'))")
        # Get Started and "hello" once each, then "only once" three times with one key.
        assert len(keys) == 5, keys
        assert all(keys) and len({keys[0], keys[1], keys[2]}) == 3
        assert keys[2] == keys[3] == keys[4]
        user_id = driver.execute_script("return localStorage.getItem('om-bridge:demo:userId')")
        session_id = driver.execute_script(
            "return localStorage.getItem('om-bridge:demo:sessionId')"
        )
        outputs = requests.get(
            env.session_url("/outputs", session_id),
            params={"userId": user_id, "history": "true"},
            timeout=10,
        ).json()["outputs"]
        user_inputs = [o["text"] for o in outputs if o["source"] == "user"]
        assert [t for t in user_inputs if t != "GET_STARTED"] == ["hello", "only once"]
        replies = [o["text"] for o in outputs if o["source"] == "bot" and o.get("reply")]
        assert sum(1 for t in replies if "only once" in (t or "")) == 1, replies
        assert texts(browser, "user") == ["hello", "only once"]
