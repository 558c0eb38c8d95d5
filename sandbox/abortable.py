"""`AbortableSession`: a `requests.Session` whose requests in flight can be cut short.

A delivery worker blocked on a slow receiver waits out its timeout (10 s for Genesys webhooks), so
stopping the sandbox would otherwise wait that long or leave the worker running. `abort()` shuts
down the socket of every connection the session opened (a blocked read ends at once with a
connection error) and refuses connections from then on.
"""

from __future__ import annotations

import socket
import threading
import weakref
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from om_bridge.sandbox import messages


class _Connections:
    """The live connections of one session, and whether it was aborted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: weakref.WeakSet[Any] = weakref.WeakSet()
        self.aborted = False

    def opened(self, conn: Any) -> None:
        with self._lock:
            if not self.aborted:
                self._live.add(conn)
                return
        _shutdown(getattr(conn, "sock", None))
        raise ConnectionAbortedError(messages.HTTP_ABORTED)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            live = list(self._live)
        for conn in live:
            _shutdown(getattr(conn, "sock", None))


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class AbortableSession(requests.Session):
    """A session whose `abort()` ends its requests in flight and refuses new ones."""

    def __init__(self) -> None:
        super().__init__()
        connections = self._connections = _Connections()

        class Connection(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                connections.opened(self)

        class TLSConnection(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                connections.opened(self)

        class Pool(HTTPConnectionPool):
            ConnectionCls = Connection

        class TLSPool(HTTPSConnectionPool):
            ConnectionCls = TLSConnection

        for prefix in ("http://", "https://"):
            adapter = HTTPAdapter()
            adapter.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}
            self.mount(prefix, adapter)

    @property
    def aborted(self) -> bool:
        return self._connections.aborted

    def abort(self) -> None:
        """Shut down every connection's socket now; later requests fail with a connection error."""
        self._connections.abort()
