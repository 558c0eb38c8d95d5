"""`om-bridge serve`: the bridge under gunicorn (one worker, gthread threads), or Flask's server with `--dev`.

One worker process with threads, because SSE fan-out, long-poll waiters and the notifications
listener live in-process (DESIGN.md §3). Every open SSE stream or pending long-poll holds one
thread for its duration, so `--threads` bounds the number of concurrently connected webchats;
more than one worker (or machine) needs `store = "redis://..."`.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

from om_bridge.bridge import messages


def _store_override(config_path: str, data_dir: str, environ: dict[str, str]) -> dict[str, Any]:
    """`--data-dir` decides the SQLite file unless the config file or OM_BRIDGE_STORE names a store."""
    if environ.get("OM_BRIDGE_STORE"):
        return {}
    path = Path(config_path)
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}  # load_config reports the error with its key path
        if isinstance(data.get("bridge"), dict) and data["bridge"].get("store"):
            return {}
    store = Path(data_dir).resolve() / "om-bridge.db"
    return {"bridge": {"store": f"sqlite:///{store}"}}


def resolve_config_path(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """The configuration file `serve` runs with: --config, else OM_BRIDGE_CONFIG, else
    `om-bridge.toml` here, else `<data-dir>/om-bridge.toml` (written by `om-bridge demo`);
    None when none of them exists (the bridge would start with no endpoints)."""
    from om_bridge.bridge.config import DEFAULT_CONFIG_PATH

    if args.config and args.config != DEFAULT_CONFIG_PATH:
        return str(args.config)
    if environ.get("OM_BRIDGE_CONFIG"):
        return environ["OM_BRIDGE_CONFIG"]
    if Path(DEFAULT_CONFIG_PATH).is_file():
        return DEFAULT_CONFIG_PATH
    candidate = Path(args.data_dir) / DEFAULT_CONFIG_PATH
    if candidate.is_file():
        return str(candidate)
    return None


def app_settings(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """The `create_app` settings `serve` uses for these command-line arguments."""
    return {
        "config_path": args.config,
        "environ": environ,
        "config": _store_override(args.config, args.data_dir, environ),
    }


def gunicorn_application(settings: dict[str, Any], options: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A gunicorn application that builds the app in the worker (threads never cross a fork)."""
    from gunicorn.app.base import BaseApplication

    class BridgeApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key.lower(), value)

        def load(self):  # type: ignore[no-untyped-def]
            from om_bridge.bridge.app import create_app

            return create_app(settings)

    return BridgeApplication()


def main(args: argparse.Namespace) -> int:
    """Validate the configuration (fail fast with its message), then serve until stopped."""
    import os

    from om_bridge.bridge.app import load_settings
    from om_bridge.bridge.config import DEFAULT_CONFIG_PATH, ConfigError

    environ = dict(os.environ)
    path = resolve_config_path(args, environ)
    if path is None:
        fallback = Path(args.data_dir) / DEFAULT_CONFIG_PATH
        looked = f"{Path(DEFAULT_CONFIG_PATH).resolve()} and {fallback.resolve()}"
        print(
            messages.STARTUP_FAILED.format(
                error=messages.SERVE_NO_CONFIG.format(looked=looked, fallback=fallback)
            ),
            file=sys.stderr,
        )
        return 2
    print(messages.SERVE_USING_CONFIG.format(path=Path(path).resolve()), file=sys.stderr)
    args.config = path
    settings = app_settings(args, environ)
    try:
        config, _flags, _env = load_settings(settings)
    except ConfigError as exc:
        print(messages.STARTUP_FAILED.format(error=exc), file=sys.stderr)
        return 2
    print(
        messages.SERVE_LISTENING.format(
            host=args.host, port=args.port, store=_safe_store(config.bridge.store)
        ),
        file=sys.stderr,
    )
    if args.dev:
        from om_bridge.bridge.app import create_app

        try:
            app = create_app(settings)
        except ConfigError as exc:
            print(messages.STARTUP_FAILED.format(error=exc), file=sys.stderr)
            return 2
        try:
            app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
        finally:
            app.extensions["om-bridge"].close()
        return 0
    print(messages.SERVE_THREADS_NOTE.format(threads=args.threads), file=sys.stderr)
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": args.threads,
        # Long-poll waits up to 30 s and SSE streams stay open: the worker timeout must not kill them.
        "timeout": 120,
        "graceful_timeout": 10,
        "accesslog": None,
    }
    gunicorn_application(settings, options).run()
    return 0


def _safe_store(url: str) -> str:
    """The store URL without a password (redis://:secret@host)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
