"""`describe_failure` names what a failed Genesys call met (TLS, DNS, refused, timeout, cut off,
unexpected), and every kind of failure — not only typed Genesys errors — is recorded as the
provider's last outcome for readiness, until a call succeeds again."""

from __future__ import annotations

import socket

import pytest
import requests
import responses

from om_bridge.bridge.genesys.client import INTEGRATIONS
from om_bridge.bridge.genesys.errors import GenesysConnectionError
from om_bridge.bridge.genesys.failures import describe_failure
from om_bridge.bridge.genesys.keepalive import KeepAlivePool
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port
from tests.unit.genesys.genesys_testkit import API, FakeClock, add_token, make_client


def _raised(call) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        call()
    except BaseException as exc:
        return exc
    raise AssertionError("the call did not fail")


def test_a_refused_connection_is_named():
    port = free_port()
    exc = _raised(lambda: requests.get(f"https://127.0.0.1:{port}/", timeout=5))
    assert describe_failure(exc) == "connection refused (ConnectionRefusedError)"


def test_a_certificate_from_an_unknown_ca_is_named_for_both_http_stacks(tls, untrusted_ca_bundle):
    with SandboxServer(**tls.server_args) as sandbox:
        via_requests = _raised(
            lambda: requests.get(sandbox.url + "/", timeout=5, verify=untrusted_ca_bundle)
        )
        pool = KeepAlivePool(sandbox.url, verify=untrusted_ca_bundle)
        via_pool = _raised(lambda: pool.request("GET", "/", {}, None, (5, 5)))
    for exc in (via_requests, via_pool):
        assert describe_failure(exc) == (
            "TLS certificate not trusted: unable to get local issuer certificate "
            "(SSLCertVerificationError)"
        )


def test_dns_timeout_and_unexpected_errors_are_named():
    def wrapped(inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except OSError as cause:
                raise requests.ConnectionError("wrapper") from cause
        except requests.ConnectionError as outer:
            return outer

    dns = wrapped(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert describe_failure(dns) == "DNS lookup failed (gaierror)"
    assert describe_failure(requests.ReadTimeout("x")) == "timed out (ReadTimeout)"
    assert describe_failure(ConnectionResetError()) == "connection cut off (ConnectionResetError)"
    assert describe_failure(RecursionError("deep")) == "unexpected error (RecursionError)"
    assert describe_failure(requests.ConnectionError("x")) == "connection failed (ConnectionError)"


def test_the_error_of_a_failed_call_says_its_cause(tls, untrusted_ca_bundle, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", untrusted_ca_bundle)
    with SandboxServer(**tls.server_args) as sandbox:
        client = make_client(FakeClock(), base_url=sandbox.url)
        with pytest.raises(GenesysConnectionError) as caught:
            client.probe()
    assert "TLS certificate not trusted" in str(caught.value)
    assert client.reachability.failure.startswith("TLS certificate not trusted")


@responses.activate
def test_an_unexpected_exception_is_a_failure_until_a_call_succeeds():
    clock = FakeClock()
    client = make_client(clock)
    add_token(responses)
    path = INTEGRATIONS

    def broken(_request):  # type: ignore[no-untyped-def]
        raise RuntimeError("a library's surprise")

    responses.add_callback(responses.GET, API + path, callback=broken)
    with pytest.raises(RuntimeError):
        client.probe()
    seen = client.reachability
    assert seen.failure == "unexpected error (RuntimeError)"
    assert seen.last_ok is None or seen.last_failure >= seen.last_ok

    clock.advance(1)
    responses.replace(responses.GET, API + path, json={"entities": []})
    client.probe()
    assert seen.last_ok > seen.last_failure
