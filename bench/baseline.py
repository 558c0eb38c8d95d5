"""The baseline server of docs/design.md §11: a bare Flask endpoint that only reads the body and
verifies the webhook HMAC, under the same gunicorn settings as `om-bridge serve`.

Run: `python -m bench.baseline --port P --secret S [--threads N]`.
"""

from __future__ import annotations

import argparse

from flask import Flask, jsonify, request

from bench.procs import GUNICORN_OPTIONS, HOST
from om_bridge.bridge.genesys.signature import HEADER, verify_signature

PATH = "/handover/genesysCloudOM"


def create_app(secret: str) -> Flask:
    """The baseline app: POST the webhook path → 401 on a bad signature, 200 otherwise."""
    app = Flask(__name__)

    @app.post(PATH)
    def webhook():  # type: ignore[no-untyped-def]
        raw = request.get_data(cache=True)
        if not verify_signature(secret, raw, request.headers.get(HEADER)):
            return jsonify({"error": "invalid_signature"}), 401
        return jsonify({"status": "accepted"}), 200

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify({"status": "ok"})

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the baseline app under gunicorn until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    p = argparse.ArgumentParser(prog="python -m bench.baseline")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--threads", type=int, default=GUNICORN_OPTIONS["threads"])
    args = p.parse_args(argv)
    options = {**GUNICORN_OPTIONS, "threads": args.threads, "bind": f"{HOST}:{args.port}"}

    class Baseline(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(args.secret)

    Baseline().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
