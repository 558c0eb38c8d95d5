"""The production path over HTTPS, with certificate verification on through a configured CA bundle.

The Genesys Cloud sandbox serves HTTPS (and its notification channels wss://) on a certificate of
the test CA (`tests/tlsca.py`); the bridge trusts that CA only through `REQUESTS_CA_BUNDLE`.

- The documented production command (`om-bridge serve`, docs/deployment.md) as a process: a user
  is handed over to an agent and back.
- The same command given another CA's bundle: it must not trust the sandbox, and `/readyz` says
  not ready, naming the provider and the TLS cause.
- In-process: the sandbox comes back with a certificate the bridge cannot verify; after one
  failed call `/readyz` is not ready (naming the cause), and after one successful call ready again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from om_bridge.bridge.config import write_config
from om_bridge.bridge.demo import demo_config, sandbox_demo_config
from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.sandbox import seed
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_until
from tests.scenario.harness import FAST_SANDBOX, HOST, BridgeEnv, merge
from tests.scenario.process_story import hand_over_and_back
from tests.scenario.test_deployment_command import run_production_command, stop
from tests.tlsca import TLSFiles, make_tls

PROVIDER = "provider:genesys-demo"


@pytest.fixture
def https_sandbox(tls: TLSFiles) -> Iterator[tuple[SandboxServer, int]]:
    """The sandbox on HTTPS, and the port the bridge will listen on (its webhook target)."""
    port = free_port()
    sandbox = SandboxServer(
        config=merge(sandbox_demo_config(f"http://{HOST}:{port}"), FAST_SANDBOX),
        host=HOST,
        port=0,
        **tls.server_args,
    )
    sandbox.start()
    try:
        yield sandbox, port
    finally:
        sandbox.stop()


def readyz_answer(proc: subprocess.Popen, log: Path, bridge_url: str) -> requests.Response:
    """The first answer of `/readyz` (any status) once the bridge listens."""
    got: list[requests.Response] = []

    def answered() -> bool:
        assert proc.poll() is None, f"the command exited:\n{log.read_text(errors='replace')}"
        try:
            got.append(requests.get(bridge_url + "/readyz", timeout=30))
        except requests.ConnectionError:
            return False
        return True

    wait_until(answered, 90, interval=0.2, what="/readyz of om-bridge serve")
    return got[-1]


def provider_detail(body: dict) -> str:
    return next(c["detail"] for c in body["checks"] if c["name"] == PROVIDER)


def write_bridge_config(tmp_path: Path, bridge_url: str, sandbox_url: str) -> Path:
    config = demo_config(bridge_url, sandbox_url, tmp_path / "data")
    assert config["providers"][0]["base_url"].startswith("https://"), config["providers"]
    config_path = tmp_path / "etc" / "om-bridge.toml"
    write_config(config_path, config)
    return config_path


def test_production_command_hands_over_and_back_over_https(
    tmp_path: Path, https_sandbox: tuple[SandboxServer, int], tls: TLSFiles, ca_bundle_env: str
) -> None:
    sandbox, port = https_sandbox
    bridge_url = f"http://{HOST}:{port}"
    log = tmp_path / "serve.log"
    proc = run_production_command(
        write_bridge_config(tmp_path, bridge_url, sandbox.url), port, log, tls.ca_bundle
    )
    try:
        first = readyz_answer(proc, log, bridge_url)
        assert first.status_code == 200, first.text

        hand_over_and_back(sandbox.url, bridge_url)
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text
    assert "RecursionError" not in text and "CERTIFICATE_VERIFY_FAILED" not in text, text


def test_production_command_does_not_trust_a_genesys_it_cannot_verify(
    tmp_path: Path, https_sandbox: tuple[SandboxServer, int], untrusted_ca_bundle: str
) -> None:
    sandbox, port = https_sandbox
    bridge_url = f"http://{HOST}:{port}"
    log = tmp_path / "serve.log"
    config_path = write_bridge_config(tmp_path, bridge_url, sandbox.url)
    proc = run_production_command(config_path, port, log, untrusted_ca_bundle)
    try:
        resp = readyz_answer(proc, log, bridge_url)
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert body["failing"] == [PROVIDER]
        detail = provider_detail(body)
        assert detail.startswith("provider genesys-demo: "), detail
        assert "TLS certificate not trusted" in detail and "SSLCertVerificationError" in detail
        assert seed.BRIDGE_CLIENT_SECRET not in resp.text
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")


def test_readyz_follows_the_certificate_within_one_call(
    tmp_path: Path, tls: TLSFiles, ca_bundle_env: str
) -> None:
    """Ready over HTTPS; the sandbox comes back with a certificate of a CA the bridge does not
    trust: one failed call and `/readyz` is not ready, naming the cause; the trusted certificate
    back and one successful call: ready again. No waiting in between: each answer is the first
    `/readyz` after the call (the answer cache must not hide the change)."""
    foreign = make_tls(tmp_path / "foreign-ca")
    with BridgeEnv(tmp_path / "env", tls=tls) as env:
        assert env.sandbox_url.startswith("https://")
        url = env.bridge_url + "/readyz"
        first = requests.get(url, timeout=60)
        assert first.status_code == 200, first.text  # and cached for a few seconds
        client = env.ctx.clients.for_provider("genesys-demo")

        env.stop_sandbox()
        env.tls = foreign
        env.start_sandbox()
        with pytest.raises(GenesysError, match="TLS certificate not trusted"):
            client.probe()
        resp = requests.get(url, timeout=60)
        assert resp.status_code == 503, resp.text
        assert resp.json()["failing"] == [PROVIDER]
        detail = provider_detail(resp.json())
        assert detail.startswith("provider genesys-demo: TLS certificate not trusted"), detail
        assert "SSLCertVerificationError" in detail
        assert seed.BRIDGE_CLIENT_SECRET not in resp.text

        env.stop_sandbox()
        env.tls = tls
        env.start_sandbox()
        client.probe()  # one successful call
        again = requests.get(url, timeout=60)
        assert again.status_code == 200, again.text
        assert provider_detail(again.json()) == "ok"


def test_a_handover_over_https_turns_readyz_unavailable_when_verification_fails(
    tmp_path: Path, tls: TLSFiles, ca_bundle_env: str
) -> None:
    """The user's message relayed through the outbox meets a certificate the bridge cannot
    verify: the relay fails and readiness names TLS."""
    from tests.scenario.handover_helpers import start_handover

    foreign = make_tls(tmp_path / "foreign-ca")
    with BridgeEnv(tmp_path / "env", tls=tls) as env:
        start_handover(env, agent_answers=True)
        env.stop_sandbox()
        env.tls = foreign
        env.start_sandbox()
        env.say("are you there?")

        def unavailable() -> bool:
            resp = requests.get(env.bridge_url + "/readyz", timeout=60)
            return resp.status_code == 503 and "TLS certificate not trusted" in provider_detail(
                resp.json()
            )

        wait_until(unavailable, 60, interval=0.2, what="/readyz naming the TLS failure")
