"""Texts of the store's errors and log lines, in one place so wording stays consistent."""

from __future__ import annotations

UNSUPPORTED_URL = (
    "unsupported store URL {url!r}: use sqlite:///path.db, sqlite://:memory:, "
    "redis://host:port/db or redis+sentinel://host:26379,host:26379/service/db"
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
    'the Redis store (store = "redis://…" or "redis+sentinel://…") needs the redis package, which is not '
    "installed: install om-bridge with its redis extra (pip install --require-hashes -r "
    'requirements.lock, docs/deployment.md "Installing")'
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
REDIS_BAD_OPTION = (
    "store URL {url!r}: wait_replicas must be a whole number >= 0, wait_timeout a number of "
    "seconds > 0 and failover_timeout a number of seconds >= 0"
)
SENTINEL_BAD_HOST = (
    "store URL {url!r}: name the Sentinels as host[:port], separated by commas: "
    "redis+sentinel://host1:26379,host2:26379,host3:26379/service[/db]"
)
SENTINEL_BAD_PATH = (
    "store URL {url!r}: after the Sentinels comes the monitored master's service name and "
    "optionally a database number: redis+sentinel://host:26379/service[/db]"
)
SENTINEL_BAD_OPTION = (
    "store URL {url!r}: unknown option {option!r} (a redis+sentinel:// URL takes "
    "sentinel_password, sentinel_username, wait_replicas, wait_timeout, failover_timeout "
    "and prefix)"
)
REDIS_REPLICATION_TIMEOUT = (
    "store: a write reached the Redis master but {acked} of the {wanted} replicas it waits "
    "for (wait_replicas) acknowledged it within {timeout} s"
)
