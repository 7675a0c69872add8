"""CEL expressions: compiled once, evaluated on a case, their names checked against the data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backoffice.definitions import Expression
from backoffice.errors import ExpressionFailed

CASE = {"data": {"amount": 1200, "vendor": {"name": "Acme"}, "lines": [{"amount": 700}, {"amount": 500}]},
        "case": {"state": "review", "priority": "high"}, "actor": {"role": "approver", "id": "bob"}}


def test_an_expression_evaluates_on_the_case_many_times():
    guard = Expression("data.amount > 1000 && actor.role == 'approver'")
    assert guard.test(CASE) is True
    assert guard.test(dict(CASE, actor={"role": "clerk"})) is False


def test_macros_strings_and_the_extended_library_work():
    assert Expression("data.lines.all(l, l.amount > 100)").test(CASE)
    assert Expression("data.vendor.name.lowerAscii() == 'acme'").test(CASE)
    assert Expression("math.greatest(data.amount, 5000)").evaluate(CASE) == 5000


def test_now_is_passed_in_as_a_timestamp():
    now = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    deadline = Expression("now > timestamp('2024-04-30T00:00:00Z')")
    assert deadline.test(dict(CASE, now=now))
    assert not deadline.test(dict(CASE, now=now - timedelta(days=2)))


def test_a_missing_field_or_a_type_mismatch_fails_with_a_user_error():
    with pytest.raises(ExpressionFailed, match="no field 'iban'"):
        Expression("data.iban == ''").evaluate(CASE)
    with pytest.raises(ExpressionFailed):
        Expression("data.amount + 'x'").evaluate(CASE)
    with pytest.raises(ExpressionFailed, match="not true or false"):
        Expression("data.amount").test(CASE)


def test_a_syntax_error_is_refused_unless_deferred_then_kept_with_its_position():
    with pytest.raises(ValueError, match="CEL syntax error at column 15"):
        Expression("data.amount > ")
    deferred = Expression("data.amount >\n  (1 + ", defer_errors=True)
    problem = deferred.syntax_problem
    assert (problem.line, problem.column) == (2, 8) and problem.offset == len("data.amount >\n  (1 + ")
    with pytest.raises(ExpressionFailed, match="syntax error"):
        deferred.evaluate(CASE)


def test_references_are_dotted_names_without_calls_bound_names_or_strings():
    expression = Expression("data.vendor.name.startsWith('a.b') && data.lines.exists(l, l.amount > 1) "
                            "&& size(case.state) > 0 && math.greatest(1, 2) > 0")
    assert [r.path for r in expression.references] == [("data", "vendor", "name"), ("data", "lines"),
                                                       ("case", "state")]
    assert expression.references[0].offsets == (0, 5, 12)
    assert expression.variables == ("data", "case")


def test_unknown_references_against_the_data_fields_and_the_case_builtins():
    fields = {"amount": None, "vendor": {"name": None}, "lines": None}
    expression = Expression("data.amout > 1 && data.vendor.iban != '' && case.stat == 'x' && actor.role == 'a' "
                            "&& amount > 1 && data.lines[0].amount > 1")
    problems = expression.unknown_references(fields)
    assert [p.message.split(" ")[0] for p in problems] == ["data.amout", "data.vendor.iban", "case.stat", "unknown"]
    assert "did you mean data.amount" in problems[0].message
    assert expression.source[problems[1].offset:].startswith("iban")
    assert "did you mean data.amount" in problems[3].message
    # Without known data fields, only the case's own names are checked.
    assert [p.message.split(" ")[0] for p in expression.unknown_references(None)] == ["case.stat", "unknown"]


def test_expressions_compare_by_source():
    assert Expression("a == 1") == Expression("a == 1") and len({Expression("a == 1"), Expression("a == 1")}) == 1


@pytest.mark.parametrize("source", [
    # A 10^9-character string, grown ten times per call.
    "'aaaaaaaaaa'" + ".replace('a', 'aaaaaaaaaa')" * 8 + ".size() > 0",
    "lists.range(1000000000).size() > 0",
    "lists.range(60000).map(x, lists.range(60000).size()).size() > 0",
])
def test_an_expression_that_would_build_without_bound_fails_fast(source):
    import time

    from backoffice.definitions.expressions import Expression
    from backoffice.errors import ExpressionFailed
    started = time.monotonic()
    with pytest.raises(ExpressionFailed, match="costs too much"):
        Expression(source).test({"data": {}})
    assert time.monotonic() - started < 2.0


def test_a_nested_macro_over_the_outer_item_is_allowed():
    from backoffice.definitions.expressions import Expression
    guard = Expression("data.items.exists(i, i.lines.all(l, l > 0))")
    assert guard.test({"data": {"items": [{"lines": [1, 2]}]}})
