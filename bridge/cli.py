"""The `om-bridge` command line: one sub-command per process or tool (docs/design.md §3)."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence

from om_bridge import __version__

# sub-command -> "module:function"; each function takes the parsed argparse namespace and
# returns an exit status. Imported lazily so `om-bridge sandbox` does not load the bridge.
COMMANDS: dict[str, str] = {
    "serve": "om_bridge.bridge.serve:main",
    "demo": "om_bridge.bridge.demo:main",
    "sandbox": "om_bridge.sandbox.server:main",
    "listener": "om_bridge.bridge.listener_cli:main",
    "check": "om_bridge.bridge.setup.check:main",
    "provision": "om_bridge.bridge.setup.provision:main",
    "extension": "om_bridge.extension.cli:main",
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with "(default: …)" unless its text already says it; an option
    whose default is None says in its own text what happens without it, and on/off flags
    (default off) and repeatable options (default none) show none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, []) or isinstance(action.default, bool):
            return action.help
        if "(default: " in (action.help or ""):  # the text explains its default itself
            return action.help
        return super()._get_help_string(action)


# The top-level `--help` text: what the tool is and where to start, no internal references.
DESCRIPTION = (
    "om-bridge hands chatbot conversations over to human agents in Genesys Cloud through "
    "Open Messaging. Start with `om-bridge demo`; `om-bridge COMMAND --help` describes each "
    "command."
)
PROVIDER_HELP = "only this handover provider id (default: every provider)"
DATA_DIR_HELP = "directory of the SQLite store (om-bridge.db) when the configuration names no store"


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="om-bridge.toml",
        help="TOML configuration file (docs/configuration.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="om-bridge", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, formatter_class=HelpFormatter)

    p = command("serve", "run the bridge (gunicorn; --dev for Flask's server)")
    p.add_argument(
        "--config",
        default="om-bridge.toml",
        help="TOML configuration file (default: $OM_BRIDGE_CONFIG if set, else om-bridge.toml)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8080, help="TCP port to listen on")
    p.add_argument("--data-dir", default="./.om-bridge", help=DATA_DIR_HELP)
    p.add_argument("--dev", action="store_true", help="Flask's development server, not gunicorn")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn worker processes; more than 1 needs a Redis store (default: 1)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=None,
        help="open connections (SSE streams, long-polls, requests) per worker (default: 10000)",
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

    p = command("demo", "bridge + sandbox wired with the demo identities")
    p.add_argument("--host", default="127.0.0.1", help="address both servers listen on")
    p.add_argument("--port", type=int, default=8080, help="TCP port of the bridge (the webchat)")
    p.add_argument(
        "--sandbox-port",
        type=int,
        default=8081,
        help="TCP port of the Genesys Cloud sandbox (the agent console)",
    )
    p.add_argument(
        "--data-dir",
        default="./.om-bridge",
        help="directory the demo writes its configuration and SQLite store to",
    )
    p.add_argument(
        "--cognigy",
        action="store_true",
        help="Cognigy-hosted mode: the flow runs in the Cognigy emulator with the om-bridge "
        "extension built from this installation (needs Node.js)",
    )
    p.add_argument(
        "--cognigy-port",
        type=int,
        default=8082,
        help="TCP port of the Cognigy emulator's endpoint host (the webchat), with --cognigy",
    )
    p.add_argument(
        "--cognigy-api-port",
        type=int,
        default=8083,
        help="TCP port of the Cognigy emulator's API host (Inject/Notify), with --cognigy",
    )

    p = command("sandbox", "the Genesys Cloud sandbox")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8081, help="TCP port to listen on")
    p.add_argument(
        "--config",
        default=None,
        help="sandbox TOML/JSON configuration file (default: the built-in settings)",
    )

    p = command("listener", "the Notifications WebSocket listener as its own process")
    _add_config(p)
    p.add_argument("--data-dir", default="./.om-bridge", help=DATA_DIR_HELP)
    p.add_argument("--provider", default=None, help=PROVIDER_HELP)

    for name, text in (
        ("check", "verify each setup step against the Genesys org"),
        ("provision", "create or update the Open Messaging integration"),
    ):
        p = command(name, text)
        _add_config(p)
        p.add_argument("--provider", default=None, help=PROVIDER_HELP)
        p.add_argument(
            "--data-dir",
            default="./.om-bridge",
            help="where to look for om-bridge.toml (written by `om-bridge demo`) when the --config"
            " file does not exist"
            + ("" if name == "check" else "; where provision keeps its state"),
        )
        if name == "check":
            p.add_argument("--json", action="store_true", help="machine-readable output")
        else:
            p.add_argument("--dry-run", action="store_true", help="print what would change")

    p = command("extension", "the Cognigy extension package")
    esub = p.add_subparsers(dest="extension_command", required=True, metavar="ACTION")
    b = esub.add_parser(
        "build", help="write <out>/<name>-<version>.tar.gz", formatter_class=HelpFormatter
    )
    b.add_argument("--out", default="dist", help="output directory")
    b.add_argument(
        "--bridge-url",
        default=None,
        help="base URL the extension's nodes call (default: a node field)",
    )
    esub.add_parser(
        "export", help="print the node descriptors as JSON", formatter_class=HelpFormatter
    )
    return parser


def _resolve(spec: str) -> Callable[[argparse.Namespace], int]:
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:  # --help, --version or a usage error: their text is written now
            sys.stdout.flush()
            raise
        status = int(_resolve(COMMANDS[args.command])(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not as an error at exit
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """stdout's reader has gone (`om-bridge extension export | head -1`): stop quietly with the
    status of a process ended by SIGPIPE, as Unix tools do."""
    # Python flushes stdout once more at exit; point it at /dev/null so that cannot fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
