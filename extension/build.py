"""`om-bridge extension build`: writes an uploadable Cognigy extension archive (docs/reference/cognigy-model.md §1.1):
package.json, package-lock.json, build/module.js, README.md and a 64×64 icon.png, gzip-tarred."""

from __future__ import annotations

import io
import json
import tarfile
from importlib import metadata
from pathlib import Path

from ._values import thaw
from .jsmodule import CONNECTION_TYPE, render_module
from .png import icon_png
from .protocol import EXECUTE_PATH, RELAY_PATH
from .registry import NodeType, extension_node_types

NAME = "om-bridge-extension"
LABEL = "om-bridge"


def version() -> str:
    """The extension's version: the installed om-bridge version."""
    try:
        return metadata.version("om-bridge")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def package_json(ver: str) -> dict:
    return {
        "name": NAME,
        "version": ver,
        "description": "Hand conversations over to human agents in Genesys Cloud through om-bridge",
        "main": "build/module.js",
        "keywords": ["handover", "genesys", "open messaging", "om-bridge"],
        "author": "om-bridge",
        "license": "Apache-2.0",
        "dependencies": {},
    }


def package_lock(ver: str) -> dict:
    return {
        "name": NAME,
        "version": ver,
        "lockfileVersion": 3,
        "requires": True,
        "packages": {"": {"name": NAME, "version": ver, "license": "Apache-2.0"}},
    }


def _label(value: object) -> str:
    value = thaw(value)
    return value["default"] if isinstance(value, dict) else str(value)


def readme(nodes: list[NodeType], bridge_url: str | None) -> str:
    """The README Cognigy shows for the extension: what each node does and how to connect it."""
    lines = [
        f"# {LABEL} — Genesys Cloud handover through om-bridge",
        "",
        "Hands the conversation over to a human agent in Genesys Cloud through om-bridge (Open "
        "Messaging). The nodes call the bridge; the bridge sends agent messages back to the user "
        "through Cognigy's Notify API and status changes and Genesys bot messages into the flow "
        "through Cognigy's Inject API (the endpoint must be listed in the bridge's "
        "`[[cognigy_endpoints]]` with a Cognigy API key).",
        "",
        "## The Handover Flow",
        "",
        "1. Cognigy's **Get Transcript** node (Store Location Input, key `transcript`): the agent "
        "sees the bot conversation in the first message.",
        "2. **Handover to Human Agent** (this extension): says the Handover Accepted Message; when "
        "no agent can take over it says so and the flow stops there.",
        "3. Cognigy's **Lookup**, Type CognigyScript, Operator `input.data.handover.status`, set "
        "as **Entrypoint**; Cases `genericHandoverUpdate` (Say `{{input.data.request.text}}`), "
        "`queue`, `active`, `completed`, `cancelled`, `error`, each ending with a Go To; the "
        "Default (a user message during the handover) holds **Relay to Agent** (this extension) "
        "and a Go To the Lookup, Execution Mode *Go to Node and wait for Input*.",
        "",
        "Say, Lookup, Case, Go To, If and Add to Context are Cognigy's own built-in nodes. "
        "om-bridge's docs/cognigy-setup.md builds the flow node by node.",
        "",
        "## Connection",
        "",
        f"Create an **{CONNECTION_TYPE}** connection with `bridgeUrl` (the bridge's base URL) and "
        "`apiKey` (the bridge's `extension_api_key`, sent as `Authorization: Bearer <apiKey>` to "
        f"`{EXECUTE_PATH}` and `{RELAY_PATH}`)."
        + (f" Without a connection the nodes call {bridge_url}." if bridge_url else ""),
        "",
        "## Nodes",
        "",
    ]
    for node in nodes:
        d = node.descriptor
        parent = f" (child of `{d.parent_type}`)" if d.parent_type else ""
        lines.append(f"### {_label(d.default_label)} — `{d.type}`{parent}")
        if d.summary:
            lines += ["", _label(d.summary)]
        if d.fields:
            lines.append("")
            lines += [
                f"- **{_label(f.label)}**" + (f": {_label(f.description)}" if f.description else "")
                for f in d.fields
            ]
        lines.append("")
    return "\n".join(lines)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0  # reproducible archives
    tar.addfile(info, io.BytesIO(data))


def build_extension(out_dir: str | Path = "dist", bridge_url: str | None = None) -> Path:
    """Write `<out_dir>/<name>-<version>.tar.gz` and return its path."""
    ver = version()
    nodes = extension_node_types()
    files = {
        "package.json": json.dumps(package_json(ver), indent=2) + "\n",
        "package-lock.json": json.dumps(package_lock(ver), indent=2) + "\n",
        "build/module.js": render_module(nodes, label=LABEL, bridge_url=bridge_url),
        "README.md": readme(nodes, bridge_url),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{NAME}-{ver}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            _add(tar, name, text.encode("utf-8"))
        _add(tar, "icon.png", icon_png())
    return path
