"""The parts of a node descriptor besides fields: sections, form, appearance, behavior, constraints,
preview and tokens (docs/reference/cognigy-model.md §1.3, §1.6), each an immutable value with `to_dict` / `from_dict`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ._values import freeze, split_known, thaw
from .fields import Condition

VARIANTS: Final = ("regular", "mini", "hexagon")
PREVIEW_TYPES: Final = ("text", "image", "custom", "sayNode", "resource")
TOKEN_TYPES: Final = (
    "profile",
    "input",
    "context",
    "custom",
    "answer",
    "flow-output",
    "flow-input",
)


@dataclass(frozen=True, slots=True)
class Section:
    """A collapsible group of fields in the node editor."""

    key: str
    label: Any
    fields: tuple[str, ...] = ()
    default_collapsed: bool = False
    condition: Condition | None = None
    description: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "extra", freeze(self.extra))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": thaw(self.label)}
        if self.description is not None:
            out["description"] = thaw(self.description)
        if self.condition is not None:
            out["condition"] = self.condition.to_dict()
        out["defaultCollapsed"] = self.default_collapsed
        out["fields"] = list(self.fields)
        out.update(thaw(self.extra))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Section:
        known, extra = split_known(
            data, ("key", "label", "fields", "defaultCollapsed", "condition", "description")
        )
        cond = known.get("condition")
        return cls(
            key=known["key"],
            label=freeze(known.get("label", known["key"])),
            fields=tuple(known.get("fields", ())),
            default_collapsed=bool(known.get("defaultCollapsed", False)),
            condition=Condition.from_dict(cond, known["key"]) if cond is not None else None,
            description=freeze(known.get("description")),
            extra=extra,
        )


@dataclass(frozen=True, slots=True)
class FormEntry:
    """One top-level form element: a field or a section, in render order."""

    key: str
    type: str = "field"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormEntry:
        return cls(key=data["key"], type=data.get("type", "field"))


@dataclass(frozen=True, slots=True)
class Appearance:
    """How the node is drawn; `mini` is the small pill of child nodes."""

    color: str = "#3D9FFF"
    text_color: str = "black"
    show_icon: bool = True
    variant: str = "regular"
    extra: Mapping[str, Any] = field(
        default_factory=dict
    )  # e.g. contrastTextColor (platform types)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", freeze(self.extra))

    def to_dict(self) -> dict[str, Any]:
        # Key order as createNodeDescriptor writes it, so generated JS diffs cleanly.
        return {
            "showIcon": self.show_icon,
            "color": self.color,
            "textColor": self.text_color,
            "variant": self.variant,
            **thaw(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Appearance:
        known, extra = split_known(data or {}, ("color", "textColor", "showIcon", "variant"))
        return cls(
            color=known.get("color", "#3D9FFF"),
            text_color=known.get("textColor", "black"),
            show_icon=known.get("showIcon", True),
            variant=known.get("variant", "regular"),
            extra=extra,
        )


@dataclass(frozen=True, slots=True)
class Behavior:
    """`stopping` ends the execution after the node; `entrypoint` makes it an entry point."""

    stopping: bool = False
    entrypoint: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", freeze(self.extra))

    def to_dict(self) -> dict[str, Any]:
        return {"stopping": self.stopping, "entrypoint": self.entrypoint, **thaw(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Behavior:
        known, extra = split_known(data or {}, ("stopping", "entrypoint"))
        return cls(
            stopping=known.get("stopping", False),
            entrypoint=known.get("entrypoint", False),
            extra=extra,
        )


@dataclass(frozen=True, slots=True)
class Placement:
    """Which node types may precede, follow or be children of the node (`{whitelist?, blacklist?}`
    each)."""

    predecessor: Mapping[str, Any] = field(default_factory=dict)
    successor: Mapping[str, Any] = field(default_factory=dict)
    children: Mapping[str, Any] = field(default_factory=lambda: {"whitelist": []})

    def __post_init__(self) -> None:
        for name in ("predecessor", "successor", "children"):
            object.__setattr__(self, name, freeze(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "predecessor": thaw(self.predecessor),
            "successor": thaw(self.successor),
            "children": thaw(self.children),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Placement:
        data = data or {}
        children = data.get("children")
        return cls(
            predecessor=data.get("predecessor") or {},
            successor=data.get("successor") or {},
            children={"whitelist": []} if children is None else children,
        )


@dataclass(frozen=True, slots=True)
class Constraints:
    """What the editor lets a user do with the node."""

    creatable: bool = True
    deletable: bool = True
    editable: bool = True
    collapsable: bool = False
    movable: bool = True
    placement: Placement = Placement()
    extra: Mapping[str, Any] = field(
        default_factory=dict
    )  # e.g. childFlowCreatable (platform types)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", freeze(self.extra))

    def to_dict(self) -> dict[str, Any]:
        return {
            "creatable": self.creatable,
            "deletable": self.deletable,
            "editable": self.editable,
            "collapsable": self.collapsable,
            "movable": self.movable,
            **thaw(self.extra),
            "placement": self.placement.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Constraints:
        known, extra = split_known(
            data or {},
            ("creatable", "deletable", "editable", "collapsable", "movable", "placement"),
        )
        return cls(
            creatable=known.get("creatable", True),
            deletable=known.get("deletable", True),
            editable=known.get("editable", True),
            collapsable=known.get("collapsable", False),
            movable=known.get("movable", True),
            placement=Placement.from_dict(known.get("placement")),
            extra=extra,
        )


@dataclass(frozen=True, slots=True)
class Preview:
    """Which field's value the chart shows on the node."""

    type: str
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preview:
        return cls(type=data["type"], key=data["key"])


@dataclass(frozen=True, slots=True)
class Token:
    """A CognigyScript token the node offers in the token picker."""

    label: str
    type: str
    script: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "type": self.type, "script": self.script}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        return cls(label=data["label"], type=data["type"], script=data["script"])
