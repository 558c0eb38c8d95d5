"""`SandboxServer`: the sandbox on a threaded werkzeug server in a background thread (tests,
benchmarks, `om-bridge demo`), and `main(args)` for `om-bridge sandbox`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from werkzeug.serving import make_server

from om_bridge.sandbox import messages, seed
from om_bridge.sandbox.app import create_app
from om_bridge.sandbox.config import ConfigError, SandboxConfig
from om_bridge.sandbox.tls import tls_context

log = logging.getLogger(__name__)


class SandboxServer:
    """The sandbox app served on `host:port` (port 0 = a free port); `.url` once started.

    With `tls_cert` and `tls_key` (PEM files) it serves HTTPS: `.url` is `https://…` and the
    notification channels' `connectUri` is `wss://…` on the same certificate."""

    def __init__(
        self,
        config: SandboxConfig | dict | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        context = tls_context(tls_cert, tls_key)
        self.app = create_app(config)
        self.sandbox = self.app.extensions["sandbox"]
        try:
            self._server = make_server(host, port, self.app, threaded=True, ssl_context=context)
        except BaseException:
            self.sandbox.close()
            raise
        self.host, self.port = host, self._server.server_port
        self.url = f"{'https' if context else 'http'}://{host}:{self.port}"
        self.sandbox.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns once the socket accepts connections."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,
            name=f"sandbox-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and the background workers."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def banner(url: str) -> str:
    """What `om-bridge sandbox` prints: URLs and the seeded identities."""
    return "\n".join(
        [
            f"Genesys Cloud sandbox on {url}",
            f"  API / login host : {url}  (POST {url}/oauth/token)",
            f"  agent console    : {url}/console",
            f"  organisation     : {seed.DEMO_ORG_NAME} ({seed.DEMO_ORG_ID})",
            f"  OAuth client     : {seed.BRIDGE_CLIENT_ID} / {seed.BRIDGE_CLIENT_SECRET}",
            f"  agent login      : {seed.DEMO_AGENT_USERNAME} / {seed.DEMO_AGENT_PASSWORD} "
            f"(client {seed.AGENT_CONSOLE_CLIENT_ID} / {seed.AGENT_CONSOLE_CLIENT_SECRET})",
            f"  second agent     : {seed.SECOND_AGENT_USERNAME} / {seed.SECOND_AGENT_PASSWORD}",
            f"  integration      : {seed.DEMO_INTEGRATION_NAME} ({seed.DEMO_INTEGRATION_ID}), "
            f"webhook secret {seed.DEMO_WEBHOOK_SECRET}",
            f"  queues           : Demo Queue {seed.DEMO_QUEUE_ID}, Second Queue {seed.SECOND_QUEUE_ID}",
            f"  admin            : {url}/sandbox/faults, {url}/sandbox/rate-limit",
        ]
    )


def main(args: argparse.Namespace) -> int:
    """`om-bridge sandbox --port P [--host H] [--config FILE] [--tls-cert F --tls-key F]`:
    serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        server = SandboxServer(
            getattr(args, "config", None),
            getattr(args, "host", "127.0.0.1"),
            getattr(args, "port", 8081),
            tls_cert=getattr(args, "tls_cert", None),
            tls_key=getattr(args, "tls_key", None),
        )
    except (ConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(banner(server.url), flush=True)
    log.info(messages.LOG_SERVING, server.url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
