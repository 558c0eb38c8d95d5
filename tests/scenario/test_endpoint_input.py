"""POST /endpoint/<urlToken>: Cognigy REST format in and out; bad input gets a clear 4xx and changes nothing."""

from __future__ import annotations

import pytest

from om_bridge.bridge.store.records import SessionKey


def test_text_input_gets_a_cognigy_rest_reply(bridge_env):
    reply = bridge_env.say("hello")
    assert reply["userId"] == bridge_env.user_id
    assert reply["sessionId"] == bridge_env.session_id
    assert isinstance(reply["outputStack"], list) and reply["outputStack"]
    assert all(o.get("source", "bot") == "bot" for o in reply["outputStack"])
    assert "text" in reply and "data" in reply
    # The flow ran: the session now exists in the store.
    key = SessionKey("demo", bridge_env.user_id, bridge_env.session_id)
    assert bridge_env.ctx.store.load_session(key) is not None


def test_data_only_input_is_accepted(bridge_env):
    reply = bridge_env.say(data={"payload": "x"})
    assert reply["sessionId"] == bridge_env.session_id


def test_unknown_url_token_is_404_naming_it(bridge_env):
    import requests

    resp = requests.post(
        f"{bridge_env.bridge_url}/endpoint/nope",
        timeout=10,
        json={"userId": "u", "sessionId": "s", "text": "hi"},
    )
    assert resp.status_code == 404
    assert resp.json()["error"] == "unknown_endpoint"
    assert '"nope"' in resp.json()["message"]


@pytest.mark.parametrize(
    "body, status, path",
    [
        ({"sessionId": "s1", "text": "hi"}, 400, "userId"),
        ({"userId": "u1", "sessionId": "s1"}, 400, "$"),
        ({"userId": "u1", "sessionId": "s1", "text": 42}, 400, "text"),
        ('{"userId": "u1", ', 400, None),
    ],
)
def test_bad_bodies_are_rejected_and_change_nothing(bridge_env, body, status, path):
    resp = bridge_env.post_input(body)
    assert resp.status_code == status, resp.text
    err = resp.json()
    assert err["error"] == "invalid_input"
    assert err.get("path") == path
    assert err["message"]
    assert bridge_env.ctx.store.load_session(SessionKey("demo", "u1", "s1")) is None


def test_oversized_body_is_413(bridge_env):
    resp = bridge_env.post_input({"userId": "u1", "sessionId": "s1", "text": "x" * 70_000})
    assert resp.status_code == 413
    assert "limit" in resp.json()["message"]
    assert bridge_env.ctx.store.load_session(SessionKey("demo", "u1", "s1")) is None


def test_wrong_method_and_unknown_route_answer_json(bridge_env):
    import requests

    resp = requests.get(bridge_env.endpoint_url(), timeout=10)
    assert resp.status_code == 405 and resp.json()["error"] == "method_not_allowed"
    resp = requests.get(f"{bridge_env.bridge_url}/no/such/route", timeout=10)
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
