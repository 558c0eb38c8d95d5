"""Conversation and agent APIs (docs/design.md §9): conversation lookups, message data and transcript,
and the agent actions — answer / end / wrap-up (participant PATCH, wrap-up route), send text,
typing, transfer (replace) — driving `sandbox.engine`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import media, messages, views
from om_bridge.sandbox.apiutil import BadRequest, created, handles_errors, json_body, paged, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import EngineError

bp = Blueprint("sandbox_conversations", __name__)
M = "/api/v2/conversations/messages"
VIEW = "conversation:message:view"
# Request option of the conversation listing (a sandbox extension, off unless asked for): adds
# `sandboxCustomerTypingTime` to each conversation, for the agent console.
TYPING_OPTION = "sandboxCustomerTyping"


def _conv(cid: str) -> Any:
    return sandbox().engine.conversation(cid)


@bp.get(M)
@require_auth(VIEW, user=True)
@handles_errors
def my_conversations() -> ResponseReturnValue:
    """The calling user's active message conversations (`MessageConversationEntityListing`)."""
    engine, store = sandbox().engine, sandbox().store
    with_typing = request.args.get(TYPING_OPTION, "").lower() == "true"
    with store.lock:
        items = []
        for c in engine.agent_conversations(g.principal.user_id):
            view = views.message_conversation(store, c)
            typing_at = engine.customer_typing.get(c.id) if with_typing else None
            if typing_at:
                # Sandbox extension: the customer's last Typing event, for the agent console
                # (Genesys delivers it to agent desktops over notifications).
                view["sandboxCustomerTypingTime"] = typing_at
            items.append(view)
    return paged(items, M)


@bp.get(f"{M}/<cid>")
@require_auth(VIEW)
@handles_errors
def get_message_conversation(cid: str) -> ResponseReturnValue:
    store = sandbox().store
    with store.lock:
        return jsonify(views.message_conversation(store, _conv(cid)))


@bp.get("/api/v2/conversations/<cid>")
@require_auth(VIEW)
@handles_errors
def get_conversation(cid: str) -> ResponseReturnValue:
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
def get_message(cid: str, mid: str) -> ResponseReturnValue:
    _conv(cid)
    return jsonify(views.message_data(_message(cid, mid)))


@bp.get(f"{M}/<mid>/details")
@require_auth(VIEW)
@handles_errors
def get_message_details(mid: str) -> ResponseReturnValue:
    return jsonify(views.message_data(_message(None, mid)))


@bp.post(f"{M}/<cid>/messages/bulk")
@require_auth(VIEW)
@handles_errors
def bulk_messages(cid: str) -> ResponseReturnValue:
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
def patch_participant(cid: str, pid: str) -> ResponseReturnValue:
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
def post_wrapup(cid: str, pid: str, comm: str) -> ResponseReturnValue:
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
def get_wrapup(cid: str, pid: str) -> ResponseReturnValue:
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
def replace(cid: str, pid: str) -> ResponseReturnValue:
    body = json_body()
    _check_actor(cid, pid)
    sandbox().engine.transfer(cid, pid, body)
    return "", 202


@bp.post(f"{M}/<cid>/communications/<comm>/messages")
@require_auth("conversation:message:create")
@handles_errors
def send_message(cid: str, comm: str) -> ResponseReturnValue:
    """`AdditionalMessage` `{textBody, mediaIds}` from the agent → `MessageData` (and a webhook
    with `Attachment` content for uploaded media). Sandbox extension: `content`, a list of Open
    Messaging structured elements (QuickReply, Card, Carousel) sent as a Structured message, so
    tests and the console can exercise rich agent messages."""
    body = json_body()
    text, media_ids = body.get("textBody"), body.get("mediaIds") or []
    structured = rich_content(body.get("content"))
    if not isinstance(media_ids, list):
        raise BadRequest("mediaIds must be a list of media ids")
    if not media_ids and not structured and (not isinstance(text, str) or not text):
        raise BadRequest(
            "textBody is required (a non-empty string) unless mediaIds or content are given"
        )
    if text is not None and not isinstance(text, str):
        raise BadRequest("textBody must be a string")
    if body.get("messagingTemplate") is not None:
        raise BadRequest(
            "messagingTemplate is not supported on Open Messaging", code="invalid.value"
        )
    _check_comm_actor(cid, comm)
    content = media.attachments(cid, comm, media_ids) + structured
    record = sandbox().engine.agent_send(cid, comm, g.principal.user_id, text or None, content)
    return created(views.message_data(record), 202)


MAX_RICH_ITEMS = 10


def _rich_str(value: Any, path: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{path} must be a non-empty string")
    return value


def _card(card: Any, path: str) -> dict:
    if not isinstance(card, dict):
        raise BadRequest(f"{path} must be an object")
    out: dict[str, Any] = {"title": _rich_str(card.get("title"), f"{path}.title")}
    for key in ("description", "image"):
        if card.get(key) is not None:
            out[key] = _rich_str(card.get(key), f"{path}.{key}")
    actions = card.get("actions") or []
    if not isinstance(actions, list) or len(actions) > MAX_RICH_ITEMS:
        raise BadRequest(f"{path}.actions must be a list of at most {MAX_RICH_ITEMS} actions")
    out["actions"] = []
    for i, action in enumerate(actions):
        where = f"{path}.actions[{i}]"
        if not isinstance(action, dict) or action.get("type") not in ("Link", "Postback"):
            raise BadRequest(f"{where}.type must be Link or Postback")
        item = {"type": action["type"], "text": _rich_str(action.get("text"), f"{where}.text")}
        if action["type"] == "Link":
            item["url"] = _rich_str(action.get("url"), f"{where}.url")
        else:
            item["payload"] = _rich_str(action.get("payload") or action.get("text"), where)
        out["actions"].append(item)
    return out


def rich_content(content: Any) -> list[dict]:
    """Validated structured elements of an agent message (QuickReply, Card, Carousel;
    docs/reference/genesys-open-messaging.md §5.4); 400 naming the element otherwise."""
    if content is None:
        return []
    if not isinstance(content, list) or len(content) > MAX_RICH_ITEMS:
        raise BadRequest(f"content must be a list of at most {MAX_RICH_ITEMS} elements")
    out: list[dict] = []
    for i, item in enumerate(content):
        path = f"content[{i}]"
        kind = item.get("contentType") if isinstance(item, dict) else None
        if kind == "QuickReply":
            qr = item.get("quickReply")
            if not isinstance(qr, dict):
                raise BadRequest(f"{path}.quickReply must be an object")
            text = _rich_str(qr.get("text"), f"{path}.quickReply.text")
            payload = _rich_str(qr.get("payload") or text, f"{path}.quickReply.payload")
            out.append(
                {
                    "contentType": "QuickReply",
                    "quickReply": {"text": text, "payload": payload, "action": "Message"},
                }
            )
        elif kind == "Card":
            out.append({"contentType": "Card", "card": _card(item.get("card"), f"{path}.card")})
        elif kind == "Carousel":
            cards = (item.get("carousel") or {}).get("cards")
            if not isinstance(cards, list) or not 1 <= len(cards) <= MAX_RICH_ITEMS:
                raise BadRequest(f"{path}.carousel.cards must hold 1 to {MAX_RICH_ITEMS} cards")
            out.append(
                {
                    "contentType": "Carousel",
                    "carousel": {
                        "cards": [
                            _card(c, f"{path}.carousel.cards[{j}]") for j, c in enumerate(cards)
                        ]
                    },
                }
            )
        else:
            raise BadRequest(f"{path}.contentType must be one of QuickReply, Card, Carousel")
    return out


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
def typing(cid: str, comm: str) -> ResponseReturnValue:
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
