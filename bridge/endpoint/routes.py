"""The endpoint channel's HTTP routes (docs/design.md §4): input, long-poll, SSE, connect/disconnect, typing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.bridge import jsonbody
from om_bridge.bridge.coop import disconnect_watch
from om_bridge.bridge.endpoint import idempotency, messages
from om_bridge.bridge.endpoint.hub import is_transcript_only, missed
from om_bridge.bridge.endpoint.ratelimit import InputRateLimiter, NewSessionGate, client_address
from om_bridge.bridge.endpoint.sse import event_stream
from om_bridge.bridge.endpoint.validation import MAX_BODY_BYTES, InputError, parse_input
from om_bridge.bridge.errors import BridgeError, error_response
from om_bridge.bridge.store import SessionKey

if TYPE_CHECKING:
    from om_bridge.bridge.endpoint import EndpointDeps

bp = Blueprint("endpoint", __name__, url_prefix="/endpoint")
MAX_WAIT_SECONDS = 30.0
SSE_KEEPALIVE_SECONDS = 15.0
RATE_LIMIT_EXTENSION = "om-bridge-input-rate"
NEW_SESSIONS_EXTENSION = "om-bridge-new-sessions"
MAX_SEQ = 2**63 - 1
MAX_SEQ_DIGITS = len(str(MAX_SEQ))


def _ctx() -> EndpointDeps:
    deps: EndpointDeps = current_app.extensions["om-bridge.endpoint"]
    return deps


def error(status: int, code: str, message: str, path: str | None = None) -> tuple[Response, int]:
    """The JSON error body every route answers with (`bridge/errors.py`)."""
    return error_response(BridgeError(message, status=status, code=code, path=path)), status


def _known(url_token: str) -> bool:
    return url_token in _ctx().config.endpoints


def _unknown(url_token: str) -> tuple[Response, int]:
    return error(404, "unknown_endpoint", messages.UNKNOWN_ENDPOINT.format(token=url_token))


def _user_id() -> str | None:
    """userId from the query string or a JSON body (sendBeacon posts the body as text/plain)."""
    user_id = request.args.get("userId")
    # Only a JSON (or sendBeacon's text/plain) body can carry it; an upload's body is the file.
    if not user_id and request.mimetype in ("application/json", "text/plain", ""):
        try:
            body = jsonbody.loads(request.get_data(cache=True) or b"null")
        except jsonbody.BodyError as exc:
            raise InputError(messages.BODY_NOT_JSON.format(error=exc)) from None
        if isinstance(body, dict) and isinstance(body.get("userId"), str):
            user_id = body["userId"]
    if user_id and jsonbody.has_lone_surrogate(user_id):
        raise InputError(messages.LONE_SURROGATE.format(path="userId"), path="userId")
    return user_id or None


def _seq_value(name: str, raw: str) -> int:
    # ASCII digits only (str.isdigit() also accepts "²", which int() refuses) and within a signed
    # 64-bit integer, which every store can compare against.
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_SEQ_DIGITS or int(raw) > MAX_SEQ:
        raise InputError(messages.BAD_INTEGER.format(name=name, value=raw[:40]), path=name)
    return int(raw)


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if not raw:  # absent or empty
        return default
    return _seq_value(name, raw)


def _history_arg() -> bool:
    raw = (request.args.get("history") or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise InputError(
            messages.BAD_BOOLEAN.format(name="history", value=raw[:40]), path="history"
        )
    return raw in ("true", "1")


def _wait_arg() -> float:
    raw = request.args.get("wait")
    if not raw:  # absent or empty
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise InputError(messages.BAD_NUMBER.format(name="wait", value=raw[:40]), path="wait")
    return min(value, MAX_WAIT_SECONDS)


@bp.post("/<url_token>")
def post_input(url_token: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    # Refuse an announced oversized body before reading it.
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise InputError(
            messages.BODY_TOO_LARGE.format(size=request.content_length, limit=MAX_BODY_BYTES), 413
        )
    body = parse_input(request.get_data())
    key = SessionKey(url_token, body["userId"], body["sessionId"])
    idem = idempotency.request_key(request.headers.get(idempotency.HEADER))
    if idem is None:
        return jsonify(_handle_input(key, body, None))
    keyed = idempotency.Keyed(key, idem, body)
    answer, replayed = idempotency.run_once(
        _ctx().store, keyed, lambda: _handle_input(key, body, keyed.message_id)
    )
    resp = jsonify(answer)
    if replayed:
        resp.headers[idempotency.REPLAYED_HEADER] = "true"
    return resp


def _handle_input(key: SessionKey, body: dict, message_id: str | None) -> dict:
    """One input: the per-session rate, the new-session gate, then the engine; the REST answer
    (a refusal raises InputError, having changed nothing)."""
    limiter: InputRateLimiter = current_app.extensions[RATE_LIMIT_EXTENSION]
    wait = limiter.take(key.as_str())
    if wait is not None:
        text = messages.RATE_LIMITED.format(limit=limiter.per_minute, wait=wait)
        raise InputError(text, 429, code="rate_limited", retry_after=wait)
    gate: NewSessionGate = current_app.extensions[NEW_SESSIONS_EXTENSION]
    new = gate.is_new(key)
    if new:
        address = client_address(
            request.remote_addr, request.headers.get("X-Forwarded-For"), gate.trusted
        )
        refusal = gate.admit(key.url_token, address)
        if refusal is not None:
            raise InputError(
                refusal.message,
                refusal.status,
                code=refusal.code,
                retry_after=refusal.retry_after,
            )
    ctx = _ctx()
    reply = ctx.engine.handle_input(
        key.url_token,
        key.user_id,
        key.session_id,
        body.get("text"),
        body.get("data"),
        profile=body.get("profile"),
        message_id=message_id,
    )
    if new:
        gate.remember(key)
    # Kept for the conversation's history (outputs API with history=true): the input, then the
    # bot's direct replies. Stored once the input was handled, so a refused input leaves none.
    ctx.outputs.emit(key, {"source": "user", "text": body.get("text"), "data": body.get("data")})
    for out in reply.get("outputStack") or []:
        ctx.outputs.emit(
            key, {"source": "bot", "text": out.get("text"), "data": out.get("data"), "reply": True}
        )
    return reply


def _session_key(url_token: str, session_id: str) -> SessionKey:
    user_id = _user_id()
    if not user_id:
        raise InputError(messages.MISSING_USER_ID, path="userId")
    return SessionKey(url_token, user_id, session_id)


@bp.get("/<url_token>/sessions/<session_id>/outputs")
def long_poll(url_token: str, session_id: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    key = _session_key(url_token, session_id)
    after, wait, history = _int_arg("after", 0), _wait_arg(), _history_arg()
    hub = _ctx().outputs
    deadline = time.monotonic() + wait
    cursor, outputs = after, []
    gap = None
    # A client that closes its connection releases its wait at once (under serve's gevent
    # worker), instead of holding it until the wait ends.
    gone = threading.Event()
    stop_watching: Callable[[], None] | None = None

    def disconnected() -> None:
        gone.set()
        hub.wake(key)

    try:
        while True:
            batch = hub.after(key, cursor)
            if not batch:
                remaining = deadline - time.monotonic()
                if remaining > 0 and not gone.is_set():
                    if stop_watching is None:
                        stop_watching = disconnect_watch(request.environ, disconnected)
                    batch = hub.wait(key, cursor, remaining, gone.is_set)
                if not batch:
                    break
            if gap is None:
                gap = missed(cursor, batch)
            cursor = batch[-1]["seq"]
            outputs = [o for o in batch if history or not is_transcript_only(o)]
            if outputs:
                break
    finally:
        if stop_watching is not None:
            stop_watching()
    body: dict = {"outputs": outputs, "next": cursor}
    if gap is not None:
        body["gap"] = gap
    return jsonify(body)


@bp.get("/<url_token>/sessions/<session_id>/events")
def sse(url_token: str, session_id: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    key = _session_key(url_token, session_id)
    last = request.headers.get("Last-Event-ID", "").strip()
    after = _seq_value("Last-Event-ID", last) if last else _int_arg("after", 0)
    keepalive = float(current_app.config.get("SSE_KEEPALIVE_SECONDS", SSE_KEEPALIVE_SECONDS))
    history = _history_arg()
    # Each open stream holds one greenlet under serve's gevent worker (a thread under --dev).
    resp = Response(
        event_stream(_ctx().outputs, key, after, keepalive, history),
        mimetype="text/event-stream",
    )
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return resp


@bp.post("/<url_token>/sessions/<session_id>/connect")
def connect(url_token: str, session_id: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    _ctx().engine.user_connected(_session_key(url_token, session_id))
    return "", 204


@bp.post("/<url_token>/sessions/<session_id>/disconnect")
def disconnect(url_token: str, session_id: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    _ctx().engine.user_disconnected(_session_key(url_token, session_id))
    return "", 204


@bp.post("/<url_token>/sessions/<session_id>/end")
def end(url_token: str, session_id: str) -> ResponseReturnValue:
    """The user leaves this conversation for good (the webchat's "New conversation"): the agent
    is told "User left the conversation" (when enabled), the Genesys conversation is
    disconnected, and the handover ends as `cancelled`."""
    if not _known(url_token):
        return _unknown(url_token)
    _ctx().engine.user_ended(_session_key(url_token, session_id))
    return "", 204


@bp.post("/<url_token>/sessions/<session_id>/typing")
def typing(url_token: str, session_id: str) -> ResponseReturnValue:
    if not _known(url_token):
        return _unknown(url_token)
    _ctx().engine.user_typing(_session_key(url_token, session_id))
    return "", 204
