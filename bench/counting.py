"""`RequestLog`: a WSGI middleware around the sandbox app that records every API request it
receives (time, method, path, caller), so a benchmark counts Genesys calls where Genesys would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Seen:
    """One request as the sandbox received it."""

    at: float  # time.perf_counter() on arrival
    method: str
    path: str
    authorization: str


class RequestLog:
    """Wraps a WSGI app; `install(flask_app)` puts it in front of a running Flask app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Condition()
        self.seen: list[Seen] = []
        self.answers: list[tuple[str, int]] = []  # (path, status) in the order answered

    @classmethod
    def install(cls, flask_app: Any) -> RequestLog:
        """Wrap `flask_app.wsgi_app` (Flask calls it per request, so this works while serving)."""
        log = cls(flask_app.wsgi_app)
        flask_app.wsgi_app = log
        return log

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        item = Seen(
            time.perf_counter(),
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_AUTHORIZATION", ""),
        )
        with self._lock:
            self.seen.append(item)
            self._lock.notify_all()

        def answer(status: str, headers: list, exc_info: Any = None) -> Any:
            with self._lock:
                self.answers.append((item.path, int(status.split(" ", 1)[0])))
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        return self._app(environ, answer)

    def mark(self) -> int:
        """A position in the log (requests after it are `since(mark)`)."""
        with self._lock:
            return len(self.seen)

    def answer_mark(self) -> int:
        """A position in the answers (answers after it are `answered_since(mark)`)."""
        with self._lock:
            return len(self.answers)

    def answered_since(self, mark: int, suffix: str) -> dict[int, int]:
        """Status → count of the answers after `mark` to paths ending with `suffix`."""
        with self._lock:
            items = self.answers[mark:]
        out: dict[int, int] = {}
        for path, status in items:
            if path.endswith(suffix):
                out[status] = out.get(status, 0) + 1
        return out

    def since(self, mark: int, api_only: bool = True) -> list[Seen]:
        """Requests received after `mark` (only `/api/` ones unless `api_only` is False)."""
        with self._lock:
            items = self.seen[mark:]
        return [s for s in items if s.path.startswith("/api/") or not api_only]

    def wait_for(self, predicate: Callable[[Seen], bool], mark: int, timeout: float) -> Seen:
        """The first request after `mark` matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for item in self.seen[mark:]:
                    if predicate(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timed out waiting for a request at the sandbox")
                self._lock.wait(left)
