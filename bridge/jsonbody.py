"""Parsing of untrusted JSON request bodies with limits every route shares.

`json.loads` alone accepts documents that break whatever touches them next: nesting hundreds of
levels deep (a `RecursionError` in schema validation or serialisation), integers of thousands of
digits (Python refuses to convert more than 4,300, with a `ValueError` that is no `JSONDecodeError`),
`1e999` (infinity, which no JSON encoder writes back) and lone UTF-16 surrogates (`"\\ud800"`, valid
JSON but no Unicode text: it cannot be encoded as UTF-8 for the store or a response). `loads`
refuses the first three with a `BodyError` naming the problem; surrogates are left to
`lone_surrogates`, because a route decides whether the field carrying one is an identifier (refuse)
or text (replace with U+FFFD).
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any, Final

MAX_DEPTH: Final = 64
MAX_NUMBER_CHARS: Final = 40
REPLACEMENT: Final = "\ufffd"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
# A `\uD800`-`\uDFFF` escape (the only way a lone surrogate gets into decoded UTF-8 JSON).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE = re.compile(r"[\ud800-\udfff]")


class BodyError(ValueError):
    """A JSON body refused before use; the message names the problem (never echoes the body)."""


def _depth(text: str) -> int:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be nested deeper than the limit
    brackets = _NOT_BRACKET.sub("", _STRING.sub('""', text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def _parse_int(token: str) -> int:
    if len(token) > MAX_NUMBER_CHARS:
        raise BodyError(
            f"a number has {len(token)} digits; at most {MAX_NUMBER_CHARS} are accepted"
        )
    return int(token)


def _parse_float(token: str) -> float:
    if len(token) > MAX_NUMBER_CHARS:
        raise BodyError(
            f"a number has {len(token)} characters; at most {MAX_NUMBER_CHARS} are accepted"
        )
    value = float(token)
    if not math.isfinite(value):
        raise BodyError(f"the number {token} is out of range")
    return value


def _parse_constant(token: str) -> Any:
    raise BodyError(f"{token} is not valid JSON")


def loads(raw: bytes | str) -> Any:
    """The JSON document in `raw` (UTF-8), or a `BodyError` naming why it is refused."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8 (byte {exc.start})") from None
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise BodyError(f"JSON nested {depth} levels deep; at most {MAX_DEPTH} are accepted")
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except BodyError:
        raise
    except RecursionError:  # defence in depth: the scan above should have refused it
        raise BodyError(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise BodyError(f"the body is not valid JSON ({exc})") from None


def may_hold_surrogates(raw: bytes | str) -> bool:
    """Cheap pre-check: False means the body cannot carry a lone surrogate."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return _SURROGATE_ESCAPE.search(text) is not None


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a UTF-16 surrogate (only lone ones survive JSON decoding)."""
    return _LONE.search(text) is not None


def lone_surrogates(value: Any, path: tuple = ()) -> tuple[Any, list[tuple]]:
    """`value` with every lone surrogate replaced by U+FFFD, and the paths of the strings changed
    (keys count as part of the path; a key holding one is replaced too)."""
    if isinstance(value, str):
        if has_lone_surrogate(value):
            return _LONE.sub(REPLACEMENT, value), [path]
        return value, []
    if isinstance(value, list):
        out_list, found = [], []
        for i, item in enumerate(value):
            new, paths = lone_surrogates(item, (*path, i))
            out_list.append(new)
            found.extend(paths)
        return out_list, found
    if isinstance(value, dict):
        out_dict, found = {}, []
        for key, item in value.items():
            new_key = key
            if isinstance(key, str) and has_lone_surrogate(key):
                new_key = _LONE.sub(REPLACEMENT, key)
                found.append((*path, key))
            new, paths = lone_surrogates(item, (*path, key))
            out_dict[new_key] = new
            found.extend(paths)
        return out_dict, found
    return value, []


def is_identifier(path: tuple) -> bool:
    """True for a field that identifies something (`id`, `conversationId`, `channel.to.id`, …)."""
    last = path[-1] if path else ""
    return isinstance(last, str) and last.lower().endswith("id")


def scrub(value: Any) -> Any:
    """`value` with lone surrogates replaced in text; a `BodyError` naming the first identifier
    that holds one (it could only name the wrong thing, or nothing)."""
    cleaned, paths = lone_surrogates(value)
    for path in paths:
        if is_identifier(path):
            raise BodyError(
                f"{dotted(path)} holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape "
                "without its pair), which is not Unicode text"
            )
    return cleaned


def dotted(path: tuple) -> str:
    """`("channel", "to", "id")` → `channel.to.id`; list indexes in brackets."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def safe_text(text: str) -> str:
    """`text` with lone surrogates replaced, so it always encodes as UTF-8."""
    return _LONE.sub(REPLACEMENT, text) if has_lone_surrogate(text) else text
