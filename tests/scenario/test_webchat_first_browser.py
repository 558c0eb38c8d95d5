"""The webchat's first minutes in headless Chromium: the demo bot greets on the first load without
typing (the Get Started input, as Cognigy's webchat sends it), a reload does not greet again,
"New conversation" greets again; the input's hint follows the handover, and the Genesys inbound
flow's "Connected" is labelled as the contact centre's. Screenshots under
`.om-bridge/screenshots/webchat-first/`."""

from __future__ import annotations

import pytest
import requests

from tests.browser import Browser, require_chromium

pytestmark = pytest.mark.browser
GREETING = "Hi! I'm the om-bridge demo bot."
# The bar: the greeting is on screen within 5 s of the page load, nobody typing.
GREETING_SECONDS = 5.0


def elements(browser: Browser, css: str) -> list:
    from selenium.webdriver.common.by import By

    return browser.driver.find_elements(By.CSS_SELECTOR, css)


def texts(browser: Browser, source: str) -> list[str]:
    return [
        i.find_element("css selector", '[data-testid="message-text"]').text
        for i in elements(browser, f'[data-testid="message"][data-source="{source}"]')
    ]


def greetings(browser: Browser) -> int:
    return sum(1 for t in texts(browser, "bot") if t.startswith(GREETING))


def wait_greeting(browser: Browser) -> None:
    browser.wait(lambda _d: greetings(browser) >= 1, GREETING_SECONDS, what="the greeting")


def send(browser: Browser, text: str) -> None:
    browser.by_testid("message-input").send_keys(text)
    browser.by_testid("send-button").click()


def wait_text(browser: Browser, source: str, fragment: str, timeout: float = 20.0) -> None:
    browser.wait(
        lambda _d: any(fragment in t for t in texts(browser, source)),
        timeout,
        what=f"a {source} message containing {fragment!r}",
    )


def placeholder(browser: Browser) -> str:
    return browser.by_testid("message-input").get_attribute("placeholder")


def stored_user_texts(browser: Browser, env) -> list[str]:  # type: ignore[no-untyped-def]
    run = browser.driver.execute_script
    resp = requests.get(
        env.session_url("/outputs", run("return localStorage.getItem('om-bridge:demo:sessionId')")),
        params={
            "userId": run("return localStorage.getItem('om-bridge:demo:userId')"),
            "history": "true",
        },
        timeout=10,
    )
    return [o["text"] for o in resp.json()["outputs"] if o["source"] == "user"]


def test_greeting_on_first_load_reload_and_new_conversation(bridge_env):
    require_chromium()
    env = bridge_env
    with Browser(story="webchat-first") as browser:
        browser.driver.get(env.bridge_url + "/")
        wait_greeting(browser)
        browser.shot("first-load")
        assert texts(browser, "user") == []  # the start input is not shown as the user's
        assert 'try "agent"' in placeholder(browser)
        assert stored_user_texts(browser, env) == ["GET_STARTED"]

        # a reload shows the stored greeting once and does not start the conversation again
        browser.driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        wait_greeting(browser)
        assert greetings(browser) == 1 and texts(browser, "user") == []
        send(browser, "hello")
        wait_text(browser, "bot", 'You said: "hello"')
        assert greetings(browser) == 1
        assert stored_user_texts(browser, env) == ["GET_STARTED", "hello"]
        browser.shot("answered-after-greeting")

        # "New conversation": an empty page, then the greeting of the new session
        old_session = browser.driver.execute_script(
            "return localStorage.getItem('om-bridge:demo:sessionId')"
        )
        browser.by_testid("new-conversation").click()
        browser.wait(
            lambda d: d.execute_script("return localStorage.getItem('om-bridge:demo:sessionId')")
            != old_session,
            what="a new session",
        )
        wait_greeting(browser)
        assert greetings(browser) == 1 and texts(browser, "user") == []
        browser.shot("new-conversation")
        assert stored_user_texts(browser, env) == ["GET_STARTED"]
        assert not [e for e in browser.console_errors() if "favicon" not in e]


def test_placeholder_and_contact_centre_label_follow_the_handover(bridge_env):
    require_chromium()
    env = bridge_env
    agent = env.agent
    agent.go_on_queue()
    with Browser(story="webchat-first-handover") as browser:
        browser.driver.get(env.bridge_url + "/")
        wait_greeting(browser)
        send(browser, "agent")
        wait_text(browser, "bot", "Connecting you")
        # the Genesys inbound message flow's Send Response, relayed by the demo flow
        wait_text(browser, "bot", "Connected")
        connected = [
            m
            for m in elements(browser, '[data-testid="message"][data-source="bot"]')
            if m.find_element("css selector", '[data-testid="message-text"]').text == "Connected"
        ][0]
        assert connected.get_attribute("data-from") == "contact-centre"
        who = connected.find_element("css selector", '[data-testid="sender"]').text
        assert who == "Contact centre"
        bot_labels = [
            m.find_element("css selector", '[data-testid="sender"]').text
            for m in elements(browser, '[data-testid="message"][data-source="bot"]')
        ]
        assert bot_labels[:2] == ["Bot", "Bot"]  # the greeting and "Connecting you…" are the bot's
        assert 'try "agent"' not in placeholder(browser)

        cid = agent.wait_for_offer(timeout=20)["id"]
        agent.answer(cid)
        agent.send_text(cid, "Hi, I'm Alex.")
        wait_text(browser, "agent", "I'm Alex")
        browser.wait(
            lambda _d: placeholder(browser) == "Message Alex Agent…",
            what="the placeholder naming the agent",
        )
        browser.shot("chatting-with-agent")

        agent.disconnect(cid)
        agent.wrap_up(cid)
        wait_text(browser, "bot", "I'm back!", timeout=30)
        browser.wait(
            lambda _d: 'try "agent"' in placeholder(browser), what="the bot's placeholder again"
        )
        back = [
            m
            for m in elements(browser, '[data-testid="message"][data-source="bot"]')
            if "I'm back!" in m.text
        ][0]
        assert back.get_attribute("data-from") is None  # the flow's own answer is the bot's

        # a reload labels the same messages the same way
        browser.driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        wait_text(browser, "bot", "I'm back!")
        froms = [
            m.get_attribute("data-from")
            for m in elements(browser, '[data-testid="message"][data-source="bot"]')
            if m.find_element("css selector", '[data-testid="message-text"]').text == "Connected"
        ]
        assert froms == ["contact-centre"]
        browser.shot("after-handover-reloaded")


def test_a_start_not_yet_answered_is_sent_once_after_a_reload(bridge_env):
    """The page is reloaded while the Get Started input cannot reach the bridge: after the
    reload it is still the one start of the session (re-sent, not started twice), and a message
    typed meanwhile waits for it, so the greeting comes first."""
    require_chromium()
    env = bridge_env
    with Browser() as browser:
        driver = browser.driver
        # only the input route is unreachable while sessionStorage["block-input"] is set
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": """
                sessionStorage.setItem("block-input", sessionStorage.getItem("block-input") || "1");
                const realFetch = window.fetch;
                window.fetch = function (url, opts) {
                  if (sessionStorage.getItem("block-input") === "1" && String(url).endsWith("/endpoint/demo")) {
                    return Promise.reject(new TypeError("Failed to fetch"));
                  }
                  return realFetch.apply(this, arguments);
                };"""
            },
        )
        driver.get(env.bridge_url + "/")
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        browser.wait(
            lambda d: d.execute_script(
                "return (localStorage.getItem('om-bridge:demo:unsent:' +"
                " localStorage.getItem('om-bridge:demo:sessionId')) || '').indexOf('GET_STARTED')"
            )
            >= 0,
            what="the start kept as not yet sent",
        )
        driver.refresh()
        browser.wait(lambda d: browser.by_testid("webchat").get_attribute("data-ready"))
        assert texts(browser, "user") == [] and greetings(browser) == 0
        send(browser, "hello")  # typed before the bridge has the start: it waits for it
        browser.wait(
            lambda d: d.find_elements("css selector", ".msg.user")[-1].get_attribute("data-state")
            == "failed",
            what="the waiting message marked as not sent",
        )
        driver.execute_script("sessionStorage.setItem('block-input', '0')")
        # the automatic re-send of the start (2, 4 then 8 s after each failure) gets through
        wait_text(browser, "bot", 'You said: "hello"', timeout=30)
        assert greetings(browser) == 1
        bot = texts(browser, "bot")
        assert bot[0].startswith(GREETING) and 'You said: "hello"' in bot[1]
        assert stored_user_texts(browser, env) == ["GET_STARTED", "hello"]
