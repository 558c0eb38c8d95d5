"""A throwaway certificate authority for the HTTPS tests (`trustme`): a server certificate for
127.0.0.1 / localhost that the sandbox and the Cognigy emulator serve, the CA bundle that
verifies it, a second CA that does not, and a fixture that makes the bridge (in-process, or a
process the test starts with `bridge_environ`) verify against the bundle.

Registered for every test layer by `tests/conftest.py` (`pytest_plugins`)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

# What requests (and so the bridge's Genesys and Cognigy clients) reads for its trust store.
CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of one server certificate: `cert` (the chain) and `key` for the server,
    `ca_bundle` for its clients."""

    cert: str
    key: str
    ca_bundle: str

    @property
    def server_args(self) -> dict[str, str]:
        """`SandboxServer` / `CognigyEmulator` keyword arguments."""
        return {"tls_cert": self.cert, "tls_key": self.key}

    @property
    def cli_args(self) -> list[str]:
        """`om-bridge sandbox` arguments."""
        return ["--tls-cert", self.cert, "--tls-key", self.key]


def make_tls(directory: Path) -> TLSFiles:
    """A new CA and a server certificate for 127.0.0.1 and localhost, written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="om-bridge test CA")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
    cert, key, bundle = directory / "server.pem", directory / "server.key", directory / "ca.pem"
    leaf.private_key_pem.write_to_path(str(key))
    with cert.open("wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
    ca.cert_pem.write_to_path(str(bundle))
    return TLSFiles(str(cert), str(key), str(bundle))


def bridge_environ(ca_bundle: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a bridge process that verifies servers against `ca_bundle` only."""
    env = dict(os.environ if base is None else base)
    for name in CA_BUNDLE_VARS:
        env.pop(name, None)
    env["REQUESTS_CA_BUNDLE"] = ca_bundle
    return env


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """The test CA's server certificate (one per test process)."""
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def untrusted_ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundle of another CA: a client verifying against it must refuse `tls`'s servers."""
    return make_tls(tmp_path_factory.mktemp("tls-other")).ca_bundle


@pytest.fixture
def ca_bundle_env(tls: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """REQUESTS_CA_BUNDLE = the test CA for this test: the in-process bridge, the test's own
    `requests` calls and every process started with `os.environ` verify the sandbox with it."""
    for name in CA_BUNDLE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls.ca_bundle)
    yield tls.ca_bundle
