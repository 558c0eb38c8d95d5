"""`om-bridge check` for Cognigy-hosted endpoints (`[[cognigy_endpoints]]`): the way back into
Cognigy works (the endpoint service answers; on the legacy v2.0 API, a warning that it is
deprecated, then API reachable, API key accepted, the URL token known to it), the extension's
nodes reach the bridge, and a handover provider is named. Fixes point at docs/cognigy-setup.md."""

from __future__ import annotations

from typing import Final

import requests

from om_bridge.bridge.cognigy.client import TIMEOUT, CognigyClient, CognigyError
from om_bridge.bridge.config import CognigyEndpoint, Config
from om_bridge.bridge.setup.steps import FAIL, WARN, StepLog, StepResult

T_ROUTE: Final = "Inject/Notify route"
T_API: Final = "Cognigy API"
T_TOKEN: Final = "Cognigy URL token"
T_EXTENSION: Final = "Extension route"
T_PROVIDER: Final = "Handover provider"
HEADER: Final = "Cognigy endpoint {token} ({where})"
DOC: Final = " (docs/cognigy-setup.md, {section})"

API_OK = "{url} answers and accepts the API key ({count} endpoint(s) visible)"
API_KEY_REFUSED = "{url} refused the API key (HTTP {status}): Inject and Notify calls wait"
API_KEY_FIX = (
    "set api_key to a valid Cognigy API key (User Menu > My Profile > API Keys), as "
    '"env:NAME"' + DOC.format(section="API key")
)
API_DOWN = "{url} cannot be reached: {error}"
API_FAILED = "{url} answered HTTP {status}"
API_FIX = "set api_base_url to your Cognigy API, e.g. https://api-trial.cognigy.ai" + DOC.format(
    section="Bridge configuration"
)
TOKEN_OK = "URL token {token} is an endpoint of this Cognigy project"
TOKEN_UNKNOWN = "no endpoint with URL token {token} is visible to this API key"
TOKEN_FIX = (
    "set url_token to the Endpoint's URL token (the last part of its Endpoint URL)"
    + DOC.format(section="Endpoint")
)
SKIPPED = "not checked: {reason}"
ROUTE_OK = (
    "Inject and Notify go to the endpoint service at {url}/inject|notify/{token}, which answers"
)
ROUTE_DOWN = "the endpoint service at {url} cannot be reached: {error}"
ROUTE_FIX = (
    "set endpoint_base_url to the Endpoint URL without its URL token, e.g. "
    "https://endpoint-trial.cognigy.ai" + DOC.format(section="Bridge configuration")
)
LEGACY = (
    "api_base_url + api_key use Cognigy's v2.0 Inject/Notify API, deprecated in Cognigy.AI "
    "2026.6.0 (removal planned for September 2026)"
)
LEGACY_FIX = (
    "replace api_base_url and api_key by endpoint_base_url (the Endpoint URL without its URL "
    "token)" + DOC.format(section="Bridge configuration")
)
EXT_OK = "[bridge] extension_api_key is set: POST /extension/v1/execute and /relay are served"
EXT_MISSING = "[bridge] extension_api_key is not set: the extension's nodes get 404"
EXT_FIX = (
    'set [bridge] extension_api_key = "env:NAME" and the same key in the om-bridge connection'
    + DOC.format(section="Connection")
)
PROVIDER_OK = "Handover nodes without a provider use {provider}"
PROVIDER_MISSING = "no handover_provider: each Handover node must name its provider"
PROVIDER_FIX = "set handover_provider on the [[cognigy_endpoints]] entry"


def check_cognigy_endpoint(config: Config, endpoint: CognigyEndpoint) -> list[StepResult]:
    """The steps of one Cognigy endpoint."""
    log = StepLog(endpoint.url_token)
    client = CognigyClient(endpoint)
    try:
        if endpoint.uses_transformers:
            _route_step(endpoint, log)
        else:
            log.add(T_ROUTE, WARN, LEGACY, LEGACY_FIX)
            _api_steps(endpoint, client, log)
    finally:
        client.close()
    if config.bridge.extension_api_key is not None and config.bridge.extension_api_key.reveal():
        log.passed(T_EXTENSION, EXT_OK)
    else:
        log.add(T_EXTENSION, FAIL, EXT_MISSING, EXT_FIX)
    if endpoint.handover_provider:
        log.passed(T_PROVIDER, PROVIDER_OK.format(provider=endpoint.handover_provider))
    else:
        log.add(T_PROVIDER, WARN, PROVIDER_MISSING, PROVIDER_FIX)
    return log.results


def _route_step(endpoint: CognigyEndpoint, log: StepLog) -> None:
    """The endpoint service answers HTTP at all (any status: Inject/Notify need a live session,
    so nothing is sent that would reach a flow or a user)."""
    url = endpoint.endpoint_base_url
    try:
        requests.get(url + "/", timeout=TIMEOUT, allow_redirects=False).close()
    except requests.RequestException as exc:
        log.add(T_ROUTE, FAIL, ROUTE_DOWN.format(url=url, error=type(exc).__name__), ROUTE_FIX)
        return
    log.passed(T_ROUTE, ROUTE_OK.format(url=url, token=endpoint.url_token))


def _api_steps(endpoint: CognigyEndpoint, client: CognigyClient, log: StepLog) -> None:
    url = endpoint.api_base_url
    try:
        items = client.endpoints()
    except CognigyError as err:
        if err.auth:
            log.add(T_API, FAIL, API_KEY_REFUSED.format(url=url, status=err.status), API_KEY_FIX)
        elif err.status is None:
            log.add(T_API, FAIL, API_DOWN.format(url=url, error=err), API_FIX)
        else:
            log.add(T_API, FAIL, API_FAILED.format(url=url, status=err.status), API_FIX)
        log.add(T_TOKEN, WARN, SKIPPED.format(reason=f'fix "{T_API}" first'), None)
        return
    log.passed(T_API, API_OK.format(url=url, count=len(items)))
    if any(i.get("URLToken") == endpoint.url_token for i in items):
        log.passed(T_TOKEN, TOKEN_OK.format(token=endpoint.url_token))
    else:
        log.add(T_TOKEN, FAIL, TOKEN_UNKNOWN.format(token=endpoint.url_token), TOKEN_FIX)


def check_cognigy(config: Config) -> list[tuple[str, list[StepResult]]]:
    """(header, results) per Cognigy endpoint."""
    out = []
    for endpoint in config.cognigy_endpoints.values():
        where = (
            f"legacy api {endpoint.api_base_url}"
            if not endpoint.uses_transformers
            else f"endpoint service {endpoint.endpoint_base_url}"
        )
        header = HEADER.format(token=endpoint.url_token, where=where)
        out.append((header, check_cognigy_endpoint(config, endpoint)))
    return out
