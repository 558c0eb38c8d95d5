"""Replayed Genesys deliveries: the message id alone is the dedupe key (a re-signed copy with a new
`channel.time` is a duplicate), and a delivery older than Genesys' retry window is refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from om_bridge.bridge.genesys.wire import iso_time
from tests.scenario.handover_helpers import collect, handover_of, start_handover, texts
from tests.scenario.webhook_replay import compact, payload, post_raw


def agent_message(env, conversation_id: str, text: str, **kw):  # type: ignore[no-untyped-def]
    body = payload(
        "outbound_text",
        customer_id=handover_of(env).customer_id,
        conversation_id=conversation_id,
        **kw,
    )
    body["text"] = text
    return body


def test_same_message_id_with_a_new_channel_time_is_a_duplicate(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    first = agent_message(env, conversation_id, "only once", message_id="m-replayed")
    assert post_raw(env.bridge_url, compact(first)).json() == {"status": "accepted"}
    later_time = datetime.fromtimestamp(time.time() + 1.5, UTC)
    again = dict(first, channel=dict(first["channel"], time=iso_time(later_time)))
    resp = post_raw(env.bridge_url, compact(again))
    assert resp.status_code == 200 and resp.json() == {"status": "duplicate"}
    # A later, different message shows after it: the replay was never shown.
    later = agent_message(env, conversation_id, "after the replay")
    assert post_raw(env.bridge_url, compact(later)).json() == {"status": "accepted"}
    outs = collect(env, lambda o: o.get("text") == "after the replay")
    assert texts(outs, "agent").count("only once") == 1


def test_delivery_older_than_the_retry_window_is_refused(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    old = agent_message(env, conversation_id, "from long ago")
    old["channel"]["time"] = iso_time(datetime.fromtimestamp(time.time() - 600, UTC))
    resp = post_raw(env.bridge_url, compact(old))
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "stale_message" and "300 s" in resp.json()["message"]
    fresh = agent_message(env, conversation_id, "fresh")
    assert post_raw(env.bridge_url, compact(fresh)).json() == {"status": "accepted"}
    outs = collect(env, lambda o: o.get("text") == "fresh")
    assert "from long ago" not in texts(outs, "agent")
    assert env.ctx.store.inbound_pending() == [] or all(
        i.payload["body"]["text"] != "from long ago" for i in env.ctx.store.inbound_pending()
    )
