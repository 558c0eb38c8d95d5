"""The wake-or-poll loop shared by the handover engine's queue dispatchers (outbox, inbound)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def dispatch_loop(
    stopping: threading.Event,
    wake: threading.Event,
    interval: float,
    dispatch: Callable[[], None],
    crash_message: str,
) -> None:
    """Run `dispatch` whenever `wake` is set or `interval` passes, until `stopping` is set; a
    failing round is logged and the loop carries on (it must outlive a store hiccup)."""
    while not stopping.is_set():
        wake.wait(interval)
        wake.clear()
        if stopping.is_set():
            break
        try:
            dispatch()
        except Exception:
            log.exception(crash_message)
