"""Cooperation with the worker model the process runs under.

`om-bridge serve` runs gunicorn's gevent worker (greenlets, monkey-patched standard library);
`serve --dev`, `om-bridge demo` and the tests run threads. The same code is correct in both:
locks, events, sleeps and sockets are the standard library's, which gevent patches. What gevent
cannot make cooperative is C code that blocks without going through a patched call (SQLite's
page copies and fsync); `offload` runs such work on a real OS thread of gevent's pool so other
greenlets carry on, and runs it inline under threads.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def gevent_active() -> bool:
    """True in a process whose standard library gevent has patched (serve's gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:  # gevent is a dependency, but the threaded model needs none of it
        return False
    return bool(monkey.is_module_patched("threading"))


def offload(fn: Callable[[], T]) -> T:
    """Run a blocking call that does not yield (C code) on an OS thread under gevent, inline
    otherwise."""
    if gevent_active():
        import gevent

        result: T = gevent.get_hub().threadpool.apply(fn)
        return result
    return fn()


def _peer_closed(sock: socket.socket) -> bool:
    """True if the peer has closed its side (a read would return end of file)."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    return data == b""


def disconnect_watch(
    environ: dict[str, Any], on_disconnect: Callable[[], None]
) -> Callable[[], None]:
    """Call `on_disconnect` as soon as the client of this request closes its connection, while
    the request waits (a long-poll). Returns the function that stops watching.

    Under gevent a greenlet waits for the socket to become readable: end of file means the client
    is gone; data (a pipelined request) ends the watch without consuming it. Under threads (no
    socket in the environ, or no gevent) nothing is watched and the wait ends at its timeout, as
    before.
    """
    sock = environ.get("gunicorn.socket")
    if sock is None or not gevent_active():
        return lambda: None
    import gevent
    from gevent.socket import wait_read

    def watch() -> None:
        try:
            wait_read(sock.fileno())
        except (OSError, ValueError):
            on_disconnect()
            return
        if _peer_closed(sock):
            on_disconnect()

    glet = gevent.spawn(watch)

    def stop() -> None:
        glet.kill(block=False)

    return stop
