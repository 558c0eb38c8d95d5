"""Server-Sent Events framing of a session's outputs, with keep-alive comments and `Last-Event-ID` resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from om_bridge.bridge.endpoint.hub import is_transcript_only, missed
from om_bridge.bridge.jsonbody import has_lone_surrogate, safe_text

if TYPE_CHECKING:
    from om_bridge.bridge.endpoint.hub import OutputHub
    from om_bridge.bridge.store import SessionKey

RETRY_MS = 2000


def frame(output: dict) -> str:
    """One SSE event: `id` = the output's seq, so a reconnecting browser resumes after it."""
    data = json.dumps(output, separators=(",", ":"), ensure_ascii=False)
    if has_lone_surrogate(data):
        # Not Unicode text (e.g. a "\\ud800" escape in a Genesys message): it cannot be written
        # as UTF-8, so it becomes U+FFFD instead of failing the stream for good.
        data = safe_text(data)
    return f"id: {output['seq']}\nevent: output\ndata: {data}\n\n"


def gap_frame(gap: dict) -> str:
    """A `gap` event: outputs the reader asked for were cut (no `id`: resuming is unaffected)."""
    return f"event: gap\ndata: {json.dumps(gap, separators=(',', ':'))}\n\n"


def event_stream(
    hub: OutputHub, key: SessionKey, after: int, keepalive: float, history: bool = False
) -> Iterator[str]:
    """Yield outputs after `after` as they arrive; a comment every `keepalive` seconds of silence.
    Without `history`, the user's inputs and the bot's direct replies are skipped.

    The comment also detects a gone client: the server's write fails and the generator is closed.
    The stream ends when the app shuts down.
    """
    yield f"retry: {RETRY_MS}\n\n"
    while not hub.closed:
        batch = hub.wait(key, after, keepalive)
        if not batch:
            yield ": keep-alive\n\n"
            continue
        gap = missed(after, batch)
        if gap is not None:
            yield gap_frame(gap)
        for output in batch:
            after = max(after, int(output["seq"]))
            if history or not is_transcript_only(output):
                yield frame(output)
