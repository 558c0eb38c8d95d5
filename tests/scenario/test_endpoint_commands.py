"""`om-bridge demo` and `om-bridge serve` as real processes: they start, serve, and stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import tomli_w

from om_bridge.bridge.demo import demo_config, demo_environ
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "om_bridge", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen, sig: int) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def test_demo_runs_both_and_stops_on_ctrl_c(tmp_path):
    port, sandbox_port = free_port(), free_port()
    proc = run(
        [
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30)
        wait_for_http(f"http://127.0.0.1:{sandbox_port}/console", timeout=10)
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and 'data-token="demo"' in page.text
        reply = requests.post(
            f"http://127.0.0.1:{port}/endpoint/demo",
            timeout=10,
            json={"userId": "u", "sessionId": "s", "text": "hello"},
        )
        assert reply.status_code == 200 and reply.json()["outputStack"]
    finally:
        code, out, err = stop(proc, signal.SIGINT)
    assert code == 0, err
    assert f"http://127.0.0.1:{port}/" in out and f"http://127.0.0.1:{sandbox_port}/console" in out
    assert "alex@example.com" in out and "sam@example.com" in out
    written = (tmp_path / "data" / "om-bridge.toml").read_text()
    assert 'url_token = "demo"' in written and f"127.0.0.1:{sandbox_port}" in written
    for p in (port, sandbox_port):  # both servers released their ports
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{p}/healthz", timeout=2)


def test_serve_under_gunicorn(tmp_path):
    port = free_port()
    with SandboxServer() as sandbox:
        config = demo_config(f"http://127.0.0.1:{port}", sandbox.url, tmp_path / "unused")
        del config["bridge"]["store"]  # --data-dir decides
        path = tmp_path / "om-bridge.toml"
        path.write_text(tomli_w.dumps(config))
        proc = run(
            [
                "serve",
                "--config",
                str(path),
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
                "--threads",
                "4",
            ],
            env=demo_environ(),
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30)
            assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
            reply = requests.post(
                f"http://127.0.0.1:{port}/endpoint/demo",
                timeout=10,
                json={"userId": "u", "sessionId": "s", "text": "hello"},
            )
            assert reply.status_code == 200
        finally:
            code, _out, err = stop(proc, signal.SIGTERM)
    assert code == 0, err
    assert (tmp_path / "data" / "om-bridge.db").exists()


def test_serve_refuses_to_start_without_a_secret(tmp_path):
    config = demo_config("http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path)
    del config["providers"][0]["client_secret"]
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    proc = run(["serve", "--config", str(path), "--port", str(free_port())], env=demo_environ())
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "client_secret" in err and "cannot start" in err


def test_serve_without_a_config_file_names_the_files_it_looked_for(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OM_BRIDGE_CONFIG"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "om_bridge",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, err
    assert str(tmp_path / "om-bridge.toml") in err
    assert str(tmp_path / "data" / "om-bridge.toml") in err
    assert "--config" in err
