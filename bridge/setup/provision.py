"""`om-bridge provision`: create the Open Messaging integration, or update its webhook URL and
secret, so that it matches the configuration. Idempotent: a second run prints "no changes".

Open Messaging integrations carry no queue: routing to the queue is the Inbound Message flow and
Message Routing (setup steps 3 and 4 of docs/genesys-setup.md), which provision does not touch; it prints them as next steps.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from om_bridge.bridge.genesys import GenesysError, InvalidClientError, PermissionDeniedError
from om_bridge.bridge.setup import messages as m
from om_bridge.bridge.setup.checks import public_url_problem
from om_bridge.bridge.setup.context import SetupError, Target, load_targets, reveal
from om_bridge.bridge.setup.provision_state import ProvisionState
from om_bridge.bridge.setup.redact import RedactingWriter, TextSink, target_secrets
from om_bridge.bridge.setup.remote import (
    MIN_SECRET_LENGTH,
    URL_FIELD,
    match_integration,
    returned_secret,
    same_url,
)

# Integration creation is asynchronous in Genesys (`createStatus` Initiated → Completed / Error).
CREATE_WAIT_SECONDS = 30.0
CREATE_POLL_SECONDS = 0.2


@dataclass
class Plan:
    """What provision will do for one provider: `action` create / update / none, the fields to
    set and a human line per change."""

    action: str
    integration: dict | None
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def missing_settings(target: Target) -> str | None:
    """Why provision cannot run for this provider, or None."""
    p = target.provider
    if not (p.deployment_name or "").strip():
        return m.P_NEED_NAME
    if target.webhook_url is None:
        return m.P_NEED_URL
    secret = target.webhook_secret
    if not secret:
        return m.P_NEED_SECRET
    if len(secret) < MIN_SECRET_LENGTH:
        return m.P_NEED_SECRET_LEN
    if not p.client_id or not reveal(p.client_secret):
        return m.P_NEED_CREDENTIALS
    return None


def make_plan(
    target: Target, integ: dict | None, state: ProvisionState, api_base: str, dry_run: bool
) -> Plan:
    """Compare the integration (None: absent) with the configuration."""
    name = target.provider.deployment_name.strip()
    url, secret = target.webhook_url or "", target.webhook_secret
    if integ is None:
        line = m.P_WOULD_CREATE.format(name=name, url=url)
        return Plan(
            "create",
            None,
            {"name": name, "webhook_url": url, "webhook_secret": secret},
            [line] if dry_run else [],
        )
    plan = Plan("update", integ)
    current = str(integ.get(URL_FIELD) or "")
    if not same_url(current, url):
        plan.fields["webhook_url"] = url
        text = m.P_WOULD_SET_URL if dry_run else m.P_SET_URL
        plan.lines.append(text.format(old=current or "(none)", new=url))
    theirs = returned_secret(integ)
    if theirs is not None:
        why = None if hmac.compare_digest(theirs.encode(), secret.encode()) else m.P_WHY_DIFFERENT
    else:
        # Genesys did not return it: trust the fingerprint of what this data directory last set.
        known = state.secret_matches(api_base, integ["id"], secret)
        why = None if known else (m.P_WHY_UNKNOWN if known is None else m.P_WHY_CHANGED)
    if why is not None:
        plan.fields["webhook_secret"] = secret
        plan.lines.append((m.P_WOULD_SET_SECRET if dry_run else m.P_SET_SECRET).format(why=why))
    if not plan.fields:
        plan.action = "none"
        plan.lines.append(m.P_NO_CHANGES.format(name=integ.get("name"), id=integ.get("id")))
    return plan


def wait_created(
    get: Callable[[], dict],
    name: str,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll the new integration until Genesys has finished creating it; GenesysError otherwise."""
    deadline = clock() + CREATE_WAIT_SECONDS
    while True:
        integ = get()
        status = str(integ.get("createStatus") or "Completed").lower()
        if status == "error":
            error = (integ.get("createError") or {}).get("message") or "createStatus Error"
            raise GenesysError(m.P_CREATE_ERROR.format(name=name, error=error))
        if status != "initiated":
            return integ
        if clock() >= deadline:
            raise GenesysError(m.P_CREATE_PENDING.format(name=name, seconds=CREATE_WAIT_SECONDS))
        sleep(CREATE_POLL_SECONDS)


def _queue_label(target: Target) -> str:
    queue_id = target.provider.queue_id
    try:
        name = target.client().get_queue(queue_id).get("name")
    except (GenesysError, ValueError):
        name = None
    return f'queue "{name}" ({queue_id})' if name else f"queue {queue_id}"


def provision_target(target: Target, data_dir: str, dry_run: bool, out: TextSink) -> bool:
    """Plan and (unless `dry_run`) apply for one provider; prints what changed. True on success."""
    name = (target.provider.deployment_name or "").strip()
    print(m.P_HEADER.format(provider=target.id, name=name, where=target.where), file=out)
    problem = missing_settings(target)
    if problem is not None:
        print(m.P_NEED.format(problem=problem), file=out)
        return False
    webhook_url = target.webhook_url
    assert webhook_url is not None  # missing_settings answers P_NEED_URL without it
    state = ProvisionState(data_dir)
    try:
        client = target.client()  # UnknownRegionError (a ValueError) for a host of no region
        # A real org (a region host, not a sandbox/proxy base_url) cannot post to a local
        # address: never point its integration there (public_url defaults to 127.0.0.1:8080).
        unreachable = None if target.provider.base_url else public_url_problem(webhook_url)
        if unreachable is not None:
            print(
                m.P_NEED.format(
                    problem=m.P_NEED_PUBLIC.format(url=target.webhook_url, problem=unreachable)
                ),
                file=out,
            )
            return False
        integ = match_integration(client.list_integrations(), name)
        plan = make_plan(target, integ, state, client.hosts.api_base, dry_run)
        if plan.action == "create" and not dry_run:
            created = client.create_integration(
                plan.fields["name"], plan.fields["webhook_url"], plan.fields["webhook_secret"]
            )
            created = wait_created(lambda: client.get_integration(created["id"]), name)
            state.record_secret(client.hosts.api_base, created["id"], target.webhook_secret)
            plan.lines.append(
                m.P_CREATED.format(name=name, id=created["id"], url=target.webhook_url)
            )
        elif plan.action == "update" and not dry_run:
            assert plan.integration is not None
            client.patch_integration(plan.integration["id"], **plan.fields)
            if "webhook_secret" in plan.fields or returned_secret(plan.integration) is None:
                state.record_secret(
                    client.hosts.api_base, plan.integration["id"], target.webhook_secret
                )
    except PermissionDeniedError as err:
        print(m.P_FAILED.format(provider=target.id, error=err), file=out)
        perms = ", ".join(err.missing_permissions) or "the permission named above"
        print(
            "  "
            + m.FIX_PREFIX
            + m.P_FORBIDDEN_FIX.format(perms=perms, client_id=target.provider.client_id),
            file=out,
        )
        return False
    except (GenesysError, ValueError) as err:
        print(m.P_FAILED.format(provider=target.id, error=err), file=out)
        if isinstance(err, InvalidClientError):
            print(
                "  "
                + m.FIX_PREFIX
                + (m.TOKEN_BAD_ID_FIX if err.which == "client_id" else m.TOKEN_BAD_SECRET_FIX),
                file=out,
            )
        return False
    for line in plan.lines:
        print(line, file=out)
    if plan.action == "create":
        print(
            m.P_NEXT.format(
                flow=m.SEED_FLOW, routing=m.SEED_ROUTING, name=name, queue=_queue_label(target)
            ),
            file=out,
        )
    return True


def main(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None, out: TextSink | None = None
) -> int:
    """`om-bridge provision [--config FILE] [--provider ID] [--dry-run]`: 0 when every provider
    matches (or, with --dry-run, could be planned), 1 when one failed, 2 for a bad configuration."""
    out = out or sys.stdout
    try:
        targets = load_targets("provision", args, os.environ if environ is None else environ)
    except SetupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    out = RedactingWriter(out, target_secrets(targets))
    dry_run = bool(getattr(args, "dry_run", False))
    data_dir: Any = getattr(args, "data_dir", None) or ".om-bridge"
    if dry_run:
        print(m.P_DRY_RUN, file=out)
    ok = True
    for i, target in enumerate(targets):
        if i:
            print("", file=out)
        try:
            ok = provision_target(target, data_dir, dry_run, out) and ok
        finally:
            target.close()
    return 0 if ok else 1
