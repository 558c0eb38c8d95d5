"""Texts of configuration and feature-flag errors, in one place so wording stays consistent."""

from __future__ import annotations

# configuration
INVALID_CONFIG = "invalid configuration ({source}): {errors}"
CONFIG_NOT_FOUND = "configuration file {path} does not exist"
CONFIG_UNREADABLE = "cannot read configuration file {path}: {error}"
CONFIG_BAD_TOML = "configuration file {path} is not valid TOML: {error}"
REQUIRED = "required"
UNKNOWN_KEY = "unknown key"
MUST_BE_TYPE = "must be {type}"
MUST_BE_ONE_OF = "must be one of {choices}"
MUST_BE_CONST = "must be {value}"
MUST_NOT_BE_EMPTY = "must not be empty"
BAD_PATTERN = "has an invalid format"
ENV_VAR_MISSING = "environment variable {var} is not set"
ENV_STORE_URL = (
    "environment variable {var} does not hold a store URL (sqlite:///path.db, "
    "redis://host:port/db, redis+sentinel://host:26379,host:26379/service/db, ...)"
)
ENV_VAR_EMPTY = "environment variable {var} is empty"
ENV_REF_EMPTY = '"env:" needs a variable name'
UNKNOWN_PROVIDER = (
    "endpoint {token!r} names handover provider {provider!r}, which is not configured"
)
DUPLICATE_TOKEN = "duplicate endpoint url_token {token!r}"
DUPLICATE_PROVIDER = "duplicate provider id {provider!r}"
WEBHOOK_NEEDS_AUTH = 'required when completion is "webhook"'
NO_SUCH_ENDPOINT = "no endpoint with url_token {token!r} is configured"
NO_SUCH_PROVIDER = "no handover provider with id {provider!r} is configured"
CONFIG_WRITE_FAILED = "cannot write configuration file {path}: {error}"

# feature flags
FLAG_NOT_BOOLEAN = "{name}={value!r} is not a boolean: use true/false, 1/0 or yes/no"
FLAG_NOT_MILLISECONDS = "{name}={value!r} is not a whole number of milliseconds >= 0"
REFUSE_DISABLED = (
    "the Genesys Cloud Open Messaging handover provider is off: "
    'FEATURE_ENABLE_GENESYS_CLOUD_OM is not "true"'
)
REFUSE_OM_WHITELIST = (
    "the Genesys Cloud Open Messaging handover provider is off for this "
    'organisation: organisation "{organisation}" is not in '
    "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST"
)
REFUSE_ENDPOINT_WHITELIST = (
    "the Genesys Cloud Open Messaging handover provider is off for this "
    'organisation: organisation "{organisation}" is not in '
    "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST"
)
REFUSE_TRIAL = (
    "the Genesys Cloud Open Messaging handover provider cannot be used in the trial "
    'environment: environment is "trial"'
)
