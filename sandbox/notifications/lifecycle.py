"""Hooking background workers of the end-detection outputs into the sandbox's shutdown."""

from __future__ import annotations

from collections.abc import Callable


def on_close(state: object, fn: Callable[[], None]) -> None:
    """Run `fn` when the sandbox state closes (`state.close()`), before what it already does.

    Uses `state.add_closer(fn)` when the state offers it, else chains `state.close`."""
    add = getattr(state, "add_closer", None)
    if callable(add):
        add(fn)
        return
    previous = state.close  # type: ignore[attr-defined]

    def close() -> None:
        try:
            fn()
        finally:
            previous()

    state.close = close  # type: ignore[attr-defined]
