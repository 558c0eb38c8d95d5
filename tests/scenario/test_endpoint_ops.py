"""Operator routes: /healthz, /readyz (store + Genesys login), /metrics (never secrets), request ids."""

from __future__ import annotations

import requests

from om_bridge.sandbox import seed


def test_healthz(bridge_env):
    resp = requests.get(bridge_env.bridge_url + "/healthz", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_readyz_checks_store_and_provider(bridge_env):
    resp = requests.get(bridge_env.bridge_url + "/readyz", timeout=10)
    assert resp.status_code == 200, resp.text
    names = {c["name"]: c["ok"] for c in resp.json()["checks"]}
    assert names == {"store": True, "provider:genesys-demo": True}


def test_readyz_names_the_failing_provider(bridge_env):
    bridge_env.stop_sandbox()
    resp = requests.get(bridge_env.bridge_url + "/readyz", timeout=60)
    assert resp.status_code == 503
    body = resp.json()
    assert body["failing"] == ["provider:genesys-demo"]
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "provider:genesys-demo")
    assert detail.startswith("provider genesys-demo: ")
    assert seed.BRIDGE_CLIENT_SECRET not in resp.text


def test_readyz_reports_wrong_credentials_without_the_secret(make_bridge_env):
    env = make_bridge_env(
        config={"providers": [{"id": "genesys-demo", "client_secret": "wrong-secret-0123456789"}]}
    )
    resp = requests.get(env.bridge_url + "/readyz", timeout=60)
    assert resp.status_code == 503
    assert "wrong-secret-0123456789" not in resp.text


def test_metrics_count_requests_and_hold_no_secrets(bridge_env):
    bridge_env.say("hello")
    requests.get(bridge_env.bridge_url + "/readyz", timeout=30)
    text = requests.get(bridge_env.bridge_url + "/metrics", timeout=10).text
    assert (
        'om_bridge_http_requests_total{method="POST",route="/endpoint/<url_token>",status="200"}'
        in text
    )
    for secret in (seed.BRIDGE_CLIENT_SECRET, seed.DEMO_WEBHOOK_SECRET, "demo-eventbridge-key"):
        assert secret not in text
    # Paths carry user ids; only route patterns are labels.
    assert bridge_env.user_id not in text


def test_request_id_is_echoed_or_made(bridge_env):
    resp = requests.get(
        bridge_env.bridge_url + "/healthz", headers={"X-Request-Id": "abc-123"}, timeout=10
    )
    assert resp.headers["X-Request-Id"] == "abc-123"
    made = requests.get(bridge_env.bridge_url + "/healthz", timeout=10).headers["X-Request-Id"]
    assert made and made != "abc-123"


def _readiness(env):  # type: ignore[no-untyped-def]
    return env.app.extensions["om-bridge.readiness"]


def test_readyz_does_not_call_genesys_on_every_probe(bridge_env):
    readiness = _readiness(bridge_env)
    readiness.ttl = 0  # no answer cache: each request decides afresh
    client = bridge_env.ctx.clients.for_provider("genesys-demo")
    calls = []
    real_probe = client.probe
    client.probe = lambda: calls.append(1) or real_probe()  # count the probes
    try:
        for _ in range(10):
            assert requests.get(bridge_env.bridge_url + "/readyz", timeout=30).status_code == 200
    finally:
        client.probe = real_probe
    assert len(calls) <= 1  # one probe, then the recent answer is enough


def test_readyz_turns_unavailable_when_genesys_calls_fail(bridge_env):
    from tests.scenario.handover_helpers import start_handover

    env = bridge_env
    start_handover(env, agent_answers=True)  # the token is cached, Genesys has answered
    assert requests.get(env.bridge_url + "/readyz", timeout=30).status_code == 200
    _readiness(env).ttl = 0
    env.stop_sandbox()
    env.say("are you there?")  # relayed through the outbox: the call to Genesys fails
    from tests.conftest import wait_until

    wait_until(
        lambda: requests.get(env.bridge_url + "/readyz", timeout=30).status_code == 503,
        30,
        what="not ready once a Genesys call failed",
    )
    body = requests.get(env.bridge_url + "/readyz", timeout=30).json()
    assert body["failing"] == ["provider:genesys-demo"]


def test_readyz_probes_genesys_when_nothing_recent_says_it_answers(bridge_env):
    from tests.scenario.handover_helpers import start_handover

    env = bridge_env
    start_handover(env, agent_answers=True)
    env.stop_sandbox()
    readiness = _readiness(env)
    readiness.ttl, readiness.recent = 0, 0  # the last answer is no longer recent
    resp = requests.get(env.bridge_url + "/readyz", timeout=60)
    assert resp.status_code == 503 and resp.json()["failing"] == ["provider:genesys-demo"]
