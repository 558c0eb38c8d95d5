"""Shared shape of branch ("child") node descriptors: small pills that live under their parent."""

from __future__ import annotations

from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, Constraints, FormEntry, Placement, Preview


def child_descriptor(
    node_type: str,
    label: str,
    parent: str,
    color: str,
    fields: tuple[Field, ...] = (),
    *,
    editable: bool = False,
    creatable: bool = False,
    preview: Preview | None = None,
) -> NodeDescriptor:
    """A branch node of `parent` (docs/reference/cognigy-model.md §1.7): mini, not movable, no free placement."""
    return NodeDescriptor(
        type=node_type,
        default_label=label,
        parent_type=parent,
        appearance=Appearance(color=color, text_color="white", variant="mini"),
        constraints=Constraints(
            editable=editable,
            deletable=creatable,
            creatable=creatable,
            movable=False,
            placement=Placement(predecessor={"whitelist": []}),
        ),
        fields=fields,
        form=tuple(FormEntry(f.key) for f in fields),
        preview=preview,
        tags=("logic",),
    )
