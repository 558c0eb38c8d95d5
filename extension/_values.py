"""Deep-freezing helpers that make descriptor values immutable and turn them back into JSON data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any


def freeze(value: Any) -> Any:
    """`value` with every dict turned into a read-only mapping and every list into a tuple."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of `freeze`: plain dicts and lists, ready for `json.dumps`."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def split_known(data: Mapping[str, Any], known: Iterable[str]) -> tuple[dict[str, Any], Mapping]:
    """Split a mapping into its known keys and a frozen mapping of the unknown ones (kept on round-
    trip)."""
    names = set(known)
    extra = {k: v for k, v in data.items() if k not in names}
    return {k: v for k, v in data.items() if k in names}, freeze(extra)


EMPTY: Mapping = MappingProxyType({})
