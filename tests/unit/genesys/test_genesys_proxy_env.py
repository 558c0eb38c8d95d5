"""The client resolves the proxy / CA-bundle environment once, when it is built: operators behind
an HTTP(S)_PROXY keep working, NO_PROXY is honoured, and no call looks at the environment again."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from om_bridge.bridge.genesys import GenesysClient
from om_bridge.bridge.genesys import transport as transport_module
from om_bridge.bridge.genesys.errors import GenesysConnectionError

# Never resolved: only a proxy that forwards by absolute URI can answer for it.
BASE = "http://api.om-bridge-proxy-test.invalid"
PROXY_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy stand-in that answers itself and records the absolute URIs it got."""

    seen: list[str]

    def _answer(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.endswith("/oauth/token"):
            body = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600}
        else:
            body = {"ok": True}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy():  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_ENV:
        monkeypatch.delenv(name, raising=False)


def test_the_proxy_from_the_environment_is_used_and_resolved_only_once(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    client = GenesysClient(client_id="c", client_secret="s", base_url=BASE)
    try:
        assert client.session.trust_env is False
        lookups: list[str] = []
        real = transport_module.get_environ_proxies

        def counting(url, no_proxy=None):  # type: ignore[no-untyped-def]
            lookups.append(url)
            return real(url, no_proxy=no_proxy)

        monkeypatch.setattr("requests.sessions.get_environ_proxies", counting)
        monkeypatch.setattr("requests.utils.get_environ_proxies", counting)
        # A later change of the environment is not looked at per call either.
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        for _ in range(3):
            assert client.request("GET", "/api/v2/organizations/me") == {"ok": True}
        assert lookups == []
        assert proxy.seen == [BASE + "/oauth/token"] + [BASE + "/api/v2/organizations/me"] * 3
    finally:
        client.close()


def test_no_proxy_keeps_a_host_off_the_proxy(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    monkeypatch.setenv("NO_PROXY", "api.om-bridge-proxy-test.invalid")
    client = GenesysClient(client_id="c", client_secret="s", base_url=BASE)
    try:
        assert client.session.proxies == {}
        with pytest.raises(GenesysConnectionError):
            client.request("GET", "/api/v2/organizations/me", retry=False)
        assert proxy.seen == []
    finally:
        client.close()


def test_the_ca_bundle_from_the_environment_becomes_the_sessions_verify(monkeypatch, tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = GenesysClient("mypurecloud.de", "c", "s")
    try:
        assert client.session.verify == str(bundle) and client.session.trust_env is False
    finally:
        client.close()


def test_a_session_that_does_not_trust_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    session = requests.Session()
    session.trust_env = False
    client = GenesysClient("mypurecloud.de", "c", "s", session=session)
    try:
        assert session.proxies == {}
    finally:
        client.close()
