"""Scenario-test harness: a real Genesys Cloud sandbox and a real bridge on free loopback ports.

`BridgeEnv` runs the sandbox (`SandboxServer`) and the bridge (`create_app` in a threaded werkzeug
server, in-process) with the demo wiring of `om-bridge demo` and a temporary SQLite file. Tests talk
to both over HTTP only. Options: `flags` (environment variables merged over the demo flags; a value
of None removes one), `config` (merged over the demo configuration; `endpoints`/`providers` entries
are matched by `url_token`/`id`), `sandbox_config` (merged over the demo sandbox settings),
`start_workers`, `sse_keepalive`, `tls` (a `tests.tlsca.TLSFiles`: the sandbox serves HTTPS and
notifications over wss:// on that certificate; the bridge must trust its CA, see the
`ca_bundle_env` fixture).
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import requests
import tomli_w
from werkzeug.serving import make_server

from om_bridge.bridge.demo import DEMO_TOKEN, demo_config, demo_environ, sandbox_demo_config
from tests.conftest import free_port, wait_until
from tests.tlsca import TLSFiles

HOST = "127.0.0.1"
# Genesys' delivery timings shrunk so retries happen within a test's patience (never timed asserts).
FAST_SANDBOX = {
    "webhook": {"timeout": 5.0, "retries": 5, "retry_delay": 0.2},
    "eventbridge": {"retry_delay_seconds": 0.1, "max_retry_delay_seconds": 0.5},
}
_KEYED_LISTS = {"endpoints": "url_token", "providers": "id"}


def merge(base: Any, over: Any, key: str | None = None) -> Any:
    """Deep merge of `over` into a copy of `base`; lists of tables merge entries with the same id."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = merge(out[k], v, k) if k in out else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(over, list) and key in _KEYED_LISTS:
        ident = _KEYED_LISTS[key]
        out = copy.deepcopy(base)
        for entry in over:
            match = next((i for i, e in enumerate(out) if e.get(ident) == entry.get(ident)), None)
            if match is None:
                out.append(copy.deepcopy(entry))
            else:
                out[match] = merge(out[match], entry)
        return out
    return copy.deepcopy(over)


class BridgeServer:
    """The bridge app in a threaded werkzeug server on a fixed port (restartable on the same port)."""

    def __init__(self, test_config: dict, port: int) -> None:
        from om_bridge.bridge.app import create_app

        self.app = create_app(test_config)
        self.ctx = self.app.extensions["om-bridge"]
        self._server = make_server(HOST, port, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bridge-test-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, then stop the app's workers and close its store."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self.ctx.close()


class SandboxAdmin:
    """The sandbox's admin routes (faults, rate limit, EventBridge destination)."""

    def __init__(self, env: BridgeEnv) -> None:
        self._env = env

    def _url(self, path: str) -> str:
        return self._env.sandbox_url + path

    def add_fault(self, **fault: Any) -> dict:
        """Add a fault (`target`, `mode`, `status`, `retry_after`, `delay`, `count`, `path`, `method`)."""
        resp = requests.post(self._url("/sandbox/faults"), json=fault, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def clear_faults(self, target: str | None = None) -> None:
        params = {"target": target} if target else None
        requests.delete(self._url("/sandbox/faults"), params=params, timeout=5).raise_for_status()

    def set_rate_limit(self, per_minute: int) -> None:
        requests.put(
            self._url("/sandbox/rate-limit"), json={"perMinute": per_minute}, timeout=5
        ).raise_for_status()

    def eventbridge(self, settings: dict | None = None) -> dict:
        """GET (no settings) or PUT the EventBridge destination; returns the sandbox's answer."""
        if settings is None:
            resp = requests.get(self._url("/sandbox/eventbridge"), timeout=5)
        else:
            resp = requests.put(self._url("/sandbox/eventbridge"), json=settings, timeout=5)
        resp.raise_for_status()
        return resp.json()


class BridgeEnv:
    """A running sandbox + bridge pair with helpers for talking to both like a user and an agent."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        flags: dict | None = None,
        config: dict | None = None,
        sandbox_config: dict | None = None,
        start_workers: bool = True,
        sse_keepalive: float = 15.0,
        tls: TLSFiles | None = None,
    ) -> None:
        self.tmp_path = Path(tmp_path)
        self.tls = tls
        self.data_dir = self.tmp_path / "data"
        self.bridge_port = free_port()
        self.bridge_url = f"http://{HOST}:{self.bridge_port}"
        self.url_token = DEMO_TOKEN
        self.user_id = f"user-{uuid.uuid4().hex[:12]}"
        self.session_id = f"session-{uuid.uuid4().hex[:12]}"
        self.sandbox_config = merge(
            merge(sandbox_demo_config(self.bridge_url), FAST_SANDBOX), sandbox_config or {}
        )
        self.sandbox_port: int | None = None
        self.sandbox = None
        self.bridge: BridgeServer | None = None
        self._agent = None
        self._others: list = []
        self.sandbox_admin = SandboxAdmin(self)
        self.start_sandbox()
        base = demo_config(self.bridge_url, self.sandbox_url, self.data_dir)
        # Scenario tests drive the flags through the environment (`flags`), so the demo's
        # `[features]` table is left out: a flag removed here is really off.
        base.pop("features", None)
        self.config = merge(base, config or {})
        self.environ = {
            k: v for k, v in {**demo_environ(), **(flags or {})}.items() if v is not None
        }
        self.start_workers, self.sse_keepalive = start_workers, sse_keepalive
        try:
            self.start_bridge()
        except BaseException:
            self.stop_sandbox()
            raise

    # -- lifecycle --

    @property
    def sandbox_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{HOST}:{self.sandbox_port}"

    @property
    def app(self):  # type: ignore[no-untyped-def]
        assert self.bridge is not None, "the bridge is stopped"
        return self.bridge.app

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        assert self.bridge is not None, "the bridge is stopped"
        return self.bridge.ctx

    def config_path(self) -> Path:
        """Where the bridge's configuration is written (TOML, like `om-bridge demo` does)."""
        return self.tmp_path / "om-bridge.toml"

    def start_bridge(self, *, flags: dict | None = None, config: dict | None = None) -> None:
        """Start the bridge (optionally with more flags/config overrides); same port, same SQLite file."""
        if flags:
            self.environ = {k: v for k, v in {**self.environ, **flags}.items() if v is not None}
        if config:
            self.config = merge(self.config, config)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path().write_text(tomli_w.dumps(self.config), encoding="utf-8")
        self.bridge = BridgeServer(
            {
                "config_path": str(self.config_path()),
                "environ": dict(self.environ),
                "start_workers": self.start_workers,
                "sse_keepalive": self.sse_keepalive,
            },
            self.bridge_port,
        )

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None

    def restart_bridge(self, *, flags: dict | None = None, config: dict | None = None) -> None:
        """Stop the bridge and start a new app on the same SQLite file and port."""
        self.stop_bridge()
        self.start_bridge(flags=flags, config=config)

    def start_sandbox(self) -> None:
        """Start the sandbox (on the same port as before after `stop_sandbox`); its state starts fresh."""
        from om_bridge.sandbox.server import SandboxServer

        self.sandbox = SandboxServer(
            config=copy.deepcopy(self.sandbox_config),
            host=HOST,
            port=self.sandbox_port or 0,
            **(self.tls.server_args if self.tls else {}),
        )
        self.sandbox.start()
        self.sandbox_port = self.sandbox.port
        self._close_agents()

    def stop_sandbox(self) -> None:
        """Stop the sandbox (Genesys "down"); the port is kept for `start_sandbox`."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def close(self) -> None:
        self._close_agents()
        self.stop_bridge()
        self.stop_sandbox()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the user side (endpoint routes) --

    def endpoint_url(self, suffix: str = "") -> str:
        return f"{self.bridge_url}/endpoint/{self.url_token}{suffix}"

    def session_url(self, suffix: str, session_id: str | None = None) -> str:
        return self.endpoint_url(f"/sessions/{session_id or self.session_id}{suffix}")

    def post_input(self, body: Any, **kw: Any) -> requests.Response:
        """POST a raw input body to the endpoint (for error tests)."""
        if isinstance(body, (bytes, str)):
            return requests.post(
                self.endpoint_url(),
                data=body,
                timeout=30,
                headers={"Content-Type": "application/json"},
                **kw,
            )
        return requests.post(self.endpoint_url(), json=body, timeout=30, **kw)

    def say(
        self,
        text: str | None = None,
        *,
        data: dict | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict:
        """Send a user message; returns the Cognigy REST reply (fails the test on a non-200)."""
        body: dict[str, Any] = {
            "userId": user_id or self.user_id,
            "sessionId": session_id or self.session_id,
        }
        if text is not None:
            body["text"] = text
        if data is not None:
            body["data"] = data
        resp = self.post_input(body)
        assert resp.status_code == 200, f"POST /endpoint -> {resp.status_code}: {resp.text}"
        return resp.json()

    def outputs(
        self,
        after: int = 0,
        wait: float = 0,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict:
        """Long-poll: `{"outputs": [...], "next": n}`."""
        resp = requests.get(
            self.session_url("/outputs", session_id),
            params={"userId": user_id or self.user_id, "after": after, "wait": wait},
            timeout=wait + 10,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait_for_output(
        self, predicate: Callable[[dict], bool], after: int = 0, timeout: float = 15.0, **kw: Any
    ) -> dict:
        """The first output after `after` matching `predicate`, long-polling until `timeout`."""
        found: list[dict] = []
        cursor = [after]

        def seen() -> bool:
            page = self.outputs(cursor[0], wait=1, **kw)
            cursor[0] = page["next"]
            found.extend(o for o in page["outputs"] if predicate(o))
            return bool(found)

        wait_until(seen, timeout, interval=0, what="a matching output")
        return found[0]

    def post_session(
        self, action: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> requests.Response:
        """POST `connect`, `disconnect` or `typing` for the session."""
        return requests.post(
            self.session_url(f"/{action}", session_id),
            json={"userId": user_id or self.user_id},
            timeout=10,
        )

    # -- the agent side --

    @property
    def agent(self):  # type: ignore[no-untyped-def]
        """An `AgentClient` for Alex Agent on the current sandbox (made on first use)."""
        if self._agent is None:
            from om_bridge.sandbox import seed
            from om_bridge.sandbox.agentclient import AgentClient

            self._agent = AgentClient(
                self.sandbox_url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD
            ).login()
        return self._agent

    def agent_client(self, username: str, password: str):  # type: ignore[no-untyped-def]
        """Another agent, logged in (e.g. the seeded supervisor for transfer tests); closed with the env."""
        from om_bridge.sandbox.agentclient import AgentClient

        client = AgentClient(self.sandbox_url, username, password).login()
        self._others.append(client)
        return client

    def _close_agents(self) -> None:
        for client in [self._agent, *self._others]:
            if client is not None:
                client.close()
        self._agent, self._others = None, []
