"""`om-bridge demo`: the sandbox and the bridge wired together with the demo identities (docs/design.md §3, §9)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

from om_bridge.bridge import messages

log = logging.getLogger(__name__)

DEMO_TOKEN = "demo"
DEMO_ORGANISATION = "demo"
DEMO_FLOW = "demo-bot"
DEMO_PROVIDER = "genesys-demo"
DEMO_EVENTBRIDGE_KEY = "demo-eventbridge-key"
WEBHOOK_PATH = "/handover/genesysCloudOM"
# Cognigy-hosted demo (`om-bridge demo --cognigy`): public demo identities like the ones above.
COGNIGY_TOKEN = "cognigy-demo"
COGNIGY_FLOW = "cognigy-handover"
COGNIGY_API_KEY = "demo-cognigy-api-key"
EXTENSION_KEY = "demo-extension-key"
EVENTBRIDGE_PATH = "/handover/genesysCloudOM/eventbridge"


# werkzeug's access-log line: '<addr> - - [<date>] "<method> <path> <version>" <status> <size>'
# (the request line styled with ANSI colours for an error status).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Successful requests the demo does not print: reads (the agent console polls every second,
# the webchat's page, scripts and event stream) and typing notices.
QUIET_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
QUIET_SUFFIXES = ("/typing",)


class RequestLogFilter(logging.Filter):
    """The demo terminal's access log: what a person acts on, not every poll. A successful read
    or typing notice is dropped; any other request (a login, a message, an agent action) and every
    error is one line "POST /oauth/token → 200" (the record's own time is the line's time, in
    ISO 8601, instead of werkzeug's "[07/Dec/2026 22:54:59]")."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 3 and '"%s" %s %s' in str(record.msg)):
            return True  # not an access-log line (a server error, a start-up notice)
        line, status = _ANSI.sub("", str(args[0])), str(args[1])
        method, _, rest = line.partition(" ")
        path = rest.rsplit(" ", 1)[0] if " " in rest else rest
        ok = status[:1] in ("1", "2", "3")
        if ok and (method in QUIET_METHODS or path.split("?")[0].endswith(QUIET_SUFFIXES)):
            return False
        record.msg, record.args = messages.DEMO_REQUEST_LINE, (method, path, status)
        return True


def quiet_request_log() -> RequestLogFilter:
    """Install the demo's access-log filter on werkzeug's logger (both servers log through it)."""
    request_filter = RequestLogFilter()
    logging.getLogger("werkzeug").addFilter(request_filter)
    return request_filter


def demo_config(bridge_url: str, sandbox_url: str, data_dir: str | Path) -> dict[str, Any]:
    """The bridge configuration of the demo: endpoint `demo` → flow `demo-bot` → provider `genesys-demo`."""
    from om_bridge.sandbox import seed

    store = Path(data_dir).resolve() / "om-bridge.db"
    return {
        "bridge": {
            "public_url": bridge_url,
            "store": f"sqlite:///{store}",
            "environment": "production",
            "cognigy_version": "4.100",
            "log_level": "INFO",
        },
        # The flags the demo needs, in the file itself: `om-bridge check` and `om-bridge serve`
        # on this file work from any shell (the environment may still override each one).
        "features": demo_features(),
        "endpoints": [
            {
                "url_token": DEMO_TOKEN,
                "organisation": DEMO_ORGANISATION,
                "flow": DEMO_FLOW,
                "handover_provider": DEMO_PROVIDER,
            }
        ],
        "providers": [
            {
                "id": DEMO_PROVIDER,
                "type": "genesysCloudOM",
                "base_url": sandbox_url,
                "deployment_name": seed.DEMO_INTEGRATION_NAME,
                "queue_id": seed.DEMO_QUEUE_ID,
                # The demo identities are public (README); a real org takes these as "env:NAME".
                "webhook_secret": seed.DEMO_WEBHOOK_SECRET,
                "client_id": seed.BRIDGE_CLIENT_ID,
                "client_secret": seed.BRIDGE_CLIENT_SECRET,
                "send_profile": False,
                "completion": "eventbridge",
                "organization_id": seed.DEMO_ORG_ID,
            }
        ],
    }


def demo_features() -> dict[str, Any]:
    """The `[features]` table of the demo (Cognigy's names; every switch the handover needs on)."""
    return {
        "FEATURE_ENABLE_GENESYS_CLOUD_OM": True,
        "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "*",
        "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "*",
        "GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE": True,
        "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST": True,
        # The demo identity of docs/design.md §9 (public); a real deployment writes "env:NAME".
        "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY": DEMO_EVENTBRIDGE_KEY,
    }


def cognigy_demo_config(api_url: str) -> dict[str, Any]:
    """What `--cognigy` adds to the demo configuration: the extension route's key and the
    Cognigy endpoint of the emulator with its Inject/Notify API."""
    return {
        "bridge": {"extension_api_key": EXTENSION_KEY},
        "cognigy_endpoints": [
            {
                "url_token": COGNIGY_TOKEN,
                "organisation": DEMO_ORGANISATION,
                "handover_provider": DEMO_PROVIDER,
                "api_base_url": api_url,
                "api_key": COGNIGY_API_KEY,
            }
        ],
    }


def cognigy_emulator_config(bridge_url: str, archive: str) -> dict[str, Any]:
    """The emulator's settings: its API key, the built extension, the endpoint's flow and the
    om-bridge connection its nodes use."""
    return {
        "api_keys": [COGNIGY_API_KEY],
        "extension": archive,
        "endpoints": [
            {
                "url_token": COGNIGY_TOKEN,
                "name": "om-bridge demo (Cognigy-hosted)",
                "flow": COGNIGY_FLOW,
                "connections": {"om-bridge": {"bridgeUrl": bridge_url, "apiKey": EXTENSION_KEY}},
            }
        ],
    }


def demo_environ() -> dict[str, str]:
    """The demo's feature flags as environment variables (for a config without `[features]`)."""
    return {
        "FEATURE_ENABLE_GENESYS_CLOUD_OM": "true",
        "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "*",
        "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "*",
        "GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE": "true",
        "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST": "true",
        "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY": DEMO_EVENTBRIDGE_KEY,
    }


def sandbox_demo_config(bridge_url: str) -> dict[str, Any]:
    """Sandbox settings pointing its integration webhook and EventBridge destination at the bridge."""
    return {
        "seed": {"webhook_url": bridge_url + WEBHOOK_PATH},
        "eventbridge": {
            # Cognigy's guide: the API destination is the webhook URL itself.
            "url": bridge_url + WEBHOOK_PATH,
            "auth": {"type": "apikey", "header": "Authorization", "value": DEMO_EVENTBRIDGE_KEY},
            # Cognigy's guide (2025.22+): customer.end, plus user.start so a new or transferred
            # agent is known at once; user.end and acw as 4.100–2025.11 set them up.
            "topics": [
                "v2.detail.events.conversation.{id}.customer.end",
                "v2.detail.events.conversation.{id}.user.start",
                "v2.detail.events.conversation.{id}.user.end",
                "v2.detail.events.conversation.{id}.acw",
            ],
        },
    }


def main(args: argparse.Namespace) -> int:
    """Run the sandbox and the bridge until Ctrl-C; prints the URLs and identities to use. The
    terminal shows what a person needs (the banner, logins, messages, agent actions, handover
    events), not every successful poll."""
    from om_bridge.bridge.logs import setup_logging

    setup_logging("INFO")
    request_filter = quiet_request_log()
    try:
        return _run(args)
    finally:
        logging.getLogger("werkzeug").removeFilter(request_filter)


def _run(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from om_bridge.bridge.app import configure_logging, create_app
    from om_bridge.bridge.config import ConfigError, write_config
    from om_bridge.sandbox import seed
    from om_bridge.sandbox.server import SandboxServer

    host = args.host
    bridge_url = f"http://{host}:{args.port}"
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    config_path = data_dir / "om-bridge.toml"

    try:
        sandbox = SandboxServer(
            config=sandbox_demo_config(bridge_url), host=host, port=args.sandbox_port
        )
        sandbox.start()
    except OSError:
        print(messages.DEMO_PORT_BUSY.format(port=args.sandbox_port), file=sys.stderr)
        return 2
    emulator = None
    banner: str | None = None
    config = demo_config(bridge_url, sandbox.url, data_dir)
    if getattr(args, "cognigy", False):
        from om_bridge.bridge.config import merge
        from om_bridge.extension.build import build_extension
        from om_bridge.sandbox.cognigy.emulator import CognigyEmulator

        api_url = f"http://{host}:{args.cognigy_api_port}"
        archive = build_extension(data_dir / "dist")
        try:
            emulator = CognigyEmulator(
                cognigy_emulator_config(bridge_url, str(archive)),
                host=host,
                endpoint_port=args.cognigy_port,
                api_port=args.cognigy_api_port,
            )
        except Exception as exc:
            sandbox.stop()
            print(messages.DEMO_COGNIGY_FAILED.format(error=exc), file=sys.stderr)
            return 2
        config = merge(config, cognigy_demo_config(api_url))
        banner = messages.DEMO_COGNIGY_BANNER.format(
            webchat_url=f"{emulator.endpoint_url}/webchat/{COGNIGY_TOKEN}",
            endpoint_url=emulator.endpoint_url,
            url_token=COGNIGY_TOKEN,
            api_url=emulator.api_url,
            api_key=COGNIGY_API_KEY,
            bridge_url=bridge_url,
            sandbox_url=sandbox.url,
            agent_user=seed.DEMO_AGENT_USERNAME,
            agent_password=seed.DEMO_AGENT_PASSWORD,
            archive=archive,
            config_path=config_path,
        )
    try:
        write_config(config_path, config)
        try:
            # The written file alone configures the bridge: what `check` reads is what runs.
            app = create_app({"config_path": str(config_path), "environ": dict(os.environ)})
        except ConfigError as exc:
            print(messages.STARTUP_FAILED.format(error=exc), file=sys.stderr)
            return 2
        ctx = app.extensions["om-bridge"]
        configure_logging(ctx.config, ctx.flags)
        try:
            server = make_server(host, args.port, app, threaded=True)
        except OSError:
            print(messages.DEMO_PORT_BUSY.format(port=args.port), file=sys.stderr)
            app.extensions["om-bridge"].close()
            return 2
        print(
            banner
            or messages.DEMO_BANNER.format(
                bridge_url=bridge_url,
                sandbox_url=sandbox.url,
                agent_user=seed.DEMO_AGENT_USERNAME,
                agent_password=seed.DEMO_AGENT_PASSWORD,
                second_user=seed.SECOND_AGENT_USERNAME,
                second_password=seed.SECOND_AGENT_PASSWORD,
                config_path=config_path,
            ),
            flush=True,
        )
        thread = threading.Thread(target=server.serve_forever, name="om-bridge-demo", daemon=True)
        thread.start()
        try:
            # Waiting on the thread with a timeout keeps the main thread responsive to Ctrl-C.
            while thread.is_alive():
                thread.join(0.5)
        except KeyboardInterrupt:
            print(messages.DEMO_STOPPING, file=sys.stderr)
        finally:
            server.shutdown()
            app.extensions["om-bridge"].close()
    finally:
        if emulator is not None:
            emulator.stop()
        sandbox.stop()
    return 0
