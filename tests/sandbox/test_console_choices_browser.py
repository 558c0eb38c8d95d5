"""The agent console in headless Chromium, for what an agent reads and types: the customer's
quick-reply choice shows as its text, a carousel typed a card per line (Enter adds a line, the box
says how to send) arrives as one message with three cards, a large image fits the transcript
whole, and id-like customer attributes stay on one line. Screenshots under
`.om-bridge/screenshots/console-choices/`."""

from __future__ import annotations

import uuid

import pytest

from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.wire import Customer
from om_bridge.sandbox.seed import BRIDGE_CLIENT_ID, BRIDGE_CLIENT_SECRET, DEMO_INTEGRATION_ID
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Browser, Receiver, require_chromium
from tests.conftest import wait_until
from tests.sandbox.test_console_layout_browser import FileServer, structured
from tests.scenario.test_webchat_story_browser import png

pytestmark = pytest.mark.browser
WEBHOOK = "/handover/genesysCloudOM"


def outbound(webhook: Receiver) -> list[dict]:
    return [r.json() for r in webhook.matching(lambda r: r.path == WEBHOOK)]


def test_console_choices_carousel_images_and_ids():
    require_chromium()
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    files = FileServer(png(1200, 800), "image/png")
    session_id = str(uuid.uuid4())
    with Receiver() as webhook:
        server = SandboxServer(
            config={
                "seed": {"webhook_url": webhook.url + WEBHOOK},
                "flow": {"queue_position_messages": False},
            }
        ).start()
        genesys = GenesysClient(
            base_url=server.url, client_id=BRIDGE_CLIENT_ID, client_secret=BRIDGE_CLIENT_SECRET
        )
        browser = Browser(story="console-choices")
        try:
            customer = Customer(id=f"cust-{uuid.uuid4().hex[:8]}")
            cid = genesys.send_message(
                DEMO_INTEGRATION_ID,
                customer,
                message_id=str(uuid.uuid4()),
                text="I need a human",
                custom_attributes={"sessionId": session_id, "userId": "web-8f2c1e0a93bd4c1f"},
            )["conversationId"]
            driver = browser.driver
            driver.get(f"{server.url}/console")
            # generous waits: the machine may be busy (the console polls once a second)
            browser.by_testid("login-submit", timeout=30).click()
            browser.by_testid(f"conversation-{cid}", timeout=30)
            browser.by_testid("answer", timeout=30).click()
            browser.wait(
                lambda d: browser.by_testid("detail-state").text == "active", 30, what="active"
            )

            # ids stay on one line, whole, in the attributes pane
            value = browser.by_testid("attribute-sessionId", timeout=30)
            assert value.text == session_id
            line = driver.execute_script(
                "var s = getComputedStyle(arguments[0]);"
                " return [arguments[0].getBoundingClientRect().height, parseFloat(s.lineHeight),"
                " arguments[0].scrollWidth, arguments[0].clientWidth];",
                value,
            )
            assert line[0] < 1.5 * line[1], f"the id wraps: {line}"
            assert line[2] <= line[3], f"the id is cut: {line}"

            # the agent offers quick replies; the customer's choice shows as its text
            Select(browser.by_testid("rich-kind")).select_by_value("quickreplies")
            browser.by_testid("rich-buttons").send_keys("Yes, No")
            browser.by_testid("message-text").send_keys("Shall I refund it?")
            browser.by_testid("send").click()
            wait_until(lambda: structured(webhook, "QuickReply"), 30, what="the quick replies")
            asked = structured(webhook, "QuickReply")[0]
            genesys.send_structured_response(
                DEMO_INTEGRATION_ID,
                customer,
                message_id=str(uuid.uuid4()),
                text="Yes",
                payload="Yes",
                originating_message_id=asked["id"],
            )
            choice = browser.by_testid("button-response", timeout=30)
            assert choice.text == "Yes"
            inbound = choice.find_element("xpath", "./ancestor::li[1]")
            assert "(QuickReply)" not in inbound.text
            assert "quick reply" in inbound.text
            browser.shot("quick-reply-choice")

            # a carousel typed a card per line: Enter adds a line, the box says how to send
            Select(browser.by_testid("rich-kind")).select_by_value("carousel")
            assert "Ctrl+Enter" in browser.by_testid("send-hint").text
            browser.by_testid("rich-buttons").send_keys("Choose")
            box = browser.by_testid("message-text")
            box.send_keys("Plan A", Keys.ENTER, "Plan B", Keys.ENTER, "Plan C")
            assert box.get_attribute("value") == "Plan A\nPlan B\nPlan C"
            assert not structured(webhook, "Carousel")  # nothing sent yet
            browser.shot("carousel-typed")
            box.send_keys(Keys.CONTROL, Keys.ENTER)
            wait_until(lambda: structured(webhook, "Carousel"), 30, what="the carousel")
            browser.wait(
                lambda d: box.get_attribute("value") == "", 30, what="the reply box to clear"
            )
            carousels = structured(webhook, "Carousel")
            assert len(carousels) == 1
            cards = carousels[0]["content"][0]["carousel"]["cards"]
            assert [c["title"] for c in cards] == ["Plan A", "Plan B", "Plan C"]
            texts = [b.get("text") for b in outbound(webhook)]
            assert not any(t and t.startswith("Plan") for t in texts), texts
            browser.wait(
                lambda d: len(d.find_elements("css selector", '[data-testid="transcript-card"]'))
                == 3,
                30,
                what="one message with three cards in the transcript",
            )
            card_messages = driver.execute_script(
                "return Array.from(document.querySelectorAll('#transcript > li'))"
                ".filter(li => li.querySelector('[data-testid=transcript-card]')).length"
            )
            assert card_messages == 1
            # back to text: Enter sends again, and the hint says so
            assert "Enter sends" in browser.by_testid("send-hint").text

            # a large image fits the transcript whole (scaled, not cropped)
            genesys.send_message(
                DEMO_INTEGRATION_ID,
                customer,
                message_id=str(uuid.uuid4()),
                text="A photo of the parcel",
                content=[
                    {
                        "attachment": {
                            "mediaType": "Image",
                            "url": files.url + "/parcel.png",
                            "mime": "image/png",
                            "filename": "parcel.png",
                        }
                    }
                ],
            )
            image = browser.by_testid("transcript-image", timeout=30)
            browser.wait(
                lambda d: d.execute_script("return arguments[0].naturalWidth", image) > 0,
                30,
                what="the image to load",
            )

            def assert_fits() -> None:
                fit = driver.execute_script(
                    "var img = arguments[0], li = img.closest('li'), pane = img.closest('ol');"
                    " var r = img.getBoundingClientRect(), l = li.getBoundingClientRect(),"
                    " p = pane.getBoundingClientRect();"
                    " return {w: r.width, h: r.height, nw: img.naturalWidth,"
                    " nh: img.naturalHeight, inLi: r.left >= l.left && r.right <= l.right,"
                    " inPane: r.left >= p.left && r.right <= p.right,"
                    " fit: getComputedStyle(img).objectFit};",
                    image,
                )
                assert fit["inLi"] and fit["inPane"], fit
                assert 0 < fit["w"] < fit["nw"], fit
                assert abs(fit["w"] / fit["h"] - fit["nw"] / fit["nh"]) < 0.05, fit
                assert fit["fit"] != "cover", fit

            assert_fits()
            driver.execute_script(
                "var t = document.getElementById('transcript'); t.scrollTop = t.scrollHeight;"
            )
            browser.shot("image-and-attributes")

            browser.resize(360, 740)
            browser.wait(lambda d: browser.horizontal_overflow() == 0, what="no sideways scroll")
            driver.execute_script("arguments[0].scrollIntoView()", image)
            assert_fits()
            browser.shot("narrow")
            assert browser.console_errors() == []
        finally:
            browser.close()
            genesys.close()
            server.stop()
            files.close()
