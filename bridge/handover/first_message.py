"""The first inbound message of a handover: the bot transcript plus the routing custom attributes.

Cognigy (4.89+) sends the whole bot conversation as ONE message at the start of the handover, and
(since 2025.12) puts the custom attributes on that same first message so the Genesys inbound message
flow can read them with "Get Participant Data" as its first step (docs/reference/cognigy-model.md §5.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from om_bridge.bridge.handover import messages

# Participant-data keys Cognigy's Architect recipe (docs/genesys-setup.md) reads with "Get Participant Data"
# (queueId, myLanguage, mySkills, userId); the others follow the same camelCase style.
ATTR_QUEUE = "queueId"
ATTR_LANGUAGE = "myLanguage"
ATTR_SKILLS = "mySkills"
ATTR_PRIORITY = "priority"
ATTR_USER = "userId"
ATTR_SESSION = "sessionId"
ATTR_URL_TOKEN = "URLToken"
ATTR_COPILOT = "agentCopilotUrl"
ATTR_FIRST_NAME = "firstName"
ATTR_LAST_NAME = "lastName"
RESERVED = frozenset(
    {
        ATTR_QUEUE,
        ATTR_LANGUAGE,
        ATTR_SKILLS,
        ATTR_PRIORITY,
        ATTR_USER,
        ATTR_SESSION,
        ATTR_URL_TOKEN,
        ATTR_COPILOT,
    }
)


def is_empty(entry: Mapping[str, Any]) -> bool:
    """A message with no text (or only whitespace) and no data."""
    text = entry.get("text")
    return not (isinstance(text, str) and text.strip()) and not entry.get("data")


def is_unsupported(entry: Mapping[str, Any]) -> bool:
    """A message the transcript cannot show as text: data only (UNSUPPORTED_STRUCTURE_DATA)."""
    text = entry.get("text")
    return not (isinstance(text, str) and text.strip()) and bool(entry.get("data"))


def format_transcript(
    entries: Iterable[Mapping[str, Any]], *, filter_empty: bool, filter_unsupported: bool
) -> str:
    """ "Transcript:\\nUser: …\\nBot: …" with each filter applied behind its feature flag."""
    lines = [messages.TRANSCRIPT_HEADER]
    for entry in entries:
        if filter_unsupported and is_unsupported(entry):
            continue
        if filter_empty and is_empty(entry):
            continue
        speaker = messages.TRANSCRIPT_SPEAKERS.get(str(entry.get("source")), "Bot")
        text = entry.get("text")
        if is_unsupported(entry):
            shown = messages.UNSUPPORTED_STRUCTURE_DATA
        else:
            shown = text.strip() if isinstance(text, str) else ""
        lines.append(f"{speaker}: {shown}")
    if len(lines) == 1:
        return messages.TRANSCRIPT_EMPTY
    return "\n".join(lines)


def copilot_url(base_url: str, user_id: str, session_id: str, url_token: str) -> str:
    """Agent Copilot standalone URL `https://<base>/?userId=…&sessionId=…&URLToken=…` (Cognigy's guide)."""
    base = base_url.strip().rstrip("/")
    if "://" not in base:
        base = "https://" + base
    query = urlencode({"userId": user_id, "sessionId": session_id, "URLToken": url_token})
    return f"{base}/?{query}"


def profile_names(profile: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """First and last name from a Cognigy-style profile (`firstname`/`lastname`, any casing)."""
    lowered = {str(k).lower(): v for k, v in profile.items()}
    first = lowered.get("firstname") or lowered.get("first_name")
    last = lowered.get("lastname") or lowered.get("last_name")
    return (str(first) if first else None, str(last) if last else None)


def profile_nickname(profile: Mapping[str, Any]) -> str | None:
    """The display name Genesys shows for the customer (`channel.from.nickname`): the profile's
    `nickname`, else "first last" from the names."""
    lowered = {str(k).lower(): v for k, v in profile.items()}
    nickname = lowered.get("nickname")
    if nickname:
        return str(nickname)
    first, last = profile_names(profile)
    joined = " ".join(n for n in (first, last) if n)
    return joined or None


def custom_attributes(
    *,
    queue_id: str | None,
    language: str | None,
    skills: list[str],
    priority: int | None,
    user_id: str,
    session_id: str,
    url_token: str,
    copilot_base_url: str | None,
    node_attributes: Mapping[str, Any],
    first_name: str | None,
    last_name: str | None,
) -> dict[str, str]:
    """The first message's `channel.metadata.customAttributes` (string values only).

    The node's own attributes come first and the bridge's routing keys win over them, so a flow
    cannot spoof the user or session id the agent side relies on.
    """
    attrs: dict[str, str] = {}
    for key, value in node_attributes.items():
        if value is None or key in RESERVED:
            continue
        attrs[str(key)] = value if isinstance(value, str) else str(value)
    if first_name:
        attrs[ATTR_FIRST_NAME] = first_name
    if last_name:
        attrs[ATTR_LAST_NAME] = last_name
    if queue_id:
        attrs[ATTR_QUEUE] = queue_id
    if language:
        attrs[ATTR_LANGUAGE] = language
    if skills:
        attrs[ATTR_SKILLS] = ",".join(s for s in skills if s)
    if priority is not None:
        attrs[ATTR_PRIORITY] = str(priority)
    attrs[ATTR_USER] = user_id
    attrs[ATTR_SESSION] = session_id
    attrs[ATTR_URL_TOKEN] = url_token
    if copilot_base_url:
        attrs[ATTR_COPILOT] = copilot_url(copilot_base_url, user_id, session_id, url_token)
    return attrs
