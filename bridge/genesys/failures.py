"""`describe_failure`: what kind of failure a call to Genesys met — TLS, DNS, refused, timed out,
cut off, or something unexpected — in words an operator acts on, with the exception class that
says it. Never the URL, headers or body: the text goes to `/readyz`, logs and outbox errors."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions

from . import messages

# Exceptions that only wrap the real cause (requests' and urllib3's retry/connection layers).
_WRAPPERS = (requests.RequestException, urllib3.exceptions.MaxRetryError)
_MAX_CHAIN = 12


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it was raised from or while handling, and what wrappers carry (urllib3's
    `reason`, requests' first argument), outermost first."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [getattr(current, "reason", None), current.__cause__, current.__context__]
        if current.args and isinstance(current.args[0], BaseException):
            inner.append(current.args[0])
        todo.extend(e for e in inner if isinstance(e, BaseException))


def _kind(exc: BaseException) -> str | None:
    """The failure kind `exc` itself names, or None when it says nothing specific."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return messages.FAILURE_TLS_VERIFY.format(reason=exc.verify_message or "not trusted")
    if isinstance(exc, (ssl.SSLError, urllib3.exceptions.SSLError, requests.exceptions.SSLError)):
        return messages.FAILURE_TLS
    if isinstance(exc, (socket.gaierror, urllib3.exceptions.NameResolutionError)):
        return messages.FAILURE_DNS
    if isinstance(exc, ConnectionRefusedError):
        return messages.FAILURE_REFUSED
    if isinstance(exc, (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)):
        return messages.FAILURE_TIMEOUT
    if isinstance(
        exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)
    ) or isinstance(exc, urllib3.exceptions.ProtocolError):
        return messages.FAILURE_CUT_OFF
    return None


def describe_failure(exc: BaseException) -> str:
    """The failure as `<kind> (<ExceptionClass>)`: the most specific kind found along the exception's chain
    (a certificate verification failure inside requests' SSLError inside a ConnectionError
    says so), else `connection failed (<class>)` for another connection-level error, else
    `unexpected error (<class of the outermost non-wrapper>)`."""
    chain = list(_chain(exc))
    for current in reversed(chain):  # the innermost cause knows most
        kind = _kind(current)
        if kind is not None:
            return f"{kind} ({type(current).__name__})"
    for current in chain:  # nothing specific: a connection-level failure still says so
        if isinstance(current, (OSError, requests.ConnectionError, http.client.HTTPException)):
            return f"{messages.FAILURE_CONNECTION} ({type(current).__name__})"
    cause = next((e for e in chain if not isinstance(e, _WRAPPERS)), exc)
    return f"{messages.FAILURE_UNEXPECTED} ({type(cause).__name__})"
