"""What `om-bridge demo` prints while a person uses it: the banner with the URLs and logins, then
one line per login, message or error, not one per agent-console poll; times in ISO 8601."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

from om_bridge.bridge import messages
from om_bridge.sandbox import seed
from tests.browser import Browser, require_chromium
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


class Demo:
    """`om-bridge demo` as a subprocess on free ports; `stop()` ends it with Ctrl-C and returns
    (stdout, stderr)."""

    def __init__(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        port, sandbox_port = free_port(), free_port()
        self.proc = subprocess.Popen(
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
        self.bridge = f"http://127.0.0.1:{port}"
        self.sandbox = f"http://127.0.0.1:{sandbox_port}"

    def wait_ready(self) -> None:
        wait_for_http(f"{self.bridge}/readyz", timeout=60)

    def stop(self) -> tuple[str, str]:
        # werkzeug writes a request's log line before its response, so every line is out by now.
        self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        assert self.proc.returncode == 0, err
        return out, err


def printed_lines(err: str) -> list[str]:
    """The log lines the demo printed (its stop notice left out)."""
    return [line for line in err.splitlines() if line.strip() and line != messages.DEMO_STOPPING]


def test_idle_console_prints_at_most_ten_lines(tmp_path):
    demo = Demo(tmp_path)
    sandbox = demo.sandbox
    try:
        demo.wait_ready()
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
        out, err = demo.stop()
    # The banner names the URLs and the logins.
    assert f"{sandbox}/console" in out and seed.DEMO_AGENT_USERNAME in out
    assert seed.DEMO_AGENT_PASSWORD in out
    lines = printed_lines(err)
    assert len(lines) <= 10, "\n".join(lines)
    assert any("POST /oauth/token → 200" in line for line in lines), lines
    assert any("POST /oauth/token → 401" in line for line in lines), lines
    assert not any("/api/v2/conversations/messages" in line for line in lines), lines
    for line in lines:
        assert ISO_TIME.match(line), line
        assert "/Dec/" not in line and '] "' not in line, line


@pytest.mark.browser
def test_console_in_chromium_idle_for_30_seconds_prints_at_most_ten_lines(tmp_path):
    """The real console page, logged in, left alone for 30 s of its own clock: Chromium's
    virtual time runs the page's timers (the poll each second) without the test sleeping 30 s,
    and waits for each poll's answer before time moves on, so every poll reaches the sandbox."""
    require_chromium()
    demo = Demo(tmp_path)
    try:
        demo.wait_ready()
        with Browser() as browser:
            driver = browser.driver
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument",
                {
                    "source": """
                    window.__polls = 0;
                    const realFetch = window.fetch;
                    window.fetch = function (url) {
                      const answer = realFetch.apply(this, arguments);
                      if (String(url).endsWith("/api/v2/conversations/messages")) {
                        answer.then(function () { window.__polls += 1; });
                      }
                      return answer;
                    };"""
                },
            )
            driver.get(f"{demo.sandbox}/console")
            browser.by_testid("login-submit").click()
            assert browser.by_testid("agent-name").text == "Alex Agent"
            browser.wait(lambda d: d.execute_script("return window.__polls") >= 1, what="a poll")
            driver.execute_cdp_cmd(
                "Emulation.setVirtualTimePolicy",
                {"policy": "pauseIfNetworkFetchesPending", "budget": IDLE_POLLS * 1000},
            )
            browser.wait(
                lambda d: d.execute_script("return window.__polls") >= IDLE_POLLS,
                60,
                what=f"{IDLE_POLLS} polls of the console",
            )
            assert not [e for e in browser.console_errors() if "favicon" not in e]
    finally:
        _out, err = demo.stop()
    lines = printed_lines(err)
    assert len(lines) <= 10, "\n".join(lines)
    assert not any("/api/v2/conversations/messages" in line for line in lines), lines
