"""`om-bridge listener`: the Notifications API listener as its own process. It builds the same
app context as `om-bridge serve` (config, store, engine) without serving HTTP, so an end it
detects resumes the flow exactly as in the server; the store's leader lock keeps it to one
listener per OAuth client however many processes run."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from om_bridge.bridge.completion import messages
from om_bridge.bridge.logs import announce
from om_bridge.bridge.store import redact_url

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config


def main(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; exit 2 when there is nothing to listen to or start-up fails."""
    from om_bridge.bridge.serve import cli_overrides, configured_log_format, start_logging

    test_config: dict = {"start_workers": False}
    path = getattr(args, "config", None)
    # As `serve`: --config; left at its default, $OM_BRIDGE_CONFIG, else ./om-bridge.toml when it
    # exists (only an explicitly named file is required).
    if path == "om-bridge.toml" and os.environ.get("OM_BRIDGE_CONFIG"):
        path = os.environ["OM_BRIDGE_CONFIG"]
    if path and (os.path.exists(path) or path != "om-bridge.toml"):
        test_config["config_path"] = path
    log_format = configured_log_format(path, os.environ)
    start_logging(log_format)
    if getattr(args, "data_dir", None):
        # The same store as `om-bridge serve --data-dir` unless the configuration names one, and
        # --log-level.
        test_config["config"] = cli_overrides(args, path or "", dict(os.environ))

    def fail(text: str) -> int:
        announce(text, log_format, logging.ERROR)
        return 2

    from om_bridge.bridge.app import configure_logging, create_app
    from om_bridge.bridge.config import ConfigError

    try:
        app = create_app(test_config)
    except (ConfigError, ValueError) as exc:
        return fail(messages.CLI_FAILED.format(error=exc))
    ctx = app.extensions["om-bridge"]
    configure_logging(ctx.config, ctx.flags)
    log_format = ctx.config.bridge.log_format or "text"
    try:
        providers = _providers(ctx.config, getattr(args, "provider", None))
    except KeyError as exc:
        ctx.close()
        return fail(exc.args[0])
    if not providers:
        which = f" (provider {args.provider})" if getattr(args, "provider", None) else ""
        ctx.close()
        return fail(messages.CLI_NO_PROVIDERS.format(which=which))
    service = ctx.completion
    if getattr(args, "provider", None):
        # Only this provider's OAuth client: hide the others from the listener groups.
        service.only_providers = set(providers)
    ctx.store.start()  # session-lock renewal, WAL checkpoints (stopped by ctx.close())
    service.start(sweeper=False, listeners=True)
    announce(
        messages.CLI_RUNNING.format(
            providers=", ".join(providers),
            store=ctx.config.bridge.store_ref or redact_url(ctx.config.bridge.store),
        ),
        log_format,
        stream=sys.stdout,
    )
    if log_format == "text":
        sys.stdout.flush()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    ctx.close()
    return 0


def _providers(config: Config, only: str | None) -> list[str]:
    if only is not None and only not in config.providers:
        raise KeyError(
            messages.CLI_UNKNOWN_PROVIDER.format(
                provider=only, known=", ".join(sorted(config.providers)) or "none"
            )
        )
    return [
        pid
        for pid, p in config.providers.items()
        if p.completion_mode == "notifications" and (only is None or pid == only)
    ]
