"""Every user-facing message of the flow runtime, so wording stays consistent and testable."""

from __future__ import annotations


def node_problem(node_id: str, label: str, problem: str) -> str:
    """`node "Lookup status" (id lookup-1): problem` (the label is the type when empty)."""
    return f'node "{label}" (id {node_id}): {problem}' if label else f"node {node_id}: {problem}"


def node_failed(node_id: str, label: str, problem: str) -> str:
    return node_problem(node_id, label, problem)


def not_supported(chart: str, note: str) -> str:
    return f"flow {chart!r}: not supported here: {note}"


def step_bound(max_steps: int) -> str:
    return (
        f"stopped after {max_steps} nodes without waiting for input "
        '(a Go To loop without "wait for Input"?)'
    )


def no_such_node(node_id: str) -> str:
    return f"jumps to node {node_id!r}, which is not in this flow"


def unknown_type(node_type: str) -> str:
    return f"node type {node_type!r} is not registered"


def chart_invalid(name: str, problem: str) -> str:
    return f"flow chart {name!r} is invalid: {problem}"


def chart_not_found(name: str, known: list[str]) -> str:
    return f"no flow chart {name!r} (templates: {', '.join(known)}; or give a file path)"
