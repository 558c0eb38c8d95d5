"""Node fields and their display conditions, as extension-tools' `INodeField` (docs/reference/cognigy-model.md §1.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from . import messages
from ._values import freeze, split_known, thaw

# The allow-list of @cognigy/extension-tools 0.14.0 (`nodeFieldTypes`): what an uploaded extension
# may use.
EXTENSION_FIELD_TYPES: Final = frozenset(
    {
        "text",
        "rule",
        "json",
        "checkbox",
        "time",
        "date",
        "datetime",
        "select",
        "typescript",
        "xml",
        "textArray",
        "chipInput",
        "cognigyText",
        "toggle",
        "slider",
        "number",
        "daterange",
        "connection",
        "say",
        "condition",
    }
)

# The platform's list (Cognigy.AI v4.85 `nodeFieldTypes`), a superset used by the built-in nodes
# (Lookup's `switchNode`, Case's `caseNode`, Go To's `flowNode`, ...).
PLATFORM_FIELD_TYPES: Final = EXTENSION_FIELD_TYPES | frozenset(
    {
        "adaptivecard",
        "agentAssistConfig",
        "appTemplate",
        "backgroundSelector",
        "caseNode",
        "code",
        "cognigyTextArray",
        "description",
        "flow",
        "flowNode",
        "function",
        "keyValuePairs",
        "knowledgeStore",
        "knowledgeStoreSelect",
        "knowledgeSourceTags",
        "llmSelect",
        "milestoneAndStepsSelect",
        "lexicon",
        "localeField",
        "node",
        "profileSchemaField",
        "state",
        "switchNode",
    }
)

MISSING: Final = object()  # a field without `defaultValue` (distinct from a default of None)


@dataclass(frozen=True, slots=True)
class Condition:
    """When a field or section is shown: `{key, value, negate}` or nested `{and: [...]}` / `{or:
    [...]}`."""

    key: str | None = None
    value: Any = None
    negate: bool = False
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()

    @property
    def is_single(self) -> bool:
        return self.key is not None

    def keys(self) -> list[str]:
        """Every field key this condition (and its nested conditions) looks at."""
        if self.key is not None:  # is_single
            return [self.key]
        return [k for c in (*self.all_of, *self.any_of) for k in c.keys()]

    def holds(self, config: Mapping[str, Any]) -> bool:
        """Evaluate against a node config the way the editor does to show or hide a field."""
        if self.all_of:
            return all(c.holds(config) for c in self.all_of)
        if self.any_of:
            return any(c.holds(config) for c in self.any_of)
        wanted = self.value if isinstance(self.value, tuple) else (self.value,)
        return (config.get(self.key) in wanted) != self.negate  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        if self.all_of:
            return {"and": [c.to_dict() for c in self.all_of]}
        if self.any_of:
            return {"or": [c.to_dict() for c in self.any_of]}
        out: dict[str, Any] = {"key": self.key, "value": thaw(self.value)}
        if self.negate:
            out["negate"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], owner: str = "?") -> Condition:
        if not isinstance(data, Mapping):
            raise ValueError(messages.bad_condition(owner, "not an object"))
        if "and" in data or "or" in data:
            name = "and" if "and" in data else "or"
            parts = data[name]
            if not isinstance(parts, (list, tuple)) or not parts:
                raise ValueError(messages.bad_condition(owner, f"{name!r} needs a non-empty list"))
            nested = tuple(cls.from_dict(p, owner) for p in parts)
            return cls(all_of=nested) if name == "and" else cls(any_of=nested)
        if not isinstance(data.get("key"), str) or "value" not in data:
            raise ValueError(
                messages.bad_condition(owner, "needs 'key' and 'value', or 'and'/'or'")
            )
        return cls(
            key=data["key"], value=freeze(data["value"]), negate=bool(data.get("negate", False))
        )


_FIELD_KEYS = ("key", "label", "type", "description", "defaultValue", "params", "condition")


@dataclass(frozen=True, slots=True)
class Field:
    """One node field; its value ends up in the chart node's `config[key]`."""

    key: str
    label: Any
    type: str
    description: Any = None
    default_value: Any = MISSING
    params: Mapping[str, Any] = field(default_factory=dict)
    condition: Condition | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict
    )  # unknown keys (e.g. optionsResolver, resetOption) kept verbatim

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", freeze(self.params))
        object.__setattr__(self, "extra", freeze(self.extra))
        if self.default_value is not MISSING:
            object.__setattr__(self, "default_value", freeze(self.default_value))

    @property
    def required(self) -> bool:
        return bool(self.params.get("required", False))

    @property
    def options(self) -> list[Any]:
        """Values of a select field's options."""
        return [o["value"] for o in self.params.get("options", ())]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": thaw(self.label), "type": self.type}
        if self.description is not None:
            out["description"] = thaw(self.description)
        if self.default_value is not MISSING:
            out["defaultValue"] = thaw(self.default_value)
        if self.params:
            out["params"] = thaw(self.params)
        if self.condition is not None:
            out["condition"] = self.condition.to_dict()
        out.update(thaw(self.extra))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], owner: str = "?") -> Field:
        for name in ("key", "label", "type"):
            if name not in data:
                raise ValueError(
                    messages.invalid_descriptor(
                        owner, messages.missing_property(f"field {data.get('key', '?')!r}", name)
                    )
                )
        known, extra = split_known(data, _FIELD_KEYS)
        cond = known.get("condition")
        return cls(
            key=known["key"],
            label=freeze(known["label"]),
            type=known["type"],
            description=freeze(known.get("description")),
            default_value=known.get("defaultValue", MISSING),
            params=known.get("params") or {},
            condition=Condition.from_dict(cond, known["key"]) if cond is not None else None,
            extra=extra,
        )


__all__ = ["EXTENSION_FIELD_TYPES", "MISSING", "PLATFORM_FIELD_TYPES", "Condition", "Field"]
