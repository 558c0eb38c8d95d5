"""User-facing and log message texts of the bridge application (app factory, ops, serve, demo)."""

from __future__ import annotations

# start-up
STARTUP_FAILED = "om-bridge cannot start: {error}"
MISSING_PROVIDER_SECRET = 'providers[{provider}].{key}: required (a secret, e.g. "env:NAME")'
SHORT_WEBHOOK_SECRET = (
    "providers[{provider}].webhook_secret: must be at least {minimum} characters (it has {length}); "
    "use the Outbound Notification Webhook Signature Secret Token of a sufficiently random string"
)
ENDPOINT_FLOW_FAILED = "endpoints[{endpoint}].flow: {error}"
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

# serve / demo
SERVE_LISTENING = "om-bridge listening on http://{host}:{port} (store {store})"
SERVE_THREADS_NOTE = (
    "one worker process with {threads} threads: each open SSE stream holds one thread"
)
DEMO_BANNER = """\
om-bridge demo is running.

  Webchat (you, the customer):  {bridge_url}/
  Agent console (the agent):    {sandbox_url}/console
      log in as {agent_user} / {agent_password} ("Alex Agent")
  Genesys Cloud sandbox API:    {sandbox_url}
  Configuration written to:     {config_path}

Type "agent" in the webchat to be handed over to Alex; Ctrl-C stops both.
"""
DEMO_STOPPING = "stopping the demo…"
DEMO_PORT_BUSY = "port {port} is already in use: pass --port / --sandbox-port"
