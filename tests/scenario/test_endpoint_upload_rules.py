"""Upload rules over real HTTP (bridge + sandbox): only a session with an open handover may
upload; a per-session count and size quota; the bytes must be of the declared type (magic
numbers); every refusal is a 4xx that stores nothing; files are served with `nosniff`, non-images
as attachments."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import requests
from handover_helpers import start_handover

from om_bridge.bridge.store import SessionKey
from tests.conftest import wait_until
from tests.scenario.test_webchat_story_browser import png

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def upload(env: Any, body: bytes, mime: str, name: str = "file", **kw: Any) -> requests.Response:
    return requests.post(
        env.session_url("/uploads", kw.get("session_id")),
        params={"userId": kw.get("user_id", env.user_id), "name": name},
        data=body,
        headers={"Content-Type": mime},
        timeout=30,
    )


def stored_uploads(env: Any) -> int:
    with sqlite3.connect(env.ctx.store.path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM uploads").fetchone()[0])


def test_no_upload_without_an_open_handover(bridge_env):
    env = bridge_env
    never = upload(env, PDF, "application/pdf", session_id="never-existed")
    assert never.status_code == 409, never.text
    assert never.json()["error"] == "no_open_handover"
    env.say("hello")  # a session with the bot only
    bot_only = upload(env, PDF, "application/pdf")
    assert bot_only.status_code == 409
    assert "open handover" in bot_only.json()["message"]
    assert stored_uploads(env) == 0
    start_handover(env)
    assert upload(env, PDF, "application/pdf", "invoice.pdf").status_code == 201
    assert stored_uploads(env) == 1


@pytest.mark.parametrize(
    ("declared", "body"),
    [
        ("image/png", HTML),
        ("image/png", PDF),
        ("image/jpeg", png()),
        ("image/gif", JPEG),
        ("application/pdf", HTML),
        ("text/plain", PDF),
        ("text/plain", b"\xff\xfe not utf-8"),
        ("text/plain", b"binary\x00zeros"),
    ],
    ids=[
        "html-as-png",
        "pdf-as-png",
        "png-as-jpeg",
        "jpeg-as-gif",
        "html-as-pdf",
        "pdf-as-text",
        "latin1-as-text",
        "nul-in-text",
    ],
)
def test_bytes_not_of_their_declared_type_are_refused(bridge_env, declared, body):
    env = bridge_env
    start_handover(env)
    resp = upload(env, body, declared)
    assert resp.status_code == 415, resp.text
    assert resp.json()["error"] == "unsupported_media_type"
    assert declared in resp.json()["message"]
    assert stored_uploads(env) == 0


def test_files_of_their_declared_type_are_served_safely(bridge_env):
    env = bridge_env
    start_handover(env)
    for mime, body, disposition in (
        ("image/png", png(), "inline"),
        ("image/gif", GIF, "inline"),
        ("image/jpeg", JPEG, "inline"),
        ("application/pdf", PDF, "attachment"),
        ("text/plain", "Grüße, line one\r\n\tline two\n".encode(), "attachment"),
        ("text/plain", b"\xef\xbb\xbfwith a BOM", "attachment"),
    ):
        resp = upload(env, body, mime)
        assert resp.status_code == 201, (mime, resp.text)
        got = requests.get(resp.json()["url"], timeout=10)
        assert got.status_code == 200 and got.content == body
        assert got.headers["Content-Type"].startswith(mime)
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Disposition"].startswith(disposition)
        assert "sandbox" in got.headers["Content-Security-Policy"]


@pytest.mark.bridge_env(
    config={"bridge": {"upload_max_files_per_session": 3, "upload_max_bytes_per_session": 200}}
)
def test_the_per_session_quota_of_files_and_bytes(bridge_env):
    env = bridge_env
    start_handover(env)
    small = b"x" * 50
    for n in range(3):
        assert upload(env, small, "text/plain", f"{n}.txt").status_code == 201
    over_count = upload(env, small, "text/plain", "3.txt")
    assert over_count.status_code == 413, over_count.text
    assert over_count.json()["error"] == "upload_quota"
    assert "upload_max_files_per_session" in over_count.json()["message"]
    assert stored_uploads(env) == 3
    # Another session has its own quota, and its bytes are counted too.
    other_user, other_session = "another-user", "another-session"
    env.say("hello", user_id=other_user, session_id=other_session)
    env.say("agent please", user_id=other_user, session_id=other_session)
    key = SessionKey(env.url_token, other_user, other_session)
    wait_until(
        lambda: env.ctx.store.open_handover_for_session(key) is not None, 15, what="handover"
    )
    first = upload(env, b"y" * 150, "text/plain", user_id=other_user, session_id=other_session)
    assert first.status_code == 201, first.text
    over_bytes = upload(env, b"y" * 60, "text/plain", user_id=other_user, session_id=other_session)
    assert over_bytes.status_code == 413
    assert over_bytes.json()["error"] == "upload_quota"
    assert stored_uploads(env) == 4
