"""`om-bridge listener`: the notifications listener as its own process, sharing the store with the
server; it watches the open handovers it finds there and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests
import tomli_w

from bridge.demo import demo_config
from bridge.store import Handover, SessionKey, open_store
from sandbox.server import SandboxServer
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, sandbox_url: str, completion: str) -> Path:
    config = demo_config("http://127.0.0.1:1", sandbox_url, tmp_path / "data")
    config["providers"][0]["completion"] = completion
    (tmp_path / "data").mkdir(exist_ok=True)
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def run(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "listener", "--config", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_listener_process_watches_open_handovers_from_the_store(tmp_path):
    with SandboxServer(config={"eventbridge": {"url": ""}}) as sandbox:
        path = write_config(tmp_path, sandbox.url, "notifications")
        store = open_store(f"sqlite:///{(tmp_path / 'data' / 'om-bridge.db').resolve()}")
        store.create_handover(
            Handover.new(
                SessionKey("demo", "u1", "s1"),
                "genesys-demo",
                "u1",
                integration_id="i",
                conversation_id="conv-from-store",
                status="active",
            )
        )
        store.close()
        proc = run(path)
        try:

            def watching() -> bool:
                chans = requests.get(
                    sandbox.url + "/sandbox/notifications/channels", timeout=5
                ).json()
                return any(
                    c["connected"]
                    and "v2.detail.events.conversation.conv-from-store.customer.end" in c["topics"]
                    for c in chans["entities"]
                )

            wait_until(watching, 20, what="the listener process subscribed and connected")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "notifications listener running for genesys-demo" in out


def test_nothing_to_listen_to_exits_2_with_the_reason(tmp_path):
    with SandboxServer() as sandbox:
        path = write_config(tmp_path, sandbox.url, "eventbridge")
        proc = run(path)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert 'completion = "notifications"' in err
