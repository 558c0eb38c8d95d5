"""Logging set-up: one formatter with request ids and a filter that masks secrets before output."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

# The request id of the request being served (set by the app's before_request hook).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "om_bridge_request_id", default="-"
)

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LOG_FORMATS = ("text", "json")


@contextlib.contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Log lines inside carry `request_id`: background work for a message keeps the id of the
    request that brought it (stored with the queued item)."""
    if not request_id:
        yield
        return
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


def current_request_id() -> str | None:
    """The request id in effect here, or None outside any request."""
    rid = request_id_var.get()
    return None if rid == "-" else rid


def iso_time(created: float) -> str:
    """A record's time as every log line shows it: ISO 8601 in UTC, to the millisecond."""
    return (
        datetime.fromtimestamp(created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class TextFormatter(logging.Formatter):
    """`FORMAT` with the time in ISO 8601 (UTC, "2026-12-07T22:54:59.239Z") instead of
    logging's local "2026-12-07 22:54:59,239"."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and
    the traceback as `exception` when there is one. Runs after the redaction filter."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        if record.exc_text:
            line["exception"] = record.exc_text
        elif record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


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


def setup_logging(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    log_format: str = "text",
) -> RedactingFilter:
    """Configure the root logger once: one stream handler, our formatter (`log_format` "text" or
    "json", `[bridge] log_format`), the redaction filter."""
    _filter.add_secrets(secrets)
    root = logging.getLogger()
    root.setLevel(level.upper())
    # Replacing our previous handler keeps this idempotent (tests and `serve` may call it again).
    for old in [h for h in root.handlers if getattr(h, "_om_bridge", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._om_bridge = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_filter)
    root.addHandler(handler)
    # Third-party loggers (werkzeug access log, urllib3) pass through the same handler and filter.
    return _filter
