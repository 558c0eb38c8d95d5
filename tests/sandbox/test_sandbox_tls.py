"""HTTPS serving: the sandbox (constructor and `om-bridge sandbox --tls-cert/--tls-key`) and the
Cognigy emulator serve TLS on the test CA's certificate, notification channels are `wss://` on
the same certificate, and a client that does not trust the CA is refused."""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import websocket

from om_bridge.extension.build import build_extension
from om_bridge.sandbox.cognigy.emulator import CognigyEmulator
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_for_http, wait_until
from tests.sandbox.sandbox_testkit import BRIDGE, auth
from tests.tlsca import TLSFiles

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def https_sandbox(tls: TLSFiles):
    with SandboxServer(**tls.server_args) as server:
        yield server


def _token(url: str, verify: str) -> str:
    resp = requests.post(
        f"{url}/oauth/token",
        auth=BRIDGE,
        data={"grant_type": "client_credentials"},
        timeout=5,
        verify=verify,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def test_the_sandbox_serves_https_and_wss_on_its_certificate(https_sandbox, tls):
    url = https_sandbox.url
    assert url == f"https://127.0.0.1:{https_sandbox.port}"
    token = _token(url, tls.ca_bundle)
    channel = requests.post(
        f"{url}/api/v2/notifications/channels", headers=auth(token), timeout=5, verify=tls.ca_bundle
    ).json()
    assert channel["connectUri"] == f"wss://127.0.0.1:{https_sandbox.port}/channels/{channel['id']}"
    ws = websocket.create_connection(
        channel["connectUri"], timeout=5, sslopt={"ca_certs": tls.ca_bundle}
    )
    try:
        ws.send(json.dumps({"message": "ping"}))
        frames = []
        wait_until(
            lambda: frames.append(json.loads(ws.recv()))
            or frames[-1]["eventBody"] == {"message": "pong"},
            what="the pong frame over wss",
        )
        assert frames[-1]["topicName"] == "channel.metadata"
    finally:
        ws.close()


def test_a_client_that_does_not_trust_the_ca_is_refused(https_sandbox, untrusted_ca_bundle):
    with pytest.raises(requests.exceptions.SSLError):
        _token(https_sandbox.url, untrusted_ca_bundle)
    wss = https_sandbox.url.replace("https://", "wss://") + "/channels/streaming-0-x"
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(wss, timeout=5, sslopt={"ca_certs": untrusted_ca_bundle})


def test_plain_http_to_the_https_port_gets_no_answer(https_sandbox):
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{https_sandbox.port}/api/v2/users/me", timeout=5)


def test_a_certificate_needs_its_key_and_both_must_load(tls, tmp_path):
    with pytest.raises(ValueError, match="needs both a certificate"):
        SandboxServer(tls_cert=tls.cert)
    with pytest.raises(ValueError, match="needs both a certificate"):
        CognigyEmulator({}, tls_key=tls.key)
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ValueError, match="cannot serve HTTPS with certificate .*nope.pem"):
        SandboxServer(tls_cert=missing, tls_key=tls.key)


def _sandbox_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "om_bridge", "sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_sandbox_command_serves_https(tls):
    port = free_port()
    proc = _sandbox_cli("--port", str(port), *tls.cli_args)
    try:
        url = f"https://127.0.0.1:{port}"
        wait_for_http(f"{url}/api/v2/users/me", timeout=60, verify=tls.ca_bundle)
        assert _token(url, tls.ca_bundle)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"Genesys Cloud sandbox on {url}" in out


def test_the_sandbox_command_refuses_a_certificate_without_its_key(tls):
    proc = _sandbox_cli("--port", str(free_port()), "--tls-cert", tls.cert)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "needs both a certificate (--tls-cert) and its key (--tls-key)" in err


def test_the_cognigy_emulator_serves_https_on_both_hosts(tls, untrusted_ca_bundle, tmp_path):
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the emulator cannot run the extension")
    config = {"api_keys": ["k"], "extension": str(build_extension(tmp_path / "dist"))}
    with CognigyEmulator(config, **tls.server_args) as emulator:
        assert emulator.endpoint_url.startswith("https://")
        assert emulator.api_url.startswith("https://")
        listing = requests.get(
            f"{emulator.api_url}/new/v2.0/endpoints",
            headers={"X-API-Key": "k"},
            timeout=5,
            verify=tls.ca_bundle,
        )
        assert listing.status_code == 200, listing.text
        log = requests.get(
            f"{emulator.endpoint_url}/_emulator/api-log", timeout=5, verify=tls.ca_bundle
        )
        assert log.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(
                f"{emulator.api_url}/new/v2.0/endpoints", timeout=5, verify=untrusted_ca_bundle
            )
        emulator.api_down()
        emulator.api_up()  # back on the same port, still HTTPS
        again = requests.get(
            f"{emulator.api_url}/new/v2.0/endpoints",
            headers={"X-API-Key": "k"},
            timeout=5,
            verify=tls.ca_bundle,
        )
        assert again.status_code == 200
