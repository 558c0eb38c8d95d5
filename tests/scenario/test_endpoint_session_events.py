"""connect / disconnect / typing routes: validated, routed to the engine."""

from __future__ import annotations

import requests


def test_session_events_answer_204(bridge_env):
    bridge_env.say("hello")
    for action in ("connect", "typing", "disconnect"):
        resp = bridge_env.post_session(action)
        assert resp.status_code == 204, (action, resp.text)


def test_user_id_may_come_from_the_query_string(bridge_env):
    # navigator.sendBeacon posts a body the server may see as text/plain; the query works for all.
    resp = requests.post(
        bridge_env.session_url("/disconnect"), params={"userId": bridge_env.user_id}, timeout=10
    )
    assert resp.status_code == 204


def test_missing_user_id_and_unknown_token(bridge_env):
    resp = requests.post(bridge_env.session_url("/connect"), timeout=10)
    assert resp.status_code == 400 and resp.json()["path"] == "userId"
    resp = requests.post(
        f"{bridge_env.bridge_url}/endpoint/nope/sessions/s/typing", json={"userId": "u"}, timeout=10
    )
    assert resp.status_code == 404
