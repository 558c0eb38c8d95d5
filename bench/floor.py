"""The job floor of docs/design.md §11: a minimal app doing the bridge's job for an agent's message
and nothing else, under the same gunicorn settings as `om-bridge serve`.

Per webhook: verify the HMAC, parse the JSON, one durable SQLite transaction (WAL, the dedupe key
and the output in one insert each), wake the session's readers (SSE), answer 200; a sender
thread then posts the Delivered receipt to the sandbox over one keep-alive `http.client`
connection with a bearer token fetched once. `GET /events/<customer>` is an SSE stream of that
customer's outputs; `GET /stats` says how many outputs are stored and receipts sent.

Run: `python -m bench.floor --port P --secret S --genesys URL --client-id ID --client-secret SECRET
--db PATH`.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import queue
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from bench.procs import GUNICORN_OPTIONS, HOST
from om_bridge.bridge.genesys.signature import HEADER, verify_signature

PATH = "/handover/genesysCloudOM"


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


RECEIPT = "/api/v2/conversations/messages/{integration}/inbound/open/receipt"


class Receipts:
    """One sender thread, one keep-alive connection to Genesys (the sandbox)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        url = urllib.parse.urlsplit(base_url)
        self._host, self._port = url.hostname or HOST, url.port or 80
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._conn: http.client.HTTPConnection | None = None
        self._token = ""
        self._queue: queue.Queue[tuple[str, dict] | None] = queue.Queue()
        self.sent = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="floor-receipts")
        self._thread.start()

    def submit(self, integration: str, body: dict) -> None:
        self._queue.put((integration, body))

    def _call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                resp = self._conn.getresponse()
                resp.read()
                return resp.status
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        return 0

    def _token_value(self) -> str:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
        conn.request(
            "POST",
            "/oauth/token",
            body=b"grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {self._basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        data = json.loads(conn.getresponse().read())
        conn.close()
        return str(data["access_token"])

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            integration, body = item
            if not self._token:
                self._token = self._token_value()
            try:
                status = self._call(
                    "POST",
                    RECEIPT.format(integration=urllib.parse.quote(integration, safe="")),
                    json.dumps(body, separators=(",", ":")).encode(),
                    {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
                )
            except (OSError, http.client.HTTPException):
                status = 0
            if 200 <= status < 300:
                self.sent += 1
            else:
                self.failed += 1


class Outputs:
    """The SQLite file (WAL, synchronous NORMAL: the bridge's durability) and SSE wake-ups."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dedupe (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outputs (skey TEXT NOT NULL, seq INTEGER NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (skey, seq)) WITHOUT ROWID"
        )
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self.stored = 0

    def add(self, message_id: str, skey: str, body: str) -> bool:
        """Store once per message id; False for a duplicate."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                fresh = self._db.execute(
                    "INSERT OR IGNORE INTO dedupe (key, expires_at) VALUES (?, 0)", (message_id,)
                ).rowcount
                if fresh:
                    self._db.execute(
                        "INSERT INTO outputs (skey, seq, body) SELECT ?1, "
                        "COALESCE(MAX(seq), 0) + 1, ?2 FROM outputs WHERE skey = ?1",
                        (skey, body),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if fresh:
                self.stored += 1
        if fresh:
            with self._cond:
                self._cond.notify_all()
        return bool(fresh)

    def after(self, skey: str, seq: int) -> list[tuple[int, str]]:
        with self._lock:
            return self._db.execute(
                "SELECT seq, body FROM outputs WHERE skey = ? AND seq > ? ORDER BY seq",
                (skey, seq),
            ).fetchall()

    def wait(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)


def create_app(secret: str, outputs: Outputs, receipts: Receipts) -> Flask:
    app = Flask(__name__)

    @app.post(PATH)
    def webhook():  # type: ignore[no-untyped-def]
        raw = request.get_data(cache=True)
        if not verify_signature(secret, raw, request.headers.get(HEADER)):
            return jsonify({"error": "invalid_signature"}), 401
        msg: dict[str, Any] = json.loads(raw)
        channel = msg["channel"]
        customer = channel["to"]["id"]
        body = json.dumps({"source": "agent", "text": msg.get("text")}, separators=(",", ":"))
        if outputs.add(msg["id"], customer, body):
            receipts.submit(
                channel["id"],
                {
                    "id": msg["id"],
                    "channel": {"to": {"id": customer}, "time": iso_now()},
                    "status": "Delivered",
                    "isFinalReceipt": True,
                },
            )
        return jsonify({"status": "accepted"}), 200

    @app.get("/events/<customer>")
    def events(customer: str):  # type: ignore[no-untyped-def]
        def stream() -> Iterator[str]:
            seq = 0
            yield "retry: 2000\n\n"
            while True:
                rows = outputs.after(customer, seq)
                if not rows:
                    outputs.wait(15)
                    rows = outputs.after(customer, seq)
                    if not rows:
                        yield ": keep-alive\n\n"
                        continue
                for seq, body in rows:
                    yield f"id: {seq}\nevent: output\ndata: {body}\n\n"

        return Response(stream(), mimetype="text/event-stream")

    @app.get("/stats")
    def stats():  # type: ignore[no-untyped-def]
        return jsonify(
            {"stored": outputs.stored, "receipts_sent": receipts.sent, "failed": receipts.failed}
        )

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify({"status": "ok"})

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the floor app under gunicorn until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    p = argparse.ArgumentParser(prog="python -m bench.floor")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--genesys", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--db", required=True)
    args = p.parse_args(argv)
    options = {**GUNICORN_OPTIONS, "bind": f"{HOST}:{args.port}"}

    class Floor(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(
                args.secret,
                Outputs(args.db),
                Receipts(args.genesys, args.client_id, args.client_secret),
            )

    Floor().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
