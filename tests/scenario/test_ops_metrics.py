"""/metrics as Prometheus reads it: one Content-Type with one charset, and a bounded number of
series whatever methods and paths clients invent."""

from __future__ import annotations

import random
import string

import requests


def _series(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


def test_metrics_content_type_names_one_charset(bridge_env):
    resp = requests.get(bridge_env.bridge_url + "/metrics", timeout=10)
    assert resp.status_code == 200
    content_type = resp.headers["Content-Type"]
    assert content_type.lower().count("charset") == 1, content_type
    assert content_type.startswith("text/plain; version=")


def test_invented_methods_and_paths_keep_the_series_bounded(bridge_env):
    rng = random.Random(4)
    with requests.Session() as http:
        for i in range(3000):
            method = "".join(rng.choice(string.ascii_uppercase) for _ in range(12))
            path = "/endpoint/demo" if i % 2 else f"/no/such/{i}"
            resp = http.request(method, bridge_env.bridge_url + path, timeout=30)
            assert resp.status_code in (400, 404, 405)
        text = http.get(bridge_env.bridge_url + "/metrics", timeout=30).text
    requests_series = _series(text, "om_bridge_http_requests_total")
    methods = {line.split('method="')[1].split('"')[0] for line in requests_series}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    routes = {line.split('route="')[1].split('"')[0] for line in requests_series}
    assert not any(r.startswith("/no/such/") for r in routes)
    # A handful of (route, method, status) combinations, not one per request.
    assert len(requests_series) < 20, requests_series
    assert len(text) < 100_000


def _value(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    return None


def test_state_gauges_for_handovers_and_the_outbox(bridge_env):
    from tests.conftest import wait_until
    from tests.scenario.handover_helpers import start_handover

    env = bridge_env

    def metrics() -> str:
        return requests.get(env.bridge_url + "/metrics", timeout=30).text

    assert _value(metrics(), 'om_bridge_open_handovers{status="active"}') == 0.0
    start_handover(env, agent_answers=True)
    wait_until(
        lambda: _value(metrics(), 'om_bridge_open_handovers{status="active"}') == 1.0,
        30,
        what="one active handover counted",
    )
    assert _value(metrics(), 'om_bridge_queue_depth{queue="outbox"}') == 0.0
    env.stop_sandbox()  # Genesys down: the user's message waits in the outbox
    env.say("are you there?")
    wait_until(
        lambda: (_value(metrics(), 'om_bridge_queue_depth{queue="outbox"}') or 0) >= 1,
        30,
        what="the message waiting in the outbox",
    )
    text = metrics()
    assert _value(text, 'om_bridge_queue_oldest_age_seconds{queue="outbox"}') >= 0.0
    assert 'om_bridge_queue_depth{queue="inbound"}' in text
