"""`Chart`: a flow in Cognigy's chart.json form (nodes with config, relations), validated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from om_bridge import schemas
from om_bridge.extension.api import NodeError
from om_bridge.extension.registry import NODE_TYPES, config_notes

from . import messages


class ChartError(ValueError):
    """A chart that does not validate or whose structure is broken; the message says where."""


@dataclass(frozen=True)
class ChartNode:
    """One node of a chart."""

    id: str
    type: str
    label: str
    config: dict[str, Any]
    is_entry_point: bool = False
    is_disabled: bool = False


@dataclass(frozen=True)
class Chart:
    """A validated chart with its relations resolved for walking."""

    name: str
    id: str
    nodes: dict[str, ChartNode]
    start: str
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    next: dict[str, str | None] = field(default_factory=dict)
    owner: dict[str, str] = field(
        default_factory=dict
    )  # node in a branch -> the If/Lookup owning it
    # Settings the flow uses that om-bridge accepts but does not act on, one note each (naming the
    # node); the runtime logs them once when the flow is loaded.
    unsupported: tuple[str, ...] = ()

    def successor(self, node_id: str) -> str | None:
        """The node below `node_id`; at the end of a branch, the node below the branch's parent."""
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

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "chart") -> Chart:
        """Validate `data` against schemas/chart.json and the structural rules, then build."""
        errors = sorted(
            schemas.validator("chart").iter_errors(data), key=lambda e: list(e.absolute_path)
        )
        if errors:
            raise ChartError(messages.chart_invalid(name, _where(data, errors[0])))
        nodes: dict[str, ChartNode] = {}
        for raw in data["nodes"]:
            if raw["_id"] in nodes:
                raise ChartError(messages.chart_invalid(name, f"duplicate node _id {raw['_id']!r}"))
            nodes[raw["_id"]] = ChartNode(
                id=raw["_id"],
                type=raw["type"],
                label=raw.get("label") or "",
                config=raw.get("config") or {},
                is_entry_point=bool(raw.get("isEntryPoint")),
                is_disabled=bool(raw.get("isDisabled")),
            )
        starts = [n.id for n in nodes.values() if n.type == "start"]
        if len(starts) != 1:
            raise ChartError(
                messages.chart_invalid(name, f"needs exactly one start node, has {len(starts)}")
            )
        notes: list[str] = []
        for node in nodes.values():
            try:
                found = config_notes(node.type, node.config)
            except NodeError as exc:
                raise ChartError(
                    messages.chart_invalid(
                        name, messages.node_problem(node.id, node.label or node.type, str(exc))
                    )
                ) from None
            notes.extend(messages.node_problem(node.id, node.label or node.type, n) for n in found)
        chart = cls(
            name=name,
            id=data.get("_id") or name,
            nodes=nodes,
            start=starts[0],
            unsupported=tuple(notes),
        )
        _link(chart, data["relations"])
        return chart


def _where(data: dict[str, Any], error: Any) -> str:
    """A schema error as `node "label" (id x): config.a.b: problem`, or a path outside nodes."""
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
        raw = data["nodes"][path[1]]
        if isinstance(raw, dict):
            rest = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path[2:])
            rest = rest.replace(".[", "[")
            problem = f"{rest}: {error.message}" if rest else error.message
            return messages.node_problem(
                str(raw.get("_id", f"#{path[1]}")),
                str(raw.get("label") or raw.get("type") or ""),
                problem,
            )
    where = "/".join(str(p) for p in path) or "(root)"
    return f"{where}: {error.message}"


def _link(chart: Chart, relations: list[dict[str, Any]]) -> None:
    """Resolve relations, checking ids, that each node is placed once, and branch child types."""

    def bad(problem: str, node_id: str | None = None) -> ChartError:
        if node_id is not None:  # about one node: name it by label and id
            problem = messages.node_problem(node_id, chart.label(node_id), problem)
        return ChartError(messages.chart_invalid(chart.name, problem))

    incoming: dict[str, str] = {}
    for rel in relations:
        nid = rel["node"]
        if nid not in chart.nodes:
            raise bad(f"relation names missing node {nid!r}")
        if nid in chart.children:
            raise bad("has two relations", nid)
        parent = chart.nodes[nid]
        allowed = (
            NODE_TYPES[parent.type].descriptor.constraints.placement.children.get("whitelist") or ()
        )
        for target in [*rel["children"], *([rel["next"]] if rel["next"] else [])]:
            if target not in chart.nodes:
                raise bad(f"links to missing node {target!r}", nid)
            if target in incoming or target == chart.start:
                raise bad(
                    f"is placed twice (under {incoming.get(target, '?')!r} and {nid!r})", target
                )
            incoming[target] = nid
        for child in rel["children"]:
            child_type = chart.nodes[child].type
            if child_type not in allowed:
                raise bad(f"of type {child_type!r} cannot be a child of {parent.type!r}", child)
        chart.children[nid] = tuple(rel["children"])
        chart.next[nid] = rel["next"]
    for node in chart.nodes.values():
        parent_type = NODE_TYPES[node.type].descriptor.parent_type
        if parent_type and chart.nodes.get(incoming.get(node.id, ""), None) is None:
            raise bad(f"of type {node.type!r} must be a child of a {parent_type!r} node", node.id)
    for parent_id, kids in chart.children.items():
        for kid in kids:  # every node of a branch chain belongs to the branch's parent
            current: str | None = kid
            seen: set[str] = set()
            while current and current not in seen:
                seen.add(current)
                chart.owner[current] = parent_id
                current = chart.next.get(current)
    for node in chart.nodes.values():
        if node.type == "goTo":
            target = (node.config.get("flowNode") or {}).get("node")
            flow = (node.config.get("flowNode") or {}).get("flow")
            if target not in chart.nodes:
                raise bad(f"Go To selects missing node {target!r}", node.id)
            if flow and flow != chart.id:
                raise bad(f"Go To selects another flow {flow!r}", node.id)


def config_problems(chart: Chart) -> list[str]:
    """Every node whose config does not validate against its schemas/nodes/<type>.json, as
    `node "label" (id x): path: problem` (the runtime would fail on it per message)."""
    found = []
    for node in chart.nodes.values():
        try:
            checker = schemas.validator(f"nodes/{node.type}")
        except KeyError:
            continue  # a type without a config schema has nothing to check
        error = next(
            iter(sorted(checker.iter_errors(node.config), key=lambda e: list(e.path))), None
        )
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "config"
            found.append(
                messages.node_problem(node.id, node.label or node.type, f"{where}: {error.message}")
            )
    return found


def template_names() -> list[str]:
    """Names of the flow templates shipped in `flows/`."""
    return sorted(
        p.name[:-5]
        for p in resources.files("om_bridge.flows").iterdir()
        if p.name.endswith(".json")
    )


def load_chart(name_or_path: str) -> Chart:
    """Load a template by name ("demo-bot", "genesys-handover") or a chart file by path."""
    path = Path(name_or_path)
    if name_or_path in template_names():
        text = (
            resources.files("om_bridge.flows")
            .joinpath(f"{name_or_path}.json")
            .read_text(encoding="utf-8")
        )
        name = name_or_path
    elif path.is_file():
        text, name = path.read_text(encoding="utf-8"), path.stem
    else:
        raise ChartError(messages.chart_not_found(name_or_path, template_names()))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChartError(messages.chart_invalid(name, f"not JSON: {exc}")) from None
    return Chart.from_dict(data, name)
