"""`Secret`: a value that never shows itself in repr, str, logs or tracebacks."""

from __future__ import annotations

import hmac
import re
from typing import Any

MASK = "***"
ENV_PREFIX = "env:"


class Secret:
    """A secret string; `repr`/`str`/formatting give '***', `.reveal()` gives the value.

    `source` remembers an "env:NAME" reference, so a dumped configuration can keep it.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str | None = None) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The secret value, for the one place that needs it (an HTTP header, a signature key)."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: Any) -> bool:
        # Constant-time, so a comparison with a presented credential leaks no timing.
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def redact_url(url: str) -> str:
    """The store URL with its passwords (the server's and a `sentinel_password`) as ***, for
    error messages, logs and dumped configurations."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = userinfo.split(":", 1)[0] + ":***@" + hosts
    tail = re.sub(r"([?&]sentinel_password=)[^&]*", r"\1***", tail)
    return f"{scheme}://{netloc}{slash}{tail}"
