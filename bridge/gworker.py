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
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

# Seconds a connection may stay silent in the middle of a request (reading its body) or of a
# response (the client not reading). SSE keep-alive comments are written every 15 s, and
# long-polls do not touch the socket while they wait.
IO_TIMEOUT_SECONDS = 60.0
# Young (generation-1) collections between two full ones; CPython's default is 10. With 5,000
# idle streams a full collection took 0.45 s and ran every 8 s under load (webhook p99 337 ms
# against 17 ms without the streams).
GC_FULL_EVERY = 1000


class BridgeGeventWorker(GeventWorker):
    """gunicorn's gevent worker with a per-operation socket timeout on each client."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.setblocking(1)
        client.settimeout(IO_TIMEOUT_SECONDS)
        # GeventWorker.handle would put the socket back to blocking without a timeout.
        super(GeventWorker, self).handle(listener, client, addr)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        tune_gc()


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
