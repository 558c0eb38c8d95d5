"""`OutputHub`: the one way outputs reach the user — stored for long-poll/SSE, optionally POSTed to a callback."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.endpoint.callback import CallbackDelivery
from om_bridge.bridge.genesys.wire import epoch
from om_bridge.bridge.handover.ports import iso_now
from om_bridge.bridge.store.base import OUTPUTS_KEPT
from om_bridge.bridge.store.errors import StoreError

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import SessionKey, Store

SOURCES = ("bot", "agent", "system", "user")


def is_transcript_only(output: dict) -> bool:
    """A record kept only so the conversation can be shown again (the user's own input, and the
    bot's direct reply to it, which the input's HTTP answer already carried): left out of the
    outputs API unless `history=true`, and never POSTed to a callback URL."""
    return output.get("source") == "user" or bool(output.get("reply"))


# Placement of late agent messages. An agent output made from a Genesys message carries `sent`
# (the message's `channel.time`) and `messageId`; Genesys may deliver two messages of a
# conversation concurrently, or retry the first after the second went through, so they can arrive
# out of order. Each is stored at once (nothing waits for a straggler); one that is earlier than
# agent outputs of the session stored at most `webhook_reorder_window_ms` ago gets `before`: the
# seq of the output it belongs in front of (the earliest of those later ones), and readers show it
# there (docs/architecture.md "Message order"). Agent messages of one handover are relayed one at
# a time (the inbound queue's order per customer), so the read and the append below never race
# with another agent message of the session, in this process or another.
PLACEMENT_LOOKBACK = 32
PLACEMENT_FIRST_READ = 4


def order_key(output: dict) -> tuple[float, str] | None:
    """(`sent` in epoch seconds, `messageId`) of an agent output made from a Genesys message;
    None for every other output."""
    if output.get("source") != "agent":
        return None
    sent = output.get("sent")
    at = epoch(sent) if isinstance(sent, str) else None
    return None if at is None else (at, str(output.get("messageId") or ""))


# Emits of one session are serialised (by a lock picked from the session's hash) so the callback
# URL receives outputs in seq order even when the outbox, a webhook and an end request emit for
# the same session at once; other sessions rarely share a stripe.
LOCK_STRIPES = 64


def missed(after: int, outputs: list[dict]) -> dict | None:
    """The gap marker when outputs after `after` were cut before the reader asked (seqs of a
    session are consecutive, and a session keeps its last `OUTPUTS_KEPT`): `{from, to, count,
    reason}` naming the seqs the reader will never get, else None."""
    if not outputs:
        return None
    first = int(outputs[0]["seq"])
    if first <= after + 1:
        return None
    return {
        "from": after + 1,
        "to": first - 1,
        "count": first - 1 - after,
        "reason": f"outputs_cut: a session keeps its last {OUTPUTS_KEPT} outputs",
    }


class OutputHub:
    """Appends outputs to the store (which wakes long-poll and SSE waiters) and queues callback delivery."""

    def __init__(
        self,
        store: Store,
        config: Config,
        metrics: Metrics,
        clock: Callable[[], float],
        callback: CallbackDelivery | None = None,
        forward: Callable[[SessionKey, dict, Mapping[str, Any] | None], bool] | None = None,
    ) -> None:
        self._store, self._config, self._clock = store, config, clock
        self._callback = callback or CallbackDelivery(metrics)
        self._closed = threading.Event()
        self._emitted = metrics.counter("outputs_total", "Outputs emitted to users", ["source"])
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        metrics.gauge(
            "output_waiters", "Long-polls and SSE streams of this process waiting for an output"
        ).set_function(store.waiting_outputs)
        # Cognigy-hosted sessions: (session key, output) -> True when the output was queued for
        # Cognigy (Inject/Notify).
        self.forward = forward

    @property
    def closed(self) -> bool:
        """True once the app is shutting down (open SSE streams end)."""
        return self._closed.is_set()

    def emit(
        self, session_key: SessionKey, output: dict, *, receipt: Mapping[str, Any] | None = None
    ) -> int:
        """Store `output` (`source`, `text`, `data`, optional `time`) for the session; returns its seq.

        Never blocks on the network: callback delivery happens on a background thread.
        """
        source = output.get("source", "bot")
        if source not in SOURCES:
            raise ValueError(f"output source must be one of {SOURCES}, got {source!r}")
        record = dict(output)
        record["source"] = source
        record.setdefault("text", None)
        record.setdefault("data", None)
        record.setdefault("time", iso_now(self._clock))
        record.pop("seq", None)
        endpoint = self._config.endpoints.get(session_key.url_token)
        url = getattr(endpoint, "callback_url", "") if endpoint is not None else ""
        order = order_key(record)
        with self._stripes[hash(session_key.as_str()) % LOCK_STRIPES]:
            if order is not None:
                before = self._place(session_key, order)
                if before is not None:
                    record["before"] = before
            if self.forward is not None:
                # First, so the Cognigy call is the write that retires a webhook being handled.
                self.forward(session_key, record, receipt)
            seq = self._store.append_output(session_key, record)
            record["seq"] = seq
            if url and not is_transcript_only(record):
                self._callback.submit(url, session_key, record)
        self._emitted.labels(source).inc()
        return seq

    def _place(self, session_key: SessionKey, order: tuple[float, str]) -> int | None:
        """The seq this agent output is shown before, or None when it is the latest (the common
        case) or what it is earlier than was stored longer ago than the placement window."""
        window = self._config.bridge.webhook_reorder_window_ms / 1000.0
        if window <= 0:
            return None
        now = self._clock()
        best: tuple[tuple[float, str], int] | None = None
        for output in self._latest(session_key):
            theirs = order_key(output)
            if theirs is None:
                continue
            stored = epoch(output.get("time") or "")
            if stored is None or now - stored > window:
                break  # agent outputs are stamped when stored: the older ones are older still
            if theirs <= order and "before" not in output:
                # Earlier than this one and placed last when stored, so it was later than every
                # agent output then in the window: nothing older can be later than this one.
                break
            if theirs > order and (best is None or theirs < best[0]):
                best = (theirs, int(output["seq"]))
        return None if best is None else best[1]

    def _latest(self, session_key: SessionKey) -> Iterator[dict]:
        # The newest few first (the common case stops at the previous agent message), then the
        # rest of the lookback only when those did not settle it.
        seen = 0
        for output in self._store.latest_outputs(session_key, PLACEMENT_FIRST_READ):
            seen += 1
            yield output
        if seen == PLACEMENT_FIRST_READ:
            rest = self._store.latest_outputs(session_key, PLACEMENT_LOOKBACK)
            yield from itertools.islice(rest, PLACEMENT_FIRST_READ, None)

    def after(self, session_key: SessionKey, after: int, limit: int = 100) -> list[dict]:
        """Outputs with seq > `after`, oldest first."""
        return self._store.outputs_after(session_key, after, limit)

    def wait(
        self,
        session_key: SessionKey,
        after: int,
        timeout: float,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[dict]:
        """Outputs with seq > `after`, waiting up to `timeout` seconds for one to appear; [] as
        soon as `cancelled()` is true after a `wake` (the client went away)."""
        if self.closed:
            return []
        try:
            return self._store.wait_outputs(session_key, after, timeout, cancelled)
        except StoreError:
            if self.closed:  # shutting down: the store closed under this wait (Ctrl-C, SIGTERM)
                return []
            raise

    def wake(self, session_key: SessionKey) -> None:
        """Wake this process's waiters of a session."""
        self._store.wake_waiters(session_key)

    def start(self) -> None:
        """Start the callback URL delivery thread."""
        self._callback.start()

    def close(self, timeout: float = 5.0) -> None:
        """End open streams and let queued callbacks drain (bounded by `timeout`)."""
        self._closed.set()
        self._callback.close(timeout)
