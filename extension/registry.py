"""The registry of node types: type -> (descriptor, function). The flow runtime, the JSON Schemas
and the extension build all read this one dict, and a test fails when a template uses an
unregistered type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .api import NodeFunction
from .descriptor import NodeDescriptor
from .nodes import (
    chart,
    condition,
    context,
    goto,
    handover,
    lookup,
    profile,
    relay,
    say,
    transcript,
)


@dataclass(frozen=True)
class NodeType:
    """A registered node type. `function` None = the node itself does nothing (branch children,
    Start); `in_extension` = shipped in the uploadable Cognigy extension."""

    descriptor: NodeDescriptor
    function: NodeFunction | None
    in_extension: bool = True
    # Load-time check of a node's config: raises NodeError for values that cannot work and returns
    # notes on what is accepted but not supported (reported once when a flow is loaded).
    check: Callable[[dict[str, Any]], list[str]] | None = None

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
    NodeType(say.DESCRIPTOR, say.say, in_extension=False, check=say.check),
    NodeType(handover.DESCRIPTOR, handover.handover, check=handover.check),
    NodeType(
        handover.LEGACY, handover.legacy_handover, in_extension=False, check=handover.check_legacy
    ),
    NodeType(relay.DESCRIPTOR, None),
    NodeType(lookup.DESCRIPTOR, lookup.lookup, in_extension=False, check=lookup.check),
    NodeType(lookup.CASE, None, in_extension=False),
    NodeType(lookup.DEFAULT, None, in_extension=False),
    NodeType(goto.DESCRIPTOR, goto.go_to, in_extension=False, check=goto.check),
    NodeType(condition.DESCRIPTOR, condition.if_node, in_extension=False, check=condition.check),
    NodeType(condition.THEN, None, in_extension=False),
    NodeType(condition.ELSE, None, in_extension=False),
    NodeType(context.DESCRIPTOR, context.add_to_context, in_extension=False, check=context.check),
    NodeType(transcript.DESCRIPTOR, transcript.get_transcript, in_extension=False),
    NodeType(profile.DESCRIPTOR, profile.update_profile, in_extension=False, check=profile.check),
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


def config_notes(node_type: str, config: Mapping[str, Any]) -> list[str]:
    """Run the type's load-time check on `config` (with the descriptor's defaults under it): the
    notes on unsupported settings; NodeError for values that cannot work."""
    registered = NODE_TYPES[node_type]
    if registered.check is None:
        return []
    return registered.check({**registered.descriptor.defaults(), **config})


def extension_node_types() -> list[NodeType]:
    """Node types shipped in the Cognigy extension, parents before their children."""
    return [n for n in _ALL if n.in_extension]
