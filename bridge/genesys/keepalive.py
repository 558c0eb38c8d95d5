"""`KeepAlivePool`: HTTP/1.1 calls to one origin over kept-alive sockets, standard library only.

For the per-message Genesys calls (receipts): each call sends the request line and headers, then
the body, and reads the answer on the same socket, which then goes back to the pool (unless the
server said it closes). That is the work `http.client.HTTPConnection` does for a keep-alive call,
without urllib3's per-call layers (pool keys, URL parsing, timeout and retry objects, response
wrappers), which cost several times the exchange itself. The answer is read by `read_answer`
(status line, headers, a body by Content-Length, chunked or up to the close, interim 1xx answers
skipped): http.client parses headers with the `email` package, a quarter of a receipt's CPU.
TLS verifies the server as `requests` does (its CA bundle, or the one configured); proxies are
not handled here (`LeanTransport` keeps urllib3 for them).

An idle socket the server has closed (or that has unexpected bytes waiting) is noticed before it
is used again, as urllib3 does, and replaced by a new connection.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import ssl
import threading
from typing import NamedTuple
from urllib.parse import urlsplit

import certifi

# Control characters or spaces would split the request line or a header: never sent.
_UNSAFE_TARGET = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")


# Limits on what a server may send before the body (http.client's are alike).
MAX_HEAD_BYTES = 65_536
MAX_HEADERS = 100
RECV_BYTES = 65_536


def _os_poll() -> type[select.poll]:
    """The operating system's `select.poll`, also where gevent has patched the module: a
    zero-timeout check must not become a wait on gevent's hub (a watcher per call)."""
    try:
        from gevent.monkey import get_original
    except ImportError:  # gevent is a dependency, but the threaded model needs none of it
        return select.poll
    original: type[select.poll] = get_original("select", "poll")
    return original


_POLL = _os_poll()


def _readable_now(sock: socket.socket) -> bool:
    """True when a read on `sock` would not wait: the server closed it, or sent bytes nobody
    asked for."""
    poller = _POLL()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


class NotConnected(OSError):
    """No connection could be made (so the request was certainly not sent)."""


class Answer(NamedTuple):
    """A complete response: status, reason, headers (in order) and the body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class KeepAlivePool:
    """Keep-alive connections to the origin of `base_url`; safe for many threads or greenlets
    (each call takes a connection of its own and gives it back)."""

    def __init__(
        self, base_url: str, *, verify: bool | str | None = True, max_idle: int = 32
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        default_port = (self._tls and self._port == 443) or (not self._tls and self._port == 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host if default_port else f"{host}:{self._port}"
        self._prefix = parts.path.rstrip("/")
        self._context: ssl.SSLContext | None = None
        if self._tls:
            if verify is False:  # None (unset) verifies, as requests does
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                bundle = verify if isinstance(verify, str) else certifi.where()
                context = ssl.create_default_context(cafile=bundle)
            self._context = context
        self._max_idle = max_idle
        self._idle: list[socket.socket] = []  # last in, first out
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: tuple[float, float],
    ) -> Answer:
        """Send one request (`path` below the base URL's path) and read its whole answer;
        `timeout` is (connect, read). Raises NotConnected when no connection could be made,
        another OSError or `http.client.HTTPException` when the exchange failed."""
        target = self._prefix + path
        if _UNSAFE_TARGET.search(target) or _UNSAFE_TARGET.search(method):
            raise ValueError("request target or method contains spaces or control characters")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        for name, value in headers.items():
            if _UNSAFE_VALUE.search(name) or _UNSAFE_VALUE.search(value):
                raise ValueError(f"header {name!r} contains a line break")
            lines.append(f"{name}: {value}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sock = self._take(timeout[0])
        try:
            sock.settimeout(timeout[1])
            # Headers, then the body, as http.client sends them: one send of both measured a
            # far worse latency tail at 200 webhooks/s (bench latency_p99: bridge p99 24 ms
            # against 4-11 ms); the throughput gain over urllib3 was measured with two sends.
            sock.sendall(head)
            if body:
                sock.sendall(body)
            answer, keep = read_answer(sock, method)
        except BaseException:
            sock.close()
            raise
        if keep:
            self._give_back(sock)
        else:
            sock.close()
        return answer

    def _take(self, connect_timeout: float) -> socket.socket:
        while True:
            with self._lock:
                sock = self._idle.pop() if self._idle else None
            if sock is None:
                break
            if _readable_now(sock):  # closed by the server (or stray bytes)
                sock.close()
                continue
            return sock
        try:
            sock = socket.create_connection((self._host, self._port), timeout=connect_timeout)
        except OSError as exc:
            raise NotConnected(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is not None:
                sock = self._context.wrap_socket(sock, server_hostname=self._host)
        except OSError as exc:
            sock.close()
            raise NotConnected(str(exc)) from exc
        return sock

    def _give_back(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(sock)
                return
        sock.close()

    def close(self) -> None:
        """Close the idle connections (the pool stays usable: later calls connect again)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()


def read_answer(sock: socket.socket, method: str) -> tuple[Answer, bool]:
    """Read one whole HTTP/1.x response from `sock`; (the answer, whether the connection may be
    used again). Raises `http.client.HTTPException` for a malformed or cut-off response and the
    socket's OSError (a timeout among them) as they come."""
    buf = bytearray()
    while True:
        head = _take_until(sock, buf, b"\r\n\r\n", "response head")
        status_line, _, block = head.partition("\r\n")
        version, status, reason = _status(status_line)
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer (e.g. 100 Continue): the real one follows
        break
    headers = _headers(block)
    fields = {name.lower(): value for name, value in headers}
    connection = {t.strip().lower() for t in fields.get("connection", "").split(",")}
    keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    if method == "HEAD" or status in (101, 204, 304):
        return Answer(status, reason, headers, b""), keep and status != 101
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = _chunked(sock, buf)
        return Answer(status, reason, headers, body), keep and not buf  # nothing may follow
    length = fields.get("content-length")
    if length is None:  # the body runs until the server closes
        while chunk := sock.recv(RECV_BYTES):
            buf += chunk
        return Answer(status, reason, headers, bytes(buf)), False
    if not length.strip().isdigit():
        raise http.client.HTTPException(f"bad Content-Length {length[:40]!r}")
    size = int(length)
    _fill(sock, buf, size)
    if len(buf) > size:
        keep = False  # more than announced: the connection's state is unknown
    return Answer(status, reason, headers, bytes(buf[:size])), keep


def _status(line: str) -> tuple[str, int, str]:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise http.client.BadStatusLine(line[:80])
    return version, int(code), reason.strip()


def _headers(block: str) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in block.split("\r\n") if block else ():
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise http.client.HTTPException(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip()))
    if len(headers) > MAX_HEADERS:
        raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
    return headers


def _fill(sock: socket.socket, buf: bytearray, size: int) -> None:
    """Receive into `buf` until it holds at least `size` bytes."""
    while len(buf) < size:
        chunk = sock.recv(max(RECV_BYTES, size - len(buf)))
        if not chunk:
            raise http.client.IncompleteRead(bytes(buf), size - len(buf))
        buf += chunk


def _take_until(sock: socket.socket, buf: bytearray, end: bytes, what: str) -> str:
    """Take what comes before `end` off the front of `buf` (and `end` itself), receiving more
    as needed: the response head (up to the empty line) or one line of a chunked body."""
    while (at := buf.find(end)) < 0:
        if len(buf) > MAX_HEAD_BYTES:
            raise http.client.LineTooLong(what)
        chunk = sock.recv(RECV_BYTES)
        if not chunk:
            if what == "response head":
                raise http.client.RemoteDisconnected(
                    "Remote end closed connection without response"
                )
            raise http.client.IncompleteRead(bytes(buf))
        buf += chunk
    taken = bytes(buf[:at]).decode("latin-1")
    del buf[: at + len(end)]
    return taken


def _line(sock: socket.socket, buf: bytearray) -> str:
    """Take one CRLF-ended line of a chunked body off the front of `buf`."""
    return _take_until(sock, buf, b"\r\n", "chunk line")


def _chunked(sock: socket.socket, buf: bytearray) -> bytes:
    body = bytearray()
    while True:
        size_text = _line(sock, buf).split(";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.HTTPException(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            while _line(sock, buf):  # trailer fields, up to the empty line
                pass
            return bytes(body)
        _fill(sock, buf, size + 2)
        if buf[size : size + 2] != b"\r\n":
            raise http.client.HTTPException("a chunk does not end with CRLF")
        body += buf[:size]
        del buf[: size + 2]
