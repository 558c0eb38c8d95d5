"""One WebSocket connected to a channel: a frame queue filled by the bus listener and admin
actions, drained by the socket's own loop (which also sends heartbeats, answers pings and closes
the socket at expiry or after `socket_closing`).

Fault injection (target `websocket`, `path` glob = the frame's `topicName`, method `SEND`) applies
to event frames only: `drop` (and `status`, which a socket cannot carry) loses the frame,
`duplicate` sends it twice, `delay` sends it `delay` seconds later, `reorder` holds it until the
next event frame has been sent.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import queue
import socket as _socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simple_websocket import ConnectionClosed

from . import messages

if TYPE_CHECKING:  # pragma: no cover
    from .channels import Channel

log = logging.getLogger(__name__)

HEARTBEAT = {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
PONG = {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_REPLY_SECONDS = 1.0  # how long a server-initiated close waits for the client's close frame


class SocketSession:
    """The server side of one connected WebSocket; `run()` blocks in the request thread."""

    def __init__(
        self,
        channel: Channel,
        ws: Any,
        heartbeat_seconds: float,
        faults: Any,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = channel
        self.ws = ws
        self.heartbeat_seconds = heartbeat_seconds
        self.faults = faults
        self.wall_clock = wall_clock
        self.frames_sent = 0
        self._queue: queue.Queue = queue.Queue()
        self._delayed: list[tuple[float, int, dict]] = []
        self._seq = itertools.count()
        self._held: dict | None = None
        self._close_at: float | None = None
        self._reader_done = threading.Event()
        self.closed = threading.Event()

    # --- called from other threads (never block) -------------------------------------------
    def offer_event(self, frame: dict) -> None:
        """Queue an event frame for this socket, applying any `websocket` fault."""
        fault = self.faults.take("websocket", "SEND", frame["topicName"]) if self.faults else None
        mode = fault.mode if fault else None
        if mode in ("drop", "status"):
            return
        if mode == "delay" and fault is not None:
            self._queue.put(("delay", frame, fault.delay))
        elif mode == "reorder":
            self._queue.put(("hold", frame, None))
        else:
            self._queue.put(("event", frame, None))
            if mode == "duplicate":
                self._queue.put(("event", frame, None))

    def send_system(self, frame: dict) -> None:
        """Queue a system frame (no faults)."""
        self._queue.put(("system", frame, None))

    def close_after(self, seconds: float) -> None:
        """Close the socket `seconds` from now (after `socket_closing`)."""
        self._queue.put(("close_after", None, seconds))

    def close(self, reason: str, code: int = CLOSE_NORMAL) -> None:
        """Close the socket with a close frame."""
        self._queue.put(("close", reason, code))

    def shutdown(self) -> None:
        """Close with a close frame, then cut the connection without waiting for the client's
        reply (the sandbox is stopping)."""
        self._queue.put(("shutdown", None, None))

    def drop(self) -> None:
        """Cut the TCP connection without a close frame (a network failure)."""
        self._queue.put(("drop", None, None))

    # --- the socket's own thread -----------------------------------------------------------
    def run(self) -> None:
        """Serve the socket until it closes: write queued frames, heartbeats, pongs."""
        threading.Thread(
            target=self._read_loop, name=f"ws-read-{self.channel.id}", daemon=True
        ).start()
        next_heartbeat = time.monotonic() + self.heartbeat_seconds
        reason = "client closed"
        try:
            while True:
                now = time.monotonic()
                if now >= next_heartbeat:
                    self._send(HEARTBEAT)
                    next_heartbeat = now + self.heartbeat_seconds
                while self._delayed and self._delayed[0][0] <= now:
                    self._send_event(heapq.heappop(self._delayed)[2])
                expires_in = self.channel.expires - self.wall_clock()
                if expires_in <= 0:
                    reason = "channel expired"
                    self._close(CLOSE_NORMAL, reason)
                    return
                if self._close_at is not None and now >= self._close_at:
                    reason = "socket closing"
                    self._close(CLOSE_GOING_AWAY, reason)
                    return
                deadlines = [next_heartbeat - now, expires_in]
                if self._delayed:
                    deadlines.append(self._delayed[0][0] - now)
                if self._close_at is not None:
                    deadlines.append(self._close_at - now)
                try:
                    kind, item, extra = self._queue.get(timeout=max(0.0, min(deadlines)))
                except queue.Empty:
                    continue
                if kind == "event":
                    self._send_event(item)
                elif kind == "hold":
                    if self._held is not None:
                        self._send_event(self._held)
                    self._held = item
                elif kind == "delay":
                    heapq.heappush(self._delayed, (time.monotonic() + extra, next(self._seq), item))
                elif kind == "system":
                    self._send(item)
                elif kind == "in":
                    self._handle_incoming(item)
                elif kind == "close_after":
                    self._close_at = time.monotonic() + extra
                elif kind == "close":
                    reason = item
                    self._close(extra, item)
                    return
                elif kind == "shutdown":
                    reason = "server stopping"
                    self._close(CLOSE_GOING_AWAY, reason)
                    self._drop()
                    return
                elif kind == "drop":
                    reason = "dropped"
                    self._drop()
                    return
                elif kind == "gone":
                    return
        except ConnectionClosed:
            return
        finally:
            self._release()
            self.closed.set()
            log.info(messages.LOG_SOCKET_CLOSED, self.channel.id, reason)

    def _release(self) -> None:
        """End the connection for good: after our close frame, give the client a moment to answer
        with its own, then cut the TCP link. The WebSocket library only closes its socket when the
        peer does, so without this a silent client would keep its reader threads and the socket
        open past `SandboxServer.stop()`."""
        self._reader_done.wait(CLOSE_REPLY_SECONDS)
        self._drop()
        self._reader_done.wait(CLOSE_REPLY_SECONDS)

    def _send_event(self, frame: dict) -> None:
        self._send(frame)
        if self._held is not None:
            held, self._held = self._held, None
            self._send(held)

    def _send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame, separators=(",", ":")))
        self.frames_sent += 1

    def _handle_incoming(self, data: Any) -> None:
        try:
            payload = json.loads(data)
        except (TypeError, ValueError):
            log.info(messages.LOG_BAD_FRAME, self.channel.id)
            return
        # Genesys answers the application-level ping; WS protocol pings are answered by the library.
        if isinstance(payload, dict) and payload.get("message") == "ping":
            self._send(PONG)

    def _read_loop(self) -> None:
        try:
            while True:
                data = self.ws.receive()
                if data is not None:
                    self._queue.put(("in", data, None))
        except ConnectionClosed:
            pass
        except Exception:
            log.debug(messages.LOG_READ_ENDED, self.channel.id, exc_info=True)
        finally:
            self._reader_done.set()
        self._queue.put(("gone", None, None))

    def _close(self, code: int, reason: str) -> None:
        try:
            self.ws.close(reason=code, message=reason)
        except Exception:
            pass

    def _drop(self) -> None:
        sock = getattr(self.ws, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(_socket.SHUT_RDWR)
                sock.close()
        except OSError:
            pass
        # Mark the library side closed so flask-sock does not try a closing handshake.
        self.ws.connected = False
