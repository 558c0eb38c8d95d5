"""`om-bridge serve`: the bridge under gunicorn's gevent worker, or Flask's server with `--dev`.

Every connection is a greenlet (`bridge.gworker`), so an open SSE stream or a pending long-poll
costs memory, not a thread: `--connections` (gunicorn's worker_connections) bounds the open
connections per worker. One worker by default; `--workers N` needs `store = "redis://..."`, whose
pub/sub wakes the streams of every worker and whose leases and leader lock are shared
(docs/design.md §3). The SQLite store is the single-process embedded default.

Other gunicorn settings pass through: `GUNICORN_CMD_ARGS` (gunicorn's own variable, its command-line
syntax) and `--gunicorn NAME=VALUE` (repeatable, a gunicorn setting name). Later wins: serve's
settings below, then GUNICORN_CMD_ARGS, then `--gunicorn`. Logging is set up here, in the master
before the worker forks, and gunicorn's own loggers write through the same handler
(`logconfig_dict`); the worker's app is stopped by gunicorn's `worker_exit` hook.

With gevent's worker the master patches the standard library before it imports the app (requests,
urllib3 and ssl): patching after them breaks every HTTPS call (`bridge.gworker.patch_first`).
Everything the master checks before that point uses only modules that do not import ssl.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from om_bridge.bridge import messages
from om_bridge.bridge.logs import LOG_FORMATS, announce, gunicorn_logconfig

# bridge.gworker.WORKER_CLASS, by name: importing it would import gunicorn's gevent worker into
# every process that reads serve's settings (`om-bridge listener` too).
WORKER_CLASS = "om_bridge.bridge.gworker.BridgeGeventWorker"
CONFIG_ENV = "OM_BRIDGE_CONFIG"
LOG_FORMAT_ENV = "OM_BRIDGE_LOG_FORMAT"

# The gunicorn settings serve starts from (before GUNICORN_CMD_ARGS and --gunicorn).
GUNICORN_DEFAULTS: Mapping[str, Any] = {
    "workers": 1,
    # gunicorn's gevent worker with I/O timeouts: streams cost a greenlet, not a thread.
    "worker_class": WORKER_CLASS,
    "worker_connections": 10_000,
    # Long-poll waits up to 30 s and SSE streams stay open: the worker timeout must not kill them.
    "timeout": 120,
    "graceful_timeout": 10,
    "accesslog": None,
    # No control socket: gunicorn's default path ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl) is
    # one per user, shared by every instance on the host. Naming `control_socket` turns it on.
    "control_socket_disable": True,
}
# Settings serve owns: the app it loads, and the hook that stops the app when the worker exits.
RESERVED = frozenset({"config", "wsgi_app", "worker_exit"})
# gunicorn settings that configure its logging themselves: serve's logconfig_dict stays out.
LOGGING_SETTINGS = ("logconfig", "logconfig_dict", "logconfig_json")
ENV_GUNICORN = "GUNICORN_CMD_ARGS"


class GunicornOptionError(ValueError):
    """A gunicorn setting from GUNICORN_CMD_ARGS or --gunicorn that cannot be used; names it."""


def _bridge_table(config_path: str | None) -> dict[str, Any]:
    """The `[bridge]` table of the configuration file as written ({} when there is none or the
    file cannot be read; load_config reports that with its key path)."""
    path = Path(config_path) if config_path else None
    if path is None or not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    bridge = data.get("bridge")
    return bridge if isinstance(bridge, dict) else {}


def _store_override(config_path: str, data_dir: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """`--data-dir` decides the SQLite file unless the config file or OM_BRIDGE_STORE names a
    store."""
    if environ.get("OM_BRIDGE_STORE") or _bridge_table(config_path).get("store"):
        return {}
    store = Path(data_dir).resolve() / "om-bridge.db"
    return {"bridge": {"store": f"sqlite:///{store}"}}


def configured_log_format(config_path: str | None, environ: Mapping[str, str]) -> str:
    """The log format before the configuration is validated (for the first lines and for start-up
    errors): OM_BRIDGE_LOG_FORMAT, else `[bridge] log_format` of the file; "text" otherwise."""
    for value in (environ.get(LOG_FORMAT_ENV), _bridge_table(config_path).get("log_format")):
        if isinstance(value, str) and value.strip().lower() in LOG_FORMATS:
            return value.strip().lower()
    return "text"


def start_logging(log_format: str) -> None:
    """The first logging set-up of an entry point (INFO, no secrets known yet; configure_logging
    replaces it once the configuration is loaded). With "json", warnings and uncaught exceptions
    are log records too."""
    from om_bridge.bridge.logs import log_uncaught_as_json, setup_logging

    setup_logging("INFO", log_format=log_format)
    if log_format == "json":
        log_uncaught_as_json()


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


def config_path(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """--config; when it is left at its default, OM_BRIDGE_CONFIG if set."""
    from om_bridge.bridge.config import DEFAULT_CONFIG_PATH

    given = args.config or DEFAULT_CONFIG_PATH
    if given == DEFAULT_CONFIG_PATH and environ.get(CONFIG_ENV):
        return environ[CONFIG_ENV]
    return str(given)


def cli_overrides(args: argparse.Namespace, path: str, environ: Mapping[str, str]) -> dict:
    """Configuration overrides from the command line: the SQLite file of `--data-dir` (unless a
    store is configured) and `--log-level` (which wins over the file and OM_BRIDGE_LOG_LEVEL)."""
    overrides = _store_override(path, args.data_dir, environ)
    level = getattr(args, "log_level", None)
    if level:
        overrides.setdefault("bridge", {})["log_level"] = level
    return overrides


def app_settings(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, Any]:
    """The `create_app` settings `serve` uses for these command-line arguments."""
    path = config_path(args, environ)
    return {
        "config_path": path,
        "environ": environ,
        "config": cli_overrides(args, path, environ),
    }


def gunicorn_options(
    host: str,
    port: int,
    threads: int,
    environ: Mapping[str, str],
    extra: Sequence[str] = (),
    workers: int | None = None,
    connections: int | None = None,
) -> dict[str, Any]:
    """The gunicorn settings serve runs with, validated by gunicorn: serve's own (bind, threads,
    workers, worker_connections and GUNICORN_DEFAULTS), then GUNICORN_CMD_ARGS, then each
    `NAME=VALUE` of `extra` (--gunicorn). `threads` matters only to a `gthread` worker_class."""
    from gunicorn.config import Config

    cfg = Config()
    chosen: dict[str, Any] = {
        **GUNICORN_DEFAULTS,
        "bind": f"{host}:{port}",
        "threads": threads,
    }
    if workers is not None:
        chosen["workers"] = workers
    if connections is not None:
        chosen["worker_connections"] = connections
    named: set[str] = set()
    for name, value in _env_options(cfg, environ.get(ENV_GUNICORN, "")).items():
        chosen[name] = value
        named.add(name)
    for item in extra:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_").lower()
        if not sep or not name:
            raise GunicornOptionError(messages.GUNICORN_BAD_ITEM.format(item=item))
        name = _setting_name(cfg, name, "--gunicorn")
        chosen[name] = value
        named.add(name)
    if "control_socket" in named and "control_socket_disable" not in named:
        chosen["control_socket_disable"] = False  # a socket path of its own: keep it on
    options: dict[str, Any] = {}
    for name, value in chosen.items():
        if value is None:
            options[name] = None
            continue
        try:
            cfg.set(name, value)
        except (ValueError, TypeError) as exc:
            raise GunicornOptionError(
                messages.GUNICORN_BAD_VALUE.format(name=name, value=value, error=exc)
            ) from None
        options[name] = cfg.settings[name].get()
    return options


def _setting_name(cfg: Any, name: str, source: str) -> str:
    if name not in cfg.settings:
        raise GunicornOptionError(messages.GUNICORN_UNKNOWN.format(name=name, source=source))
    if name in RESERVED:
        raise GunicornOptionError(messages.GUNICORN_RESERVED.format(name=name, source=source))
    return str(name)


def _env_options(cfg: Any, raw: str) -> dict[str, Any]:
    """GUNICORN_CMD_ARGS parsed with gunicorn's own command-line parser."""
    if not raw.strip():
        return {}
    try:
        parsed = cfg.parser().parse_args(shlex.split(raw))
    except (SystemExit, ValueError) as exc:  # argparse has printed its reason
        raise GunicornOptionError(messages.GUNICORN_BAD_ENV.format(var=ENV_GUNICORN)) from exc
    if parsed.args:
        raise GunicornOptionError(
            messages.GUNICORN_ENV_APP.format(var=ENV_GUNICORN, args=" ".join(parsed.args))
        )
    return {
        _setting_name(cfg, name, ENV_GUNICORN): value
        for name, value in vars(parsed).items()
        if value is not None and name != "args"
    }


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, in the worker as it exits: stop the app (workers, outputs, clients, store)."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    if extensions and "om-bridge" in extensions:
        extensions["om-bridge"].close()


def gunicorn_application(
    settings: dict[str, Any], options: dict[str, Any], level: str = "INFO", log_format: str = "text"
) -> Any:
    """A gunicorn application that builds the app in the worker (threads never cross a fork).
    gunicorn logs at `level` (unless `loglevel` is set); with "json" its loggers write through the
    root logger's handler (unless a gunicorn logging setting is given)."""
    from gunicorn.app.base import BaseApplication

    class BridgeApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key.lower(), value)
            self.cfg.set("worker_exit", worker_exit)
            if "loglevel" not in options:
                self.cfg.set("loglevel", level.lower())
            # With "text" gunicorn keeps its own lines (and its access log off unless asked).
            if log_format == "json" and not any(options.get(n) for n in LOGGING_SETTINGS):
                access = options.get("accesslog") is not None
                self.cfg.set("logconfig_dict", gunicorn_logconfig(level, log_format, access))

        def load(self) -> Any:
            from om_bridge.bridge.app import create_app

            return create_app(settings)

    return BridgeApplication()


def main(args: argparse.Namespace) -> int:
    """Validate the configuration (fail fast with its message), then serve until stopped."""
    import os

    from om_bridge.bridge.config import DEFAULT_CONFIG_PATH, ConfigError, load_config

    environ = dict(os.environ)
    path = resolve_config_path(args, environ)
    log_format = configured_log_format(path, environ)
    start_logging(log_format)

    def fail(error: object) -> int:
        announce(messages.STARTUP_FAILED.format(error=error), log_format, logging.ERROR)
        return 2

    if path is None:
        fallback = Path(args.data_dir) / DEFAULT_CONFIG_PATH
        looked = f"{Path(DEFAULT_CONFIG_PATH).resolve()} and {fallback.resolve()}"
        return fail(messages.SERVE_NO_CONFIG.format(looked=looked, fallback=fallback))
    announce(messages.SERVE_USING_CONFIG.format(path=Path(path).resolve()), log_format)
    args.config = path
    settings = app_settings(args, environ)
    # Everything up to the gevent patch reads the configuration without the app's modules.
    try:
        config = load_config(settings["config_path"], environ=environ, overrides=settings["config"])
    except ConfigError as exc:
        return fail(exc)
    log_format = config.bridge.log_format or "text"
    level = config.bridge.log_level or "INFO"
    options: dict[str, Any] = {}
    if not args.dev:
        try:
            options = gunicorn_options(
                args.host,
                args.port,
                args.threads,
                environ,
                getattr(args, "gunicorn", None) or (),
                workers=getattr(args, "workers", None),
                connections=getattr(args, "connections", None),
            )
        except GunicornOptionError as exc:
            return fail(exc)
        if options["workers"] > 1 and not config.bridge.store.startswith(
            ("redis", "rediss", "unix")
        ):
            return fail(messages.GUNICORN_WORKERS_NEED_REDIS.format(workers=options["workers"]))
        from om_bridge.bridge.gworker import patch_first

        patch_first(options["worker_class"])

    from om_bridge.bridge.app import configure_logging, load_settings

    try:
        config, flags, _env = load_settings(settings)
    except ConfigError as exc:
        return fail(exc)
    configure_logging(config, flags)
    if args.dev:
        bind = f"{args.host}:{args.port}"
        announce(
            messages.SERVE_LISTENING.format(bind=bind, store=_safe_store(config.bridge.store)),
            log_format,
        )
        return _serve_dev(args, settings, log_format)
    announce(
        messages.SERVE_LISTENING.format(
            bind=", ".join(options["bind"]), store=_safe_store(config.bridge.store)
        ),
        log_format,
    )
    if options["worker_class"] in ("gthread", "sync"):
        note = messages.SERVE_THREADS_NOTE.format(
            workers=options["workers"], threads=options["threads"]
        )
    else:
        note = messages.SERVE_CONNECTIONS_NOTE.format(
            workers=options["workers"], connections=options["worker_connections"]
        )
    announce(note, log_format)
    gunicorn_application(settings, options, level, log_format).run()
    return 0


def _serve_dev(args: argparse.Namespace, settings: dict[str, Any], log_format: str) -> int:
    from om_bridge.bridge.app import create_app
    from om_bridge.bridge.config import ConfigError

    try:
        app = create_app(settings)
    except ConfigError as exc:
        announce(messages.STARTUP_FAILED.format(error=exc), log_format, logging.ERROR)
        return 2
    try:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        app.extensions["om-bridge"].close()
    return 0


def _safe_store(url: str) -> str:
    """The store URL without a password (redis://:secret@host)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
