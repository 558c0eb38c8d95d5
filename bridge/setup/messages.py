"""User-facing texts of `om-bridge check` and `om-bridge provision`: step titles, details, fixes."""

from __future__ import annotations

# --- the setup steps of docs/genesys-setup.md (named as in Cognigy's public guide to the
# "Genesys Cloud Open Messaging" handover provider) ---
SEED_PREREQUISITES = "Prerequisites"
SEED_RESTRICTIONS = "Restrictions"
SEED_PLATFORM = "1. Create a Platform"
SEED_QUEUE = "2. Create a Queue"
SEED_FLOW = "3. Create an Inbound Message Flow"
SEED_ROUTING = "4. Set up Message Routing"
SEED_CREDENTIALS = "5. Configure Credentials"
SEED_PROVIDER = "1. Create a Handover Provider"
SEED_SETTINGS = "2. Configure Handover Settings"


def seed(step: str) -> str:
    """How a fix names a setup step (a heading of docs/genesys-setup.md)."""
    return f'(setup step "{step}", docs/genesys-setup.md)'


# --- step titles ---------------------------------------------------------------------------------
T_REGION = "Genesys region"
T_ENVIRONMENT = "Environment"
T_FLAGS = "Feature flags"
T_FLOWS = "Endpoint flows"
FLOWS_OK = "every flow loads and its node configs are valid ({flows})"
FLOWS_FIX = (
    "set each endpoint's flow to a template name (demo-bot, genesys-handover) or a chart file, "
    "and fix the node named above"
)
T_TOKEN = "OAuth client credentials"
T_INTEGRATION = "Open Messaging integration"
T_WEBHOOK_URL = "Webhook URL"
T_WEBHOOK_SECRET = "Webhook secret"
T_QUEUE = "Queue"
T_ROUTING = "Message routing"
T_ROUNDTRIP = "Signed webhook round-trip"


def t_permission(permission: str) -> str:
    return f"Permission {permission}"


def t_completion(name: str) -> str:
    return f"Completion: {name}"


# --- region --------------------------------------------------------------------------------------
REGION_OK = "{host} is region {name} ({aws}): API {api}, login {login}"
REGION_BASE_URL = "base_url {url} (sandbox or proxy: API and login on this URL, no region check)"
REGION_BAD = "{error}"
REGION_FIX = (
    "set host (the Host field) to your org's base domain, e.g. mypurecloud.de or "
    "cac1.pure.cloud, without apps./login. " + seed(SEED_PROVIDER)
)

# --- environment and flags -----------------------------------------------------------------------
ENV_OK = 'environment is "{environment}"'
ENV_TRIAL = 'environment is "trial": the Genesys Cloud Open Messaging provider cannot be used there'
ENV_FIX = (
    'run the bridge with environment = "production" (bridge.environment or '
    "OM_BRIDGE_ENVIRONMENT) on a non-trial installation " + seed(SEED_RESTRICTIONS)
)
FLAGS_OK = "the provider is enabled for {endpoints} ({sources})"
FLAGS_REFUSED = "endpoint {token} (organisation {org}): {reason}"
# Where the flags came from, one group per source (flags.FROM_*), e.g.
# "from the [features] table: A, B; from the environment: C".
FLAGS_SOURCE_GROUP = "from the {source}: {names}"
FLAGS_SOURCE_DEFAULTS = "all other flags at their defaults"
FLAGS_SOURCE_NONE = "every flag at its default"
FLAGS_SOURCES = "flags {groups}"
FLAGS_FIX = (
    "in the configuration's [features] table set FEATURE_ENABLE_GENESYS_CLOUD_OM = true and add "
    'the organisation (or "*") to FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST and '
    "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST; a variable of the same name in the "
    "bridge's environment overrides the table, so unset or correct it there "
    + seed(SEED_PREREQUISITES)
)
FLAGS_NO_ENDPOINT = (
    "no endpoint uses this provider, so no conversation can be handed over through it"
)
FLAGS_NO_ENDPOINT_FIX = 'set handover_provider = "{provider}" on an [[endpoints]] entry'
FLAGS_ERROR = "the feature flags cannot be read: {error}"

# --- OAuth client --------------------------------------------------------------------------------
TOKEN_OK = "client {client_id} got an access token from {login}"
TOKEN_BAD_ID = "Genesys does not know the OAuth client id {client_id} ({login})"
TOKEN_BAD_ID_FIX = (
    "set client_id to the Client ID of a Client Credentials OAuth client of this "
    "org (IT and Integrations > OAuth) " + seed(SEED_CREDENTIALS)
)
TOKEN_BAD_SECRET = "client {client_id} exists but its secret was rejected"
TOKEN_BAD_SECRET_FIX = (
    "set client_secret to the client's current secret, or generate a new one "
    "(IT and Integrations > OAuth > the client) " + seed(SEED_CREDENTIALS)
)
TOKEN_MISSING = "client_id or client_secret is empty"
TOKEN_MISSING_FIX = "set client_id and client_secret of the provider " + seed(SEED_PROVIDER)
TOKEN_FAILED = "no token: {error}"
TOKEN_FAILED_FIX = (
    "check that the bridge host can reach {login} over HTTPS and that host names "
    "your org's region " + seed(SEED_PROVIDER)
)
SKIPPED_NO_TOKEN = "not checked: the OAuth client has no token"
SKIPPED_NO_REGION = "not checked: the host names no Genesys region"
SKIPPED_NO_REGION_FIX = 'fix "' + T_REGION + '" first'
SKIPPED_NO_INTEGRATION = "not checked: the integration was not found"
SKIPPED_NO_TOKEN_FIX = 'fix "' + T_TOKEN + '" first'
SKIPPED_NO_INTEGRATION_FIX = 'fix "' + T_INTEGRATION + '" first'

# --- permissions ---------------------------------------------------------------------------------
PERM_OK = "granted: {purpose} ({method} {path} answered {status})"
PERM_MISSING = "missing{names}: {purpose} ({method} {path} answered 403 {code})"
PERM_FIX = (
    "add {perms} to the role of OAuth client {client_id} (Admin > Roles / Permissions) "
    + seed(SEED_CREDENTIALS)
)
PERM_OPTIONAL = "; optional: without it {effect}"
# The seed's role list ("5. Configure Credentials") names three permission groups by their role
# wording; the bridge's calls need these fine-grained permissions within them.
SEED_ROLE_WORDING = {
    "messaging:integration:view": (
        "messaging-platform:readonly (View messaging platform integrations)"
    ),
    "conversation:message:create": ("conversations (Create, edit, and delete conversation data)"),
    "conversation:message:view": (
        "conversations (Create, edit, and delete conversation data); the seed's "
        "analytics:readonly (view conversation details) is not needed for this"
    ),
}
PERM_SEED = "; seed wording: {wording}"
PERM_NOT_IN_SEED = "; not in the seed's list: needed only for {purpose}"
PERM_UNPROBED = "not probed: {error}"
PERM_UNPROBED_FIX = "run the check again; if it persists, check the Genesys status page"
PERM_UNEXPECTED = "not proven: {method} {path} answered {status}, expected {expected}"

# --- integration ---------------------------------------------------------------------------------
INTEG_OK = '"{name}" (id {id}), status {status}, createStatus {create_status}'
INTEG_MISSING = 'no Open Messaging integration is named "{name}"; existing: {available}'
INTEG_NONE = "none"
INTEG_MISSING_FIX = (
    "create it (Message > Platforms > Open Messaging, Name = the Deployment Name) "
    "or run `om-bridge provision`; or set deployment_name to one of the existing "
    "names " + seed(SEED_PLATFORM)
)
INTEG_CASE = (
    ' (matched "{actual}" ignoring case: the bridge matches it too, but Genesys names are exact)'
)
INTEG_NOT_ACTIVE = 'status is "{status}", not Active'
INTEG_NOT_ACTIVE_FIX = "activate the integration in Message > Platforms " + seed(SEED_PLATFORM)
INTEG_CREATE_ERROR = "creation failed in Genesys: {error}"
INTEG_CREATE_ERROR_FIX = (
    "delete the integration and create it again, or run "
    "`om-bridge provision` " + seed(SEED_PLATFORM)
)
INTEG_CREATING = "still being created (createStatus Initiated)"
INTEG_CREATING_FIX = "wait a few seconds and run the check again"
INTEG_SPACES = 'the name "{name}" contains spaces; Cognigy asks for a name without spaces'
INTEG_SPACES_FIX = "rename the integration and deployment_name without spaces " + seed(
    SEED_PLATFORM
)
INTEG_LIST_FAILED = "the integrations cannot be listed: {error}"
INTEG_LIST_FIX = "give the OAuth client messaging:integration:view " + seed(SEED_CREDENTIALS)
INTEG_NO_NAME = "deployment_name is not set"
INTEG_NO_NAME_FIX = "set deployment_name to the Name of the Open Messaging integration " + seed(
    SEED_PROVIDER
)

# --- webhook URL ---------------------------------------------------------------------------------
URL_OK = "Genesys sends webhooks to {url}"
URL_WRONG = 'integration "{name}" sends webhooks to {actual}, but the bridge listens at {expected}'
URL_WRONG_FIX = (
    'set the Outbound Notification Webhook URL of "{name}" to {expected} '
    + seed(SEED_PLATFORM)
    + ", or run `om-bridge provision`"
)
URL_NO_PUBLIC = "bridge.public_url is not set, so the expected webhook URL is unknown"
URL_NO_PUBLIC_FIX = (
    "set bridge.public_url (or OM_BRIDGE_PUBLIC_URL) to the bridge's URL as Genesys reaches it"
)
URL_NOT_PUBLIC = "; but Genesys Cloud needs a public https URL on port 443: {problem}"
URL_NOT_PUBLIC_FIX = (
    "publish the bridge behind HTTPS on port 443 (no custom port) and set "
    "bridge.public_url to that address " + seed(SEED_PLATFORM)
)
URL_WRONG_NOT_PUBLIC = (
    'integration "{name}" sends webhooks to {actual}; the bridge\'s configured '
    "address {expected} is no better: Genesys Cloud cannot deliver to it "
    "({problem})"
)
URL_PROBLEM_SCHEME = "the scheme is {scheme}"
URL_PROBLEM_PORT = "port {port}"
URL_PROBLEM_LOCAL = "{host} is not reachable from the internet"

# --- webhook secret ------------------------------------------------------------------------------
SECRET_OK = "the integration's signature secret equals webhook_secret"
SECRET_WRONG = "the integration's signature secret differs from webhook_secret"
SECRET_WRONG_FIX = (
    "set webhook_secret to the Outbound Notification Webhook Signature Secret "
    'Token of "{name}" ' + seed(SEED_PROVIDER) + ", or run `om-bridge provision` "
    "to give the integration the configured secret"
)
SECRET_HIDDEN = "Genesys does not return the integration's secret, so it cannot be compared here"
SECRET_HIDDEN_FIX = (
    'if "'
    + T_ROUNDTRIP
    + '" fails, re-enter the token in the integration '
    + seed(SEED_PLATFORM)
    + " or run `om-bridge provision`"
)
SECRET_MISSING = "webhook_secret is not set: the bridge cannot verify X-Hub-Signature-256"
SECRET_MISSING_FIX = (
    "set webhook_secret to the integration's Outbound Notification Webhook "
    "Signature Secret Token " + seed(SEED_PROVIDER)
)
SECRET_SHORT = "webhook_secret has {length} characters; Genesys requires more than 15"
SECRET_SHORT_FIX = (
    "use a random secret of at least 16 characters in the integration and in "
    "webhook_secret " + seed(SEED_PLATFORM)
)

# --- message routing -----------------------------------------------------------------------------
ROUTING_OK = 'inbound message flow "{flow}" handles messages of "{name}"'
ROUTING_NO_FLOW = 'no inbound message flow is attached to "{name}", so its messages reach no queue'
ROUTING_NO_FLOW_FIX = (
    "create an Inbound Message flow (Send Response, Transfer to ACD to the queue) "
    + seed(SEED_FLOW)
    + ' and attach the "{name}" address to it in Message '
    "Routing " + seed(SEED_ROUTING)
)
ROUTING_NO_RECIPIENT = 'Genesys reports no routing recipient for "{name}" yet'
ROUTING_FORBIDDEN = (
    "cannot be verified: {error} (only this check reads message routing; the "
    "bridge does not need the permission)"
)
ROUTING_FORBIDDEN_FIX = (
    "add routing:message:manage to the OAuth client's role to let the check "
    "verify message routing " + seed(SEED_CREDENTIALS)
)
ROUTING_FAILED = "cannot be read: {error}"
ROUTING_CHECK_FIX = "verify the address in Message Routing " + seed(SEED_ROUTING)

# --- queue ---------------------------------------------------------------------------------------
QUEUE_OK = '"{name}" (id {id}), {members} member(s)'
QUEUE_EMPTY = '"{name}" (id {id}) has no members, so no agent can take a handover'
QUEUE_EMPTY_FIX = "add agents to the queue (Admin > Queues > Members) " + seed(SEED_QUEUE)
QUEUE_MISSING = "no queue has the id {id}"
QUEUE_MISSING_FIX = (
    "set queue_id to the queue's id (the part of its admin URL between /queues/ "
    "and /general) " + seed(SEED_QUEUE)
)
QUEUE_NO_ID = "queue_id is not set"
QUEUE_NO_ID_FIX = (
    "set queue_id to the id of the queue the inbound message flow transfers to " + seed(SEED_QUEUE)
)
QUEUE_FORBIDDEN = (
    "cannot be verified: {error} (only this check reads queues; the bridge does not "
    "need the permission)"
)
QUEUE_FORBIDDEN_FIX = (
    "add routing:queue:view to the OAuth client's role to let the check verify "
    "the queue " + seed(SEED_CREDENTIALS)
)
QUEUE_FAILED = "cannot be read: {error}"

# --- completion ----------------------------------------------------------------------------------
COMPLETION_UNAVAILABLE = "the completion wiring cannot be checked: {error}"
COMPLETION_FIX = "see the completion settings of the provider " + seed(SEED_PREREQUISITES)

# --- round trip ----------------------------------------------------------------------------------
RT_OK = "the bridge at {url} accepted a webhook signed with {which} ({status})"
RT_LOCAL_FAILED = "a webhook signed with {which} does not verify with webhook_secret"
RT_STALE = " (the running bridge at the URL accepted it: it runs with another configuration)"
RT_REJECTED = "the bridge at {url} rejected a webhook signed with {which} ({status})"
RT_REJECTED_FIX = (
    "make the running bridge use the integration's secret: set webhook_secret and "
    "restart it " + seed(SEED_PROVIDER)
)
RT_NOT_FOUND = "{url} answered {status}: no om-bridge webhook route there"
RT_NOT_FOUND_FIX = (
    "point bridge.public_url at the bridge itself (the webhook path is "
    "/handover/genesysCloudOM) " + seed(SEED_PLATFORM)
)
RT_UNREACHABLE = (
    "verified locally with webhook_secret; the bridge at {url} did not answer ({error})"
)
RT_UNREACHABLE_FIX = (
    "start the bridge (`om-bridge serve`) where bridge.public_url points and run "
    "the check again; Genesys must reach that URL " + seed(SEED_PLATFORM)
)
RT_SERVER_ERROR = "the bridge at {url} answered {status}"
RT_SERVER_ERROR_FIX = "look at the bridge's log for the request and run the check again"
RT_NO_SECRET = "not checked: webhook_secret is not set"
WHICH_INTEGRATION = "the integration's secret"
WHICH_CONFIGURED = "webhook_secret"

# --- report --------------------------------------------------------------------------------------
PROVIDER_HEADER = "Provider {provider} ({where})"
SUMMARY = "{passed} PASS, {failed} FAIL, {warned} WARN"
ALL_OK = "every step passed"
FIX_PREFIX = "fix: "

# --- command errors ------------------------------------------------------------------------------
CONFIG_FAILED = "om-bridge {command}: {error}"
NO_PROVIDERS = "om-bridge {command}: the configuration {path} has no [[providers]]"
UNKNOWN_PROVIDER = "om-bridge {command}: unknown provider {provider} (known: {known})"
USING_CONFIG = "using {path}"

# --- provision -----------------------------------------------------------------------------------
P_HEADER = 'Provider {provider}: integration "{name}" on {where}'
P_DRY_RUN = "(dry run: nothing is changed)"
P_WOULD_CREATE = (
    'would create the Open Messaging integration "{name}" with webhook URL {url} '
    "and the configured secret"
)
P_CREATED = (
    'created the Open Messaging integration "{name}" (id {id}) with webhook URL {url} '
    "and the configured secret"
)
P_WOULD_SET_URL = "would change the webhook URL: {old} -> {new}"
P_SET_URL = "changed the webhook URL: {old} -> {new}"
P_WOULD_SET_SECRET = "would replace the signature secret with webhook_secret ({why})"
P_SET_SECRET = "replaced the signature secret with webhook_secret ({why})"
P_WHY_DIFFERENT = "Genesys returned a different one"
P_WHY_UNKNOWN = "Genesys does not return it and this data directory has no record of setting it"
P_WHY_CHANGED = "Genesys does not return it and webhook_secret changed since the last provision"
P_NO_CHANGES = 'no changes: "{name}" (id {id}) already matches the configuration'
P_CREATE_PENDING = (
    'Genesys has not finished creating "{name}" after {seconds:.0f} s '
    "(createStatus Initiated); run provision again later"
)
P_CREATE_ERROR = 'Genesys failed to create "{name}": {error}'
P_FAILED = "provision failed for provider {provider}: {error}"
P_NEED = "cannot provision: {problem}"
P_NEED_URL = (
    "bridge.public_url is not set (the webhook URL is public_url + /handover/genesysCloudOM)"
)
P_NEED_PUBLIC = (
    "the webhook URL {url} is not one Genesys Cloud can deliver to ({problem}): set "
    "bridge.public_url (or OM_BRIDGE_PUBLIC_URL) to the bridge's public https "
    "address first " + seed(SEED_PLATFORM)
)
P_NEED_SECRET = "webhook_secret is not set"
P_NEED_SECRET_LEN = "webhook_secret must be longer than 15 characters (Genesys' rule)"
P_NEED_NAME = "deployment_name is not set"
P_NEED_CREDENTIALS = "client_id / client_secret are not set"
P_FORBIDDEN_FIX = "add {perms} to the role of OAuth client {client_id} " + seed(SEED_CREDENTIALS)
P_NEXT = """\
Next, in Genesys Cloud (these steps have no API that provision may safely change):
  {flow}: an Inbound Message flow with Send Response "Connected" and Transfer to ACD to {queue}
  {routing}: Message Routing > attach the "{name}" Open Messaging address to that flow
Then run `om-bridge check` to verify everything."""
