"""`load_config`: TOML file + environment + overrides → validated, typed `Config`."""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Mapping
from typing import Any, overload

from om_bridge.bridge.config import messages
from om_bridge.bridge.config.errors import ConfigError
from om_bridge.bridge.config.model import (
    BRIDGE_DEFAULTS,
    BridgeSettings,
    CognigyEndpoint,
    Config,
    DataActionAuth,
    Endpoint,
    Provider,
    default_completion,
)
from om_bridge.bridge.config.schema import key_path, schema_errors
from om_bridge.bridge.config.secret import ENV_PREFIX, Secret

DEFAULT_CONFIG_PATH = "om-bridge.toml"
EVENTBRIDGE_KEY_FLAG = "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY"
# Environment variables that override `[bridge]` keys.
ENV_OVERRIDES: Mapping[str, str] = {
    "OM_BRIDGE_PUBLIC_URL": "public_url",
    "OM_BRIDGE_STORE": "store",
    "OM_BRIDGE_ENVIRONMENT": "environment",
    "OM_BRIDGE_LOG_LEVEL": "log_level",
    "OM_BRIDGE_LOG_FORMAT": "log_format",
    "OM_BRIDGE_COGNIGY_VERSION": "cognigy_version",
}
# What an "env:NAME" store reference must hold (schemas/config.json's store pattern, less env:).
STORE_URL = re.compile(r"^(sqlite://(:memory:|/.+)|rediss?://.+|unix://.+|redis\+sentinel://.+)$")
# List entries in overrides are matched to the file's entries by these keys, then merged.
_LIST_KEYS = {"endpoints": "url_token", "providers": "id", "cognigy_endpoints": "url_token"}


def load_config(
    path: str | None, environ: Mapping[str, str] | None = None, overrides: dict | None = None
) -> Config:
    """Read the TOML file at `path` (None or "om-bridge.toml": optional; any other path must
    exist), apply OM_BRIDGE_* variables and `overrides`, validate, resolve "env:" secrets."""
    environ = os.environ if environ is None else environ
    optional = path is None or path == DEFAULT_CONFIG_PATH
    path = path or DEFAULT_CONFIG_PATH
    data = read_toml(path, optional)
    source = path if os.path.exists(path) else "defaults"
    bridge = data.setdefault("bridge", {}) if isinstance(data.get("bridge", {}), dict) else None
    if bridge is not None:
        for var, key in ENV_OVERRIDES.items():
            if environ.get(var):
                bridge[key] = environ[var]
    data = merge(data, overrides or {})
    return parse_config(data, environ, source)


def read_toml(path: str, optional: bool = False) -> dict[str, Any]:
    """The parsed TOML file; {} for a missing optional file; ConfigError otherwise."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        if optional:
            return {}
        raise ConfigError(messages.CONFIG_NOT_FOUND.format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(messages.CONFIG_BAD_TOML.format(path=path, error=exc)) from None
    except OSError as exc:
        raise ConfigError(
            messages.CONFIG_UNREADABLE.format(path=path, error=exc.strerror)
        ) from None


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `over` merged in: tables recursively, `endpoints`/`providers`
    entries by url_token/id (new ones appended), other values replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif key in _LIST_KEYS and isinstance(value, list) and isinstance(out.get(key), list):
            ident = _LIST_KEYS[key]
            merged = out[key]
            for entry in value:
                match = next(
                    (
                        i
                        for i, e in enumerate(merged)
                        if isinstance(e, dict)
                        and isinstance(entry, Mapping)
                        and e.get(ident) == entry.get(ident)
                    ),
                    None,
                )
                if match is None:
                    merged.append(copy.deepcopy(entry))
                else:
                    merged[match] = merge(merged[match], entry)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_config(
    data: Mapping[str, Any], environ: Mapping[str, str] | None = None, source: str = "overrides"
) -> Config:
    """Validate configuration data (the TOML shape) and build the typed `Config`."""
    environ = os.environ if environ is None else environ
    own = copy.deepcopy(dict(data))  # changed below, never the caller's
    bridge = own.get("bridge")
    if isinstance(bridge, dict) and isinstance(bridge.get("log_level"), str):
        bridge["log_level"] = bridge["log_level"].upper()
    _drop_blank_choices(own)
    errors = schema_errors(own)
    if errors:
        raise ConfigError(
            messages.INVALID_CONFIG.format(source=source, errors="; ".join(errors)), errors
        )
    builder = _Builder(environ)
    config = builder.build(own, source)
    if builder.errors:
        raise ConfigError(
            messages.INVALID_CONFIG.format(source=source, errors="; ".join(builder.errors)),
            builder.errors,
        )
    return config


def _drop_blank_choices(data: dict[str, Any]) -> None:
    """TOML has no null, so "" stands for "not set" where a key picks an alternative: a
    provider's host / base_url, an endpoint's handover_provider."""
    for key, blankable in (
        ("providers", ("host", "base_url")),
        ("endpoints", ("handover_provider",)),
        ("cognigy_endpoints", ("handover_provider",)),
    ):
        entries = data.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                for name in blankable:
                    if entry.get(name) == "":
                        del entry[name]


class _Builder:
    """Turns schema-valid data into typed objects, collecting every semantic error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.errors: list[str] = []

    @overload
    def secret(self, value: str, *path: Any) -> Secret: ...
    @overload
    def secret(self, value: str | None, *path: Any) -> Secret | None: ...
    def secret(self, value: str | None, *path: Any) -> Secret | None:
        if value is None:
            return None
        if not value.startswith(ENV_PREFIX):
            return Secret(value)
        var = value[len(ENV_PREFIX) :].strip()
        where = key_path(path)
        if not var:
            self.errors.append(f"{where}: {messages.ENV_REF_EMPTY}")
        elif var not in self.environ:
            self.errors.append(f"{where}: {messages.ENV_VAR_MISSING.format(var=var)}")
        elif not self.environ[var]:
            self.errors.append(f"{where}: {messages.ENV_VAR_EMPTY.format(var=var)}")
        else:
            return Secret(self.environ[var], source=ENV_PREFIX + var)
        return Secret("", source=ENV_PREFIX + var)

    def plain(self, value: str, *path: Any) -> str:
        """A credential that is not secret in itself (a client id, a user name), given
        literally or as "env:NAME"."""
        if not value.startswith(ENV_PREFIX):
            return value
        secret = self.secret(value, *path)
        return secret.reveal() if secret is not None else ""

    def build(self, data: dict[str, Any], source: str) -> Config:
        given = dict(data.get("bridge", {}))
        ext_key = self.secret(given.pop("extension_api_key", None), "bridge", "extension_api_key")
        store = given.get("store")
        if isinstance(store, str) and store.startswith(ENV_PREFIX):
            # The URL may carry passwords, so it may live in the environment like a secret.
            url = self.secret(store, "bridge", "store")
            given["store"], given["store_ref"] = url.reveal(), url.source
            if url and not STORE_URL.match(url.reveal()):
                self.errors.append(
                    "bridge.store: " + messages.ENV_STORE_URL.format(var=store[len(ENV_PREFIX) :])
                )
        bridge = BridgeSettings(**{**BRIDGE_DEFAULTS, **given}, extension_api_key=ext_key)
        bridge = BridgeSettings(**{**vars(bridge), "public_url": bridge.public_url.rstrip("/")})
        providers: dict[str, Provider] = {}
        for i, p in enumerate(data.get("providers", [])):
            if p["id"] in providers:
                self.errors.append(
                    f"providers[{i}].id: " + messages.DUPLICATE_PROVIDER.format(provider=p["id"])
                )
                continue
            providers[p["id"]] = self.provider(i, p, bridge.cognigy_version)
        endpoints: dict[str, Endpoint] = {}
        for i, e in enumerate(data.get("endpoints", [])):
            token, provider = e["url_token"], e.get("handover_provider")
            if token in endpoints:
                self.errors.append(
                    f"endpoints[{i}].url_token: " + messages.DUPLICATE_TOKEN.format(token=token)
                )
                continue
            if provider is not None and provider not in providers:
                self.errors.append(
                    f"endpoints[{i}].handover_provider: "
                    + messages.UNKNOWN_PROVIDER.format(token=token, provider=provider)
                )
            endpoints[token] = self.endpoint(i, e)
        features = self.features(data.get("features", {}))
        cognigy = self.cognigy_endpoints(data, endpoints, providers)
        return Config(
            bridge=bridge,
            endpoints=endpoints,
            providers=providers,
            source=source,
            features=features,
            cognigy_endpoints=cognigy,
        )

    def features(self, table: Mapping[str, Any]) -> dict[str, str | Secret]:
        """The `[features]` table as the strings the environment would carry (booleans as
        "true"/"false", arrays as comma lists, numbers as digits); the API key as a `Secret`."""
        out: dict[str, str | Secret] = {}
        for name, value in table.items():
            if name == EVENTBRIDGE_KEY_FLAG:
                secret = self.secret(value, "features", name)
                if secret is not None:
                    out[name] = secret
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif isinstance(value, list):
                out[name] = ",".join(str(v) for v in value)
            else:
                out[name] = str(value)
        return out

    def endpoint(self, i: int, e: dict[str, Any]) -> Endpoint:
        base = e.get("copilot_base_url", "")
        if base and "://" not in base:
            # Cognigy's template builds https://${AgentCopilotBaseUrl}/... (seed, "Agent
            # Copilot Workspace"): a bare host is accepted and gets https:// here.
            e = {**e, "copilot_base_url": "https://" + base}
        return Endpoint(**e)

    def cognigy_endpoints(
        self,
        data: dict[str, Any],
        endpoints: Mapping[str, Endpoint],
        providers: Mapping[str, Provider],
    ) -> dict[str, CognigyEndpoint]:
        out: dict[str, CognigyEndpoint] = {}
        for i, e in enumerate(data.get("cognigy_endpoints", [])):
            where = f"cognigy_endpoints[{i}]"
            token, provider = e["url_token"], e.get("handover_provider")
            if token in out or token in endpoints:
                self.errors.append(
                    f"{where}.url_token: " + messages.DUPLICATE_TOKEN.format(token=token)
                )
                continue
            if provider is not None and provider not in providers:
                self.errors.append(
                    f"{where}.handover_provider: "
                    + messages.UNKNOWN_PROVIDER.format(token=token, provider=provider)
                )
            fields = dict(e)
            fields["api_key"] = self.secret(e.get("api_key"), "cognigy_endpoints", i, "api_key")
            for key in ("api_base_url", "endpoint_base_url"):
                fields[key] = str(e.get(key) or "").rstrip("/")
            base = str(e.get("copilot_base_url") or "")
            if base and "://" not in base:  # as in endpoints[]: a bare host gets https://
                fields["copilot_base_url"] = "https://" + base
            out[token] = CognigyEndpoint(**fields)
        return out

    def provider(self, i: int, p: dict[str, Any], cognigy_version: str) -> Provider:
        at = ("providers", i)
        auth = None
        if "data_action_auth" in p:
            a = p["data_action_auth"]
            auth = DataActionAuth(
                type=a["type"],
                username=(
                    self.plain(a["username"], *at, "data_action_auth", "username")
                    if a.get("username")
                    else None
                ),
                password=self.secret(a.get("password"), *at, "data_action_auth", "password"),
                name=(
                    self.plain(a["name"], *at, "data_action_auth", "name")
                    if a.get("name")
                    else None
                ),
                value=self.secret(a.get("value"), *at, "data_action_auth", "value"),
            )
        mode = p.get("completion") or default_completion(cognigy_version)
        return Provider(
            id=p["id"],
            type=p["type"],
            deployment_name=p["deployment_name"],
            queue_id=p["queue_id"],
            client_id=self.plain(p["client_id"], *at, "client_id"),
            webhook_secret=self.secret(p["webhook_secret"], *at, "webhook_secret"),
            client_secret=self.secret(p["client_secret"], *at, "client_secret"),
            completion_mode=mode,
            host=p.get("host"),
            base_url=p.get("base_url"),
            send_profile=p.get("send_profile", False),
            completion=p.get("completion"),
            organization_id=p.get("organization_id"),
            data_action_auth=auth,
        )
