"""The Genesys Cloud sandbox in its own process for the benchmarks: the sandbox app under gunicorn
(one gthread worker: the sandbox's state lives in that one process) with keep-alive connections,
as Genesys keeps them (the werkzeug server `om-bridge sandbox` runs closes each connection).

Every request the app receives is recorded (`bench.counting.RequestLog`); `GET /bench/log/seen`
and `GET /bench/log/answers` (`?since=N`) hand the records to the benchmark process, which reads
them through `RemoteRequestLog`. These two routes are outside the log and outside the sandbox.

Run: `python -m bench.sandbox_proc --port P --config FILE.json` (the sandbox configuration as
JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests

from bench.counting import RequestLog, Seen
from bench.procs import HOST

KEEPALIVE_SECONDS = 75  # how long an idle keep-alive connection stays open
THREADS = 32
LOG_PREFIX = "/bench/log/"


def wsgi(config: dict[str, Any], base_url: str) -> tuple[Callable[..., Iterable[bytes]], Any]:
    """The sandbox app behind a `RequestLog`, with the log's two routes in front; (app, sandbox)."""
    from om_bridge.sandbox.app import create_app

    app = create_app(config)
    sandbox = app.extensions["sandbox"]
    sandbox.base_url = base_url
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]

    def serve(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(LOG_PREFIX):
            return app(environ, start_response)
        since = int(parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0])
        with log._lock:
            if path == LOG_PREFIX + "seen":
                items: list = [[s.at, s.method, s.path, s.authorization] for s in log.seen[since:]]
            else:
                items = [list(a) for a in log.answers[since:]]
        body = json.dumps(items).encode("utf-8")
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return serve, sandbox


class RemoteRequestLog:
    """`RequestLog`'s reading side, over HTTP, for a sandbox in another process (`Seen.at` is
    `time.perf_counter()` there: the system's monotonic clock, comparable across processes)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._http = requests.Session()

    def _get(self, what: str, since: int) -> list:
        resp = self._http.get(f"{self._url}{LOG_PREFIX}{what}", params={"since": since}, timeout=30)
        resp.raise_for_status()
        return list(resp.json())

    @property
    def seen(self) -> list[Seen]:
        return self._seen(0)

    def _seen(self, since: int) -> list[Seen]:
        return [Seen(a, m, p, auth) for a, m, p, auth in self._get("seen", since)]

    def mark(self) -> int:
        return len(self._get("seen", 0))

    def since(self, mark: int, api_only: bool = True) -> list[Seen]:
        return [s for s in self._seen(mark) if s.path.startswith("/api/") or not api_only]

    def wait_for(self, predicate: Callable[[Seen], bool], mark: int, timeout: float) -> Seen:
        deadline = time.monotonic() + timeout
        while True:
            for item in self._seen(mark):
                if predicate(item):
                    return item
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for a request at the sandbox")
            time.sleep(0.005)

    def answer_mark(self) -> int:
        return len(self._get("answers", 0))

    def answered_since(self, mark: int, suffix: str) -> dict[int, int]:
        out: dict[int, int] = {}
        for path, status in self._get("answers", mark):
            if path.endswith(suffix):
                out[status] = out.get(status, 0) + 1
        return out

    def close(self) -> None:
        self._http.close()


def main(argv: list[str] | None = None) -> int:
    """Serve the sandbox under gunicorn until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    p = argparse.ArgumentParser(prog="python -m bench.sandbox_proc")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--config", required=True)
    args = p.parse_args(argv)
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    base_url = f"http://{HOST}:{args.port}"
    options = {
        "bind": f"{HOST}:{args.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": THREADS,
        "keepalive": KEEPALIVE_SECONDS,
        "timeout": 120,
        "graceful_timeout": 10,
        "accesslog": None,
    }
    made: dict[str, Any] = {}

    def stop_sandbox(_server: Any, _worker: Any) -> None:
        if "sandbox" in made:
            made["sandbox"].close()

    class Sandbox(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)
            self.cfg.set("worker_exit", stop_sandbox)

        def load(self) -> Callable[..., Iterable[bytes]]:
            app, made["sandbox"] = wsgi(config, base_url)
            return app

    Sandbox().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
