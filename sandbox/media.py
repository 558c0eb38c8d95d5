"""Agent attachments, the Genesys way (developer.genesys.cloud "messagemediaupload"): create an
upload for a communication, PUT the bytes to the returned `uploadUrl`, then send `mediaIds` with
the agent message; the webhook then carries an `Attachment` whose URL the sandbox serves itself
(like `api-downloads.<domain>`)."""

from __future__ import annotations

import logging
import mimetypes
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages
from om_bridge.sandbox.apiutil import BadRequest, handles_errors, json_body, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import EngineError, error_body

log = logging.getLogger(__name__)
bp = Blueprint("sandbox_media", __name__)
M = "/api/v2/conversations/messages/<cid>/communications/<comm>/messages/media"
MAX_MEDIA_BYTES = 25 * 1024 * 1024


@dataclass
class Media:
    """One uploaded (or pending) attachment of an agent communication."""

    id: str
    name: str
    conversation_id: str
    communication_id: str
    mime: str
    data: bytes | None = None

    @property
    def status(self) -> str:
        return "valid" if self.data is not None else "uploading"

    def media_type(self) -> str:
        """Open Messaging `mediaType` of the attachment."""
        top = self.mime.split("/")[0]
        return {"image": "Image", "video": "Video", "audio": "Audio"}.get(top, "File")


class MediaStore:
    """Uploads by id, thread-safe."""

    def __init__(self) -> None:
        self._items: dict[str, Media] = {}
        self._by_conversation: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def add(self, media: Media) -> None:
        with self._lock:
            self._items[media.id] = media
            self._by_conversation.setdefault(media.conversation_id, []).append(media.id)

    def forget_conversation(self, conversation_id: str) -> None:
        """Drop the uploads of a conversation the sandbox no longer keeps."""
        with self._lock:
            for media_id in self._by_conversation.pop(conversation_id, []):
                self._items.pop(media_id, None)

    def get(self, media_id: str) -> Media | None:
        with self._lock:
            return self._items.get(media_id)


def _store() -> MediaStore:
    return sandbox().media


def download_url(media: Media) -> str:
    return f"{sandbox().base_url}/sandbox/downloads/{media.id}/{media.name}"


def media_view(media: Media) -> dict:
    """`MessageMediaData`."""
    out: dict[str, Any] = {
        "id": media.id,
        "name": media.name,
        "mediaType": media.mime,
        "status": media.status,
        "conversationId": media.conversation_id,
        "communicationId": media.communication_id,
        "uploadUrl": f"{sandbox().base_url}/sandbox/uploads/{media.id}",
        "selfUri": f"/api/v2/conversations/messages/{media.conversation_id}/communications/"
        f"{media.communication_id}/messages/media/{media.id}",
    }
    if media.data is not None:
        out["url"] = download_url(media)
        out["contentLengthBytes"] = len(media.data)
    return out


def attachments(cid: str, comm: str, media_ids: list) -> list[dict]:
    """`content[]` Attachment elements for `mediaIds` of an agent message (all must be uploaded)."""
    out = []
    for mid in media_ids:
        media = _store().get(mid) if isinstance(mid, str) else None
        if media is None or media.conversation_id != cid or media.communication_id != comm:
            raise EngineError(
                400, "bad.request", messages.NOT_FOUND_ENTITY.format(kind="Media", id=mid)
            )
        if media.data is None:
            raise EngineError(400, "bad.request", f"Media {mid} has not been uploaded yet.")
        out.append(
            {
                "contentType": "Attachment",
                "attachment": {
                    "id": media.id,
                    "mediaType": media.media_type(),
                    "url": download_url(media),
                    "mime": media.mime,
                    "filename": media.name,
                    "contentSizeBytes": len(media.data),
                },
            }
        )
    return out


FETCH_TIMEOUT_SECONDS = 10.0


def _fetch(url: str) -> tuple[bytes, str | None] | None:
    """The bytes and Content-Type at `url` (at most MAX_MEDIA_BYTES), or None when unreachable."""
    try:
        with requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True) as resp:
            if resp.status_code != 200:
                log.warning("inbound attachment %s: HTTP %s", url, resp.status_code)
                return None
            chunks, size = [], 0
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    log.warning("inbound attachment %s: larger than %d bytes", url, MAX_MEDIA_BYTES)
                    return None
                chunks.append(chunk)
            return b"".join(chunks), resp.headers.get("Content-Type")
    except requests.RequestException as exc:
        log.warning("inbound attachment %s: %s", url, type(exc).__name__)
        return None


def rehost_inbound(content: list[dict]) -> list[Media]:
    """Genesys downloads a customer's attachment from its `url` and serves its own copy to
    agents (the URL must be downloadable by Genesys, docs/reference/genesys-open-messaging.md §3.1).
    Each `Attachment` element's `url` is replaced by the sandbox's download URL, and its size is
    recorded; an attachment that cannot be fetched keeps its original URL. Returns the new media,
    to be registered with the conversation id once it is known (`register_inbound`)."""
    out = []
    for item in content:
        att = item.get("attachment") if isinstance(item, dict) else None
        if not isinstance(att, dict) or not isinstance(att.get("url"), str):
            continue
        fetched = _fetch(att["url"])
        if fetched is None:
            continue
        data, content_type = fetched
        name = att.get("filename") or unquote(urlsplit(att["url"]).path.rsplit("/", 1)[-1])
        name = (name or "attachment").replace("/", "_")
        mime = att.get("mime") or (content_type or "").split(";")[0] or "application/octet-stream"
        media = Media(str(uuid.uuid4()), name, "", "", mime, data)
        att["url"] = download_url(media)
        att.setdefault("filename", name)
        att["contentSizeBytes"] = len(data)
        out.append(media)
    return out


def register_inbound(media: list[Media], conversation_id: str, communication_id: str) -> None:
    """Keep re-hosted customer attachments with their conversation (dropped with it)."""
    for item in media:
        item.conversation_id, item.communication_id = conversation_id, communication_id
        _store().add(item)


@bp.post(f"{M}/uploads")
@require_auth("conversation:message:create")
@handles_errors
def create_upload(cid: str, comm: str) -> ResponseReturnValue:
    """`UploadMediaRequest` → `MessageMediaUploadData` with the URL to PUT the bytes to."""
    body = json_body()
    name = body.get("fileName")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise BadRequest("fileName is required (a plain file name)")
    size = body.get("contentLengthBytes")
    if size is not None and (not isinstance(size, int) or size < 0 or size > MAX_MEDIA_BYTES):
        raise BadRequest(f"contentLengthBytes must be between 0 and {MAX_MEDIA_BYTES}")
    engine = sandbox().engine
    with sandbox().store.lock:
        p = engine.conversation(cid).by_communication(comm)
        if p is None or p.purpose != "agent":
            raise EngineError(
                404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Communication", id=comm)
            )
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    media = Media(str(uuid.uuid4()), name, cid, comm, mime)
    _store().add(media)
    view = media_view(media)
    return jsonify(
        {
            "id": media.id,
            "name": name,
            "uploadUrl": view["uploadUrl"],
            "uploadHeaders": {"Content-Type": mime},
            "selfUri": view["selfUri"],
        }
    )


@bp.get(f"{M}/<media_id>")
@require_auth("conversation:message:view")
def get_media(cid: str, comm: str, media_id: str) -> ResponseReturnValue:
    media = _store().get(media_id)
    if media is None or media.conversation_id != cid or media.communication_id != comm:
        return error_body(
            404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Media", id=media_id)
        )
    return jsonify(media_view(media))


@bp.put("/sandbox/uploads/<media_id>")
def upload(media_id: str) -> ResponseReturnValue:
    """The pre-signed upload URL: the id is the credential, as with Genesys' S3 URLs."""
    media = _store().get(media_id)
    if media is None:
        return error_body(404, "not.found")
    data = request.get_data()
    if len(data) > MAX_MEDIA_BYTES:
        return error_body(413, "request.entity.too.large")
    if request.content_type:
        media.mime = request.content_type.split(";")[0].strip()
    media.data = data
    return "", 200


@bp.get("/sandbox/downloads/<media_id>/<name>")
def download(media_id: str, name: str) -> ResponseReturnValue:
    media = _store().get(media_id)
    if media is None or media.data is None or media.name != name:
        return error_body(404, "not.found")
    return Response(media.data, mimetype=media.mime)


def init_app(app: Flask) -> None:
    """Register the media routes and the app's media store."""
    app.extensions["sandbox"].media = MediaStore()
    app.register_blueprint(bp)
