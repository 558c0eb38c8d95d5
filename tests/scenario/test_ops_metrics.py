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
