"""The gunicorn worker `om-bridge serve` runs: gunicorn's gevent worker with I/O timeouts.

Every connection is a greenlet, so an open SSE stream or a pending long-poll costs a few KB of
memory instead of a thread (docs/design.md §3, §11). gevent patches the standard library in the
worker before the app is built, so the store's locks and waits, the Genesys client's sockets,
Redis and the background workers (outbox, inbound dispatcher, receipts, sweeper, notifications
listener) all yield to each other.

On top of gunicorn's gevent worker:

- a client must send a request's headers within `keepalive` seconds (gunicorn's own deadline on
  the request line and headers), and every later read or write on the connection times out
  after IO_TIMEOUT_SECONDS of silence: a client that stops sending its body or stops reading its
  SSE stream is disconnected instead of holding its greenlet for ever;
- a request's whole body must arrive within the body deadline (`[bridge] body_timeout_seconds`,
  BODY_TIMEOUT_SECONDS by default) from the moment its headers were read: a client that trickles
  its body a byte at a time, never silent for IO_TIMEOUT_SECONDS, is answered 408 and
  disconnected when the deadline passes;
- the client socket is in the WSGI environ (`gunicorn.socket`), which lets a long-poll notice a
  client that went away (`bridge.coop.disconnect_watch`);
- garbage collection tuned for thousands of open streams: what the app built at start-up is moved
  out of the collector's way (`gc.freeze`), and a full collection (which walks every object of
  every open stream: about 0.45 s with 5,000 streams) runs after GC_FULL_EVERY young collections
  instead of CPython's 10 (young collections stay as they are and take care of short-lived
  cycles). Measured by `python -m bench idle_streams` (docs/deployment.md "Sizing").
"""

from __future__ import annotations

import gc
import time
from typing import Any

from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestTimeout

# Seconds a connection may stay silent in the middle of a request (reading its body) or of a
# response (the client not reading). SSE keep-alive comments are written every 15 s, and
# long-polls do not touch the socket while they wait.
IO_TIMEOUT_SECONDS = 60.0
# Seconds from a request's headers to the last byte of its body (configurable as
# `[bridge] body_timeout_seconds`); the largest body, a 10 MB upload, needs 2.7 Mbit/s for it.
BODY_TIMEOUT_SECONDS = 30.0
# Young (generation-1) collections between two full ones; CPython's default is 10. With 5,000
# idle streams a full collection took 0.45 s and ran every 8 s under load (webhook p99 337 ms
# against 17 ms without the streams).
GC_FULL_EVERY = 1000


class BridgeGeventWorker(GeventWorker):
    """gunicorn's gevent worker with a per-operation socket timeout on each client and a
    deadline for each request body."""

    body_timeout: float = BODY_TIMEOUT_SECONDS

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.setblocking(1)
        client.settimeout(IO_TIMEOUT_SECONDS)
        # GeventWorker.handle would put the socket back to blocking without a timeout.
        super(GeventWorker, self).handle(listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        unreader: Any = getattr(req, "unreader", None)
        real = getattr(unreader, "sock", None)
        if real is None or getattr(req, "body", None) is None:
            return super().handle_request(listener_name, req, sock, addr)
        # The request's body is read through a socket that enforces the deadline, also the part
        # the app left unread (drained here, not by gunicorn's unbounded drain).
        guard = DeadlineSocket(real, time.monotonic() + self.body_timeout, self.body_timeout)
        unreader.sock = guard
        closing = False
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except StopIteration:
            closing = True
            raise
        finally:
            guard.answering = False
            try:
                if not closing and not req.body.failed:
                    drain(req.body)
            finally:
                unreader.sock = real

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.body_timeout = body_timeout(getattr(self, "wsgi", None))
        tune_gc()


class DeadlineSocket:
    """The client socket as gunicorn's body reader sees it, with a deadline for the whole body.

    Each receive waits for at most what is left of the deadline (and never longer than the
    socket's own idle timeout); past the deadline it raises werkzeug's RequestTimeout while the
    app reads (the app answers 408), TimeoutError while the rest is drained. gunicorn's `Body`
    marks itself failed when a read raised, so the connection is closed instead of read on.
    """

    def __init__(self, sock: Any, deadline: float, limit: float) -> None:
        self._sock, self.deadline, self.limit = sock, deadline, limit
        self.answering = True

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        idle = self._sock.gettimeout()
        self._sock.settimeout(remaining if idle is None else min(idle, remaining))
        try:
            data: bytes = self._sock.recv(size)
        except TimeoutError:
            if self.deadline - time.monotonic() <= 0:
                raise self._expired() from None
            raise  # silent for the idle timeout: as before
        finally:
            self._sock.settimeout(idle)
        return data

    def _expired(self) -> Exception:
        if not self.answering:
            return TimeoutError("request body deadline")
        return RequestTimeout(
            f"the request body did not arrive within {self.limit:g} s (body_timeout_seconds)"
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def drain(body: Any) -> None:
    """Read and drop what is left of a request body (its deadline still applies); a body that
    cannot be read to its end is left failed, so its connection closes."""
    try:
        while body.read(8192):
            pass
    except Exception:  # deadline, idle timeout, client gone: Body marked itself failed
        body.failed = True


def body_timeout(app: Any) -> float:
    """The body deadline the app's configuration sets, else BODY_TIMEOUT_SECONDS."""
    ctx = getattr(app, "extensions", {}).get("om-bridge")
    value = getattr(
        getattr(getattr(ctx, "config", None), "bridge", None), "body_timeout_seconds", None
    )
    return float(value) if value else BODY_TIMEOUT_SECONDS


def tune_gc() -> None:
    """Freeze what exists now (modules, schemas, the app) and space out full collections."""
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, GC_FULL_EVERY)


WORKER_CLASS = f"{__name__}.{BridgeGeventWorker.__name__}"


def patch_first(worker_class: Any) -> bool:
    """In `serve`'s gunicorn master, before anything imports the app: when `worker_class` (a
    gunicorn worker class or its name) is a gevent worker, gevent patches the standard library
    now. The worker inherits the patched modules and its own `patch_all` has nothing left to do.
    Patching only in the worker, after the master imported requests and urllib3 (which take
    `ssl.SSLContext` at import), made every HTTPS call of the worker fail with RecursionError
    (gevent issue 1016) and printed a MonkeyPatchWarning. False (nothing patched) for a thread or
    sync worker, whose master must stay unpatched."""
    from gunicorn.util import load_class

    cls = load_class(worker_class) if isinstance(worker_class, str) else worker_class
    if not (isinstance(cls, type) and issubclass(cls, GeventWorker)):
        return False
    from gevent import monkey

    monkey.patch_all()
    return True
