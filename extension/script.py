"""The CognigyScript subset: `{{ path }}` substitution in texts and conditions with `==`, `!=`,
`contains`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, parentheses and string/number/bool/null literals.

A small tokenizer and recursive-descent parser build a tree that is evaluated against `input`,
`context` and `profile` (`ci`/`cc`/`cp` are shorthands); nothing is ever `eval`-ed.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import messages

ROOTS = {
    "input": "input",
    "context": "context",
    "profile": "profile",
    "ci": "input",
    "cc": "context",
    "cp": "profile",
}
_LITERALS = {"true": True, "false": False, "null": None, "undefined": None}
_COMPARE = ("==", "!=", "===", "!==", "<", "<=", ">", ">=", "contains")
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[!<>()\[\].-])
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
""",
    re.VERBOSE,
)
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Parentheses and '!' nest by recursion: a bound keeps a malformed or hostile expression from
# exhausting Python's stack (a RecursionError instead of a clear ScriptError).
MAX_NESTING = 50


class ScriptError(ValueError):
    """A CognigyScript expression that cannot be parsed or names an unknown root."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: Any
    pos: int


def _tokens(expr: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            problem = "unterminated string" if expr[pos] in "\"'" else f"unexpected {expr[pos]!r}"
            raise ScriptError(messages.script_syntax(expr, pos, problem))
        kind = m.lastgroup
        text = m.group()
        if kind == "num":
            out.append(_Tok("lit", float(text) if "." in text else int(text), pos))
        elif kind == "str":
            out.append(_Tok("lit", _unquote(text), pos))
        elif kind == "op":
            out.append(_Tok("op", text, pos))
        elif kind == "name":
            if text in _LITERALS:
                out.append(_Tok("lit", _LITERALS[text], pos))
            elif text == "contains":
                out.append(_Tok("op", text, pos))
            else:
                out.append(_Tok("name", text, pos))
        pos = m.end()
    out.append(_Tok("end", None, len(expr)))
    return out


def _unquote(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r"}
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


class _Parser:
    """Recursive descent over this grammar (lowest precedence first).

    expr := and ('||' and)*  ;  and := cmp ('&&' cmp)*  ;  cmp := unary (OP unary)?
    unary := '!' unary | '-' NUMBER | primary  ;  primary := literal | path | '(' expr ')'
    """

    def __init__(self, expr: str) -> None:
        self.expr, self.toks, self.i = expr, _tokens(expr), 0
        self.depth = 0

    def fail(self, problem: str) -> ScriptError:
        return ScriptError(messages.script_syntax(self.expr, self.peek.pos, problem))

    @property
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, op: str) -> bool:
        if self.peek.kind == "op" and self.peek.value == op:
            self.i += 1
            return True
        return False

    def parse(self) -> tuple:
        if self.peek.kind == "end":
            raise self.fail("empty expression")
        node = self.or_()
        if self.peek.kind != "end":
            raise self.fail(f"unexpected {self.peek.value!r}")
        return node

    def or_(self) -> tuple:
        node = self.and_()
        while self.accept("||"):
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.cmp()
        while self.accept("&&"):
            node = ("and", node, self.cmp())
        return node

    def cmp(self) -> tuple:
        node = self.unary()
        if self.peek.kind == "op" and self.peek.value in _COMPARE:
            op = self.take().value
            node = ("cmp", op, node, self.unary())
        return node

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"nested more than {MAX_NESTING} levels deep")

    def unary(self) -> tuple:
        if self.accept("!"):
            self.nest()
            node = ("not", self.unary())
            self.depth -= 1
            return node
        if self.accept("-"):
            tok = self.take()
            if tok.kind != "lit" or isinstance(tok.value, (bool, str)) or tok.value is None:
                raise ScriptError(messages.script_syntax(self.expr, tok.pos, "'-' needs a number"))
            return ("lit", -tok.value)
        return self.primary()

    def primary(self) -> tuple:
        tok = self.take()
        if tok.kind == "lit":
            return ("lit", tok.value)
        if tok.kind == "op" and tok.value == "(":
            self.nest()
            node = self.or_()
            if not self.accept(")"):
                raise self.fail("missing ')'")
            self.depth -= 1
            return node
        if tok.kind == "name":
            if tok.value not in ROOTS:
                raise ScriptError(messages.script_unknown_root(self.expr, tok.value))
            return ("path", ROOTS[tok.value], tuple(self.segments()))
        self.i -= 1
        raise self.fail("expected a value" if tok.kind == "end" else f"unexpected {tok.value!r}")

    def segments(self) -> list[str]:
        segs: list[str] = []
        while True:
            if self.accept("."):
                tok = self.take()
                if tok.kind == "name" or (tok.kind == "lit" and isinstance(tok.value, int)):
                    segs.append(str(tok.value))
                elif tok.kind in ("lit", "op") and tok.value in ("contains", True, False, None):
                    segs.append(
                        {True: "true", False: "false", None: "null"}.get(tok.value, tok.value)
                    )
                else:
                    raise ScriptError(
                        messages.script_syntax(self.expr, tok.pos, "expected a name after '.'")
                    )
            elif self.accept("["):
                tok = self.take()
                if (
                    tok.kind != "lit"
                    or not isinstance(tok.value, (str, int))
                    or isinstance(tok.value, bool)
                ):
                    raise ScriptError(
                        messages.script_syntax(self.expr, tok.pos, "expected a string or index")
                    )
                segs.append(str(tok.value))
                if not self.accept("]"):
                    raise self.fail("missing ']'")
            else:
                return segs


@lru_cache(maxsize=1024)
def parse(expression: str) -> tuple:
    """Parse an expression into a tree (cached); raises ScriptError naming the problem."""
    return _Parser(expression.strip()).parse()


def _lookup(scope: Mapping[str, Any], root: str, segs: tuple[str, ...]) -> Any:
    value: Any = scope.get(root)
    for seg in segs:
        if isinstance(value, Mapping):
            value = value.get(seg)
        elif isinstance(value, (list, tuple)) and seg.isdigit() and int(seg) < len(value):
            value = value[int(seg)]
        elif isinstance(value, (str, list, tuple)) and seg == "length":
            value = len(value)
        else:
            return None
    return value


def truthy(value: Any) -> bool:
    """JavaScript truthiness: "", 0, null and false are false; objects and lists are true."""
    if isinstance(value, (dict, list, tuple)):
        return True
    return bool(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip()) if str(value).strip() else None
    except ValueError:
        return None


def _equal(a: Any, b: Any, strict: bool) -> bool:
    if strict:
        return type(a) is type(b) and a == b
    if a is None or b is None:
        return a is None and b is None  # null == undefined, nothing else
    if isinstance(a, bool) or isinstance(b, bool):
        return to_text(a) == to_text(b)
    na, nb = _number(a), _number(b)
    if (
        (isinstance(a, (int, float)) or isinstance(b, (int, float)))
        and na is not None
        and nb is not None
    ):
        return na == nb  # loose equality: 2 == "2"
    return a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("==", "==="):
        return _equal(a, b, op == "===")
    if op in ("!=", "!=="):
        return not _equal(a, b, op == "!==")
    if op == "contains":
        # Case-insensitive for texts (so `input.text contains "agent"` matches "Agent"); membership
        # for lists.
        if isinstance(a, str) and b is not None:
            return to_text(b).casefold() in a.casefold()
        if isinstance(a, (list, tuple)):
            return b in a
        if isinstance(a, Mapping):
            return to_text(b) in a
        return False
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return _ORDERINGS[op](na, nb)
    if isinstance(a, str) and isinstance(b, str):
        return _ORDERINGS[op](a, b)
    return False


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _eval(node: tuple, scope: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        return _lookup(scope, node[1], node[2])
    if kind == "not":
        return not truthy(_eval(node[1], scope))
    if kind == "and":
        left = _eval(node[1], scope)
        return _eval(node[2], scope) if truthy(left) else left
    if kind == "or":
        left = _eval(node[1], scope)
        return left if truthy(left) else _eval(node[2], scope)
    return _compare(node[1], _eval(node[2], scope), _eval(node[3], scope))


def evaluate(expression: str, scope: Mapping[str, Any]) -> Any:
    """The value of an expression against `{"input": ..., "context": ..., "profile": ...}`."""
    return _eval(parse(expression), scope)


def condition(expression: str, scope: Mapping[str, Any]) -> bool:
    """An If condition's truth value (an empty condition is false)."""
    return bool(expression.strip()) and truthy(evaluate(expression, scope))


def to_text(value: Any) -> str:
    """How a value appears when substituted into a text: missing -> "", objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def render(text: str, scope: Mapping[str, Any]) -> str:
    """Replace every `{{ expression }}` in `text`; a text without braces is returned unchanged."""
    if "{{" not in text:
        return text
    return _TEMPLATE.sub(lambda m: to_text(evaluate(m.group(1), scope)), text)
