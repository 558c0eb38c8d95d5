"""`om-bridge listener`: the notifications listener as its own process, sharing the store with the
server; it watches the open handovers it finds there and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests
import tomli_w

from om_bridge.bridge.demo import demo_config
from om_bridge.bridge.store import Handover, SessionKey, open_store
from om_bridge.sandbox.server import SandboxServer
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
        [sys.executable, "-m", "om_bridge", "listener", "--config", str(path)],
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


# A listener in a process of its own, reporting each leader-lock attempt to a file (one line:
# "1" leader, "0" follower), so a test can tell "tried and stayed follower" from "not tried yet".
CHILD = """
import sys, threading
from om_bridge.bridge.completion.listener import ListenerSettings, NotificationsListener
from om_bridge.bridge.genesys import GenesysClient
from om_bridge.bridge.store import open_store

store_url, sandbox_url, client_id, secret, report = sys.argv[1:6]
store = open_store(store_url)
client = GenesysClient(None, client_id, secret, base_url=sandbox_url)
settings = ListenerSettings(lock_ttl=3.0, lock_renew=0.2, sync_interval=0.2, tick=0.05,
                            heartbeat_timeout=30.0)
listener = NotificationsListener(client, store, lambda event: None, client_id=client_id,
                                 provider_ids=["genesys-demo"], settings=settings)
take = listener._leadership

def leadership():
    take()
    with open(report, "a") as f:
        f.write("1\\n" if listener.leader else "0\\n")

listener._leadership = leadership
listener.start()
sys.stdin.read()   # until the test closes stdin (or kills the process)
listener.stop()
"""


def attempts(report: Path) -> list[str]:
    return report.read_text().split() if report.exists() else []


def test_leader_lock_holds_across_processes_and_passes_on_when_the_leader_dies(tmp_path):
    from om_bridge.sandbox import seed

    with SandboxServer(config={"eventbridge": {"url": ""}}) as sandbox:
        db = (tmp_path / "bridge.db").resolve()
        store = open_store(f"sqlite:///{db}")
        store.create_handover(
            Handover.new(
                SessionKey("demo", "u1", "s1"),
                "genesys-demo",
                "u1",
                integration_id="i",
                conversation_id="conv-locked",
                status="active",
            )
        )
        store.close()

        def child(name: str) -> tuple[subprocess.Popen, Path]:
            report = tmp_path / f"{name}.txt"
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    f"sqlite:///{db}",
                    sandbox.url,
                    seed.BRIDGE_CLIENT_ID,
                    seed.BRIDGE_CLIENT_SECRET,
                    str(report),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            return proc, report

        def sockets() -> list[dict]:
            chans = requests.get(sandbox.url + "/sandbox/notifications/channels", timeout=5)
            return [
                c
                for c in chans.json()["entities"]
                if "v2.detail.events.conversation.conv-locked.customer.end" in c["topics"]
            ]

        first, first_report = child("first")
        second = None
        try:
            wait_until(lambda: "1" in attempts(first_report), 30, what="the first process leading")
            wait_until(
                lambda: any(c["connected"] for c in sockets()), 20, what="the leader's socket"
            )
            second, second_report = child("second")
            # The second process asks for the lock again and again and never gets it.
            wait_until(lambda: len(attempts(second_report)) >= 5, 30, what="the follower's tries")
            assert set(attempts(second_report)) == {"0"}
            [old] = sockets()
            first.kill()  # no release: the lock must expire by itself
            first.wait(10)
            wait_until(lambda: "1" in attempts(second_report), 30, what="the follower taking over")
            wait_until(
                lambda: any(c["connected"] and c["id"] != old["id"] for c in sockets()),
                20,
                what="the new leader's own channel and socket",
            )
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.stdin.close()
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
