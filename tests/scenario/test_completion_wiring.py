"""The completion wiring check `om-bridge check` uses: per provider and mode, whether the configured
completion path is wired, with the fix when it is not."""

from __future__ import annotations

import dataclasses

from om_bridge.bridge.completion import wiring_status
from om_bridge.bridge.config import DataActionAuth, Secret
from om_bridge.bridge.genesys import GenesysClient
from om_bridge.sandbox import seed


def by_name(checks) -> dict:  # type: ignore[no-untyped-def]
    return {c.name: c for c in checks}


def test_demo_eventbridge_wiring_passes(bridge_env):
    checks = bridge_env.ctx.completion.wiring_status("genesys-demo")
    assert all(c.ok for c in checks), checks
    names = by_name(checks)
    assert "demo-eventbridge-key" not in repr(checks)  # the key's length, never the key
    assert seed.DEMO_ORG_ID in names["EventBridge organisation check"].detail


def test_eventbridge_flag_key_and_org_problems_name_the_fix(bridge_env):
    ctx = bridge_env.ctx
    flags = ctx.flags.with_overrides(use_http_end_handover_request=False, eventbridge_api_key="")
    names = by_name(wiring_status(ctx.config, flags, "genesys-demo"))
    flag = names["EventBridge end requests enabled"]
    assert not flag.ok and "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST=true" in flag.fix
    key = names["EventBridge API key configured"]
    assert not key.ok and "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY" in key.fix
    provider = dataclasses.replace(ctx.config.provider("genesys-demo"), organization_id=None)
    config = dataclasses.replace(ctx.config, providers={"genesys-demo": provider})
    org = by_name(wiring_status(config, ctx.flags, "genesys-demo"))[
        "EventBridge organisation check"
    ]
    assert org.ok and org.warn and "organization_id" in org.fix


def test_webhook_mode_works_with_or_without_a_data_action_credential(bridge_env):
    ctx = bridge_env.ctx
    provider = dataclasses.replace(ctx.config.provider("genesys-demo"), completion_mode="webhook")
    config = dataclasses.replace(ctx.config, providers={"genesys-demo": provider})
    auth = by_name(wiring_status(config, ctx.flags, "genesys-demo"))[
        "Data-action credential configured"
    ]
    # Cognigy's guide sends no credential: each request is checked with Genesys instead.
    assert auth.ok and "checked with Genesys' REST API" in auth.detail
    with_auth = dataclasses.replace(
        provider, data_action_auth=DataActionAuth(type="basic", username="u", password=Secret("p"))
    )
    config = dataclasses.replace(ctx.config, providers={"genesys-demo": with_auth})
    assert all(c.ok for c in wiring_status(config, ctx.flags, "genesys-demo"))


def test_notifications_mode_creates_a_channel_and_connects(bridge_env):
    ctx = bridge_env.ctx
    provider = dataclasses.replace(
        ctx.config.provider("genesys-demo"), completion_mode="notifications"
    )
    config = dataclasses.replace(ctx.config, providers={"genesys-demo": provider})
    good = GenesysClient(
        client_id=seed.BRIDGE_CLIENT_ID,
        client_secret=seed.BRIDGE_CLIENT_SECRET,
        base_url=bridge_env.sandbox_url,
    )
    checks = by_name(wiring_status(config, ctx.flags, "genesys-demo", good))
    assert checks["Notifications channel can be created"].ok
    assert checks["Notifications WebSocket connects"].ok
    bad = GenesysClient(
        client_id=seed.BRIDGE_CLIENT_ID,
        client_secret="wrong-secret",
        base_url=bridge_env.sandbox_url,
    )
    failed = by_name(wiring_status(config, ctx.flags, "genesys-demo", bad))
    channel = failed["Notifications channel can be created"]
    assert not channel.ok and "client_secret" in channel.detail and channel.fix
    assert "wrong-secret" not in channel.detail
    good.close()
    bad.close()
