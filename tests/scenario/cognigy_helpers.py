"""Cognigy-hosted scenarios: the Cognigy emulator (running the BUILT extension in Node.js), the
bridge and the Genesys sandbox on loopback ports, and helpers to talk to the emulator."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from om_bridge.bridge.store import SessionKey
from om_bridge.extension.build import build_extension
from om_bridge.sandbox.cognigy.emulator import CognigyEmulator
from tests.conftest import free_port, wait_until
from tests.tlsca import TLSFiles

TOKEN = "cognigy-demo"
API_KEY = "cognigy-api-key-0123"
EXTENSION_KEY = "extension-key-0123"
FAST_GRACE = {"GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS": "300"}


def bridge_options(
    port: int, route: str = "endpoint", tls: TLSFiles | None = None
) -> dict[str, Any]:
    """BridgeEnv options: the Cognigy endpoint (Inject/Notify on the endpoint service at `port`,
    or with `route="legacy"` the v2.0 API at `port` with its key through env:), the extension
    key; with `tls`, the emulator and the Genesys sandbox are HTTPS on that certificate."""
    scheme = "https" if tls else "http"
    entry: dict[str, Any] = {
        "url_token": TOKEN,
        "organisation": "demo",
        "handover_provider": "genesys-demo",
    }
    if route == "legacy":
        entry.update(api_base_url=f"{scheme}://127.0.0.1:{port}", api_key="env:COGNIGY_API_KEY")
    else:
        entry["endpoint_base_url"] = f"{scheme}://127.0.0.1:{port}"
    return {
        "config": {
            "bridge": {"extension_api_key": EXTENSION_KEY},
            "cognigy_endpoints": [entry],
        },
        "flags": {"COGNIGY_API_KEY": API_KEY, **FAST_GRACE},
        "tls": tls,
    }


class CognigySide:
    """The emulator plus one user's session on it."""

    def __init__(
        self,
        tmp_path: Path,
        bridge_url: str,
        api_port: int = 0,
        endpoint_port: int = 0,
        contacts: dict | None = None,
        flow: str = "cognigy-handover",
        route: str = "endpoint",
        tls: TLSFiles | None = None,
    ) -> None:
        self.route = route
        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed: the extension cannot run")
        archive = build_extension(tmp_path / "dist")
        self.emulator = CognigyEmulator(
            {
                "api_keys": [API_KEY],
                "contacts": contacts or {},
                "extension": str(archive),
                "endpoints": [
                    {
                        "url_token": TOKEN,
                        "flow": flow,
                        "connections": {
                            "om-bridge": {"bridgeUrl": bridge_url, "apiKey": EXTENSION_KEY}
                        },
                    }
                ],
            },
            api_port=api_port,
            endpoint_port=endpoint_port,
            **(tls.server_args if tls else {}),
        )
        # The test's own calls verify the emulator's certificate against its CA.
        self.verify: bool | str = tls.ca_bundle if tls else True
        self.user_id = f"user-{uuid.uuid4().hex[:8]}"
        self.session_id = f"session-{uuid.uuid4().hex[:8]}"
        self.cursor = 0

    @property
    def key(self) -> SessionKey:
        return SessionKey(TOKEN, self.user_id, self.session_id)

    def url(self, path: str) -> str:
        return self.emulator.endpoint_url + path

    def say(self, text: str) -> dict:
        resp = requests.post(
            self.url(f"/{TOKEN}"),
            json={"userId": self.user_id, "sessionId": self.session_id, "text": text},
            timeout=30,
            verify=self.verify,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def outputs(self, after: int = 0, wait: float = 0) -> list[dict]:
        resp = requests.get(
            self.url(f"/_emulator/sessions/{TOKEN}/{self.session_id}/outputs"),
            params={"userId": self.user_id, "after": after, "wait": wait},
            timeout=wait + 10,
            verify=self.verify,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["outputs"]

    def wait_output(self, predicate: Any, timeout: float = 20.0) -> dict:
        """The first output (from the start) matching `predicate`."""
        found: list[dict] = []

        def seen() -> bool:
            found[:] = [o for o in self.outputs(0, wait=0.5) if predicate(o)]
            return bool(found)

        wait_until(seen, timeout, interval=0, what="a matching output at the Cognigy user")
        return found[0]

    def _api_log(self) -> dict:
        resp = requests.get(self.url("/_emulator/api-log"), timeout=10, verify=self.verify)
        return resp.json()

    def api_log(self) -> list[dict]:
        return self._api_log()["calls"]

    def refused(self) -> int:
        """API calls the emulator answered with an injected fault."""
        return int(self._api_log()["refused"])

    def add_fault(self, **fault: Any) -> None:
        resp = requests.post(
            self.url("/_emulator/faults"), json=fault, timeout=10, verify=self.verify
        )
        assert resp.status_code == 201, resp.text

    def clear_faults(self) -> None:
        requests.delete(self.url("/_emulator/faults"), timeout=10, verify=self.verify)

    def rejected(self) -> list[dict]:
        """Inject/Notify bodies the emulator refused (400) as Cognigy's types forbid them."""
        return list(self._api_log()["rejected"])

    def down(self) -> None:
        """Cognigy's Inject/Notify are unavailable: the legacy API's port refuses connections;
        on the endpoint service (which also serves the user) they answer 503."""
        if self.route == "legacy":
            self.emulator.api_down()
        else:
            self.add_fault(call="*", status=503, count=-1)

    def up(self) -> None:
        if self.route == "legacy":
            self.emulator.api_up()
        else:
            self.clear_faults()

    def close(self) -> None:
        self.emulator.stop()


def texts(outputs: list[dict]) -> list[str]:
    return [o["text"] for o in outputs if o.get("text")]


def make_env(
    make_bridge_env: Any, tmp_path: Path, route: str = "endpoint", tls: TLSFiles | None = None
) -> tuple[Any, CognigySide]:
    """The bridge and the emulator, Inject/Notify on the endpoint service (or the legacy API);
    with `tls`, Cognigy and Genesys over HTTPS (the bridge must trust the CA: the
    `ca_bundle_env` fixture)."""
    port = free_port()
    env = make_bridge_env(**bridge_options(port, route, tls))
    if route == "legacy":
        return env, CognigySide(tmp_path, env.bridge_url, api_port=port, route=route, tls=tls)
    return env, CognigySide(tmp_path, env.bridge_url, endpoint_port=port, route=route, tls=tls)
