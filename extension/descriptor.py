"""`NodeDescriptor`: the immutable value behind extension-tools' `createNodeDescriptor` (docs/reference/cognigy-model.md
§1.3).

Defaults are the ones `createNodeDescriptor` fills, so `to_dict()` equals what that function returns
for the same input; unknown keys survive a `from_dict` / `to_dict` round-trip in `extra`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import messages
from ._values import freeze, split_known, thaw
from .fields import MISSING, PLATFORM_FIELD_TYPES, Condition, Field
from .layout import VARIANTS, Appearance, Behavior, Constraints, FormEntry, Preview, Section, Token


class DescriptorError(ValueError):
    """A descriptor breaks a rule; the message names the descriptor type and the offending key."""


_KNOWN = (
    "_id",
    "type",
    "parentType",
    "defaultLabel",
    "summary",
    "appearance",
    "behavior",
    "constraints",
    "dependencies",
    "fields",
    "sections",
    "form",
    "preview",
    "tags",
    "tokens",
    "function",
)


@dataclass(frozen=True, slots=True)
class NodeDescriptor:
    """A node type: its fields, layout, editor behaviour and child node types."""

    type: str
    default_label: Any = None  # None -> the type, as createNodeDescriptor does
    summary: Any = ""
    parent_type: str | None = None
    appearance: Appearance = field(default_factory=Appearance)
    behavior: Behavior = field(default_factory=Behavior)
    constraints: Constraints = field(default_factory=Constraints)
    children: tuple[str, ...] = ()  # dependencies.children
    fields: tuple[Field, ...] = ()
    sections: tuple[Section, ...] = ()
    form: tuple[FormEntry, ...] = ()
    preview: Preview | None = None
    tags: tuple[str, ...] = ()
    tokens: tuple[Token, ...] = ()
    id: Any = None  # `_id`, normally unset
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("children", "fields", "sections", "form", "tags", "tokens"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.default_label is None:
            object.__setattr__(self, "default_label", self.type)
        object.__setattr__(self, "default_label", freeze(self.default_label))
        object.__setattr__(self, "summary", freeze(self.summary))
        object.__setattr__(self, "extra", freeze(self.extra))
        self._validate()

    # -- validation -------------------------------------------------------------------------------
    def _fail(self, problem: str) -> None:
        raise DescriptorError(messages.invalid_descriptor(self.type, problem))

    def _validate(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise DescriptorError(
                messages.invalid_descriptor(str(self.type), "type must be a non-empty string")
            )
        keys: set[str] = set()
        for f in self.fields:
            if f.key in keys:
                self._fail(messages.duplicate_field(f.key))
            keys.add(f.key)
            if f.type not in PLATFORM_FIELD_TYPES:
                self._fail(messages.unknown_field_type(f.key, f.type))
        sections: set[str] = set()
        for s in self.sections:
            if s.key in sections:
                self._fail(messages.duplicate_section(s.key))
            sections.add(s.key)
            for k in s.fields:
                if k not in keys:
                    self._fail(messages.section_missing_field(s.key, k))
        for entry in self.form:
            if entry.type not in ("field", "section"):
                self._fail(messages.bad_form_kind(entry.key, entry.type))
            if entry.key not in (keys if entry.type == "field" else sections):
                self._fail(messages.form_missing(entry.type, entry.key))
        owners: Iterable[tuple[str, Condition | None]] = [
            *((f.key, f.condition) for f in self.fields),
            *((s.key, s.condition) for s in self.sections),
        ]
        for owner, cond in owners:
            for k in cond.keys() if cond else ():
                if k not in keys:
                    self._fail(messages.condition_missing_field(owner, k))
        if self.preview is not None and self.preview.key not in keys:
            self._fail(messages.preview_missing_field(self.preview.key))
        if self.appearance.variant not in VARIANTS:
            self._fail(messages.bad_value("appearance", "variant", list(VARIANTS)))

    # -- access -----------------------------------------------------------------------------------
    def field(self, key: str) -> Field:
        """The field with `key` (KeyError when absent)."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def defaults(self) -> dict[str, Any]:
        """A node config holding every field's `defaultValue`, as the editor creates a new node."""
        return {f.key: thaw(f.default_value) for f in self.fields if f.default_value is not MISSING}

    # -- (de)serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The createNodeDescriptor-shaped object (without `function`)."""
        out: dict[str, Any] = {}
        if self.id is not None:
            out["_id"] = thaw(self.id)
        out.update(
            {
                "type": self.type,
                "parentType": self.parent_type,
                "defaultLabel": thaw(self.default_label),
                "summary": thaw(self.summary),
                "appearance": self.appearance.to_dict(),
                "behavior": self.behavior.to_dict(),
                "constraints": self.constraints.to_dict(),
                "dependencies": {"children": list(self.children)},
                "fields": [f.to_dict() for f in self.fields],
                "sections": [s.to_dict() for s in self.sections],
                "form": [e.to_dict() for e in self.form],
            }
        )
        if self.preview is not None:
            out["preview"] = self.preview.to_dict()
        out["tags"] = list(self.tags)
        out["tokens"] = [t.to_dict() for t in self.tokens]
        out.update(thaw(self.extra))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeDescriptor:
        """Build from a (possibly partial) descriptor object, filling createNodeDescriptor's
        defaults."""
        node_type = data.get("type") if isinstance(data, Mapping) else None
        if not isinstance(node_type, str) or not node_type:
            raise DescriptorError(
                messages.invalid_descriptor(
                    str(node_type), messages.missing_property("descriptor", "type")
                )
            )
        known, extra = split_known(data, _KNOWN)
        try:
            return cls(
                type=node_type,
                default_label=known.get("defaultLabel"),
                summary=known.get("summary") if known.get("summary") is not None else "",
                parent_type=known.get("parentType") or None,
                appearance=Appearance.from_dict(known.get("appearance")),
                behavior=Behavior.from_dict(known.get("behavior")),
                constraints=Constraints.from_dict(known.get("constraints")),
                children=tuple((known.get("dependencies") or {}).get("children", ())),
                fields=tuple(Field.from_dict(f, node_type) for f in known.get("fields") or ()),
                sections=tuple(Section.from_dict(s) for s in known.get("sections") or ()),
                form=tuple(FormEntry.from_dict(e) for e in known.get("form") or ()),
                preview=Preview.from_dict(known["preview"]) if known.get("preview") else None,
                tags=tuple(known.get("tags") or ()),
                tokens=tuple(Token.from_dict(t) for t in known.get("tokens") or ()),
                id=known.get("_id"),
                extra=extra,
            )
        except DescriptorError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise DescriptorError(messages.invalid_descriptor(node_type, str(exc))) from None
