"""The production command of docs/deployment.md, run exactly as the document writes it.

The test reads the block marked `<!-- production-command: … -->`, substitutes only the two
placeholders the document defines (the configuration path and the port), and runs it: gunicorn
with serve's worker settings, a Redis store (a private redis-server), the provider pointing at the
Genesys Cloud sandbox. Once `/readyz` answers 200 a user is handed over to an agent and back through real
HTTP, then everything is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from om_bridge.bridge.config import write_config
from om_bridge.bridge.demo import demo_config, demo_environ, sandbox_demo_config
from om_bridge.sandbox import seed
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_until
from tests.scenario.harness import FAST_SANDBOX, HOST, merge
from tests.scenario.process_story import hand_over_and_back
from tests.scenario.test_redis_fanout import redis_url  # noqa: F401 - fixture
from tests.tlsca import bridge_environ
from tests.unit.test_deployment_files import (
    CONFIG_PLACEHOLDER,
    PORT_PLACEHOLDER,
    production_command,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# A clean start and SIGTERM print none of these (gevent patched after ssl was imported; gevent's
# threading torn down before logging's handlers at exit; anything uncaught).
NOISE = ("Traceback", "Exception ignored", "MonkeyPatchWarning")


@pytest.fixture
def sandbox_and_port() -> Iterator[tuple[SandboxServer, int]]:
    port = free_port()
    bridge_url = f"http://{HOST}:{port}"
    sandbox = SandboxServer(
        config=merge(sandbox_demo_config(bridge_url), FAST_SANDBOX), host=HOST, port=0
    )
    sandbox.start()
    try:
        yield sandbox, port
    finally:
        sandbox.stop()


def run_production_command(
    config_path: Path, port: int, log: Path, ca_bundle: str | None = None
) -> subprocess.Popen:
    """Start the documented command with the two placeholders substituted, nothing else changed;
    with `ca_bundle`, the bridge verifies TLS against that bundle only."""
    argv = [
        str(config_path)
        if arg == CONFIG_PLACEHOLDER
        else str(port)
        if arg == PORT_PLACEHOLDER
        else arg
        for arg in production_command()
    ]
    env: dict[str, Any] = {**os.environ, **demo_environ()}
    if ca_bundle is not None:
        env = bridge_environ(ca_bundle, env)
    for name in (
        "OM_BRIDGE_STORE",
        "OM_BRIDGE_CONFIG",
        "GUNICORN_CMD_ARGS",
        "OM_BRIDGE_PUBLIC_URL",
    ):
        env.pop(name, None)
    # `om-bridge` as an installed console script: this environment's, first on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to gunicorn's process group (master and worker), as systemd or docker stop does."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_documented_production_command_hands_over_and_back(
    tmp_path: Path,
    redis_url: str,
    sandbox_and_port: tuple[SandboxServer, int],
) -> None:
    sandbox, port = sandbox_and_port
    bridge_url = f"http://{HOST}:{port}"
    config = demo_config(bridge_url, sandbox.url, tmp_path / "data")
    config["bridge"]["store"] = redis_url
    config_path = tmp_path / "etc" / "om-bridge.toml"
    write_config(config_path, config)
    log = tmp_path / "serve.log"

    proc = run_production_command(config_path, port, log)
    try:

        def ready() -> bool:
            assert proc.poll() is None, f"the command exited:\n{log.read_text(errors='replace')}"
            try:
                return requests.get(bridge_url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, 90, interval=0.2, what="/readyz of the production command")
        started = log.read_text(errors="replace")
        assert "store redis://" in started, started

        hand_over_and_back(sandbox.url, bridge_url)
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text
    for noise in NOISE:
        assert noise not in text, text


def test_plain_gunicorn_with_the_bridge_conf_sets_up_logging_and_stops_cleanly(
    tmp_path: Path, sandbox_and_port: tuple[SandboxServer, int]
) -> None:
    """`gunicorn -c python:om_bridge.bridge.gunicorn_conf 'om_bridge.bridge.app:create_app()'`:
    the hooks set up logging in the worker (an INFO line of the bridge, secrets masked) and stop
    the app when the worker exits."""
    sandbox, port = sandbox_and_port
    bridge_url = f"http://{HOST}:{port}"
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, demo_config(bridge_url, sandbox.url, tmp_path / "data"))
    env: dict[str, Any] = {**os.environ, **demo_environ(), "OM_BRIDGE_CONFIG": str(config_path)}
    for name in ("OM_BRIDGE_STORE", "GUNICORN_CMD_ARGS", "OM_BRIDGE_PUBLIC_URL"):
        env.pop(name, None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [
        gunicorn,
        "-c",
        "python:om_bridge.bridge.gunicorn_conf",
        "--bind",
        f"{HOST}:{port}",
        "om_bridge.bridge.app:create_app()",
    ]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def ready() -> bool:
            assert proc.poll() is None, f"gunicorn exited:\n{log.read_text(errors='replace')}"
            try:
                return requests.get(bridge_url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, 90, interval=0.2, what="/readyz under plain gunicorn")
        wait_until(
            lambda: "INFO om_bridge.bridge.genesys" in log.read_text(errors="replace"),
            10,
            what="the bridge's INFO log line (logging set up by post_worker_init)",
        )
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text
    assert seed.BRIDGE_CLIENT_SECRET not in text and seed.DEMO_WEBHOOK_SECRET not in text
    for noise in NOISE:
        assert noise not in text, text
