"""The webchat in headless Chromium shows an agent message Genesys delivered late in front of the
later one it had already shown (the output's `before`), reloaded history included."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from om_bridge.bridge.genesys.wire import iso_time
from tests.browser import Browser, require_chromium
from tests.conftest import wait_until
from tests.scenario.test_webchat_browser import send, texts, wait_text
from tests.scenario.webhook_replay import compact, payload, post_raw

pytestmark = pytest.mark.browser


def test_a_late_agent_message_is_shown_in_front_of_the_later_one(bridge_env):
    require_chromium()
    env = bridge_env
    with Browser() as browser:
        browser.driver.get(env.bridge_url + "/")
        send(browser, "agent")
        wait_until(lambda: env.ctx.store.open_handovers(), 20, what="the handover")
        handover = env.ctx.store.open_handovers()[0]
        wait_until(
            lambda: (env.ctx.store.get_handover(handover.id) or handover).conversation_id,
            20,
            what="the Genesys conversation",
        )
        conversation_id = env.ctx.store.get_handover(handover.id).conversation_id
        now = time.time()
        bodies = {}
        for name, at in (("earlier", now - 1.0), ("later", now)):
            body = payload(
                "outbound_text", customer_id=handover.customer_id, conversation_id=conversation_id
            )
            body["text"] = f"the {name} line"
            body["channel"]["time"] = iso_time(datetime.fromtimestamp(at, UTC))
            bodies[name] = body
        assert post_raw(env.bridge_url, compact(bodies["later"])).status_code == 200
        wait_text(browser, "agent", "the later line")
        assert post_raw(env.bridge_url, compact(bodies["earlier"])).status_code == 200
        wait_text(browser, "agent", "the earlier line")
        lines = [t for t in texts(browser, "agent") if t.endswith(" line")]
        assert lines == ["the earlier line", "the later line"]
        browser.driver.refresh()  # the history is shown the same way
        wait_text(browser, "agent", "the later line")
        browser.wait(
            lambda _d: [t for t in texts(browser, "agent") if t.endswith(" line")]
            == ["the earlier line", "the later line"],
            20,
            what="the reloaded history in channel.time order",
        )
        assert not [e for e in browser.console_errors() if "favicon" not in e]
