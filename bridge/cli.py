"""The `om-bridge` command line: one sub-command per process or tool (docs/design.md §3)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# sub-command -> "module:function"; each function takes the parsed argparse namespace and
# returns an exit status. Imported lazily so `om-bridge sandbox` does not load the bridge.
COMMANDS: dict[str, str] = {
    "serve": "om_bridge.bridge.serve:main",
    "demo": "om_bridge.bridge.demo:main",
    "sandbox": "om_bridge.sandbox.server:main",
    "listener": "om_bridge.bridge.completion.listener_cli:main",
    "check": "om_bridge.bridge.setup.check:main",
    "provision": "om_bridge.bridge.setup.provision:main",
    "extension": "om_bridge.extension.cli:main",
}


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="om-bridge.toml", help="TOML configuration file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="om-bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the bridge (gunicorn; --dev for Flask's server)")
    p.add_argument(
        "--config",
        default="om-bridge.toml",
        help="TOML configuration file (default: $OM_BRIDGE_CONFIG if set, else om-bridge.toml)",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", default="./.om-bridge")
    p.add_argument("--dev", action="store_true", help="Flask's development server")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn worker processes (default 1; more than 1 needs a Redis store)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=None,
        help="open connections (SSE streams, long-polls, requests) per worker (default 10000)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=16,
        help="threads per worker, only with --gunicorn worker_class=gthread",
    )
    p.add_argument(
        "--gunicorn",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=(
            "any other gunicorn setting, by its name (repeatable; e.g. keepalive=75, "
            "max_requests=10000). serve starts from workers=1 (--workers), gunicorn's gevent "
            "worker with I/O timeouts, worker_connections=10000 (--connections), timeout=120, "
            "graceful_timeout=10, no access log, bind from --host/--port; GUNICORN_CMD_ARGS "
            "(gunicorn's syntax) overrides those, --gunicorn overrides both. workers > 1 needs a "
            "Redis store"
        ),
    )

    p = sub.add_parser("demo", help="bridge + sandbox wired with the demo identities")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--sandbox-port", type=int, default=8081)
    p.add_argument("--data-dir", default="./.om-bridge")

    p = sub.add_parser("sandbox", help="the Genesys Cloud sandbox")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--config", default=None, help="sandbox TOML/JSON configuration file")

    p = sub.add_parser("listener", help="the Notifications WebSocket listener as its own process")
    _add_config(p)
    p.add_argument("--data-dir", default="./.om-bridge")
    p.add_argument("--provider", default=None, help="only this handover provider id")

    for name, text in (
        ("check", "verify each setup step against the Genesys org"),
        ("provision", "create or update the Open Messaging integration"),
    ):
        p = sub.add_parser(name, help=text)
        _add_config(p)
        p.add_argument("--provider", default=None, help="only this handover provider id")
        p.add_argument("--data-dir", default="./.om-bridge")
        if name == "check":
            p.add_argument("--json", action="store_true", help="machine-readable output")
        else:
            p.add_argument("--dry-run", action="store_true", help="print what would change")

    p = sub.add_parser("extension", help="the Cognigy extension package")
    esub = p.add_subparsers(dest="extension_command", required=True, metavar="ACTION")
    b = esub.add_parser("build", help="write dist/<name>-<version>.tar.gz")
    b.add_argument("--out", default="dist", help="output directory")
    b.add_argument(
        "--bridge-url",
        default=None,
        help="base URL the extension's nodes call (default: a node field)",
    )
    esub.add_parser("export", help="print the node descriptors as JSON")
    return parser


def _resolve(spec: str) -> Callable[[argparse.Namespace], int]:
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_resolve(COMMANDS[args.command])(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
