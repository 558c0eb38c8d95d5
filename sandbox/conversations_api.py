"""Conversation and agent APIs (docs/design.md §9): conversation lookups, message data and transcript,
and the agent actions — answer / end / wrap-up (participant PATCH, wrap-up route), send text,
typing, transfer (replace) — driving `sandbox.engine`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify, request

from om_bridge.sandbox import media, messages, views
from om_bridge.sandbox.apiutil import BadRequest, created, handles_errors, json_body, paged, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import EngineError

bp = Blueprint("sandbox_conversations", __name__)
M = "/api/v2/conversations/messages"
VIEW = "conversation:message:view"


def _conv(cid: str) -> Any:
    return sandbox().engine.conversation(cid)


@bp.get(M)
@require_auth(VIEW, user=True)
@handles_errors
def my_conversations():  # type: ignore[no-untyped-def]
    """The calling user's active message conversations (`MessageConversationEntityListing`)."""
    engine, store = sandbox().engine, sandbox().store
    with store.lock:
        items = [
            views.message_conversation(store, c)
            for c in engine.agent_conversations(g.principal.user_id)
        ]
    return paged(items, M)


@bp.get(f"{M}/<cid>")
@require_auth(VIEW)
@handles_errors
def get_message_conversation(cid: str):  # type: ignore[no-untyped-def]
    store = sandbox().store
    with store.lock:
        return jsonify(views.message_conversation(store, _conv(cid)))


@bp.get("/api/v2/conversations/<cid>")
@require_auth(VIEW)
@handles_errors
def get_conversation(cid: str):  # type: ignore[no-untyped-def]
    store = sandbox().store
    with store.lock:
        return jsonify(views.conversation(store, _conv(cid)))


def _message(cid: str | None, mid: str) -> Any:
    record = sandbox().store.messages.get(mid)
    if record is None or (cid is not None and record.conversation_id != cid):
        raise EngineError(
            404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Message", id=mid)
        )
    return record


@bp.get(f"{M}/<cid>/messages/<mid>")
@require_auth(VIEW)
@handles_errors
def get_message(cid: str, mid: str):  # type: ignore[no-untyped-def]
    _conv(cid)
    return jsonify(views.message_data(_message(cid, mid)))


@bp.get(f"{M}/<mid>/details")
@require_auth(VIEW)
@handles_errors
def get_message_details(mid: str):  # type: ignore[no-untyped-def]
    return jsonify(views.message_data(_message(None, mid)))


@bp.post(f"{M}/<cid>/messages/bulk")
@require_auth(VIEW)
@handles_errors
def bulk_messages(cid: str):  # type: ignore[no-untyped-def]
    """`TextMessageListing` of the given message ids; an empty list returns the whole transcript."""
    store = sandbox().store
    raw = request.get_data()
    ids = json_body(list) if raw.strip() else []
    if not all(isinstance(i, str) for i in ids) or len(ids) > 1000:
        raise BadRequest("body must be a list of at most 1000 message ids")
    with store.lock:
        conv = _conv(cid)
        wanted = ids or list(conv.message_ids)
        entities = [views.message_data(_message(cid, mid)) for mid in wanted]
    return jsonify({"entities": entities})


@bp.patch(f"{M}/<cid>/participants/<pid>")
@require_auth("conversation:communication:disconnect")
@handles_errors
def patch_participant(cid: str, pid: str):  # type: ignore[no-untyped-def]
    body = json_body()
    state = body.get("state")
    if state is not None and state not in ("connected", "disconnected"):
        raise BadRequest(f"state '{state}' is not supported; use connected or disconnected")
    _check_actor(cid, pid)
    sandbox().engine.patch_participant(cid, pid, body, g.principal.user_id)
    return "", 202


def _check_actor(cid: str, pid: str) -> None:
    """A user token may only act on its own agent leg (or the customer leg); client tokens on any."""
    if g.principal.user_id is None:
        return
    with sandbox().store.lock:
        p = sandbox().engine.participant(_conv(cid), pid)
        if p.purpose == "agent" and p.user_id != g.principal.user_id:
            raise EngineError(
                403, "not.authorized", "You are not authorized to perform the requested action."
            )


@bp.post(f"{M}/<cid>/participants/<pid>/communications/<comm>/wrapup")
@require_auth("conversation:participant:wrapup")
@handles_errors
def post_wrapup(cid: str, pid: str, comm: str):  # type: ignore[no-untyped-def]
    body = json_body()
    _check_actor(cid, pid)
    engine, store = sandbox().engine, sandbox().store
    with store.lock:
        conv = _conv(cid)
        p = engine.participant(conv, pid)
        if p.communication_id != comm:
            raise EngineError(
                404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Communication", id=comm)
            )
        engine.apply_wrapup(conv, p, body)
    return "", 202


@bp.get(f"{M}/<cid>/participants/<pid>/wrapup")
@require_auth(VIEW)
@handles_errors
def get_wrapup(cid: str, pid: str):  # type: ignore[no-untyped-def]
    with sandbox().store.lock:
        p = sandbox().engine.participant(_conv(cid), pid)
        if p.wrapup is None:
            return "", 204
        return jsonify(
            {
                k: p.wrapup[k]
                for k in ("code", "notes", "tags", "durationSeconds", "endTime")
                if k in p.wrapup
            }
        )


@bp.post(f"{M}/<cid>/participants/<pid>/replace")
@require_auth("conversation:communication:transfer")
@handles_errors
def replace(cid: str, pid: str):  # type: ignore[no-untyped-def]
    body = json_body()
    _check_actor(cid, pid)
    sandbox().engine.transfer(cid, pid, body)
    return "", 202


@bp.post(f"{M}/<cid>/communications/<comm>/messages")
@require_auth("conversation:message:create")
@handles_errors
def send_message(cid: str, comm: str):  # type: ignore[no-untyped-def]
    """`AdditionalMessage` `{textBody, mediaIds}` from the agent → `MessageData` (and a webhook
    with `Attachment` content for uploaded media)."""
    body = json_body()
    text, media_ids = body.get("textBody"), body.get("mediaIds") or []
    if not isinstance(media_ids, list):
        raise BadRequest("mediaIds must be a list of media ids")
    if not media_ids and (not isinstance(text, str) or not text):
        raise BadRequest("textBody is required (a non-empty string) unless mediaIds are given")
    if text is not None and not isinstance(text, str):
        raise BadRequest("textBody must be a string")
    if body.get("messagingTemplate") is not None:
        raise BadRequest(
            "messagingTemplate is not supported on Open Messaging", code="invalid.value"
        )
    _check_comm_actor(cid, comm)
    content = media.attachments(cid, comm, media_ids)
    record = sandbox().engine.agent_send(cid, comm, g.principal.user_id, text or None, content)
    return created(views.message_data(record), 202)


def _check_comm_actor(cid: str, comm: str) -> None:
    if g.principal.user_id is None:
        return
    with sandbox().store.lock:
        p = _conv(cid).by_communication(comm)
        if p is not None and p.purpose == "agent" and p.user_id != g.principal.user_id:
            raise EngineError(
                403, "not.authorized", "You are not authorized to perform the requested action."
            )


@bp.post(f"{M}/<cid>/communications/<comm>/typing")
@require_auth("conversation:message:create")
@handles_errors
def typing(cid: str, comm: str):  # type: ignore[no-untyped-def]
    """`MessageTypingEventRequest` `{typing: {type: "On", duration}}`."""
    body = json_body()
    ev = body.get("typing")
    if not isinstance(ev, dict) or ev.get("type") != "On":
        raise BadRequest("typing.type should be equal to one of the allowed values: On")
    duration = ev.get("duration", 5000)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        raise BadRequest("typing.duration should be a non-negative integer (milliseconds)")
    _check_comm_actor(cid, comm)
    sandbox().engine.agent_typing(cid, comm, duration)
    return "", 204


def init_app(app: Flask) -> None:
    """Register the conversation and agent routes (and agent media uploads)."""
    app.register_blueprint(bp)
    media.init_app(app)
