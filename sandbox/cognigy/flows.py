"""The emulator's flow engine: walks a Cognigy chart (`chart.json` form: nodes with config,
relations) for one input, as Cognigy's execution does, on code of its own.

Cognigy's built-in nodes are written here from Cognigy's documented semantics (docs.cognigy.com
node reference; `@cognigy/rest-api-client` node configs): Start, End, Say, If/Then/Else, Lookup
(`switch`) with Case/Default, Go To, Add to / Remove from Context, Get Transcript. Nodes of the
om-bridge extension run in Node.js (`NodeRunner`, the built `module.js`); CognigyScript (which is
JavaScript) is evaluated in the same Node.js process.

Where a run starts: the target of a Go To "wait for Input" if one is pending, else the session's
entrypoint (the last node passed that is marked Entrypoint), else Start. A run ends at End, at a
Go To that waits, when a node stops the execution, or at the bottom of the chart.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .noderunner import NodeRunner, NodeRunnerError

BUILT_IN = "@cognigy/basic-nodes"
MAX_STEPS = 200  # a bound on one run, so a loop of Go Tos without input ends
BRANCH_CHILDREN = {"if": ("then", "else"), "switch": ("case", "default")}
# Cognigy's rule operands (`TRuleOperand` in @cognigy/rest-api-client).
YES = {"yes", "y", "yeah", "yep", "ok", "okay", "sure", "true", "1"}
NO = {"no", "n", "nope", "false", "0"}
# Lookup types and the input property each one reads (Lookup node reference).
LOOKUP_PATHS = {
    "text": ("text",),
    "state": ("state",),
    "type": ("type",),
    "mode": ("mode",),
    "intent": ("intent",),
    "handoverStatus": ("handover", "status"),
    "callEventStatus": ("data", "event"),
}


class FlowLoadError(ValueError):
    """A chart the emulator cannot run (the message says where)."""


class NodeFailed(RuntimeError):
    """A node failed; the run stops there (the message names the node)."""


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    label: str
    config: dict[str, Any]
    extension: str
    entry_point: bool
    disabled: bool


@dataclass(frozen=True)
class Chart:
    name: str
    id: str
    nodes: dict[str, Node]
    start: str
    children: dict[str, tuple[str, ...]]
    next: dict[str, str | None]
    owner: dict[str, str]

    def successor(self, node_id: str) -> str | None:
        """The node below; at the end of a branch, the node below the branch's parent."""
        current: str | None = node_id
        while current is not None:
            nxt = self.next.get(current)
            if nxt:
                return nxt
            current = self.owner.get(current)
        return None

    def label(self, node_id: str) -> str:
        node = self.nodes.get(node_id)
        return (node.label or node.type) if node else "?"


def _raw_chart(name_or_path: str) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.is_file():
        return path.read_text(encoding="utf-8"), path.stem
    template = resources.files("om_bridge.flows").joinpath(f"{name_or_path}.json")
    if template.is_file():
        return template.read_text(encoding="utf-8"), name_or_path
    raise FlowLoadError(f"no flow {name_or_path!r}: give a chart file or a template name")


def load_chart(name_or_path: str) -> Chart:
    """A chart file by path, or a template of `flows/` by name."""
    text, name = _raw_chart(name_or_path)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FlowLoadError(f"flow {name!r} is not JSON: {exc}") from None
    return chart_from_dict(data, name)


def chart_from_dict(data: dict[str, Any], name: str) -> Chart:
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise FlowLoadError(f"flow {name!r} has no nodes list")
    nodes: dict[str, Node] = {}
    for raw in data["nodes"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("_id"), str):
            raise FlowLoadError(f"flow {name!r}: a node has no _id")
        if raw["_id"] in nodes:
            raise FlowLoadError(f"flow {name!r}: duplicate node _id {raw['_id']!r}")
        nodes[raw["_id"]] = Node(
            id=raw["_id"],
            type=str(raw.get("type") or ""),
            label=str(raw.get("label") or ""),
            config=dict(raw.get("config") or {}),
            extension=str(raw.get("extension") or BUILT_IN),
            entry_point=bool(raw.get("isEntryPoint")),
            disabled=bool(raw.get("isDisabled")),
        )
    starts = [n.id for n in nodes.values() if n.type == "start"]
    if len(starts) != 1:
        raise FlowLoadError(f"flow {name!r} needs exactly one start node, has {len(starts)}")
    children: dict[str, tuple[str, ...]] = {}
    nexts: dict[str, str | None] = {}
    for rel in data.get("relations") or []:
        node_id = rel.get("node")
        targets = [*(rel.get("children") or []), *([rel["next"]] if rel.get("next") else [])]
        for target in [node_id, *targets]:
            if target not in nodes:
                raise FlowLoadError(f"flow {name!r}: a relation names missing node {target!r}")
        children[node_id] = tuple(rel.get("children") or ())
        nexts[node_id] = rel.get("next") or None
    owner: dict[str, str] = {}
    for parent, kids in children.items():
        for kid in kids:
            current: str | None = kid
            seen: set[str] = set()
            while current and current not in seen:
                seen.add(current)
                owner[current] = parent
                current = nexts.get(current)
    return Chart(
        name=name,
        id=str(data.get("_id") or name),
        nodes=nodes,
        start=starts[0],
        children=children,
        next=nexts,
        owner=owner,
    )


@dataclass
class FlowState:
    """What Cognigy keeps per session between inputs."""

    context: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    entrypoint: str | None = None
    wait_node: str | None = None
    node_counts: dict[str, int] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunResult:
    outputs: list[dict[str, Any]]
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _path(value: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _set_path(target: dict[str, Any], key: str, value: Any, mode: str = "simple") -> None:
    parts = [p for p in str(key).split(".") if p]
    if not parts:
        raise NodeFailed(f"key {key!r} names no property")
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    last = parts[-1]
    if mode == "array":
        current = target.get(last)
        items = current if isinstance(current, list) else [] if current is None else [current]
        target[last] = [*items, value]
    else:
        target[last] = value


class Step:
    """What one node asks for: outputs, where to go next, whether to wait or stop."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.next: str | None = None
        self.wait: str | None = None
        self.stop = False


class FlowEngine:
    """Runs one chart for each input of a session (one instance per endpoint)."""

    def __init__(
        self,
        chart: Chart,
        runner: NodeRunner,
        extension: str,
        connections: dict[str, dict[str, Any]],
    ) -> None:
        self.chart = chart
        self.runner = runner
        self.extension = extension
        self.connections = connections
        self.descriptors = {d["type"]: d for d in runner.descriptors}
        for node in chart.nodes.values():
            if node.extension == extension:
                if node.type not in self.descriptors:
                    raise FlowLoadError(
                        f"flow {chart.name!r} node {node.id!r}: the extension has no node "
                        f"{node.type!r}"
                    )
            elif node.extension == BUILT_IN and node.type not in BUILT_INS:
                raise FlowLoadError(
                    f"flow {chart.name!r} node {node.id!r}: the emulator has no built-in node "
                    f"{node.type!r}"
                )

    # -- CognigyScript -----------------------------------------------------------------------
    def _eval(self, mode: str, source: Any, scope: dict[str, Any]) -> Any:
        if mode == "text" and "{{" not in json.dumps(source, ensure_ascii=False):
            return copy.deepcopy(source)
        answer = self.runner.call({"op": "eval", "mode": mode, "source": source, "scope": scope})
        return answer.get("value")

    def text(self, source: Any, scope: dict[str, Any]) -> Any:
        """`{{ }}` rendered in a text (or in every text of a JSON value)."""
        return self._eval("text", source, scope)

    def condition(self, source: str, scope: dict[str, Any]) -> bool:
        return bool(self._eval("condition", source, scope))

    def value(self, source: str, scope: dict[str, Any]) -> Any:
        return self._eval("value", source, scope)

    # -- the walk ---------------------------------------------------------------------------
    def run(self, state: FlowState, flow_input: dict[str, Any]) -> RunResult:
        """Run the chart for one input; `state` is updated in place."""
        scope = {"input": flow_input, "context": state.context, "profile": state.profile}
        if flow_input.get("text"):
            state.transcript.append(
                {
                    "source": "user",
                    "text": flow_input.get("text"),
                    "data": flow_input.get("data"),
                    "time": _now(),
                }
            )
        outputs: list[dict[str, Any]] = []
        current: str | None = state.wait_node or state.entrypoint or self.chart.start
        state.wait_node = None
        steps = 0
        while current is not None:
            steps += 1
            if steps > MAX_STEPS:
                return RunResult(outputs, f"more than {MAX_STEPS} nodes without an input")
            node = self.chart.nodes[current]
            if node.entry_point:
                state.entrypoint = node.id
            step = Step()
            if not node.disabled:
                try:
                    if node.extension == self.extension:
                        self._extension_node(node, scope, step)
                    else:
                        BUILT_INS[node.type](self, node, scope, state, step)
                except (NodeFailed, NodeRunnerError) as exc:
                    # Cognigy writes a failed extension's error to input.extensionError.
                    flow_input["extensionError"] = str(exc)
                    return RunResult(outputs, f'node "{self.chart.label(node.id)}": {exc}')
                finally:
                    state.node_counts[node.id] = state.node_counts.get(node.id, 0) + 1
            for out in step.outputs:
                outputs.append(out)
                if not out.get("preventTranscript"):
                    state.transcript.append(
                        {"source": "bot", "text": out["text"], "data": out["data"], "time": _now()}
                    )
            if step.wait is not None:
                self._target(node, step.wait)
                state.wait_node = step.wait
                break
            if step.stop:
                break
            if step.next is not None:
                self._target(node, step.next)
                current = step.next
            else:
                current = self.chart.successor(current)
        return RunResult(outputs)

    def _target(self, node: Node, target: str) -> None:
        if target not in self.chart.nodes:
            raise NodeFailed(f'node "{self.chart.label(node.id)}" names missing node {target!r}')

    def child_of(self, node: Node, child_type: str) -> list[Node]:
        return [
            self.chart.nodes[c]
            for c in self.chart.children.get(node.id, ())
            if self.chart.nodes[c].type == child_type
        ]

    def _extension_node(self, node: Node, scope: dict[str, Any], step: Step) -> None:
        descriptor = self.descriptors[node.type]
        config = copy.deepcopy(node.config)
        for f in descriptor.get("fields") or []:
            if f.get("type") == "connection":
                # The connection the node selects, else the one of its connection type.
                ref = config.get(f["key"]) or (f.get("params") or {}).get("connectionType")
                config[f["key"]] = copy.deepcopy(self.connections.get(str(ref), {}))
        children = [
            {"id": c, "type": self.chart.nodes[c].type, "config": self.chart.nodes[c].config}
            for c in self.chart.children.get(node.id, ())
        ]
        answer = self.runner.call(
            {
                "type": node.type,
                "nodeId": node.id,
                "config": config,
                "childConfigs": children,
                "input": scope["input"],
                "context": scope["context"],
                "profile": scope["profile"],
            }
        )
        scope["context"].clear()
        scope["context"].update(answer.get("context") or {})
        scope["profile"].clear()
        scope["profile"].update(answer.get("profile") or {})
        for out in answer.get("outputs") or []:
            data = out.get("data")
            step.outputs.append(
                {
                    "text": out.get("text"),
                    "data": data if isinstance(data, dict) and data else None,
                    "destination": out.get("destination") or "userAndAgent",
                }
            )
        if answer.get("next"):
            step.next = str(answer["next"])
        if answer.get("stop"):
            step.stop = True


# -- Cognigy's built-in nodes ------------------------------------------------------------------
def _noop(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    """Start, and the Then / Else / Case / Default children (their branch follows below)."""


def _end(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    step.stop = True


SAY_KEYS = {
    "quickReplies": "_quickReplies",
    "gallery": "_gallery",
    "buttons": "_buttons",
    "list": "_list",
    "image": "_image",
    "audio": "_audio",
    "video": "_video",
    "adaptiveCard": "_adaptiveCard",
}


def _say(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    """Say: one of its texts (in turn when Linear, else at random), its data, and the default
    channel's rich output (`_cognigy._default`); "Agent only" outputs are not the user's."""
    say = node.config.get("say") or {}
    texts = [t for t in say.get("text") or [] if isinstance(t, str)]
    text: str | None = None
    if texts:
        count = state.node_counts.get(node.id, 0)
        if say.get("linear"):
            index = count if say.get("loop") else min(count, len(texts) - 1)
            text = texts[index % len(texts)]
        else:
            text = random.choice(texts)
        text = str(engine.text(text, scope))
    data = say.get("data")
    out_data: dict[str, Any] = (
        dict(engine.text(data, scope)) if isinstance(data, dict) and data else {}
    )
    rich = say.get("_cognigy")
    if isinstance(rich, dict) and rich:
        rendered = engine.text(rich, scope)
        out_data["_cognigy"] = rendered
        kind = SAY_KEYS.get(str(say.get("type") or "text"))
        block = (rendered.get("_default") or {}).get(kind) if kind else None
        if isinstance(block, dict) and not text and isinstance(block.get("text"), str):
            text = block["text"]
    destination = node.config.get("handoverOutput") or "userAndAgent"
    step.outputs.append(
        {
            "text": text,
            "data": out_data or None,
            "destination": destination,
            "preventTranscript": bool(node.config.get("preventTranscript")),
        }
    )


def _rule(engine: FlowEngine, rule: dict[str, Any], scope: dict) -> bool:
    left = str(engine.text(str(rule.get("left") or ""), scope))
    right = str(engine.text(str(rule.get("right") or ""), scope))
    operand = rule.get("operand")
    if operand in ("lt", "lte", "gt", "gte"):
        try:
            a, b = float(left), float(right)
        except ValueError:
            return False
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[str(operand)]
    checks = {
        "eq": left == right,
        "neq": left != right,
        "exists": left != "",
        "nexists": left == "",
        "contains": right in left,
        "ncontains": right not in left,
        "isyes": left.strip().lower() in YES,
        "isno": left.strip().lower() in NO,
    }
    if operand not in checks:
        raise NodeFailed(f"unknown rule operand {operand!r}")
    return checks[str(operand)]


def _if(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    """If: a rule or a CognigyScript condition; continues in Then or Else."""
    condition = node.config.get("condition") or {}
    if condition.get("type") == "rule":
        holds = _rule(engine, condition.get("rule") or {}, scope)
    else:
        holds = engine.condition(str(condition.get("condition") or ""), scope)
    branch = engine.child_of(node, "then" if holds else "else")
    if not branch:
        raise NodeFailed("Unable to find child to execute")
    step.next = branch[0].id


def _lookup(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    """Lookup: the operand of its type against each Case's value (as text unless Strict Mode);
    Default when none matches."""
    spec = node.config.get("switch") or {}
    kind = spec.get("type") or "intent"
    if kind == "cognigyScript":
        operand = engine.value(str(spec.get("operator") or ""), scope)
    elif kind in LOOKUP_PATHS:
        operand = _path(scope["input"], LOOKUP_PATHS[kind])
    else:
        raise NodeFailed(f"Lookup type {kind!r} is not emulated")
    strict = bool(node.config.get("useStrict"))
    for case in engine.child_of(node, "case"):
        value = engine.text((case.config.get("case") or {}).get("value"), scope)
        if (operand == value) if strict else (_as_text(operand) == _as_text(value)):
            step.next = case.id
            return
    default = engine.child_of(node, "default")
    if default:
        step.next = default[0].id


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _go_to(engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step) -> None:
    """Go To: "wait for Input" makes the target the start of the next input; "continue" goes
    on there now, with the Injected Text / Data as the input's when given."""
    target = (node.config.get("flowNode") or {}).get("node")
    if not isinstance(target, str) or not target:
        raise NodeFailed("Go To selects no node")
    if node.config.get("executionMode") == "wait":
        step.wait = target
        return
    injected_text = node.config.get("injectedText")
    if isinstance(injected_text, str) and injected_text:
        scope["input"]["text"] = engine.text(injected_text, scope)
    injected_data = node.config.get("injectedData")
    if isinstance(injected_data, dict) and injected_data:
        scope["input"]["data"] = engine.text(injected_data, scope)
    step.next = target


def _add_to_context(
    engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step
) -> None:
    """Add to Context: the (CognigyScript) value at the key; mode "array" appends."""
    key = str(node.config.get("key") or "")
    value = engine.text(node.config.get("value"), scope)
    _set_path(scope["context"], key, value, str(node.config.get("mode") or "simple"))


def _remove_from_context(
    engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step
) -> None:
    parts = [p for p in str(node.config.get("key") or "").split(".") if p]
    target: Any = scope["context"]
    for part in parts[:-1]:
        target = target.get(part) if isinstance(target, dict) else None
    if parts and isinstance(target, dict):
        target.pop(parts[-1], None)


def _get_transcript(
    engine: FlowEngine, node: Node, scope: dict, state: FlowState, step: Step
) -> None:
    """Get Transcript: the newest steps as `[{role, type, payload: {text, data}}]` in the input
    or the context."""
    limit = int(node.config.get("limit") or 50)
    steps = []
    for entry in state.transcript[-2 * limit :]:
        user = entry["source"] == "user"
        steps.append(
            {
                "role": "user" if user else "assistant",
                "type": "input" if user else "output",
                "payload": {"text": entry.get("text"), "data": entry.get("data") or {}},
                "timestamp": entry.get("time"),
            }
        )
    if node.config.get("storeLocation") == "context":
        _set_path(scope["context"], str(node.config.get("contextKey") or "transcript"), steps)
    else:
        _set_path(scope["input"], str(node.config.get("inputKey") or "transcript"), steps)


BUILT_INS = {
    "start": _noop,
    "then": _noop,
    "else": _noop,
    "case": _noop,
    "default": _noop,
    "end": _end,
    "say": _say,
    "if": _if,
    "switch": _lookup,
    "goTo": _go_to,
    "addToContext": _add_to_context,
    "removeFromContext": _remove_from_context,
    "getTranscript": _get_transcript,
}
