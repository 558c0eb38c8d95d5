"""User-facing and log message texts of the bridge application (app factory, ops, serve, demo)."""

from __future__ import annotations

# start-up
STARTUP_FAILED = "om-bridge cannot start: {error}"
MISSING_PROVIDER_SECRET = 'providers[{provider}].{key}: required (a secret, e.g. "env:NAME")'
SHORT_WEBHOOK_SECRET = (
    "providers[{provider}].webhook_secret: must be at least {minimum} characters (it has {length}); "
    "use the Outbound Notification Webhook Signature Secret Token of a sufficiently random string"
)
ENDPOINT_FLOW_FAILED = "endpoints[{index}].flow (endpoint {endpoint!r}): {error}"
SERVE_NO_CONFIG = (
    "no configuration file: looked for {looked} (and OM_BRIDGE_CONFIG is not set); pass "
    "--config PATH, or run `om-bridge demo` to write {fallback}"
)
SERVE_USING_CONFIG = "om-bridge: using configuration file {path}"
MISSING_EVENTBRIDGE_KEY = (
    "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY is not set but FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST "
    'is on and provider "{provider}" uses completion "eventbridge": set the API key the EventBridge '
    "API destination sends in Authorization"
)
BAD_FLAGS = "feature flags: {error}"
STORE_OPEN_FAILED = "cannot open the store: {error}"
STORE_DIR_FAILED = "cannot create the data directory {path}: {error}"

# ops
READY_STORE_FAILED = "store ping failed"
READY_PROVIDER_FAILED = "provider {provider}: {error}"
READY_OK = "ok"
READY_LISTENER = "notifications listener ({role}): {open} of {channels} socket(s) open"
READY_LISTENER_DOWN = "; a socket has been down for {seconds} s"

# logging
LOG_REQUEST = "%s %s -> %s (%.1f ms)"
LOG_UNHANDLED = "unhandled error on %s %s"
INTERNAL_ERROR = "internal error (request id {request_id})"
LOG_STORE_UNAVAILABLE = "store unreachable on %s %s (request %s): %s"
STORE_UNAVAILABLE = (
    "the store cannot be reached right now; nothing was changed: retry in {seconds} s "
    "(request id {request_id})"
)

# serve / demo
SERVE_LISTENING = "om-bridge listening on {bind} (store {store})"
SERVE_THREADS_NOTE = (
    "{workers} worker process(es) with {threads} threads each: each open SSE stream or "
    "long-poll holds one thread"
)
SERVE_CONNECTIONS_NOTE = (
    "{workers} worker process(es) (gevent) with up to {connections} open connections each: an "
    "open SSE stream or long-poll costs a greenlet, not a thread"
)
GUNICORN_BAD_ITEM = "--gunicorn {item!r}: expected NAME=VALUE with a gunicorn setting name"
GUNICORN_UNKNOWN = "{source}: {name!r} is not a gunicorn setting"
GUNICORN_RESERVED = "{source}: {name!r} is set by om-bridge serve and cannot be changed"
GUNICORN_BAD_VALUE = "gunicorn setting {name} = {value!r}: {error}"
GUNICORN_BAD_ENV = "{var} cannot be parsed as gunicorn command-line options (see the message above)"
GUNICORN_ENV_APP = "{var} names an application ({args}); om-bridge serve loads the bridge itself"
GUNICORN_WORKERS_NEED_REDIS = (
    '{workers} workers need a Redis store: set store = "redis://..." in [bridge] or '
    "OM_BRIDGE_STORE=redis://... (the SQLite store is single-process: its locks and output "
    "wake-ups are per process); or run one worker"
)
DEMO_BANNER = """\
om-bridge demo is running.

  Webchat (you, the customer):  {bridge_url}/
  Agent console (the agent):    {sandbox_url}/console
      log in as {agent_user} / {agent_password} ("Alex Agent", Demo Queue)
      transfers to the Second Queue go to {second_user} / {second_password}
      ("Sam Supervisor"; log in in another tab); both agents start on queue
  Genesys Cloud sandbox API:    {sandbox_url}
  Configuration written to:     {config_path}

Type "agent" in the webchat to be handed over to Alex; Ctrl-C stops both.
"""
DEMO_COGNIGY_BANNER = """\
om-bridge demo --cognigy is running: the flow runs in the Cognigy emulator with the om-bridge
extension (built from this installation), the bridge is its handover provider.

  Cognigy webchat (you, the customer): {webchat_url}
  Agent console (the agent):           {sandbox_url}/console
      log in as {agent_user} / {agent_password} ("Alex Agent")
  Cognigy emulator endpoint:           {endpoint_url}/{url_token}
  Cognigy emulator API (Inject/Notify): {api_url}   (X-API-Key: {api_key})
  The bridge:                          {bridge_url}
  Genesys Cloud sandbox API:           {sandbox_url}
  Extension archive:                   {archive}
  Configuration written to:            {config_path}

Type "agent" in the webchat to be handed over to Alex; Ctrl-C stops everything.
"""
# The demo terminal's access-log line (bridge.demo.RequestLogFilter): method, path, status.
DEMO_REQUEST_LINE = "%s %s → %s"
DEMO_STOPPING = "stopping the demo…"
EXTENSION_KEY_MISSING = (
    "[[cognigy_endpoints]] are configured but [bridge] extension_api_key is not: the extension's "
    "nodes get 404 (docs/cognigy-setup.md)"
)
DEMO_PORT_BUSY = "port {port} is already in use: pass --port / --sandbox-port"
DEMO_COGNIGY_FAILED = "the Cognigy emulator cannot start: {error}"
