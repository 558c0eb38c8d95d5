"""Inject and Notify held to Cognigy's published types: JSON Schemas derived at test time from
`@cognigy/rest-api-client`'s `IInjectRestDataBody_2_0` / `INotifyRestDataBody_2_0` and, for what a
Notify's `data` becomes in the webchat's socket message, `@cognigy/socket-client`'s `IMessageData`
(tests/js/ts_schema.js, the `typescript` compiler API). The emulator must accept exactly the
bodies the types allow, on both routes; every body the bridge sends in a handover with text, a
file, quick replies, a card and status changes must conform."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from om_bridge.bridge.cognigy.client import CognigyClient
from om_bridge.bridge.config import CognigyEndpoint
from tests.conftest import wait_until
from tests.scenario.cognigy_helpers import API_KEY, TOKEN, make_env
from tests.scenario.test_cognigy_hosted import open_conversation

JS_DIR = Path(__file__).resolve().parents[1] / "js"
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    modules = JS_DIR / "node_modules" / "@cognigy"
    if not all((modules / p).is_dir() for p in ("rest-api-client", "socket-client")):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install Cognigy's packages")
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
            check=True,
            timeout=300,
        )

    def derive(declarations: str, *names: str) -> dict[str, Any]:
        proc = subprocess.run(
            [node, str(JS_DIR / "ts_schema.js"), declarations, *names],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=JS_DIR,
        )
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout))

    rest = derive(
        str(modules / "rest-api-client" / "types" / "index.d.ts"),
        "IInjectRestDataBody_2_0",
        "INotifyRestDataBody_2_0",
    )
    message = derive(
        str(modules / "socket-client" / "lib" / "interfaces" / "messageData.d.ts"), "IMessageData"
    )["IMessageData"]
    # A Notify's data becomes the socket message's `data`: the keys IMessageData declares are held
    # to their types; other keys are the sender's own (the message's data is open).
    message["additionalProperties"] = True
    return {
        "inject": rest["IInjectRestDataBody_2_0"],
        "notify": rest["INotifyRestDataBody_2_0"],
        "message": message,
    }


def violations(contract: dict[str, Any], call: str, body: Any) -> list[str]:
    """What Cognigy's types forbid in this body (empty when it conforms)."""
    found = [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(contract[call]).iter_errors(body)
    ]
    if call == "notify" and isinstance(body, dict) and isinstance(body.get("data"), dict):
        found += [
            f"data/{'/'.join(map(str, e.absolute_path))}: {e.message} (IMessageData)"
            for e in jsonschema.Draft202012Validator(contract["message"]).iter_errors(body["data"])
        ]
    return found


def base(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "URLToken": TOKEN,
        "userId": "u-contract",
        "sessionId": f"s-{uuid.uuid4().hex[:8]}",
        "text": "hello",
        "data": {},
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


FILE = {"type": "file", "name": "label.pdf", "url": "https://files.example/label.pdf"}
GENESYS_FILE = {
    "mediaType": "File",
    "url": "https://files.example/label.pdf",
    "mime": "application/pdf",
    "filename": "label.pdf",
}
CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("inject", base()),
    ("inject", base(text="")),
    ("inject", base(text=..., data={"handover": {"status": "queue"}})),
    ("inject", base(text=None)),
    ("inject", base(text=5)),
    ("inject", base(data=...)),
    ("inject", base(data=None)),
    ("inject", base(data="x")),
    ("inject", base(data=[])),
    ("inject", base(userId=...)),
    ("inject", base(sessionId=7)),
    ("inject", base(attachments=[FILE])),
    ("inject", base(extra=True)),
    ("notify", base()),
    ("notify", base(text="", data={"agent": {"name": "Alex"}})),
    ("notify", base(attachments=[FILE])),
    ("notify", base(attachments=[{**FILE, "type": "image", "caption": "Look"}])),
    ("notify", base(attachments=[{**FILE, "type": "document"}])),
    ("notify", base(attachments=[{"type": "location", "latitude": 1.5, "longitude": 2}])),
    ("notify", base(attachments=[{"type": "contact", "birthday": "2000-01-01"}])),
    ("notify", base(text=...)),
    ("notify", base(data=...)),
    ("notify", base(attachments=[{"type": "file", "url": "https://f/x"}])),
    ("notify", base(attachments=[{**FILE, "type": "pdf"}])),
    ("notify", base(attachments=[{**FILE, "size": 3}])),
    ("notify", base(attachments=[GENESYS_FILE])),
    ("notify", base(attachments=FILE)),
    ("notify", base(agent="Alex")),
]


def test_the_emulator_accepts_exactly_what_cognigys_types_allow(
    make_bridge_env, tmp_path, contract
):
    _, cognigy = make_env(make_bridge_env, tmp_path)
    try:
        endpoint, api = cognigy.emulator.endpoint_url, cognigy.emulator.api_url
        allowed = 0
        for call, body in CORPUS:
            expected = not [
                v for v in violations(contract, call, body) if "(IMessageData)" not in v
            ]
            allowed += expected
            for url, headers in (
                (f"{endpoint}/{call}/{TOKEN}", {}),
                (f"{api}/new/v2.0/endpoint/{call}", {"X-API-Key": API_KEY}),
            ):
                resp = requests.post(url, json=body, headers=headers, timeout=10)
                assert (resp.status_code == 200) == expected, (url, body, resp.text)
                if expected:
                    assert isinstance(resp.json(), str)  # Cognigy answers a string
                else:
                    assert resp.status_code == 400 and "bad " in resp.json()["error"]
        assert 0 < allowed < len(CORPUS)
    finally:
        cognigy.close()


def test_the_contract_catches_a_missing_text_and_a_file_in_data(contract):
    assert violations(contract, "inject", base(text=...)) == [
        "(body): 'text' is a required property"
    ]
    found = violations(contract, "notify", base(data={"attachments": [GENESYS_FILE]}))
    assert found and all("data/attachments/0" in v for v in found), found
    # The bridge's own bodies for the same content conform.
    client = CognigyClient(
        CognigyEndpoint(url_token=TOKEN, organisation="o", endpoint_base_url="x")
    )
    assert violations(contract, "inject", client.body("u", "s", None, {"handover": {}})) == []
    notify = client.body("u", "s", "Label", {"attachments": [GENESYS_FILE]}, "notify")
    assert violations(contract, "notify", notify) == [] and notify["attachments"]


def test_every_body_the_bridge_sends_conforms(make_bridge_env, tmp_path, contract):
    env, cognigy = make_env(make_bridge_env, tmp_path)
    try:
        cognigy.say("I want an agent")
        conversation_id = open_conversation(env, cognigy)
        agent = env.agent
        agent.go_on_queue()
        agent.wait_for_offer()
        agent.answer(conversation_id)
        agent.send_text(conversation_id, "Hi, I am Alex")
        agent.send_typing(conversation_id)
        agent.send_attachment(conversation_id, "label.pdf", b"%PDF-1.4", "application/pdf", "Label")
        agent.send_content(
            conversation_id,
            [
                {"contentType": "QuickReply", "quickReply": {"text": "Yes", "payload": "yes"}},
                {"contentType": "QuickReply", "quickReply": {"text": "No", "payload": "no"}},
            ],
            text="Anything else?",
        )
        card = {
            "title": "Refund",
            "description": "3 days",
            "image": "https://files.example/refund.png",
            "actions": [{"type": "Postback", "text": "Refund", "payload": "refund"}],
        }
        agent.send_content(conversation_id, [{"contentType": "Card", "card": card}], text="Pick")
        agent.disconnect(conversation_id)

        def sent() -> list[dict[str, Any]]:
            """Every Inject/Notify body the bridge sent, accepted or refused by the emulator."""
            log = requests.get(cognigy.url("/_emulator/api-log"), timeout=10).json()
            return [{"call": c["call"], "body": c["body"]} for c in log["calls"] + log["rejected"]]

        def ended() -> bool:
            return any(
                isinstance(c["body"].get("data"), dict)
                and (c["body"]["data"].get("handover") or {}).get("status") == "completed"
                for c in sent()
            )

        wait_until(ended, 30, what="the completed status sent to Cognigy")
        calls = sent()
        bad = [
            f"{c['call']} {c['body'].get('text')!r}: {problem}"
            for c in calls
            for problem in violations(contract, c["call"], c["body"])
        ]
        assert bad == [], "\n".join(bad)
        assert cognigy.rejected() == []
        statuses = [
            c["body"]["data"]["handover"]["status"]
            for c in calls
            if c["call"] == "inject" and "request" not in c["body"]["data"]
        ]
        assert statuses == ["queue", "active", "completed"]
        assert not any(c["body"]["data"].get("typing") for c in calls)
        [label] = [c["body"] for c in calls if c["body"]["text"] == "Label"]
        assert label["attachments"][0]["type"] == "file"
        [replies] = [c["body"] for c in calls if c["body"]["text"] == "Anything else?"]
        quick = replies["data"]["_cognigy"]["_default"]["_quickReplies"]["quickReplies"]
        assert [q["title"] for q in quick] == ["Yes", "No"]
        [picked] = [c["body"] for c in calls if c["body"]["text"] == "Pick"]
        gallery = picked["data"]["_cognigy"]["_default"]["_gallery"]
        assert gallery["items"][0]["title"] == "Refund"
    finally:
        cognigy.close()
