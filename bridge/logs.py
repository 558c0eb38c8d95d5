"""Logging set-up: one formatter with request ids and a filter that masks secrets before output."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Iterable

# The request id of the request being served (set by the app's before_request hook).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "om_bridge_request_id", default="-"
)

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
MASK = "***"
# Authorization header values wherever they show up (a logged header, an error text).
_AUTH = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# Short values would mask ordinary words; real secrets are longer than this.
_MIN_SECRET_LEN = 4


class RedactingFilter(logging.Filter):
    """Masks known secret values and `Bearer …`/`Basic …` credentials in every record it sees."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        # Longest first so a secret containing another is masked whole; sorted once per change,
        # not once per log record.
        self._ordered: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Remember more secret values to mask (e.g. after a configuration is loaded)."""
        self._secrets.update(s for s in secrets if s and len(s) >= _MIN_SECRET_LEN)
        self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` with every known secret and credential replaced by `***`."""
        text = _AUTH.sub(lambda m: f"{m.group(1)} {MASK}", text)
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self.redact(message)
        # The formatted message replaces msg/args so handlers never re-format the raw args.
        record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_filter = RedactingFilter()


def redaction_filter() -> RedactingFilter:
    """The process-wide filter (one per process, shared by every handler set up here)."""
    return _filter


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), stream=None) -> RedactingFilter:
    """Configure the root logger once: one stream handler, our formatter, the redaction filter."""
    _filter.add_secrets(secrets)
    root = logging.getLogger()
    root.setLevel(level.upper())
    # Replacing our previous handler keeps this idempotent (tests and `serve` may call it again).
    for old in [h for h in root.handlers if getattr(h, "_om_bridge", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._om_bridge = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_filter)
    root.addHandler(handler)
    # Third-party loggers (werkzeug access log, urllib3) pass through the same handler and filter.
    return _filter
