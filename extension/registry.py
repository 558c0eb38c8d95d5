"""The registry of node types: type -> (descriptor, function). The flow runtime, the JSON Schemas
and the extension build all read this one dict, and a test fails when a template uses an
unregistered type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .api import NodeFunction
from .descriptor import NodeDescriptor
from .nodes import chart, condition, context, goto, handover, lookup, relay, say, transcript


@dataclass(frozen=True)
class NodeType:
    """A registered node type. `function` None = the node itself does nothing (branch children,
    Start); `in_extension` = shipped in the uploadable Cognigy extension."""

    descriptor: NodeDescriptor
    function: NodeFunction | None
    in_extension: bool = True

    @property
    def type(self) -> str:
        return self.descriptor.type


# Only the nodes that need the bridge are shipped in the Cognigy extension: Say, Lookup with its
# Case/Default, Go To, If and Add to Context are Cognigy's own built-in nodes there (the same
# semantics, no bridge round trip per node, and Go To "wait for Input" is something only the
# platform can do: an extension can set the next node but not make the next input start there).
_ALL = (
    NodeType(chart.START, None, in_extension=False),
    NodeType(chart.END, chart.end, in_extension=False),
    NodeType(say.DESCRIPTOR, say.say, in_extension=False),
    NodeType(handover.DESCRIPTOR, handover.handover),
    NodeType(relay.DESCRIPTOR, None),
    NodeType(lookup.DESCRIPTOR, lookup.lookup, in_extension=False),
    NodeType(lookup.CASE, None, in_extension=False),
    NodeType(lookup.DEFAULT, None, in_extension=False),
    NodeType(goto.DESCRIPTOR, goto.go_to, in_extension=False),
    NodeType(condition.DESCRIPTOR, condition.if_node, in_extension=False),
    NodeType(condition.THEN, None, in_extension=False),
    NodeType(condition.ELSE, None, in_extension=False),
    NodeType(context.DESCRIPTOR, context.add_to_context, in_extension=False),
    NodeType(transcript.DESCRIPTOR, transcript.get_transcript, in_extension=False),
)

NODE_TYPES: Final[dict[str, NodeType]] = {n.type: n for n in _ALL}
assert len(NODE_TYPES) == len(_ALL), "duplicate node type in the registry"


def node_type(name: str) -> NodeType:
    """The registered node type `name` (KeyError naming it when unknown)."""
    try:
        return NODE_TYPES[name]
    except KeyError:
        from . import messages

        raise KeyError(messages.unknown_node_type(name)) from None


def extension_node_types() -> list[NodeType]:
    """Node types shipped in the Cognigy extension, parents before their children."""
    return [n for n in _ALL if n.in_extension]
