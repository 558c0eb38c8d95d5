"""Start and End: the two nodes every Cognigy flow chart has."""

from __future__ import annotations

from ..api import NodeParams
from ..descriptor import NodeDescriptor
from ..layout import Appearance, Constraints, Placement

_FIXED = Constraints(
    creatable=False, deletable=False, editable=False, movable=False, placement=Placement()
)

START = NodeDescriptor(
    type="start",
    default_label="Start",
    summary="Where a flow begins",
    appearance=Appearance(color="#4F4F4F", text_color="white", variant="hexagon"),
    constraints=_FIXED,
)
END = NodeDescriptor(
    type="end",
    default_label="End",
    summary="Where a flow ends",
    appearance=Appearance(color="#4F4F4F", text_color="white", variant="hexagon"),
    constraints=_FIXED,
    behavior=START.behavior,
)


def end(params: NodeParams) -> None:
    """Stop this run; the next input starts at the entrypoint."""
    params.cognigy.api.stop_execution()
