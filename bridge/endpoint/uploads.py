"""Files a user sends to the agent: `POST /endpoint/<urlToken>/sessions/<sessionId>/uploads`
stores the bytes and answers the attachment to put in the next input's `data.attachments`;
`GET /endpoint/<urlToken>/uploads/<id>/<filename>` serves them to Genesys, which downloads an
inbound attachment from its `url` (docs/reference/genesys-open-messaging.md §3.1).

Limits: JPEG, PNG and GIF images, PDF and plain text (Genesys drops inbound media outside the
integration's supported-content allow-list, docs/reference/genesys-open-messaging.md §9.5, so keep
these types allowed there), and 10 MB per file: the references document no Open Messaging
attachment size limit, so the 10 MB is the bridge's own choice. The id in the URL is 128 random
bits: whoever has the URL may download the file, as with Genesys' own download URLs.

Only a session with an open handover may upload (the files are for its agent), within a
per-session quota of files and bytes (`[bridge] upload_max_files_per_session`,
`upload_max_bytes_per_session`, checked by the store in one step with the write). The bytes must
be what `Content-Type` declares: images and PDF by their magic numbers (the `filetype` library),
text as UTF-8 without control characters. A refused upload stores nothing. Files are served with
`X-Content-Type-Options: nosniff`, non-images as attachments.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import quote

import filetype  # type: ignore[import-untyped]  # the package ships no type information
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.bridge.endpoint import messages
from om_bridge.bridge.endpoint.validation import InputError
from om_bridge.bridge.store import UploadQuota

if TYPE_CHECKING:
    from om_bridge.bridge.endpoint import EndpointDeps

bp = Blueprint("endpoint_uploads", __name__, url_prefix="/endpoint")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TTL_SECONDS = 7 * 24 * 3600.0
# MIME type -> Open Messaging attachment mediaType (OpenContentAttachment,
# docs/reference/genesys-open-messaging.md §3.1).
ALLOWED_TYPES = {
    "image/jpeg": "Image",
    "image/png": "Image",
    "image/gif": "Image",
    "application/pdf": "File",
    "text/plain": "File",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")
# Control characters a text file may hold: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
UTF8_BOM = b"\xef\xbb\xbf"


def content_matches(mime: str, body: bytes) -> bool:
    """True when the bytes are of the declared type: an image or PDF by its magic number, text
    as UTF-8 (a BOM allowed) without control characters other than tab, CR, LF and FF."""
    found = filetype.guess_mime(body)
    if mime != "text/plain":
        return bool(found == mime)
    if found is not None:  # the bytes of a known binary format
        return False
    try:
        text = body.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _TEXT_CONTROLS.search(text) is None


def safe_filename(raw: str) -> str:
    """A file name without directories or control characters, at most 120 characters."""
    name = unicodedata.normalize("NFKC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:120] or "file"


def _ctx() -> EndpointDeps:
    deps: EndpointDeps = current_app.extensions["om-bridge.endpoint"]
    return deps


@bp.post("/<url_token>/sessions/<session_id>/uploads")
def upload(url_token: str, session_id: str) -> ResponseReturnValue:
    """Raw file bytes in the body, `Content-Type` the file's type, `?name=` its file name."""
    from om_bridge.bridge.endpoint.routes import _known, _session_key, _unknown

    if not _known(url_token):
        return _unknown(url_token)
    key = _session_key(url_token, session_id)
    mime = (request.mimetype or "").lower()
    if mime not in ALLOWED_TYPES:
        raise InputError(
            messages.UPLOAD_TYPE.format(mime=mime or "(none)", allowed=", ".join(ALLOWED_TYPES)),
            415,
            path="Content-Type",
        )
    if (request.content_length or 0) > MAX_UPLOAD_BYTES:
        raise InputError(
            messages.UPLOAD_TOO_LARGE.format(size=request.content_length, limit=MAX_UPLOAD_BYTES),
            413,
        )
    ctx = _ctx()
    # Checked before the body is read: the files are for the agent of an open handover.
    if ctx.store.open_handover_for_session(key) is None:
        raise InputError(messages.UPLOAD_NO_HANDOVER, 409, code="no_open_handover")
    body = request.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES:
        raise InputError(
            messages.UPLOAD_TOO_LARGE.format(
                size=f"over {MAX_UPLOAD_BYTES}", limit=MAX_UPLOAD_BYTES
            ),
            413,
        )
    if not body:
        raise InputError(messages.UPLOAD_EMPTY, path="body")
    if not content_matches(mime, body):
        raise InputError(messages.UPLOAD_NOT_OF_TYPE.format(mime=mime), 415, path="body")
    name = safe_filename(request.args.get("name") or "file")
    upload_id = secrets.token_hex(16)
    meta = {"name": name, "mime": mime, "size": len(body), "session": key.as_str()}
    settings = ctx.config.bridge
    quota = UploadQuota(
        max_count=settings.upload_max_files_per_session or None,
        max_bytes=settings.upload_max_bytes_per_session or None,
    )
    if not ctx.store.put_upload(upload_id, meta, body, UPLOAD_TTL_SECONDS, quota):
        raise InputError(
            messages.UPLOAD_QUOTA.format(
                files=settings.upload_max_files_per_session,
                size=settings.upload_max_bytes_per_session,
            ),
            413,
            code="upload_quota",
        )
    url = (
        ctx.config.bridge.public_url.rstrip("/")
        + f"/endpoint/{quote(url_token, safe='')}/uploads/{upload_id}/{quote(name)}"
    )
    return jsonify(
        {
            "id": upload_id,
            "url": url,
            "mime": mime,
            "mediaType": ALLOWED_TYPES[mime],
            "filename": name,
            "contentSizeBytes": len(body),
        }
    ), 201


@bp.get("/<url_token>/uploads/<upload_id>/<name>")
def download(url_token: str, upload_id: str, name: str) -> ResponseReturnValue:
    found = _ctx().store.get_upload(upload_id) if re.fullmatch(r"[0-9a-f]{32}", upload_id) else None
    if found is None or found[0].get("name") != name:
        return jsonify({"error": "not_found", "message": messages.UPLOAD_NOT_FOUND}), 404
    meta, body = found
    resp = Response(body, mimetype=meta["mime"])
    disposition = "inline" if meta["mime"].startswith("image/") else "attachment"
    resp.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(meta['name'])}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Opened directly in a browser, the file runs nothing and loads nothing.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
