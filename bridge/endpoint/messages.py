"""Texts of the endpoint channel's error answers and log lines."""

from __future__ import annotations

UNKNOWN_ENDPOINT = 'no endpoint with URL token "{token}"'
BODY_NOT_JSON = "the request body is not valid JSON: {error}"
BODY_TOO_LARGE = "the request body is {size} bytes; the limit is {limit} bytes"
NEED_TEXT_OR_DATA = 'at least one of "text" (a string) or "data" (an object) is required'
SCHEMA_ERROR = "{path}: {message}"
RATE_LIMITED = (
    "this session sent more than {limit} inputs per minute (input_rate_per_minute); "
    "retry in {wait} s"
)
NEW_SESSIONS_ADDRESS = (
    "more than {limit} new sessions a minute came from this address "
    "(new_sessions_per_minute_per_address); retry in {wait} s"
)
NEW_SESSIONS_ENDPOINT = (
    "this endpoint got more than {limit} new sessions a minute "
    "(new_sessions_per_minute_per_endpoint); retry in {wait} s"
)
SESSION_CAPACITY = (
    "the bridge keeps {limit} sessions without an open handover (max_sessions_without_handover) "
    "and starts no new one until retention removes idle ones"
)
BAD_IDEMPOTENCY_KEY = "the Idempotency-Key header must be 1 to {limit} visible ASCII characters"
IDEMPOTENCY_KEY_REUSED = (
    "this Idempotency-Key was used for a different request body of this session"
)
IDEMPOTENCY_IN_PROGRESS = (
    "a request with this Idempotency-Key is still being handled; retry in {wait} s"
)
LONE_SURROGATE = (
    "{path} holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair), "
    "which is not Unicode text"
)
MISSING_USER_ID = "the userId query parameter (or body field) is required"
BAD_INTEGER = '{name} must be a non-negative integer, got "{value}"'
BAD_NUMBER = '{name} must be a non-negative number of seconds, got "{value}"'
METHOD_NOT_ALLOWED = "{method} is not allowed here"
NOT_FOUND = "no such route: {path}"
UPLOAD_TYPE = 'files of type "{mime}" cannot be sent; allowed types: {allowed}'
UPLOAD_TOO_LARGE = "the file is {size} bytes; the limit is {limit} bytes"
UPLOAD_EMPTY = "the file is empty"
UPLOAD_NO_HANDOVER = (
    "files can be sent only to the agent of an open handover, and this session has none"
)
UPLOAD_NOT_OF_TYPE = 'the bytes of the file are not of its declared type "{mime}"'
UPLOAD_QUOTA = (
    "this session keeps the most uploads it may: {files} files or {size} bytes "
    "(upload_max_files_per_session, upload_max_bytes_per_session)"
)
UPLOAD_NOT_FOUND = "no such file (it may have expired)"
BAD_BOOLEAN = '{name} must be true or false, got "{value}"'
UNKNOWN_WEBCHAT_TOKEN = 'No endpoint with URL token "{token}" is configured.'
NO_ENDPOINT_CONFIGURED = (
    "No endpoint is configured: add an [[endpoints]] table to the configuration."
)

CALLBACK_FAILED = "callback delivery to %s failed for seq %s after %d attempts: %s"
CALLBACK_GAVE_UP = "callback delivery to %s rejected seq %s with status %s (not retried)"
CALLBACK_RETRY = "callback delivery to %s failed (attempt %d): %s; retrying"
