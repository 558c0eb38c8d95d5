"""The steps of `om-bridge check` that ask Genesys: token, integration, webhook, queue, permissions,
completion wiring."""

from __future__ import annotations

import hmac
from typing import Any

from om_bridge.bridge.completion.wiring import wiring_status
from om_bridge.bridge.flags import Flags
from om_bridge.bridge.genesys import (
    BadRequestError,
    GenesysError,
    InvalidClientError,
    NotFoundError,
    PermissionDeniedError,
)
from om_bridge.bridge.genesys.client import seg
from om_bridge.bridge.setup import messages as m
from om_bridge.bridge.setup.checks import public_url_problem
from om_bridge.bridge.setup.context import Target, reveal
from om_bridge.bridge.setup.probes import run_probes
from om_bridge.bridge.setup.steps import FAIL, PASS, WARN, StepLog

SECRET_FIELD = "outboundNotificationWebhookSignatureSecretToken"
URL_FIELD = "outboundNotificationWebhookUrl"
MIN_SECRET_LENGTH = 16  # Genesys: "must be longer than 15 characters"


def check_token(target: Target, log: StepLog) -> bool:
    """The OAuth client gets a token; a wrong client id and a wrong secret are told apart."""
    p = target.provider
    if not p.client_id or not reveal(p.client_secret):
        log.failed(m.T_TOKEN, m.TOKEN_MISSING, m.TOKEN_MISSING_FIX, m.SEED_PROVIDER)
        return False
    client = target.client()
    login = client.hosts.login_base
    try:
        client.token()
    except InvalidClientError as err:
        if err.which == "client_id":
            log.failed(
                m.T_TOKEN,
                m.TOKEN_BAD_ID.format(client_id=p.client_id, login=login),
                m.TOKEN_BAD_ID_FIX,
                m.SEED_CREDENTIALS,
            )
        else:
            log.failed(
                m.T_TOKEN,
                m.TOKEN_BAD_SECRET.format(client_id=p.client_id),
                m.TOKEN_BAD_SECRET_FIX,
                m.SEED_CREDENTIALS,
            )
        return False
    except (GenesysError, ValueError) as err:
        log.failed(
            m.T_TOKEN,
            m.TOKEN_FAILED.format(error=err),
            m.TOKEN_FAILED_FIX.format(login=login),
            m.SEED_PROVIDER,
        )
        return False
    log.passed(m.T_TOKEN, m.TOKEN_OK.format(client_id=p.client_id, login=login))
    return True


def find_integration(target: Target, log: StepLog) -> dict | None:
    """The Open Messaging integration named by deployment_name, with its status; else the names
    that do exist."""
    name = (target.provider.deployment_name or "").strip()
    if not name:
        log.failed(m.T_INTEGRATION, m.INTEG_NO_NAME, m.INTEG_NO_NAME_FIX, m.SEED_PROVIDER)
        return None
    try:
        entities = target.client().list_integrations()
    except PermissionDeniedError as err:
        log.failed(
            m.T_INTEGRATION,
            m.INTEG_LIST_FAILED.format(error=err),
            m.INTEG_LIST_FIX,
            m.SEED_CREDENTIALS,
        )
        return None
    except GenesysError as err:
        log.failed(
            m.T_INTEGRATION,
            m.INTEG_LIST_FAILED.format(error=err),
            m.PERM_UNPROBED_FIX,
            m.SEED_PLATFORM,
        )
        return None
    integ = match_integration(entities, name)
    if integ is None:
        names = ", ".join(sorted(f'"{e.get("name")}"' for e in entities)) or m.INTEG_NONE
        log.failed(
            m.T_INTEGRATION,
            m.INTEG_MISSING.format(name=name, available=names),
            m.INTEG_MISSING_FIX,
            m.SEED_PLATFORM,
        )
        return None
    detail = m.INTEG_OK.format(
        name=integ.get("name"),
        id=integ.get("id"),
        status=integ.get("status", "unknown"),
        create_status=integ.get("createStatus", "unknown"),
    )
    if integ.get("name") != name:
        detail += m.INTEG_CASE.format(actual=integ.get("name"))
    status, problem, fix = _integration_problem(integ)
    if status == PASS:
        log.passed(m.T_INTEGRATION, detail)
    else:
        log.add(m.T_INTEGRATION, status, f"{detail}: {problem}", fix, m.SEED_PLATFORM)
    return integ


def match_integration(entities: list[dict], name: str) -> dict | None:
    """The entity named `name` exactly, else ignoring case (as the bridge's lookup does)."""
    exact = next((e for e in entities if e.get("name") == name), None)
    if exact is not None:
        return exact
    folded = name.casefold()
    return next((e for e in entities if str(e.get("name", "")).casefold() == folded), None)


def _integration_problem(integ: dict) -> tuple[str, str, str | None]:
    create_status = str(integ.get("createStatus") or "").lower()
    if create_status == "error":
        error = (integ.get("createError") or {}).get("message") or "createStatus Error"
        return FAIL, m.INTEG_CREATE_ERROR.format(error=error), m.INTEG_CREATE_ERROR_FIX
    if create_status == "initiated":
        return WARN, m.INTEG_CREATING, m.INTEG_CREATING_FIX
    status = integ.get("status")
    if status is not None and str(status).lower() != "active":
        return FAIL, m.INTEG_NOT_ACTIVE.format(status=status), m.INTEG_NOT_ACTIVE_FIX
    if " " in str(integ.get("name", "")):
        return WARN, m.INTEG_SPACES.format(name=integ.get("name")), m.INTEG_SPACES_FIX
    return PASS, "", None


def same_url(a: str, b: str) -> bool:
    """URLs equal up to the case of scheme and host (Genesys posts to exactly this URL)."""
    from urllib.parse import urlsplit

    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return (pa.scheme.lower(), (pa.netloc or "").lower(), pa.path, pa.query) == (
        pb.scheme.lower(),
        (pb.netloc or "").lower(),
        pb.path,
        pb.query,
    )


def check_webhook_url(target: Target, integ: dict, log: StepLog) -> None:
    """The integration's outbound webhook URL is public_url + /handover/genesysCloudOM."""
    expected = target.webhook_url
    if expected is None:
        log.failed(m.T_WEBHOOK_URL, m.URL_NO_PUBLIC, m.URL_NO_PUBLIC_FIX, m.SEED_PLATFORM)
        return
    actual = str(integ.get(URL_FIELD) or "")
    # Only a real Genesys org needs a public HTTPS URL; the sandbox delivers to loopback.
    problem = None if target.provider.base_url else public_url_problem(expected)
    if not same_url(actual, expected) and problem is not None:
        # Pointing the integration at an address Genesys cannot reach would not help.
        log.failed(
            m.T_WEBHOOK_URL,
            m.URL_WRONG_NOT_PUBLIC.format(
                name=integ.get("name"),
                actual=actual or "(none)",
                expected=expected,
                problem=problem,
            ),
            m.URL_NOT_PUBLIC_FIX,
            m.SEED_PLATFORM,
        )
        return
    if not same_url(actual, expected):
        name = integ.get("name")
        log.failed(
            m.T_WEBHOOK_URL,
            m.URL_WRONG.format(name=name, actual=actual or "(none)", expected=expected),
            m.URL_WRONG_FIX.format(name=name, expected=expected),
            m.SEED_PLATFORM,
        )
        return
    detail = m.URL_OK.format(url=actual)
    if problem:
        log.warned(
            m.T_WEBHOOK_URL,
            detail + m.URL_NOT_PUBLIC.format(problem=problem),
            m.URL_NOT_PUBLIC_FIX,
            m.SEED_PLATFORM,
        )
    else:
        log.passed(m.T_WEBHOOK_URL, detail)


def returned_secret(integ: dict | None) -> str | None:
    """The integration's signature secret when Genesys returned it in clear, else None."""
    value = (integ or {}).get(SECRET_FIELD)
    if not isinstance(value, str) or not value or set(value) <= {"*"}:
        return None
    return value


def check_secret_config(target: Target, log: StepLog) -> bool:
    """webhook_secret is set and long enough for Genesys; False (with a FAIL) otherwise."""
    secret = target.webhook_secret
    if not secret:
        log.failed(m.T_WEBHOOK_SECRET, m.SECRET_MISSING, m.SECRET_MISSING_FIX, m.SEED_PROVIDER)
        return False
    if len(secret) < MIN_SECRET_LENGTH:
        log.failed(
            m.T_WEBHOOK_SECRET,
            m.SECRET_SHORT.format(length=len(secret)),
            m.SECRET_SHORT_FIX,
            m.SEED_PLATFORM,
        )
        return False
    return True


def check_secret(target: Target, integ: dict, log: StepLog) -> None:
    """The integration's secret equals webhook_secret, where the API returns it."""
    if not check_secret_config(target, log):
        return
    theirs = returned_secret(integ)
    if theirs is None:
        log.warned(m.T_WEBHOOK_SECRET, m.SECRET_HIDDEN, m.SECRET_HIDDEN_FIX, m.SEED_PLATFORM)
    elif hmac.compare_digest(theirs.encode(), target.webhook_secret.encode()):
        log.passed(m.T_WEBHOOK_SECRET, m.SECRET_OK)
    else:
        log.failed(
            m.T_WEBHOOK_SECRET,
            m.SECRET_WRONG,
            m.SECRET_WRONG_FIX.format(name=integ.get("name")),
            m.SEED_PROVIDER,
        )


def check_routing(target: Target, integ: dict, log: StepLog) -> None:
    """An inbound message flow is attached to the integration's address (setup steps 3 and 4, docs/genesys-setup.md), read
    from its routing recipient (`GET /api/v2/routing/message/recipients/{id}`)."""
    name = integ.get("name")
    recipient_id = (integ.get("recipient") or {}).get("id")
    if not recipient_id:
        log.warned(
            m.T_ROUTING,
            m.ROUTING_NO_RECIPIENT.format(name=name),
            m.ROUTING_CHECK_FIX,
            m.SEED_ROUTING,
        )
        return
    try:
        recipient = (
            target.client().request(
                "GET", f"/api/v2/routing/message/recipients/{seg(recipient_id)}"
            )
            or {}
        )
    except PermissionDeniedError as err:
        log.warned(
            m.T_ROUTING,
            m.ROUTING_FORBIDDEN.format(error=err),
            m.ROUTING_FORBIDDEN_FIX,
            m.SEED_CREDENTIALS,
        )
        return
    except GenesysError as err:
        log.warned(
            m.T_ROUTING, m.ROUTING_FAILED.format(error=err), m.ROUTING_CHECK_FIX, m.SEED_ROUTING
        )
        return
    flow = recipient.get("flow") or {}
    if flow.get("id"):
        log.passed(m.T_ROUTING, m.ROUTING_OK.format(flow=flow.get("name") or flow["id"], name=name))
    else:
        log.failed(
            m.T_ROUTING,
            m.ROUTING_NO_FLOW.format(name=name),
            m.ROUTING_NO_FLOW_FIX.format(name=name),
            m.SEED_ROUTING,
        )


def check_queue(target: Target, log: StepLog) -> None:
    """The queue id exists (`GET /api/v2/routing/queues/{id}`), with its name and members."""
    queue_id = (target.provider.queue_id or "").strip()
    if not queue_id:
        log.failed(m.T_QUEUE, m.QUEUE_NO_ID, m.QUEUE_NO_ID_FIX, m.SEED_QUEUE)
        return
    try:
        queue = target.client().get_queue(queue_id)
    except (NotFoundError, BadRequestError):
        # Genesys answers 400 for an id that is not even a UUID, 404 for an unknown one.
        log.failed(
            m.T_QUEUE, m.QUEUE_MISSING.format(id=queue_id), m.QUEUE_MISSING_FIX, m.SEED_QUEUE
        )
        return
    except PermissionDeniedError as err:
        log.warned(
            m.T_QUEUE,
            m.QUEUE_FORBIDDEN.format(error=err),
            m.QUEUE_FORBIDDEN_FIX,
            m.SEED_CREDENTIALS,
        )
        return
    except GenesysError as err:
        log.warned(m.T_QUEUE, m.QUEUE_FAILED.format(error=err), m.PERM_UNPROBED_FIX, None)
        return
    members = queue.get("memberCount")
    name, qid = queue.get("name"), queue.get("id", queue_id)
    if members == 0:
        log.warned(
            m.T_QUEUE, m.QUEUE_EMPTY.format(name=name, id=qid), m.QUEUE_EMPTY_FIX, m.SEED_QUEUE
        )
    else:
        log.passed(
            m.T_QUEUE,
            m.QUEUE_OK.format(name=name, id=qid, members=members if members is not None else "?"),
        )


def check_permissions(target: Target, integration_id: str | None, log: StepLog) -> None:
    """One line per permission the bridge's calls need (see `bridge.setup.probes`)."""
    client_id = target.provider.client_id
    for outcome in run_probes(target.client(), integration_id):
        permission = outcome.probe.permission
        title = m.t_permission(permission)
        wording = m.SEED_ROLE_WORDING.get(permission)
        seed_note = (
            m.PERM_SEED.format(wording=wording)
            if wording
            else m.PERM_NOT_IN_SEED.format(purpose=outcome.probe.purpose)
        )
        if outcome.status == PASS:
            log.passed(title, outcome.detail + seed_note)
            continue
        if outcome.missing:
            fix = m.PERM_FIX.format(perms=", ".join(outcome.missing), client_id=client_id)
            log.add(title, outcome.status, outcome.detail + seed_note, fix, m.SEED_CREDENTIALS)
        else:
            log.warned(title, outcome.detail + seed_note, m.PERM_UNPROBED_FIX, None)


def check_completion(target: Target, log: StepLog, client: Any) -> None:
    """The completion mode is wired (bridge.completion.wiring), one line per wiring check."""
    try:
        flags = Flags.from_config(target.config, target.environ)
        checks = wiring_status(target.config, flags, target.id, client)
    except Exception as exc:
        log.failed(
            m.t_completion("wiring"),
            m.COMPLETION_UNAVAILABLE.format(error=exc),
            m.COMPLETION_FIX,
            m.SEED_PREREQUISITES,
        )
        return
    for c in checks:
        status = FAIL if not c.ok else (WARN if c.warn else PASS)
        log.add(
            m.t_completion(c.name),
            status,
            c.detail,
            c.fix or m.COMPLETION_FIX,
            c.seed_step or m.SEED_PREREQUISITES,
        )
