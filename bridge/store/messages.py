"""Texts of the store's errors and log lines, in one place so wording stays consistent."""

from __future__ import annotations

UNSUPPORTED_URL = (
    "unsupported store URL {url!r}: use sqlite:///path.db, sqlite://:memory: "
    "or redis://host:port/db"
)
SQLITE_NEWER_SCHEMA = (
    "the SQLite store {path} has schema version {found}, newer than this "
    "om-bridge understands ({known}); upgrade om-bridge"
)
OPEN_HANDOVER_EXISTS = "session {session} already has an open handover {handover_id}"
HANDOVER_ID_EXISTS = "a handover with id {handover_id} already exists"
HANDOVER_NOT_FOUND = "no handover with id {handover_id}"
HANDOVER_ENDED = "handover {handover_id} has ended; its status cannot change"
UNKNOWN_FIELDS = "update_handover cannot set {fields}; settable: {allowed}"
NOT_AN_OPEN_STATUS = (
    "status {status!r} is not an open status ({allowed}); end a handover with finish_handover"
)
NOT_AN_END_STATUS = "finish_handover needs an end status ({allowed}), got {status!r}"
OUTBOX_ITEM_NOT_FOUND = "no pending outbox item with id {item_id}"
SESSION_LOCK_TIMEOUT = "timed out after {timeout}s waiting for the lock of session {session}"
REDIS_SUBSCRIBER_ERROR = (
    "store: output notification subscriber lost its connection ({error}); retrying"
)

SQLITE_CLOSED = "the SQLite store {path} is closed"
REDIS_NOT_INSTALLED = (
    'the Redis store (store = "redis://…") needs the redis package, which is not installed: '
    "pip install 'om-bridge[redis]'"
)
SQLITE_VACUUM_START = (
    "store: compacting {path} ({size} bytes) once to turn on incremental auto-vacuum; "
    "writers wait until it is done"
)
SQLITE_VACUUM_DONE = "store: compacted {path} to {size} bytes in {seconds:.1f} s"
SQLITE_VACUUM_NO_ROOM = (
    "store: {path} ({size} bytes) is not in incremental auto-vacuum mode and only {free} bytes "
    "are free (the one-time compaction needs twice its size); it keeps its size after "
    "retention until a start with enough room"
)
SQLITE_VACUUM_FAILED = (
    "store: the one-time compaction of {path} did not run ({error}); a later start tries again"
)
