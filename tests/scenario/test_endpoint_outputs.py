"""Long-poll outputs: stored outputs come back in order, a waiting request is woken by a new one."""

from __future__ import annotations

import threading

import requests

from om_bridge.bridge.store.records import SessionKey


def key(env) -> SessionKey:
    return SessionKey("demo", env.user_id, env.session_id)


def test_outputs_after_a_cursor(bridge_env):
    hub = bridge_env.ctx.outputs
    s1 = hub.emit(
        key(bridge_env),
        {"source": "agent", "text": "one", "data": {"agent": {"name": "Alex Agent"}}},
    )
    s2 = hub.emit(key(bridge_env), {"source": "system", "data": {"handover": {"status": "active"}}})
    page = bridge_env.outputs()
    assert [o["seq"] for o in page["outputs"]] == [s1, s2]
    assert page["next"] == s2
    first = page["outputs"][0]
    assert first["source"] == "agent" and first["text"] == "one"
    assert first["data"]["agent"]["name"] == "Alex Agent" and first["time"].endswith("Z")
    assert bridge_env.outputs(after=s1)["outputs"][0]["seq"] == s2
    assert bridge_env.outputs(after=s2) == {"outputs": [], "next": s2}


def test_long_poll_is_woken_by_an_emit(bridge_env):
    started = threading.Event()
    result: dict = {}

    def poll() -> None:
        started.set()
        result.update(bridge_env.outputs(after=0, wait=20))

    t = threading.Thread(target=poll)
    t.start()
    started.wait(5)
    seq = bridge_env.ctx.outputs.emit(key(bridge_env), {"source": "agent", "text": "late"})
    t.join(20)
    assert not t.is_alive()
    assert [o["text"] for o in result["outputs"]] == ["late"] and result["next"] == seq


def test_outputs_are_per_user_and_session(bridge_env):
    bridge_env.ctx.outputs.emit(key(bridge_env), {"source": "agent", "text": "private"})
    assert bridge_env.outputs(user_id="someone-else")["outputs"] == []
    assert bridge_env.outputs(session_id="other-session")["outputs"] == []


def test_bad_query_parameters_are_400(bridge_env):
    url = bridge_env.session_url("/outputs")
    for params, path in (
        ({}, "userId"),
        ({"userId": "u", "after": "-1"}, "after"),
        ({"userId": "u", "wait": "soon"}, "wait"),
        ({"userId": "u", "wait": "nan"}, "wait"),
        # Unicode digits pass str.isdigit() but not int(); huge numbers overflow the store.
        ({"userId": "u", "after": "\u00b2"}, "after"),
        ({"userId": "u", "after": "9" * 5000}, "after"),
        ({"userId": "u", "after": str(2**63)}, "after"),
    ):
        resp = requests.get(url, params=params, timeout=10)
        assert resp.status_code == 400, params
        assert resp.json()["path"] == path
        assert "non-negative" in resp.json()["message"] or path != "after"
    ok = requests.get(url, params={"userId": "u", "after": str(2**63 - 1)}, timeout=10)
    assert ok.status_code == 200 and ok.json() == {"outputs": [], "next": 2**63 - 1}


def test_unknown_token_is_404(bridge_env):
    resp = requests.get(
        f"{bridge_env.bridge_url}/endpoint/nope/sessions/s/outputs",
        params={"userId": "u"},
        timeout=10,
    )
    assert resp.status_code == 404
