"""Say: outputs text, quick replies or buttons and/or data, with its Handover Settings' "Handover
Output Destination" and "Exclude from Transcript".

Quick replies and buttons leave the node in Cognigy's default-channel form, so a webchat that
renders Cognigy outputs renders them: `data._cognigy._default._quickReplies` = `{type:
"quick_replies", text, quickReplies: [{id, contentType, title, payload, imageUrl}]}` and
`data._cognigy._default._buttons` = `{type: "buttons", text, buttons: [{id, type, title, payload,
url}]}`. The other output types (gallery, image, list, adaptive card) are accepted, reported as not
supported when the flow is loaded, and say only their fallback text.
"""

from __future__ import annotations

import random
from typing import Any

from ..api import DEFAULT_DESTINATION, DESTINATIONS, NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, FormEntry, Preview, Section
from ._support import set_keys, unsupported_field

OUTPUT_TYPES = ("text", "quickReplies", "gallery", "buttons", "image", "list", "adaptiveCard")
SUPPORTED_TYPES = ("text", "quickReplies", "buttons")
BUTTON_TYPES = ("postback", "web_url", "phone_number")
# Where each rich type keeps its content under `say._cognigy._default`, and its `type` value there.
RICH = {"quickReplies": ("_quickReplies", "quick_replies"), "buttons": ("_buttons", "buttons")}
_NO_LLM = "there is no generative AI (LLM) in om-bridge"
UNSUPPORTED: dict[str, str] = {
    "generativeAI_rephraseOutput": _NO_LLM,
    "generativeAI_rephraseOutputMode": _NO_LLM,
    "generativeAI_amountOfLastUserInputs": _NO_LLM,
    "generativeAI_customInputs": _NO_LLM,
    "generativeAI_temperature": _NO_LLM,
}

DESTINATION_LABELS = {
    "userAndAgent": "User and Agent",
    "userOnly": "User only",
    "agentOnly": "Agent only",
}

DESCRIPTOR = NodeDescriptor(
    type="say",
    default_label="Say",
    summary="Outputs a message to the user",
    appearance=Appearance(color="#2F80ED", text_color="white"),
    fields=(
        Field(
            key="say",
            label="Output",
            type="say",
            description="Output Type Text (one of the texts, CognigyScript allowed), Quick Replies "
            "or Buttons (in _cognigy._default), optional data",
            default_value={
                "type": "text",
                "text": [""],
                "data": "",
                "linear": False,
                "loop": False,
                "_cognigy": {},
            },
            params={"required": True},
        ),
        Field(
            key="handoverOutput",
            label="Handover Output Destination",
            type="select",
            description="Who gets this output while a handover is active",
            default_value=DEFAULT_DESTINATION,
            params={
                "options": [
                    {"label": DESTINATION_LABELS[d], "value": d}
                    for d in ("userAndAgent", "userOnly", "agentOnly")
                ]
            },
        ),
        Field(
            key="preventTranscript",
            label="Exclude from Transcript",
            type="toggle",
            default_value=False,
            description="Keep this output out of the transcript the agent receives",
        ),
        unsupported_field("generativeAI_rephraseOutput", "Rephrase Output", "toggle", _NO_LLM),
        unsupported_field(
            "generativeAI_rephraseOutputMode", "Rephrase Output Mode", "text", _NO_LLM, "none"
        ),
        unsupported_field(
            "generativeAI_amountOfLastUserInputs",
            "Amount of last user inputs",
            "number",
            _NO_LLM,
            5,
        ),
        unsupported_field("generativeAI_customInputs", "Custom inputs", "json", _NO_LLM),
        unsupported_field("generativeAI_temperature", "Temperature", "number", _NO_LLM, 0.7),
    ),
    sections=(
        Section(
            key="handoverSettings",
            label="Handover Settings",
            default_collapsed=True,
            fields=("handoverOutput",),
        ),
        Section(
            key="advanced",
            label="Advanced",
            default_collapsed=True,
            fields=("preventTranscript",),
        ),
        Section(
            key="generativeAI",
            label="AI-enhanced output (not supported by om-bridge)",
            default_collapsed=True,
            fields=tuple(UNSUPPORTED),
        ),
    ),
    form=(
        FormEntry("say"),
        FormEntry("handoverSettings", "section"),
        FormEntry("advanced", "section"),
        FormEntry("generativeAI", "section"),
    ),
    preview=Preview(type="text", key="say"),
    tags=("basic", "message"),
)
assert set(DESTINATION_LABELS) == set(DESTINATIONS)


def _rich(out: dict[str, Any], output_type: str) -> dict[str, Any] | None:
    """The quick replies / buttons object of a Say of that type, or None."""
    if output_type not in RICH:
        return None
    default = ((out.get("_cognigy") or {}).get("_default")) or {}
    rich = default.get(RICH[output_type][0])
    return rich if isinstance(rich, dict) else None


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: quick replies and buttons that cannot be shown raise NodeError; returns the
    unsupported notes."""
    notes = set_keys(DESCRIPTOR, config, UNSUPPORTED)
    out = config.get("say") or {}
    output_type = out.get("type", "text")
    if output_type not in SUPPORTED_TYPES:
        notes.append(f"Output Type {output_type!r}: only its fallback text is said")
        return notes
    if output_type == "text":
        return notes
    rich = _rich(out, output_type)
    items_key = "quickReplies" if output_type == "quickReplies" else "buttons"
    where = f"say._cognigy._default.{RICH[output_type][0]}.{items_key}"
    items = (rich or {}).get(items_key)
    if not isinstance(items, list) or not items:
        raise NodeError(f"Output Type {output_type!r} needs a non-empty list in {where}")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not str(item.get("title") or "").strip():
            raise NodeError(f"{where}[{i}] needs a title")
        if output_type == "buttons":
            kind = item.get("type", "postback")
            if kind not in BUTTON_TYPES:
                raise NodeError(f"{where}[{i}].type must be one of {list(BUTTON_TYPES)}")
            if kind == "web_url" and not str(item.get("url") or "").strip():
                raise NodeError(f"{where}[{i}] is a web_url button without a url")
    return notes


def _rich_data(rich: dict[str, Any], output_type: str, text: str) -> dict[str, Any]:
    key, kind = RICH[output_type]
    if output_type == "quickReplies":
        items = [
            {
                "id": q.get("id", i),
                "contentType": q.get("contentType") or "postback",
                "title": q.get("title"),
                "payload": q.get("payload") or q.get("title"),
                "imageUrl": q.get("imageUrl") or None,
            }
            for i, q in enumerate(rich.get("quickReplies") or [])
            if isinstance(q, dict) and q.get("title")
        ]
        body = {"type": kind, "text": text, "quickReplies": items}
    else:
        items = [
            {
                "id": b.get("id", i),
                "type": b.get("type") or "postback",
                "title": b.get("title"),
                "payload": b.get("payload") or b.get("title"),
                "url": b.get("url") or None,
            }
            for i, b in enumerate(rich.get("buttons") or [])
            if isinstance(b, dict) and b.get("title")
        ]
        body = {"type": kind, "text": text, "buttons": items}
    return {"_cognigy": {"_default": {key: body}}}


def say(params: NodeParams) -> None:
    """Say one of the configured texts (in turn when `linear`, else at random) plus the data; a
    Quick Replies or Buttons output adds them in Cognigy's `_cognigy._default` form."""
    out = params.config.get("say") or {}
    output_type = out.get("type", "text")
    rich = _rich(out, output_type)
    texts = [t for t in out.get("text") or [] if isinstance(t, str) and t]
    if rich is not None and isinstance(rich.get("text"), str) and rich["text"]:
        texts = [rich["text"]]  # the rich output's own text wins, as in Cognigy's editor
    text = ""
    if texts:
        if out.get("linear"):
            # earlier executions of this node in the session: in order, then repeat the last or loop
            count = params.cognigy.api.execution_amount(params.node_id)
            text = texts[count % len(texts) if out.get("loop") else min(count, len(texts) - 1)]
        else:
            text = random.choice(texts)
    data = out.get("data")
    data = dict(data) if isinstance(data, dict) and data else None
    if rich is not None:
        data = {**(data or {}), **_rich_data(rich, output_type, text)}
    if not text and data is None:
        return  # nothing to say (e.g. `{{ input.data.request.text }}` was empty)
    destination = params.config.get("handoverOutput") or DEFAULT_DESTINATION
    params.cognigy.api.say(
        text or None,
        data,
        destination=destination,
        prevent_transcript=bool(params.config.get("preventTranscript", False)),
    )
