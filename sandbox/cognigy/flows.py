"""Running a Cognigy flow chart in the emulator: nodes of the om-bridge extension run in Node.js
(`NodeRunner`, the built `module.js`), Cognigy's built-in nodes on the bridge's flow runtime.

As in Cognigy, CognigyScript in an extension node's config is evaluated before its function runs
(by the module's own field types), a `connection` field is resolved to the connection's values,
`api.say` outputs are the node's outputs, `setNextNode` / `stopExecution` steer the walk.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from om_bridge.bridge.flow import Chart, FlowInput, FlowRuntime, SessionState, load_chart
from om_bridge.bridge.flow.api import RuntimeApi
from om_bridge.bridge.flow.config import evaluate_config
from om_bridge.extension.descriptor import NodeDescriptor

from .noderunner import NodeRunner, NodeRunnerError

BUILT_IN = "@cognigy/basic-nodes"


@dataclass
class EmulatorInput(FlowInput):
    """A Cognigy input with its `inputId` (and anything else Cognigy puts on `input`)."""

    input_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_input(self) -> dict[str, Any]:
        out = super().to_input()
        out["inputId"] = self.input_id
        out["traceId"] = self.input_id
        out.update(copy.deepcopy(self.extra))
        return out


def load_raw_chart(name_or_path: str) -> tuple[Chart, dict[str, Any]]:
    """The validated chart and its raw JSON (for each node's `extension`)."""
    chart = load_chart(name_or_path)
    path = Path(name_or_path)
    if path.is_file():
        raw = json.loads(path.read_text(encoding="utf-8"))
    else:
        from importlib import resources

        raw = json.loads(
            resources.files("om_bridge.flows").joinpath(f"{name_or_path}.json").read_text("utf-8")
        )
    return chart, raw


class EmulatorRuntime(FlowRuntime):
    """A flow runtime whose extension nodes run in the Node.js runner."""

    def __init__(
        self,
        chart: Chart,
        raw: dict[str, Any],
        runner: NodeRunner,
        extension: str,
        connections: dict[str, dict[str, Any]],
    ) -> None:
        super().__init__(chart)
        self.runner = runner
        self.connections = connections
        self.descriptors = {
            d["type"]: NodeDescriptor.from_dict({k: v for k, v in d.items() if k != "function"})
            for d in runner.descriptors
        }
        self.extension_nodes = {
            n["_id"] for n in raw["nodes"] if (n.get("extension") or BUILT_IN) == extension
        }
        for node_id in self.extension_nodes:
            node_type = chart.nodes[node_id].type
            if node_type not in self.descriptors:
                raise ValueError(
                    f"flow {chart.name!r} node {node_id!r}: the extension has no node {node_type!r}"
                )

    def _execute(self, node_id: str, scope: dict, state: SessionState) -> RuntimeApi:
        if node_id not in self.extension_nodes:
            return super()._execute(node_id, scope, state)
        node = self.chart.nodes[node_id]
        if node.is_entry_point:
            state.entrypoint = node_id
        api = RuntimeApi(scope, state.node_counts, state.transcript)
        if node.is_disabled:
            return api
        descriptor = self.descriptors[node.type]
        try:
            config = evaluate_config(descriptor, node.config, scope)
            for f in descriptor.fields:
                if f.type == "connection":
                    # The connection the node selects, else the one of its connection type.
                    ref = config.get(f.key) or dict(f.params).get("connectionType")
                    config[f.key] = copy.deepcopy(self.connections.get(str(ref), {}))
            children = [
                {"id": c, "type": self.chart.nodes[c].type, "config": self.chart.nodes[c].config}
                for c in self.chart.children.get(node_id, ())
            ]
            answer = self.runner.call(
                {
                    "type": node.type,
                    "nodeId": node_id,
                    "config": config,
                    "childConfigs": children,
                    "input": scope["input"],
                    "context": scope["context"],
                    "profile": scope["profile"],
                }
            )
        except (NodeRunnerError, ValueError) as exc:
            # Cognigy lets the flow go on and writes the error to input.extensionError.
            scope["input"]["extensionError"] = str(exc)
            raise self._error(node_id, str(exc)) from None
        finally:
            state.node_counts[node_id] = state.node_counts.get(node_id, 0) + 1
        scope["context"].clear()
        scope["context"].update(answer.get("context") or {})
        scope["profile"].clear()
        scope["profile"].update(answer.get("profile") or {})
        for out in answer.get("outputs") or []:
            data = out.get("data")
            api.say(
                out.get("text"),
                data if isinstance(data, dict) and data else None,
                destination=out.get("destination") or "userAndAgent",
            )
        if answer.get("next"):
            api.set_next_node(str(answer["next"]))
        if answer.get("stop"):
            api.stop_execution()
        return api
