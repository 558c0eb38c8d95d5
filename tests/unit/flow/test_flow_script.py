"""The CognigyScript subset: substitution and conditions, parsed (never eval-ed), clear errors."""

from __future__ import annotations

import pytest

from om_bridge.extension.script import ScriptError, condition, evaluate, render

SCOPE = {
    "input": {
        "text": "I want an AGENT",
        "data": {"request": {"text": "You are number 2"}, "n": 3, "list": ["a", "b"]},
        "handover": {"status": "completed"},
    },
    "context": {"count": 2, "flag": True, "name": "Ann", "empty": ""},
    "profile": {"firstname": "Bo"},
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{{ input.data.request.text }}", "You are number 2"),
        ("Hi {{profile.firstname}}, {{ context.count }}!", "Hi Bo, 2!"),
        ("{{ context.nothing }}|{{ input.data.request.nope.deeper }}", "|"),
        ("{{ ci.handover.status }} {{ cc.name }} {{ cp.firstname }}", "completed Ann Bo"),
        ("{{ input.data.list }} {{ context.flag }}", '["a","b"] true'),
        ("{{ input.data.list.1 }} {{ input.data['n'] }} {{ input.data.list.length }}", "b 3 2"),
        ("no braces at all", "no braces at all"),
        ("{{ 'x' }}{{ 4.0 }}", "x4"),
    ],
)
def test_render(text, expected):
    assert render(text, SCOPE) == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        ('input.text contains "agent"', True),  # case-insensitive for texts
        ('input.text contains "human"', False),
        ('input.data.list contains "b"', True),
        ("context.count == 2", True),
        ('context.count == "2"', True),  # loose equality, as JavaScript's ==
        ('context.count === "2"', False),
        ("context.count != 3 && context.flag", True),
        ("!context.flag || context.name == 'Ann'", True),
        ("!(context.flag || false)", False),
        ("context.empty", False),
        ("!context.missing", True),
        ("context.missing == null", True),
        ("context.count >= 2 && input.data.n > 2 && -1 < 0", True),
        ('input.handover.status == "completed" && !(input.text contains "bye")', True),
        ("true && (false || context.count == 2)", True),
        ("", False),
    ],
)
def test_conditions(expr, expected):
    assert condition(expr, SCOPE) is expected


def test_and_or_return_operands_like_javascript():
    assert evaluate("context.empty || context.name", SCOPE) == "Ann"
    assert evaluate("context.name && context.count", SCOPE) == 2


@pytest.mark.parametrize(
    "expr, words",
    [
        ("input.text ==", "expected a value"),
        ("(input.text", "missing ')'"),
        ("input.text = 'x'", "unexpected '='"),
        ("process.exit()", "unknown name 'process'"),
        ("__import__('os')", "unknown name '__import__'"),
        ("input.text; 1", "unexpected ';'"),
        ("input.", "expected a name"),
        ("'unterminated", "unterminated string"),
        ('input.text == "open', "unterminated string"),
        ("context.a context.b", "unexpected"),
    ],
)
def test_bad_expressions_raise_clear_errors(expr, words):
    with pytest.raises(ScriptError) as exc:
        condition(expr, SCOPE)
    assert words in str(exc.value) and repr(expr.strip()) in str(exc.value)


@pytest.mark.parametrize(
    "expr", ["(" * 5000 + "1" + ")" * 5000, "!" * 5000 + "true", "(!" * 3000 + "1" + ")" * 3000]
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(expr):
    with pytest.raises(ScriptError, match="nested more than 50 levels deep"):
        condition(expr, SCOPE)


def test_nesting_within_the_bound_still_works():
    assert condition("(" * 50 + "context.flag" + ")" * 50, SCOPE) is True
    assert condition("!" * 50 + "context.flag", SCOPE) is True


def test_bad_expression_inside_braces_is_an_error_too():
    with pytest.raises(ScriptError, match="unknown name 'os'"):
        render("Hello {{ os.environ }}", SCOPE)
