"""`Idempotency-Key` on `POST /endpoint/<urlToken>`: the same key of the same session within a
day gives the first answer again and changes nothing (docs/design.md §4).

The key is scoped to the endpoint and session (`SessionKey`), so two users' keys never meet. The
first request holds a store lock on the scope while it is handled (a second one with the same key
waits for it, then gets its answer); a successful answer is kept in the store for
ANSWER_TTL_SECONDS. A crash between handling and keeping the answer leaves no answer: the client's
re-send is handled again, and the user's message goes to Genesys again with the same
`channel.messageId` (derived from the key), which Genesys answers without posting it twice. Only
answers are kept: a refused request (4xx, 5xx) changed nothing, so its re-send may succeed.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Final

from om_bridge.bridge.endpoint import messages
from om_bridge.bridge.endpoint.validation import InputError
from om_bridge.bridge.store import SessionKey, Store

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_KEY_LENGTH: Final = 255
ANSWER_TTL_SECONDS: Final = 24 * 3600.0
# The scope's lock outlives a killed holder by at most this long (the session lock's own bound;
# a holder that took longer and lost it is harmless: the message id is the same).
LOCK_TTL_SECONDS: Final = 10.0
# A request with the key of one still being handled waits this long for it (longer than a killed
# holder's lock lives, so a re-send after a crash goes through), then gets 409.
IN_PROGRESS_WAIT_SECONDS: Final = 12.0
# Message ids of keyed inputs: uuid5 of the scope in this namespace.
MESSAGE_ID_NAMESPACE: Final = uuid.UUID("5d1c3c0e-8f5e-4d8b-9a43-0c7e3b1f2a61")


def request_key(raw: str | None) -> str | None:
    """The request's Idempotency-Key (None without one); InputError when it is malformed."""
    if raw is None:
        return None
    if not 0 < len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InputError(messages.BAD_IDEMPOTENCY_KEY.format(limit=MAX_KEY_LENGTH), path=HEADER)
    return raw


class Keyed:
    """One keyed request: its scope in the store, its body's fingerprint, its message id."""

    def __init__(self, session: SessionKey, key: str, body: dict) -> None:
        self.scope = hashlib.sha256(f"{session.as_str()}\n{key}".encode()).hexdigest()
        # Of the parsed body, so a re-send that orders or spaces its JSON otherwise is the same.
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self.fingerprint = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        self.message_id = str(uuid.uuid5(MESSAGE_ID_NAMESPACE, self.scope))


def run_once(store: Store, keyed: Keyed, handle: Callable[[], dict]) -> tuple[dict, bool]:
    """`handle()`'s answer, or the one kept for this key: (answer, replayed). A refusal that
    `handle` raises (InputError) is not kept."""
    kept = _kept(store, keyed)
    if kept is not None:
        return kept
    name, owner = "idempotency:" + keyed.scope, uuid.uuid4().hex
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while not store.acquire_lock(name, owner, LOCK_TTL_SECONDS):
        if time.monotonic() >= deadline:
            raise InputError(
                messages.IDEMPOTENCY_IN_PROGRESS.format(wait=1),
                409,
                path=HEADER,
                code="idempotency_in_progress",
                retry_after=1,
            )
        time.sleep(0.05)
    try:
        kept = _kept(store, keyed)  # the holder we waited for may have answered
        if kept is not None:
            return kept
        answer = handle()
        store.keep_answer(
            keyed.scope, {"body": answer, "fingerprint": keyed.fingerprint}, ANSWER_TTL_SECONDS
        )
        return answer, False
    finally:
        store.release_lock(name, owner)


def _kept(store: Store, keyed: Keyed) -> tuple[dict, bool] | None:
    kept = store.kept_answer(keyed.scope)
    if kept is None:
        return None
    if kept.get("fingerprint") != keyed.fingerprint:
        raise InputError(
            messages.IDEMPOTENCY_KEY_REUSED, 422, path=HEADER, code="idempotency_key_reused"
        )
    return kept["body"], True
