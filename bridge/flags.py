"""Cognigy's feature flags for the Genesys Cloud Open Messaging provider, read from the
environment under Cognigy's own names (docs/reference/cognigy-model.md §5.1; docs/genesys-setup.md "Prerequisites")."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from om_bridge.bridge.config import messages
from om_bridge.bridge.config.secret import Secret

if TYPE_CHECKING:
    from om_bridge.bridge.config.model import Config

_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})
DEFAULT_ACW_AFTER_TRANSFER_TIMEOUT_MS: Final = 10000


class FlagError(ValueError):
    """A feature-flag variable has a value that cannot be parsed; the message names it."""


@dataclass(frozen=True)
class Whitelist:
    """An organisation whitelist: a comma list of organisation names, or "*" for all."""

    names: frozenset[str] = frozenset()
    everyone: bool = False

    @classmethod
    def parse(cls, value: str | Iterable[str] | None) -> Whitelist:
        """ "org1, org2" / "*" / an iterable of names → Whitelist; "" or None → empty."""
        items = (value or "").split(",") if isinstance(value, str) or value is None else value
        names = frozenset(n.strip() for n in items if n.strip())
        return cls(names=names - {"*"}, everyone="*" in names)

    def allows(self, organisation: str) -> bool:
        """True if the organisation is listed or the list is "*"."""
        return self.everyone or organisation in self.names

    def __str__(self) -> str:
        return "*" if self.everyone else ",".join(sorted(self.names))


# field name -> environment variable (Cognigy's names)
VARIABLES: Final = {
    "enable_genesys_cloud_om": "FEATURE_ENABLE_GENESYS_CLOUD_OM",
    "genesys_cloud_om_whitelist": "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST",
    "bot_connector_endpoint_whitelist": "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST",
    "handle_bot_message": "GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE",
    "filter_unsupported_messages": "FEATURE_FILTER_UNSUPPORTED_MESSAGES_HANDOVER_PROVIDER",
    "filter_empty_messages": "FEATURE_FILTER_EMPTY_MESSAGES_HANDOVER_PROVIDER",
    "use_http_end_handover_request": "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST",
    "acw_after_transfer_timeout_ms": "GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS",
    "skip_eventbridge_organization_id_check": "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK",
    "eventbridge_api_key": "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY",
}


# Where a flag's value came from (`om-bridge check` names it for each flag).
FROM_FEATURES: Final = "[features] table"
FROM_ENVIRONMENT: Final = "environment"
FROM_DEFAULT: Final = "default"


def flag_sources(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Cognigy's variable name → where `Flags.from_config` takes its value: the environment
    (set and not empty, overriding the table), the configuration's `[features]` table, or the
    default."""
    env = os.environ if environ is None else environ
    table = config.features
    sources: dict[str, str] = {}
    for var in VARIABLES.values():
        raw = env.get(var)
        if raw is not None and raw.strip():
            sources[var] = FROM_ENVIRONMENT
        elif var in table:
            sources[var] = FROM_FEATURES
        else:
            sources[var] = FROM_DEFAULT
    return sources


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    """ "true"/"1"/"yes" → True, "false"/"0"/"no" → False (any case), unset/"" → default;
    anything else is a FlagError naming the variable."""
    if value is None or not value.strip():
        return default
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise FlagError(messages.FLAG_NOT_BOOLEAN.format(name=name, value=value))


def parse_ms(name: str, value: str | None, default: int) -> int:
    """A whole, non-negative number of milliseconds; unset/"" → default."""
    if value is None or not value.strip():
        return default
    try:
        ms = int(value.strip())
    except ValueError:
        ms = -1
    if ms < 0:
        raise FlagError(messages.FLAG_NOT_MILLISECONDS.format(name=name, value=value))
    return ms


@dataclass(frozen=True)
class Flags:
    """The feature flags; defaults are Cognigy's (every FEATURE_* off, whitelists empty)."""

    enable_genesys_cloud_om: bool = False
    genesys_cloud_om_whitelist: Whitelist = Whitelist()
    bot_connector_endpoint_whitelist: Whitelist = Whitelist()
    handle_bot_message: bool = False
    filter_unsupported_messages: bool = False
    filter_empty_messages: bool = False
    use_http_end_handover_request: bool = False
    acw_after_transfer_timeout_ms: int = DEFAULT_ACW_AFTER_TRANSFER_TIMEOUT_MS
    skip_eventbridge_organization_id_check: bool = False
    eventbridge_api_key: Secret | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Flags:
        """Read every flag from `environ` (default os.environ); FlagError names a bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, var in VARIABLES.items():
            raw = env.get(var)
            if field.endswith("_whitelist"):
                values[field] = Whitelist.parse(raw)
            elif field == "acw_after_transfer_timeout_ms":
                values[field] = parse_ms(var, raw, DEFAULT_ACW_AFTER_TRANSFER_TIMEOUT_MS)
            elif field == "eventbridge_api_key":
                values[field] = Secret(raw) if raw else None
            else:
                values[field] = parse_bool(var, raw)
        return cls(**values)

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> Flags:
        """The flags of a configuration's `[features]` table, each overridden by an environment
        variable of the same name when that is set and not empty (as Cognigy's deployment
        variables are); FlagError names a bad value."""
        env = os.environ if environ is None else environ
        merged: dict[str, str] = {}
        for name, value in config.features.items():
            merged[name] = value.reveal() if isinstance(value, Secret) else str(value)
        for var in VARIABLES.values():
            raw = env.get(var)
            if raw is not None and raw.strip():
                merged[var] = raw
        flags = cls.from_env(merged)
        key = config.features.get(VARIABLES["eventbridge_api_key"])
        if (
            isinstance(key, Secret)
            and not (env.get(VARIABLES["eventbridge_api_key"]) or "").strip()
        ):
            flags = dataclasses.replace(flags, eventbridge_api_key=key)  # keeps its env: source
        return flags

    def with_overrides(self, **changes: Any) -> Flags:
        """A copy with some flags changed; whitelists may be given as "a,b"/"*"/lists, the API
        key as a plain string."""
        for field, value in list(changes.items()):
            if field.endswith("_whitelist") and not isinstance(value, Whitelist):
                changes[field] = Whitelist.parse(value)
            elif field == "eventbridge_api_key" and isinstance(value, str):
                changes[field] = Secret(value) if value else None
        return dataclasses.replace(self, **changes)

    def refusal(self, organisation: str, environment: str) -> str | None:
        """None when the Genesys Cloud OM provider may be used for this organisation in this
        environment; else a message naming the switch that is off. Checked in this order:
        FEATURE_ENABLE_GENESYS_CLOUD_OM, its organisation whitelist, the Bot Connector endpoint
        whitelist, then the trial environment."""
        if not self.enable_genesys_cloud_om:
            return messages.REFUSE_DISABLED
        if not self.genesys_cloud_om_whitelist.allows(organisation):
            return messages.REFUSE_OM_WHITELIST.format(organisation=organisation)
        if not self.bot_connector_endpoint_whitelist.allows(organisation):
            return messages.REFUSE_ENDPOINT_WHITELIST.format(organisation=organisation)
        if environment.strip().lower() == "trial":
            return messages.REFUSE_TRIAL
        return None
