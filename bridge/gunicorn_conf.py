"""gunicorn settings and hooks for running the bridge with gunicorn itself instead of `om-bridge serve`:

    gunicorn -c python:om_bridge.bridge.gunicorn_conf 'om_bridge.bridge.app:create_app()'

The settings are `om-bridge serve`'s defaults (command-line options and GUNICORN_CMD_ARGS still
override them, as gunicorn does); the configuration file is `$OM_BRIDGE_CONFIG`, else
`./om-bridge.toml`. The hooks do what `create_app` leaves to its caller: `post_worker_init` sets up
logging with the app's level and secrets, `worker_exit` stops the app.
"""

from __future__ import annotations

from typing import Any

from om_bridge.bridge.serve import GUNICORN_DEFAULTS
from om_bridge.bridge.serve import worker_exit as _stop_app

bind = "127.0.0.1:8080"
workers = GUNICORN_DEFAULTS["workers"]
worker_class = GUNICORN_DEFAULTS["worker_class"]
worker_connections = GUNICORN_DEFAULTS["worker_connections"]
timeout = GUNICORN_DEFAULTS["timeout"]
graceful_timeout = GUNICORN_DEFAULTS["graceful_timeout"]
accesslog = GUNICORN_DEFAULTS["accesslog"]
# No control socket: gunicorn's default path is one per user, shared by every instance on the host.
# A configuration file of your own can set control_socket (a path per instance) and
# control_socket_disable = False.
control_socket_disable = GUNICORN_DEFAULTS["control_socket_disable"]


def post_worker_init(worker: Any) -> None:
    """In the worker, once the app is loaded: the root logger at the configured level, secrets masked."""
    from om_bridge.bridge.app import configure_logging

    ctx = worker.wsgi.extensions["om-bridge"]
    configure_logging(ctx.config, ctx.flags)


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker as it exits: stop the app (workers, outputs, clients, store)."""
    _stop_app(server, worker)
