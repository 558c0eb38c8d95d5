"""Hostile JSON bodies on every route that parses one: deep nesting, huge numbers, lone surrogates.

Each is answered with a 4xx naming the problem (never a 500) and changes nothing; a lone surrogate
in an agent's text is shown (as U+FFFD) and keeps the session's SSE stream working.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from om_bridge.bridge.demo import DEMO_EVENTBRIDGE_KEY
from om_bridge.bridge.genesys.signature import compute_signature
from om_bridge.bridge.store import SessionKey
from om_bridge.sandbox import seed
from tests.scenario.handover_helpers import collect, handover_of, start_handover
from tests.scenario.test_endpoint_sse import Events
from tests.scenario.webhook_replay import compact, payload, post_raw

DA_USER, DA_PASSWORD = "da-user", "da-password-0123456789"
EXT_KEY = "ext-key-0123456789abcdef"


@pytest.fixture
def env(make_bridge_env):  # type: ignore[no-untyped-def]
    return make_bridge_env(
        flags={"DATA_ACTION_PASSWORD": DA_PASSWORD, "OM_EXT_KEY": EXT_KEY},
        config={
            "bridge": {"extension_api_key": "env:OM_EXT_KEY"},
            "providers": [
                {
                    "id": "genesys-demo",
                    "data_action_auth": {
                        "type": "basic",
                        "username": DA_USER,
                        "password": "env:DATA_ACTION_PASSWORD",
                    },
                }
            ],
        },
    )


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int) -> bytes:
    return (
        b'{"userId":"u","sessionId":"s","data":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"
    )


HUGE_INT = b'{"userId":"u","sessionId":"s","text":"hi","data":{"n":' + b"7" * 5000 + b"}}"

BODIES = {
    "deep-500": deep(500),
    "deep-5000": deep(5000),
    "deep-object-500": deep_object(500),
    "huge-int": HUGE_INT,
}


def routes(env) -> dict[str, tuple[str, dict]]:  # type: ignore[no-untyped-def]
    basic = base64.b64encode(f"{DA_USER}:{DA_PASSWORD}".encode()).decode()
    return {
        "endpoint": (env.endpoint_url(), {}),
        "connect": (env.session_url("/connect"), {}),
        "typing": (env.session_url("/typing"), {}),
        "eventbridge": (
            env.bridge_url + "/handover/genesysCloudOM/eventbridge",
            {"Authorization": DEMO_EVENTBRIDGE_KEY},
        ),
        "data-action": (
            env.bridge_url + "/handover/genesysCloudOM",
            {"Authorization": f"Basic {basic}"},
        ),
        "extension": (
            env.bridge_url + "/extension/v1/execute",
            {"Authorization": f"Bearer {EXT_KEY}"},
        ),
        "webhook": (env.bridge_url + "/handover/genesysCloudOM", {"signed": "yes"}),
    }


def post(url: str, headers: dict, body: bytes) -> requests.Response:
    headers = {"Content-Type": "application/json", **headers}
    if headers.pop("signed", None):
        headers["X-Hub-Signature-256"] = compute_signature(seed.DEMO_WEBHOOK_SECRET, body)
    return requests.post(url, data=body, headers=headers, timeout=30)


def test_deep_and_huge_bodies_get_a_4xx_naming_the_problem_on_every_route(env):
    failures = []
    for route, (url, headers) in routes(env).items():
        for name, body in BODIES.items():
            resp = post(url, dict(headers), body)
            text = resp.text.lower()
            named = ("nested" in text) if name.startswith("deep") else ("digits" in text)
            # Over a small route's body cap (connect/typing: 4 KB) the size is the problem named.
            named = named or (resp.status_code == 413 and "limit" in text)
            if not (400 <= resp.status_code < 500 and named):
                failures.append((route, name, resp.status_code, resp.text[:200]))
    assert failures == []
    assert env.ctx.store.load_session(SessionKey("demo", "u", "s")) is None


def test_lone_surrogate_in_user_or_session_id_is_a_400(env):
    for field in ("userId", "sessionId"):
        body = {"userId": "u1", "sessionId": "s1", "text": "hi"}
        raw = json.dumps(body).replace(f'"{body[field]}"', '"a\\ud800b"', 1).encode()
        resp = env.post_input(raw)
        assert resp.status_code == 400, resp.text
        assert resp.json()["path"] == field and "surrogate" in resp.json()["message"]
    resp = requests.post(
        env.session_url("/connect"),
        data=b'{"userId":"\\udc00"}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 400 and "surrogate" in resp.text


def test_lone_surrogate_in_user_text_is_replaced_not_a_500(env):
    resp = env.post_input(b'{"userId":"u2","sessionId":"s2","text":"hi \\ud800 there"}')
    assert resp.status_code == 200, resp.text


def test_lone_surrogate_in_a_signed_channel_to_id_is_a_400(env):
    body = payload("outbound_text", customer_id="\ud800", conversation_id="c-1")
    resp = post_raw(env.bridge_url, compact(body))
    assert resp.status_code == 400, resp.text
    assert "channel.to.id" in resp.json()["message"]


def test_lone_surrogate_in_agent_text_does_not_break_sse(env):
    conversation_id = start_handover(env)
    handover = handover_of(env)
    events = Events(env)
    try:
        body = payload(
            "outbound_text", customer_id=handover.customer_id, conversation_id=conversation_id
        )
        body["text"] = "broken \ud800 text"
        assert post_raw(env.bridge_url, compact(body)).status_code == 200
        seq, out = events.next_event()
        while out.get("source") != "agent":
            seq, out = events.next_event()
        assert out["text"] == "broken \ufffd text"
        # The stream keeps working after it.
        body = payload(
            "outbound_text", customer_id=handover.customer_id, conversation_id=conversation_id
        )
        body["text"] = "fine again"
        assert post_raw(env.bridge_url, compact(body)).status_code == 200
        while out.get("text") != "fine again":
            seq, out = events.next_event()
    finally:
        events.close()
    collect(env, lambda o: o.get("text") == "fine again")
