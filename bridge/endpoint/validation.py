"""Validation of endpoint input bodies against `schemas/endpoint-input.json`, with errors naming the field."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from jsonschema import Draft202012Validator, ValidationError

from om_bridge.bridge import jsonbody
from om_bridge.bridge.endpoint import messages
from om_bridge.bridge.errors import BridgeError

MAX_BODY_BYTES = 64 * 1024


class InputError(BridgeError, ValueError):
    """A rejected endpoint input; `status` is the HTTP status to answer and `path` the offending
    field; `code` the error code when the status alone does not tell it, `retry_after` the
    seconds for a `Retry-After` header."""

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        status: int = 400,
        path: str | None = None,
        *,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        code = code or {413: "body_too_large", 415: "unsupported_media_type"}.get(status)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(message, status=status, code=code, path=path, headers=headers)
        self.path = path


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(
        resources.files("om_bridge.schemas").joinpath("endpoint-input.json").read_text("utf-8")
    )
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def parse_input(raw: bytes) -> dict:
    """The validated body: `{userId, sessionId, text?, data?}`; raises `InputError` naming the problem."""
    if len(raw) > MAX_BODY_BYTES:
        raise InputError(messages.BODY_TOO_LARGE.format(size=len(raw), limit=MAX_BODY_BYTES), 413)
    try:
        body = jsonbody.loads(raw)
    except jsonbody.BodyError as exc:
        raise InputError(messages.BODY_NOT_JSON.format(error=exc)) from None
    if jsonbody.may_hold_surrogates(raw):
        body = _without_surrogates(body)
    validator = _validator()
    if validator.is_valid(body):  # the common case: no error collection and sorting
        return body
    errors = sorted(validator.iter_errors(body), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        # Field-level errors first (a wrong type on userId says more than the anyOf summary).
        specific = [e for e in errors if e.validator != "anyOf"]
        if specific:
            err = specific[0]
            path = _path(err)
            raise InputError(
                messages.SCHEMA_ERROR.format(path=path, message=err.message), path=path
            )
        raise InputError(messages.NEED_TEXT_OR_DATA, path="$")
    return body


IDENTIFIERS = ("userId", "sessionId")


def _without_surrogates(body: object) -> object:
    # An identifier with a lone surrogate is refused (it names no session); in text and data the
    # surrogate becomes U+FFFD, so the rest of what the user sent is kept.
    cleaned, paths = jsonbody.lone_surrogates(body)
    for path in paths:
        if len(path) == 1 and path[0] in IDENTIFIERS:
            raise InputError(messages.LONE_SURROGATE.format(path=path[0]), path=path[0])
    return cleaned


def _path(err: ValidationError) -> str:
    if not err.path:
        # A missing required field is reported on the parent; name the field itself.
        if err.validator == "required" and "'" in err.message:
            return err.message.split("'")[1]
        return "$"
    return ".".join(str(p) for p in err.path)
