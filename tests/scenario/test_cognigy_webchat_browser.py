"""The Cognigy-hosted story through the emulator's webchat page in headless Chromium: the flow runs
in the emulator with the built extension in Node.js, agents are driven over the agent APIs."""

from __future__ import annotations

import pytest

from om_bridge.sandbox import seed
from tests.browser import Browser, require_chromium
from tests.scenario.cognigy_helpers import TOKEN, make_env

pytestmark = [pytest.mark.browser, pytest.mark.node]


def messages(browser: Browser, kind: str) -> list[tuple[str, str]]:
    """(author, text) of the page's messages of one kind (user, bot, agent)."""
    from selenium.webdriver.common.by import By

    out = []
    for li in browser.driver.find_elements(
        By.CSS_SELECTOR, f'[data-testid="message"][data-source="{kind}"]'
    ):
        authors = li.find_elements(By.CSS_SELECTOR, '[data-testid="message-author"]')
        text = li.find_element(By.CSS_SELECTOR, '[data-testid="message-text"]').text
        out.append((authors[0].text if authors else "", text))
    return out


def send(browser: Browser, text: str) -> None:
    browser.by_testid("message-input").send_keys(text)
    browser.by_testid("send-button").click()


def wait_message(browser: Browser, kind: str, text: str, author: str | None = None) -> None:
    browser.wait(
        lambda _d: any(
            t == text and (author is None or a == author) for a, t in messages(browser, kind)
        ),
        25,
        what=f"a {kind} message {text!r}",
    )


def conversation_of(env, cognigy_side) -> str:  # type: ignore[no-untyped-def]
    from tests.conftest import wait_until

    found: list[str] = []

    def known() -> bool:
        for h in env.ctx.store.open_handovers():
            if h.session.url_token == TOKEN and h.conversation_id:
                found.append(h.conversation_id)
        return bool(found)

    wait_until(known, 20, what="the handover's conversation")
    return found[0]


def test_emulator_webchat_story(make_bridge_env, tmp_path):
    require_chromium()
    env, cognigy = make_env(make_bridge_env, tmp_path)
    try:
        with Browser() as browser:
            browser.driver.get(f"{cognigy.emulator.endpoint_url}/webchat/{TOKEN}")
            send(browser, "hello")
            wait_message(
                browser, "bot", 'I am the bot. Write "agent" whenever you want to talk to a person.'
            )
            send(browser, "agent please")
            wait_message(browser, "bot", "Please wait, I am connecting you with an agent.")
            conversation_id = conversation_of(env, cognigy)
            wait_message(browser, "bot", "Connected")
            wait_message(browser, "bot", "You are in the queue. An agent will be with you shortly.")

            agent = env.agent
            agent.go_on_queue()
            agent.wait_for_offer()
            agent.answer(conversation_id)
            agent.send_text(conversation_id, "Hi, I am Alex")
            wait_message(browser, "agent", "Hi, I am Alex", author="Alex Agent")
            # What Cognigy's Notify carries is drawn: a file of the top-level attachments, quick
            # replies and a card of the default channel (a quick reply answers as the user).
            png = bytes.fromhex(
                "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
            )
            agent.send_attachment(conversation_id, "photo.png", png, "image/png", "A photo")
            browser.wait(
                lambda _d: bool(
                    browser.driver.find_elements(
                        "css selector", '[data-testid="message-attachment"][data-type="image"] img'
                    )
                ),
                25,
                what="the agent's image drawn",
            )
            card = {
                "title": "Refund",
                "description": "3 days",
                "actions": [{"type": "Postback", "text": "Refund me", "payload": "refund"}],
            }
            agent.send_content(
                conversation_id, [{"contentType": "Card", "card": card}], text="Pick"
            )
            browser.wait(
                lambda _d: [
                    e.text
                    for e in browser.driver.find_elements(
                        "css selector", '[data-testid="card-title"]'
                    )
                ]
                == ["Refund"],
                25,
                what="the agent's card drawn",
            )
            agent.send_content(
                conversation_id,
                [{"contentType": "QuickReply", "quickReply": {"text": "Yes", "payload": "yes"}}],
                text="Anything else?",
            )
            wait_message(browser, "agent", "Anything else?", author="Alex Agent")

            def quick_yes() -> list:
                return [
                    b
                    for b in browser.driver.find_elements(
                        "css selector",
                        '[data-testid="quick-replies"] [data-testid="message-button"]',
                    )
                    if b.text == "Yes"
                ]

            browser.wait(lambda _d: bool(quick_yes()), 25, what="the quick reply drawn")
            quick_yes()[0].click()
            from tests.conftest import wait_until

            def answered() -> bool:  # the bridge answers a quick reply as Genesys' QuickReply
                return any(
                    c.get("contentType") == "QuickReply"
                    and (c.get("quickReply") or {}).get("payload") == "yes"
                    for m in agent.transcript(conversation_id)
                    for c in (m.get("normalizedMessage") or {}).get("content") or []
                )

            wait_until(
                answered,
                20,
                interval=0.5,
                what="the quick reply's answer at the agent",
            )
            send(browser, "my parcel is late")

            wait_until(
                lambda: any(
                    (m.get("normalizedMessage") or {}).get("text") == "my parcel is late"
                    for m in agent.transcript(conversation_id)
                ),
                20,
                interval=0.5,
                what="the user's message at the agent",
            )

            sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
            sam.go_on_queue()
            agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
            agent.wrap_up(conversation_id)
            sam.wait_for_offer()
            sam.answer(conversation_id)
            sam.send_text(conversation_id, "Sam here")
            wait_message(browser, "agent", "Sam here", author="Sam Supervisor")
            sam.disconnect(conversation_id)
            wait_message(
                browser, "bot", "The agent has ended the conversation. You are back with the bot."
            )
            send(browser, "thanks")
            browser.wait(
                lambda _d: len(
                    [t for _a, t in messages(browser, "bot") if t.startswith("I am the bot")]
                )
                == 2,
                20,
                what="the bot answering again",
            )
    finally:
        cognigy.close()
