"""Writing configuration back out as TOML: `dump_config` (effective config) and `write_config`."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import tomli_w

from om_bridge.bridge.config import messages
from om_bridge.bridge.config.errors import ConfigError
from om_bridge.bridge.config.model import Config
from om_bridge.bridge.config.schema import schema_errors
from om_bridge.bridge.config.secret import MASK, Secret, redact_url


def _secret(value: Secret | None, reveal: bool) -> str | None:
    if value is None:
        return None
    if value.source:  # an env: reference stays a reference, never its value
        return value.source
    return value.reveal() if reveal else MASK


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def config_data(config: Config, reveal_secrets: bool = False) -> dict[str, Any]:
    """The effective configuration as TOML-shaped data (resolved completion, no None values);
    secrets as their "env:NAME" form, else '***' unless `reveal_secrets`."""
    bridge = dataclasses.asdict(config.bridge)
    bridge["extension_api_key"] = _secret(config.bridge.extension_api_key, reveal_secrets)
    store_ref = bridge.pop("store_ref", None)
    if store_ref and not reveal_secrets:
        bridge["store"] = store_ref
    elif not reveal_secrets:
        bridge["store"] = redact_url(bridge["store"])
    providers = []
    for p in config.providers.values():
        entry = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
        entry["completion"] = entry.pop("completion_mode")
        for key in ("webhook_secret", "client_secret"):
            entry[key] = _secret(entry[key], reveal_secrets)
        auth = p.data_action_auth
        if auth is not None:
            entry["data_action_auth"] = {
                "type": auth.type,
                "username": auth.username,
                "name": auth.name,
                "password": _secret(auth.password, reveal_secrets),
                "value": _secret(auth.value, reveal_secrets),
            }
        providers.append(entry)
    endpoints = [dataclasses.asdict(e) for e in config.endpoints.values()]
    data: dict[str, Any] = {"bridge": bridge, "endpoints": endpoints, "providers": providers}
    if config.cognigy_endpoints:
        data["cognigy_endpoints"] = [
            {
                **{f.name: getattr(c, f.name) for f in dataclasses.fields(c)},
                "api_key": _secret(c.api_key, reveal_secrets),
            }
            for c in config.cognigy_endpoints.values()
        ]
    return _drop_none(data)


def dump_config(config: Config, reveal_secrets: bool = False) -> str:
    """The effective configuration as TOML text, safe to log unless `reveal_secrets`."""
    return tomli_w.dumps(config_data(config, reveal_secrets))


def write_config(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Validate configuration data against the schema and write it as TOML to `path` atomically
    (parent directories created, file readable by its owner only: it may hold secrets)."""
    data = _drop_none(data)
    errors = schema_errors(data)
    if errors:
        raise ConfigError(
            messages.INVALID_CONFIG.format(source=os.fspath(path), errors="; ".join(errors)), errors
        )
    text = tomli_w.dumps(data)
    target = os.path.abspath(os.fspath(path))
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=".om-bridge-", suffix=".toml", dir=os.path.dirname(target)
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigError(
            messages.CONFIG_WRITE_FAILED.format(path=target, error=exc.strerror)
        ) from None
