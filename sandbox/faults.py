"""Fault injection registry: forced statuses, delays, dropped connections, duplicated and reordered
deliveries, for the sandbox's API routes and for its outbound deliveries.

Targets: `api` (every `/api/v2/**` request, applied before authentication), `webhook`,
`eventbridge`, `data-action`, `websocket` (outbound deliverers call `take` before each delivery).
Modes:

- `status` — answer (api) or pretend the receiver answered (outbound) with `status`
  (an `ErrorBody` for api, with `Retry-After: retry_after` when given);
- `delay` — wait `delay` seconds, then proceed normally;
- `drop` — api: close the connection without a response; outbound: pretend a timeout;
- `duplicate` — outbound: deliver the same message twice;
- `reorder` — outbound: hold this message and deliver it right after the next one.

`count` is how many times the fault fires (-1: forever); `path` is an fnmatch glob on the request
path (api) or the receiver URL's path (outbound); `method` is an HTTP method or `*`.
Admin routes (sandbox-only, no auth): `GET/POST/DELETE /sandbox/faults`, `DELETE /sandbox/faults/<id>`.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

from om_bridge.sandbox import messages

TARGETS = ("api", "webhook", "eventbridge", "data-action", "websocket")
MODES = ("status", "delay", "drop", "duplicate", "reorder")
_FIELDS = {
    "id",
    "target",
    "mode",
    "status",
    "retry_after",
    "delay",
    "count",
    "path",
    "method",
    "remaining",
}


class FaultError(ValueError):
    """An invalid fault definition; the message names the field."""


@dataclass
class Fault:
    """One fault rule. `remaining` counts down from `count` (-1 never runs out)."""

    target: str = "api"
    mode: str = "status"
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    count: int = 1
    path: str = "*"
    method: str = "*"
    id: int = 0
    remaining: int = 1

    @classmethod
    def from_dict(cls, data: Any) -> Fault:
        """Validate a config table / admin JSON body (keys as in the dataclass; `retryAfter`
        is accepted for `retry_after`)."""
        if not isinstance(data, dict):
            raise FaultError(messages.ADMIN_BAD_JSON)
        data = dict(data)
        if "retryAfter" in data:
            data["retry_after"] = data.pop("retryAfter")
        for key in data:
            if key not in _FIELDS:
                raise FaultError(messages.FAULT_UNKNOWN_FIELD.format(field=key))
        target = data.get("target", "api")
        mode = data.get("mode", "status")
        if target not in TARGETS:
            raise FaultError(_bad("target", f"must be one of {', '.join(TARGETS)}"))
        if mode not in MODES:
            raise FaultError(_bad("mode", f"must be one of {', '.join(MODES)}"))
        status = data.get("status")
        if mode == "status":
            if not _is_int(status) or not 400 <= status <= 599:
                raise FaultError(_bad("status", "must be an HTTP error status 400-599"))
        elif status is not None:
            raise FaultError(_bad("status", "is only valid with mode 'status'"))
        if target == "api" and mode in ("duplicate", "reorder"):
            raise FaultError(_bad("mode", "duplicate/reorder apply to outbound targets only"))
        retry_after = data.get("retry_after")
        if retry_after is not None and (not _is_int(retry_after) or retry_after < 0):
            raise FaultError(_bad("retry_after", "must be a non-negative integer"))
        delay = data.get("delay", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise FaultError(_bad("delay", "must be a non-negative number of seconds"))
        if mode == "delay" and delay <= 0:
            raise FaultError(_bad("delay", "must be > 0 with mode 'delay'"))
        count = data.get("count", 1)
        if not _is_int(count) or (count < 1 and count != -1):
            raise FaultError(_bad("count", "must be a positive integer or -1 (forever)"))
        path = data.get("path", "*")
        method = data.get("method", "*")
        if not isinstance(path, str) or not path:
            raise FaultError(_bad("path", "must be a non-empty glob string"))
        if not isinstance(method, str) or not method:
            raise FaultError(_bad("method", "must be an HTTP method or '*'"))
        return cls(
            target=target,
            mode=mode,
            status=status,
            retry_after=retry_after,
            delay=float(delay),
            count=count,
            path=path,
            method=method.upper(),
            remaining=count,
        )

    def matches(self, target: str, method: str, path: str) -> bool:
        return (
            self.target == target
            and self.method in ("*", method.upper())
            and fnmatch.fnmatchcase(path, self.path)
        )

    def to_dict(self) -> dict:
        return asdict(self)


class FaultRegistry:
    """Thread-safe list of active faults; `take` consumes the first matching one."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, fault: Fault | dict) -> Fault:
        """Register a fault (validated when given as a dict) and return it with its id."""
        if isinstance(fault, dict):
            fault = Fault.from_dict(fault)
        with self._lock:
            fault.id = next(self._ids)
            fault.remaining = fault.count
            self._faults.append(fault)
        return fault

    def take(self, target: str, method: str, path: str) -> Fault | None:
        """The first fault matching this delivery/request, counting one use; None if none."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(target, method, path):
                    if fault.remaining > 0:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            for fault in self._faults:
                if fault.id == fault_id:
                    self._faults.remove(fault)
                    return True
        return False

    def clear(self, target: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if target is not None and f.target != target]


def _bad(field: str, problem: str) -> str:
    return messages.FAULT_BAD_FIELD.format(field=field, problem=problem)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
