"""What `om-bridge demo` prints while a person uses it: the banner with the URLs and logins, then
one line per login, message or error, not one per agent-console poll; times in ISO 8601."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests

from om_bridge.bridge import messages
from om_bridge.sandbox import seed
from tests.conftest import free_port, wait_for_http

# The agent console polls the conversation list once a second (sandbox/static/console.js POLL_MS).
IDLE_POLLS = 30
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def _console_session(sandbox: str) -> None:
    """The requests a browser makes to open the console, log in and then sit idle for
    IDLE_POLLS seconds (page, assets, password grant, the start-up reads, then the polls)."""
    http = requests.Session()
    for path in ("/console", "/console/static/console.js", "/console/static/console.css"):
        assert http.get(sandbox + path, timeout=30).status_code == 200
    token = http.post(
        f"{sandbox}/oauth/token",
        auth=(seed.AGENT_CONSOLE_CLIENT_ID, seed.AGENT_CONSOLE_CLIENT_SECRET),
        data={
            "grant_type": "password",
            "username": seed.DEMO_AGENT_USERNAME,
            "password": seed.DEMO_AGENT_PASSWORD,
        },
        timeout=30,
    )
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = "Bearer " + token.json()["access_token"]
    me = http.get(f"{sandbox}/api/v2/users/me", timeout=30).json()
    assert http.get(f"{sandbox}/api/v2/routing/queues?pageSize=100", timeout=30).ok
    assert http.get(f"{sandbox}/api/v2/users/{me['id']}/routingstatus", timeout=30).ok
    for _ in range(IDLE_POLLS):
        assert http.get(f"{sandbox}/api/v2/conversations/messages", timeout=30).ok


def test_idle_console_prints_at_most_ten_lines(tmp_path):
    port, sandbox_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "om_bridge",
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        _console_session(sandbox)
        # A refused login is what a person needs to see: it is printed.
        refused = requests.post(
            f"{sandbox}/oauth/token",
            auth=(seed.AGENT_CONSOLE_CLIENT_ID, "not-the-secret"),
            data={"grant_type": "password", "username": "x", "password": "y"},
            timeout=30,
        )
        assert refused.status_code == 401
    finally:
        # werkzeug writes a request's log line before its response, so every line is out by now.
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    # The banner names the URLs and the logins.
    assert f"{sandbox}/console" in out and seed.DEMO_AGENT_USERNAME in out
    assert seed.DEMO_AGENT_PASSWORD in out
    lines = [line for line in err.splitlines() if line.strip() and line != messages.DEMO_STOPPING]
    assert len(lines) <= 10, "\n".join(lines)
    assert any("POST /oauth/token → 200" in line for line in lines), lines
    assert any("POST /oauth/token → 401" in line for line in lines), lines
    assert not any("/api/v2/conversations/messages" in line for line in lines), lines
    for line in lines:
        assert ISO_TIME.match(line), line
        assert "/Dec/" not in line and '] "' not in line, line
