"""`Rig`: the Genesys Cloud sandbox (its own process under gunicorn with keep-alive connections,
bench/sandbox_proc.py, its requests read through a `RemoteRequestLog`) and the bridge as
`om-bridge serve` (gunicorn, one gevent worker) with the demo configuration, a SQLite store in a
temporary directory and its provider pointing at the sandbox. Everything listens on loopback and
everything started is stopped by `close()`."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.procs import (
    HOST,
    THREADS,
    Server,
    cpu_seconds,
    free_port,
    om_bridge_argv,
    python_argv,
    wait_http,
    wait_until,
)
from bench.sandbox_proc import RemoteRequestLog
from om_bridge.bridge.demo import DEMO_TOKEN, demo_config, demo_environ, sandbox_demo_config
from om_bridge.bridge.store import Handover, SessionKey, new_customer_id, open_store


def merge(base: dict, over: dict) -> dict:
    """A deep copy of `base` with `over` merged in (tables merge, other values replace)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Rig:
    """A running sandbox + bridge pair for one benchmark."""

    def __init__(
        self,
        workdir: Path,
        *,
        sandbox_config: dict | None = None,
        provider: dict | None = None,
        threads: int = THREADS,
        store: str | None = None,
        workers: int = 1,
        bridge: dict | None = None,
    ) -> None:
        self.workdir = workdir
        self.bridge_port = free_port()
        self.bridge_url = f"http://{HOST}:{self.bridge_port}"
        self.bridge: Server | None = None
        self._store = None
        self._agents: list[Any] = []
        self._store_url, self._workers = store, workers
        sandbox_port = free_port()
        self.sandbox_url = f"http://{HOST}:{sandbox_port}"
        config_file = workdir / "sandbox.json"
        config_file.write_text(
            json.dumps(merge(sandbox_demo_config(self.bridge_url), sandbox_config or {})),
            encoding="utf-8",
        )
        self.sandbox = Server(
            "sandbox",
            python_argv(
                "bench.sandbox_proc", "--port", str(sandbox_port), "--config", str(config_file)
            ),
            workdir / "sandbox.log",
        )
        self.requests = RemoteRequestLog(self.sandbox_url)
        try:
            wait_http(self.sandbox_url + "/bench/log/answers?since=0", 60, self.sandbox)
            self.sandbox_pid = self.sandbox.worker_pid()
            self._sandbox_cpu0 = cpu_seconds(self.sandbox_pid)
            self._start_bridge(provider or {}, threads, bridge or {})
        except BaseException:
            self.close()
            raise

    def _start_bridge(self, provider: dict, threads: int, bridge: dict) -> None:
        from om_bridge.bridge.config import write_config

        data_dir = self.workdir / "data"
        config = demo_config(self.bridge_url, self.sandbox_url, data_dir)
        config["providers"][0].update(provider)
        # Every benchmark user comes from one loopback address, opening sessions far faster than
        # people do: the new-session limits per address and endpoint are not what is measured.
        config["bridge"].update(
            {"new_sessions_per_minute_per_address": 0, "new_sessions_per_minute_per_endpoint": 0}
        )
        config["bridge"].update(bridge)
        if self._store_url:
            config["bridge"]["store"] = self._store_url
        self.config = config
        self.config_path = self.workdir / "om-bridge.toml"
        write_config(self.config_path, config)
        env = {**os.environ, **demo_environ()}
        env.pop("OM_BRIDGE_STORE", None)
        self.bridge = Server(
            "bridge",
            om_bridge_argv(
                "serve",
                "--config",
                str(self.config_path),
                "--host",
                HOST,
                "--port",
                str(self.bridge_port),
                "--threads",
                str(threads),
                "--workers",
                str(self._workers),
                "--data-dir",
                str(data_dir),
            ),
            self.workdir / "bridge.log",
            env=env,
        )
        wait_http(self.bridge_url + "/healthz", 60, self.bridge)
        self.worker_pid = self.bridge.worker_pid()
        wait_until(
            lambda: len(self.bridge.worker_pids()) >= self._workers,  # type: ignore[union-attr]
            30,
            "the bridge's workers",
        )

    @property
    def agents(self) -> list[Any]:
        """The sandbox agents logged in through `agent()`, oldest first."""
        return list(self._agents)

    def worker_pids(self) -> list[int]:
        """Every gunicorn worker of the bridge."""
        assert self.bridge is not None
        return self.bridge.worker_pids()

    @property
    def store_url(self) -> str:
        return self.config["bridge"]["store"]

    @property
    def store(self):  # type: ignore[no-untyped-def]
        """The bridge's store opened from this process (SQLite is shared between processes)."""
        if self._store is None:
            self._store = open_store(self.store_url)
        return self._store

    def sql(self, query: str, *args: Any) -> list[tuple]:
        """A read-only query on the bridge's SQLite file."""
        path = self.store_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(query, args).fetchall()
        finally:
            conn.close()

    def agent_outputs(self) -> int:
        """How many agent outputs the bridge has stored (on Redis: every output appended, which is
        the same count while only agents speak)."""
        if self.store_url.startswith("redis"):
            r, prefix = self.store._r, self.store.prefix
            total = 0
            for key in r.scan_iter(match=prefix + "out:*", count=1000):
                last = r.zrevrange(key, 0, 0, withscores=True)
                total += int(last[0][1]) if last else 0
            return total
        return self.sql(
            "SELECT count(*) FROM outputs WHERE json_extract(body, '$.source') = 'agent'"
        )[0][0]

    # -- the user side ------------------------------------------------------------------------
    def say(self, user_id: str, text: str, session_id: str | None = None) -> dict:
        """POST one user input to the demo endpoint (Cognigy REST format)."""
        resp = requests.post(
            f"{self.bridge_url}/endpoint/{DEMO_TOKEN}",
            json={"userId": user_id, "sessionId": session_id or f"s-{user_id}", "text": text},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def engine_handover(self, user_id: str, timeout: float = 30.0) -> Handover:
        """A handover made the real way: the demo flow asks for it, the bridge's first message
        opens a sandbox conversation; returns it once its conversation id is known."""
        self.say(user_id, "hello")
        self.say(user_id, "I want an agent please")
        key = SessionKey(DEMO_TOKEN, user_id, f"s-{user_id}")
        found: list[Handover] = []

        def known() -> bool:
            h = self.store.open_handover_for_session(key)
            if h is not None and h.conversation_id:
                found.append(h)
            return bool(found)

        wait_until(known, timeout, f"the conversation id of {user_id}'s handover", 0.02)
        return found[0]

    def clone_handovers(self, template: Handover, n: int, status: str = "active") -> list[Handover]:
        """`n` open handovers written straight into the store, like `template` (same provider,
        integration, settings, agent) but each with its own session, customer id and (made-up)
        conversation id — the fast way to have thousands open at once."""
        made = []
        for _ in range(n):
            user_id = f"u-{uuid.uuid4().hex[:16]}"
            h = Handover.new(
                SessionKey(DEMO_TOKEN, user_id, f"s-{user_id}"),
                template.provider_id,
                customer_id=new_customer_id(),
                integration_id=template.integration_id,
                conversation_id=str(uuid.uuid4()),
                status=status,
                settings=copy.deepcopy(template.settings),
                agent=copy.deepcopy(template.agent),
                data={},
            )
            made.append(self.store.create_handover(h))
        return made

    def agent(self, username: str | None = None, password: str | None = None):  # type: ignore[no-untyped-def]
        """A logged-in sandbox agent (Alex by default), closed with the rig."""
        from om_bridge.sandbox import seed
        from om_bridge.sandbox.agentclient import AgentClient

        client = AgentClient(
            self.sandbox_url,
            username or seed.DEMO_AGENT_USERNAME,
            password or seed.DEMO_AGENT_PASSWORD,
        ).login()
        self._agents.append(client)
        return client

    def close(self) -> None:
        """Stop the bridge process, the agents and the sandbox."""
        for client in self._agents:
            client.close()
        if self._store is not None:
            self._store.close()
        if self.bridge is not None:
            self.bridge.stop()
        self.requests.close()
        self.sandbox.stop()

    def sandbox_cpu(self) -> float:
        """CPU seconds the sandbox's gunicorn worker has used since the rig started."""
        return cpu_seconds(self.sandbox_pid) - self._sandbox_cpu0

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
