"""Helpers for end-to-end stories: a recording HTTP receiver (webhook / EventBridge / data-action
target), starting a conversation on the sandbox as the bridge does, and headless Chromium through
Selenium (Debian `chromium` + `chromium-driver`)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers with the next
    scripted `(status, headers[, delay_seconds])` (200 once the script is used up). Use as a
    context manager."""

    script: list[tuple] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body)
                    )
                    step = receiver.script.pop(0) if receiver.script else (200, {})
                status, headers = step[0], step[1]
                if len(step) > 2:
                    time.sleep(step[2])  # a slow receiver (scripted), to exercise timeouts
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the caller gave up (timeout) before the scripted delay ended

            do_PUT = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def matching(self, predicate: Callable[[Received], bool] = lambda r: True) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if predicate(r)]


def bearer(base_url: str, client: tuple[str, str], user: tuple[str, str] | None = None) -> str:
    """An access token from the sandbox login host (client credentials, or password grant)."""
    form = (
        {"grant_type": "client_credentials"}
        if user is None
        else {"grant_type": "password", "username": user[0], "password": user[1]}
    )
    resp = requests.post(f"{base_url}/oauth/token", data=form, auth=client, timeout=5)
    resp.raise_for_status()
    return resp.json()["access_token"]


def send_inbound(
    base_url: str,
    token: str,
    integration_id: str,
    customer_id: str,
    text: str,
    custom_attributes: dict[str, str] | None = None,
) -> str:
    """Post an Open Messaging inbound text as the bridge does; returns the conversation id."""
    channel: dict[str, Any] = {
        "messageId": str(uuid.uuid4()),
        "from": {
            "id": customer_id,
            "idType": "Opaque",
            "nickname": "Jane D.",
            "firstName": "Jane",
            "lastName": "Doe",
        },
        "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    if custom_attributes:
        channel["metadata"] = {"customAttributes": custom_attributes}
    resp = requests.post(
        f"{base_url}/api/v2/conversations/messages/{integration_id}/inbound/open/message",
        params={"prefetchConversationId": "true"},
        json={"channel": channel, "text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code in (200, 202), resp.text
    return resp.json()["conversationId"]


def require_chromium() -> None:
    """Skip the calling test when Chromium or chromedriver is not installed."""
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(binary):
            pytest.skip(f"{binary} not found: install the Debian package {package}")


SCREENSHOTS = os.environ.get(
    "OM_BRIDGE_SCREENSHOTS",
    os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".om-bridge", "screenshots"
    ),
)


class Browser:
    """Headless Chromium with a fresh profile; `close()` quits it and removes the profile.

    With `story`, `shot(step)` writes numbered screenshots to `SCREENSHOTS/<story>/` (under the
    git-ignored `.om-bridge/`, or `$OM_BRIDGE_SCREENSHOTS`) and prints the directory once."""

    def __init__(self, story: str | None = None, size: tuple[int, int] = (1280, 900)) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        require_chromium()
        self.profile = tempfile.mkdtemp(prefix="om-bridge-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={size[0]},{size[1]}")
        self.driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=options
        )
        self.story, self._shots = story, 0

    def shot(self, step: str) -> str | None:
        """Save a screenshot of the current page as the next step of the story."""
        if not self.story:
            return None
        folder = os.path.join(SCREENSHOTS, self.story)
        if self._shots == 0:
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder, exist_ok=True)
            print(f"\nscreenshots: {folder}")
        self._shots += 1
        path = os.path.join(folder, f"{self._shots:02d}-{step}.png")
        self.driver.save_screenshot(path)
        return path

    def resize(self, width: int, height: int) -> None:
        """Set the viewport (CSS pixels) to `width` x `height`."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0 = no sideways scroll)."""
        return int(
            self.driver.execute_script(
                "return Math.max(document.documentElement.scrollWidth,"
                " document.body.scrollWidth) - window.innerWidth"
            )
        )

    def in_viewport(self, element: Any) -> bool:
        """Whether `element` is displayed and entirely inside the viewport."""
        return bool(
            element.is_displayed()
            and self.driver.execute_script(
                "var r = arguments[0].getBoundingClientRect();"
                " return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight"
                " && r.right <= window.innerWidth;",
                element,
            )
        )

    def by_testid(self, testid: str, timeout: float = 10.0) -> Any:
        """Wait for the element with `data-testid` to be visible and return it."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        locator = (By.CSS_SELECTOR, f'[data-testid="{testid}"]')
        return WebDriverWait(self.driver, timeout).until(ec.visibility_of_element_located(locator))

    def wait(
        self, predicate: Callable[[Any], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Poll `predicate(driver)` until truthy (fails the test with `what` on timeout)."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout).until(predicate)
        except TimeoutException:
            raise AssertionError(f"browser: timed out waiting for {what}") from None

    def console_errors(self) -> list[str]:
        """Severe messages from the page's JS console."""
        try:
            return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        except Exception:
            return []

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
