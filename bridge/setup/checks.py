"""The local steps of `om-bridge check`: region, environment, feature flags, webhook URL form.

These need no call to Genesys; `bridge.setup.remote` holds the steps that do.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from urllib.parse import urlsplit

from om_bridge.bridge.flags import (
    FROM_DEFAULT,
    FROM_ENVIRONMENT,
    FROM_FEATURES,
    Flags,
    flag_sources,
)
from om_bridge.bridge.genesys import UnknownRegionError, resolve_hosts
from om_bridge.bridge.setup import messages as m
from om_bridge.bridge.setup.context import Target
from om_bridge.bridge.setup.steps import StepLog


def check_region(target: Target, log: StepLog) -> bool:
    """The host names a known Genesys region (which one), or a base URL overrides it."""
    p = target.provider
    try:
        hosts = resolve_hosts(p.host or None, p.base_url or None)
    except UnknownRegionError as exc:
        log.failed(m.T_REGION, m.REGION_BAD.format(error=exc), m.REGION_FIX, m.SEED_PROVIDER)
        return False
    if hosts.region is None:
        log.passed(m.T_REGION, m.REGION_BASE_URL.format(url=hosts.api_base))
    else:
        r = hosts.region
        log.passed(
            m.T_REGION,
            m.REGION_OK.format(
                host=p.host,
                name=r.name,
                aws=r.aws_region,
                api=hosts.api_base,
                login=hosts.login_base,
            ),
        )
    return True


def check_environment(target: Target, log: StepLog) -> None:
    """Cognigy's restriction (docs/genesys-setup.md, "Restrictions"): Open Messaging cannot be used in the trial environment."""
    env = target.config.bridge.environment
    if env.strip().lower() == "trial":
        log.failed(m.T_ENVIRONMENT, m.ENV_TRIAL, m.ENV_FIX, m.SEED_RESTRICTIONS)
    else:
        log.passed(m.T_ENVIRONMENT, m.ENV_OK.format(environment=env))


def check_flags(target: Target, log: StepLog) -> None:
    """The feature flags and organisation whitelists let every endpoint of this provider use it."""
    try:
        flags = Flags.from_config(target.config, target.environ)
    except ValueError as exc:
        log.failed(m.T_FLAGS, m.FLAGS_ERROR.format(error=exc), m.FLAGS_FIX, m.SEED_PREREQUISITES)
        return
    endpoints = target.endpoints()
    if not endpoints:
        log.warned(
            m.T_FLAGS,
            m.FLAGS_NO_ENDPOINT,
            m.FLAGS_NO_ENDPOINT_FIX.format(provider=target.id),
            m.SEED_PROVIDER,
        )
        return
    refused = []
    for e in endpoints:
        # The trial environment has its own step; here only the switches and whitelists count.
        reason = flags.refusal(e.organisation, "production")
        if reason is not None:
            refused.append(
                m.FLAGS_REFUSED.format(token=e.url_token, org=e.organisation, reason=reason)
            )
    sources = describe_sources(flag_sources(target.config, target.environ))
    if refused:
        detail = "; ".join(refused) + f" ({sources})"
        log.failed(m.T_FLAGS, detail, m.FLAGS_FIX, m.SEED_PREREQUISITES)
    else:
        names = ", ".join(
            f"endpoint {e.url_token} (organisation {e.organisation})" for e in endpoints
        )
        log.passed(m.T_FLAGS, m.FLAGS_OK.format(endpoints=names, sources=sources))


def describe_sources(sources: dict[str, str]) -> str:
    """ "flags from the [features] table: A, B; from the environment: C; all other flags at
    their defaults": each flag that is set, named with where it came from."""
    groups = []
    for source in (FROM_FEATURES, FROM_ENVIRONMENT):
        names = [var for var, where in sources.items() if where == source]
        if names:
            groups.append(m.FLAGS_SOURCE_GROUP.format(source=source, names=", ".join(names)))
    if not groups:
        return m.FLAGS_SOURCE_NONE
    if any(where == FROM_DEFAULT for where in sources.values()):
        groups.append(m.FLAGS_SOURCE_DEFAULTS)
    return m.FLAGS_SOURCES.format(groups="; ".join(groups))


def check_flows(target: Target, log: StepLog) -> None:
    """Every endpoint of this provider has a flow that loads, with valid node configs (the
    bridge refuses to start otherwise)."""
    from om_bridge.bridge.app import StartupError
    from om_bridge.bridge.app import check_flows as startup_check

    endpoints = target.endpoints()
    if not endpoints:
        return
    tokens = {e.url_token for e in endpoints}
    config = dataclasses.replace(
        target.config,
        endpoints={t: e for t, e in target.config.endpoints.items() if t in tokens},
    )
    try:
        startup_check(config)
    except StartupError as exc:
        log.failed(m.T_FLOWS, str(exc), m.FLOWS_FIX, m.SEED_PROVIDER)
        return
    log.passed(
        m.T_FLOWS,
        m.FLOWS_OK.format(flows=", ".join(f"{e.url_token} → {e.flow}" for e in endpoints)),
    )


def public_url_problem(url: str) -> str | None:
    """Why Genesys Cloud could not deliver to `url` (https on 443, a public host), or None."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return m.URL_PROBLEM_SCHEME.format(scheme=parts.scheme or "missing")
    if parts.port not in (None, 443):
        return m.URL_PROBLEM_PORT.format(port=parts.port)
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
        return m.URL_PROBLEM_LOCAL.format(host=host)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return m.URL_PROBLEM_LOCAL.format(host=host)
    return None
