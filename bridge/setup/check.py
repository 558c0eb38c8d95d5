"""`om-bridge check`: verify every setup step of each handover provider against its Genesys org.

One line per step (PASS / FAIL / WARN) with, for a FAIL or WARN, what to change and the setup step
where it is done. Exit status 0 only when no step FAILs; 2 when the configuration cannot be loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from om_bridge.bridge.setup import messages as m
from om_bridge.bridge.setup.checks import (
    check_environment,
    check_flags,
    check_flows,
    check_region,
)
from om_bridge.bridge.setup.cognigy_check import check_cognigy
from om_bridge.bridge.setup.context import SetupError, Target, load_targets
from om_bridge.bridge.setup.redact import RedactingWriter, TextSink, target_secrets
from om_bridge.bridge.setup.remote import (
    check_completion,
    check_permissions,
    check_queue,
    check_routing,
    check_secret,
    check_secret_config,
    check_token,
    check_webhook_url,
    find_integration,
    returned_secret,
)
from om_bridge.bridge.setup.roundtrip import check_roundtrip
from om_bridge.bridge.setup.steps import StepLog, StepResult, exit_status, render_json, render_text


def _skipped(target: Target, log: StepLog, steps: tuple[str, ...], detail: str, fix: str) -> None:
    """Steps that cannot run yet, as WARN "not checked"; webhook_secret's own form is still
    checked (a missing or short secret FAILs without asking Genesys)."""
    for step in steps:
        if step == m.T_WEBHOOK_SECRET and not check_secret_config(target, log):
            continue
        log.warned(step, detail, fix, None)


def check_target(target: Target) -> list[StepResult]:
    """Every step for one provider, in the order a user would fix them."""
    log = StepLog(target.id)
    region_ok = check_region(target, log)
    check_environment(target, log)
    check_flags(target, log)
    check_flows(target, log)
    token_ok = region_ok and check_token(target, log)
    if not region_ok:
        log.warned(m.T_TOKEN, m.SKIPPED_NO_REGION, m.SKIPPED_NO_REGION_FIX, None)
    integ: dict | None = None
    after_integration = (m.T_WEBHOOK_URL, m.T_WEBHOOK_SECRET, m.T_ROUTING)
    if token_ok:
        integ = find_integration(target, log)
        if integ is not None:
            check_webhook_url(target, integ, log)
            check_secret(target, integ, log)
            check_routing(target, integ, log)
        else:
            _skipped(
                target,
                log,
                after_integration,
                m.SKIPPED_NO_INTEGRATION,
                m.SKIPPED_NO_INTEGRATION_FIX,
            )
        check_queue(target, log)
        check_permissions(target, (integ or {}).get("id"), log)
    else:
        _skipped(
            target,
            log,
            (m.T_INTEGRATION, *after_integration, m.T_QUEUE),
            m.SKIPPED_NO_TOKEN,
            m.SKIPPED_NO_TOKEN_FIX,
        )
    check_completion(target, log, target.client() if token_ok else None)
    check_roundtrip(target, integ, returned_secret(integ), log)
    return log.results


def run_check(targets: list[Target]) -> list[tuple[Target, list[StepResult]]]:
    """Check each target (closing its client afterwards)."""
    out = []
    for target in targets:
        try:
            out.append((target, check_target(target)))
        finally:
            target.close()
    return out


def main(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None, out: TextSink | None = None
) -> int:
    """`om-bridge check [--config FILE] [--provider ID] [--json]`."""
    out = out or sys.stdout
    try:
        targets = load_targets("check", args, os.environ if environ is None else environ)
    except SetupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    out = RedactingWriter(out, target_secrets(targets))
    checked = run_check(targets)
    # Cognigy-hosted endpoints: the way back into Cognigy (not limited by --provider).
    cognigy = check_cognigy(targets[0].config) if targets else []
    results = [r for _, rs in checked for r in rs] + [r for _, rs in cognigy for r in rs]
    if getattr(args, "json", False):
        print(render_json(results), file=out)
    else:
        groups = [(m.PROVIDER_HEADER.format(provider=t.id, where=t.where), rs) for t, rs in checked]
        print(render_text(groups + cognigy), file=out)
    return exit_status(results)
