"""`om-bridge extension build|export` and the bridge side the extension's nodes call."""

from __future__ import annotations

import json
import struct
import tarfile
import zlib

import pytest
import requests

from om_bridge.bridge.cli import main as cli_main
from om_bridge.bridge.cognigy.remote import EXECUTE_PATH, RemoteError, execute
from om_bridge.extension.build import NAME, build_extension, version
from om_bridge.extension.registry import NODE_TYPES


def members(path):
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_build_writes_an_uploadable_archive(tmp_path):
    path = build_extension(tmp_path, "http://bridge.example:8080")
    assert path == tmp_path / f"{NAME}-{version()}.tar.gz"
    files = members(path)
    assert set(files) == {
        "package.json",
        "package-lock.json",
        "build/module.js",
        "README.md",
        "icon.png",
    }
    package = json.loads(files["package.json"])
    assert package["main"] == "build/module.js" and package["name"] == NAME
    assert package["version"] == version()
    module = files["build/module.js"].decode()
    assert "exports.default" in module and '"http://bridge.example:8080"' in module
    # Told apart from Cognigy's own Handover to Human Agent node in the node picker.
    assert '"defaultLabel": "Handover to Human Agent (om-bridge)"' in module
    readme = files["README.md"].decode()
    for label in (
        "Handover to Human Agent",
        "Relay to Agent",
        "Get Transcript",
        "input.data.handover.status",
        "Enable User Connects Message",
        "Display Agent Details",
    ):
        assert label in readme


def test_icon_is_a_valid_64_by_64_png(tmp_path):
    png = members(build_extension(tmp_path))["icon.png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, colour) == (64, 64, 8, 6)
    assert len(zlib.decompress(chunks[b"IDAT"])) == 64 * (1 + 64 * 4)


def test_cli_build_and_export(tmp_path, capsys):
    assert cli_main(["extension", "build", "--out", str(tmp_path)]) == 0
    assert str(tmp_path / f"{NAME}-{version()}.tar.gz") in capsys.readouterr().out
    assert cli_main(["extension", "export"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert {d["type"] for d in exported} == set(NODE_TYPES)
    assert (
        next(d for d in exported if d["type"] == "handoverV2")["defaultLabel"]
        == "Handover to Human Agent"
    )


# -- the bridge side -------------------------------------------------------------------------------
def payload(node_type, config, **extra):
    return {
        "type": node_type,
        "nodeId": "n1",
        "config": config,
        "input": {"text": "hi", "userId": "u", "sessionId": "s", "URLToken": "demo"},
        "context": {},
        "profile": {},
        **extra,
    }


def test_execute_handover_accepts_the_empty_fields_cognigy_sends():
    out = execute(payload("handoverV2", {"genesysSkills": ["x"], "genesysPriority": 2}))
    assert out["handover"]["skills"] == ["x"] and out["handover"]["priority"] == 2
    empty = {
        "genesysPriority": "",
        "genesysCustomAttributesMode": "json",
        "genesysCustomAttributes": None,
        "genesysCustomAttributesPairs": "",
    }
    out = execute(payload("handoverV2", empty))
    assert out["handover"]["priority"] is None and out["handover"]["custom_attributes"] == {}


@pytest.mark.parametrize(
    "body, status, words",
    [
        ([], 400, "JSON object"),
        (payload("teleport", {}), 404, "'teleport'"),
        (payload("start", {}), 404, "'start'"),
        (payload("say", {}), 404, "'say'"),
        ({**payload("handoverV2", {}), "nodeId": 5}, 400, "'nodeId'"),
        (payload("handoverV2", {"resolveBehavior": "nowhere"}), 400, "config/resolveBehavior"),
        (payload("handoverV2", {}, input=None), 400, "'input'"),
        (payload("handoverV2", {"genesysPriority": 1.5}), 400, "config/genesysPriority"),
    ],
)
def test_execute_refuses_bad_requests(body, status, words):
    with pytest.raises(RemoteError) as exc:
        execute(body)
    assert exc.value.status == status and words in str(exc.value)


def test_blueprint_checks_the_api_key_and_starts_handovers(bridge_server):
    url, started = bridge_server
    body = payload("handoverV2", {"genesysLanguage": "german"})
    assert requests.post(url + EXECUTE_PATH, json=body, timeout=5).status_code == 401
    bad = requests.post(
        url + EXECUTE_PATH, json=body, headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert bad.status_code == 401 and started == []
    ok = requests.post(
        url + EXECUTE_PATH, json=body, headers={"Authorization": "Bearer test-key"}, timeout=5
    )
    assert ok.status_code == 200 and ok.json()["handover"]["language"] == "german"
    assert [(r.language, p["input"]["sessionId"]) for r, p in started] == [("german", "s")]
    refused = requests.post(
        url + EXECUTE_PATH,
        json=payload("teleport", {}),
        headers={"Authorization": "Bearer test-key"},
        timeout=5,
    )
    assert refused.status_code == 404 and "teleport" in refused.json()["error"]
