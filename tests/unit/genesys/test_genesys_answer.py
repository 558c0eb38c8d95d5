"""`read_answer`, the kept-alive pool's HTTP/1.x response reader, against raw bytes on a socket
pair: every body framing, interim answers, when a connection may be reused, and refusals of
malformed or cut-off responses. Valid responses are also read by `http.client` for comparison."""

from __future__ import annotations

import http.client
import io
import socket
import threading

import pytest

from om_bridge.bridge.genesys.keepalive import MAX_HEAD_BYTES, read_answer


def _answer(raw: bytes | list[bytes], method: str = "POST", close: bool = True):  # type: ignore[no-untyped-def]
    """Send `raw` (in pieces, when a list) from the far end of a socket pair and read it."""
    near, far = socket.socketpair()
    near.settimeout(5)
    pieces = raw if isinstance(raw, list) else [raw]

    def send() -> None:
        for piece in pieces:
            far.sendall(piece)
        if close:
            far.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        return read_answer(near, method)
    finally:
        sender.join(5)
        near.close()
        far.close()


class _Bytes:
    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._raw))  # type: ignore[arg-type]


def _stdlib(raw: bytes, method: str = "POST") -> tuple[int, str, list[tuple[str, str]], bytes]:
    response = http.client.HTTPResponse(_Bytes(raw), method=method)  # type: ignore[arg-type]
    response.begin()
    return response.status, response.reason, response.getheaders(), response.read()


VALID = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    b'{"id":"r"}',
    "chunked": b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
    "empty-204": b"HTTP/1.1 204 No Content\r\nX-Request: 1\r\n\r\n",
    "interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "to-close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "http10": b"HTTP/1.0 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
    "no-reason": b"HTTP/1.1 404\r\nContent-Length: 3\r\n\r\nnot",
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_answers_read_as_http_client_reads_them(name: str) -> None:
    answer, _ = _answer(VALID[name])
    status, reason, headers, body = _stdlib(VALID[name])
    assert (answer.status, answer.reason, answer.headers, answer.body) == (
        status,
        reason,
        headers,
        body,
    )


def test_the_connection_is_reused_only_when_the_answer_says_so() -> None:
    assert _answer(VALID["length"], close=False)[1] is True
    assert _answer(VALID["chunked"], close=False)[1] is True
    assert _answer(VALID["empty-204"], close=False)[1] is True
    assert _answer(VALID["to-close"])[1] is False
    assert _answer(VALID["http10"])[1] is False  # HTTP/1.0 without keep-alive
    keep_alive_10 = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
    assert _answer(keep_alive_10, close=False)[1] is True
    # More than announced: what follows is unknown, so the socket is not used again.
    assert _answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")[1] is False


def test_a_body_in_many_pieces_and_a_head_split_anywhere() -> None:
    raw = VALID["chunked"]
    pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    answer, keep = _answer(pieces, close=False)
    assert answer.body == b"Wikipedia" and keep is True
    big = b"x" * 300_000
    answer, _ = _answer(
        [b"HTTP/1.1 200 OK\r\nContent-Len", b"gth: 300000\r\n\r", b"\n", big[:1000], big[1000:]]
    )
    assert answer.body == big


def test_a_head_request_has_no_body() -> None:
    answer, keep = _answer(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "HEAD", close=False)
    assert answer.body == b"" and keep is True


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", http.client.RemoteDisconnected),
        (b"HTTP/1.1 200 OK\r\nContent-Le", http.client.RemoteDisconnected),
        (b"SSH-2.0-OpenSSH\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 2000 OK\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http.client.IncompleteRead),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            http.client.HTTPException,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWikiXX0\r\n\r\n",
            http.client.HTTPException,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nWiki",
            http.client.IncompleteRead,
        ),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (MAX_HEAD_BYTES + 10), http.client.LineTooLong),
    ],
)
def test_malformed_or_cut_off_answers_are_refused(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _answer(raw)


def test_a_silent_server_times_out() -> None:
    near, far = socket.socketpair()
    near.settimeout(0.2)
    try:
        with pytest.raises(TimeoutError):
            read_answer(near, "POST")
    finally:
        near.close()
        far.close()
