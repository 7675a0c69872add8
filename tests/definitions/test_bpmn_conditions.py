"""BPMN conditions (JUEL, FEEL, Python) translated to CEL that means the same over the case data."""

from __future__ import annotations

import pytest

from backoffice.definitions.bpmn_conditions import CEL_LANGUAGE, translate_condition
from backoffice.definitions.expressions import Expression


@pytest.mark.parametrize(("written", "cel"), [
    ("${amount > 1000}", "data.amount > 1000"),
    ("${approved}", "data.approved"),
    ("${!approved}", "!data.approved"),
    ("${x == 'y'}", 'data.x == "y"'),
    ("${amount >= 1000 && region == 'EU' || vip}", 'data.amount >= 1000 && data.region == "EU" || data.vip'),
    ("#{a gt 5 and b eq 'c'}", 'data.a > 5 && data.b == "c"'),
    ("${not approved}", "!data.approved"),
    ("=amount > 1000", "data.amount > 1000"),
    ('x = "y"', 'data.x == "y"'),
    ('amount > 1000 and x == "y"', 'data.amount > 1000 && data.x == "y"'),
    ("not (approved or rejected)", "!(data.approved || data.rejected)"),
    ("${order.total > 3}", "data.order.total > 3"),
    ("approved == True", "data.approved == true"),
    ("status in ['new', 'open']", 'data.status in ["new", "open"]'),
])
def test_simple_juel_feel_and_python_conditions_become_cel(written, cel):
    assert translate_condition(written).cel == cel


@pytest.mark.parametrize(("written", "data", "expected"), [
    ("${amount > 1000}", {"amount": 1500}, True),
    ("${amount > 1000}", {"amount": 999.5}, False),
    ("${x == 'y' && !rejected}", {"x": "y", "rejected": False}, True),
    ('amount > 1000 and x == "y"', {"amount": 2000, "x": "z"}, False),
    ("=amount <= 10 or vip", {"amount": 50, "vip": True}, True),
    # JUEL's Java comparison, as Camunda's invoice example writes it; negated, the whole comparison is.
    ("${clarified.equals('yes')}", {"clarified": "yes"}, True),
    ("${!clarified.equals('yes')}", {"clarified": "yes"}, False),
    ("${!clarified.equals('yes')}", {"clarified": "no"}, True),
    # A variable read by its name, as Camunda and Flowable models write it.
    ("${execution.getVariable('form51outcome') == 'A'}", {"form51outcome": "A"}, True),
    ("${execution.getVariableLocal(\"amount\") > 5}", {"amount": 3}, False),
    # Flowable's variable functions: a comparison of a variable (bare or quoted) with a literal.
    ("${var:equals(input, 1)}", {"input": 1}, True),
    ("${vars:equals(decision, 'goUp')}", {"decision": "goDown"}, False),
    ("${var:lowerThanOrEquals(myConditionVar, 10)}", {"myConditionVar": 10}, True),
    ("${var:gt('myVar', 10) && !var:eq(done, true)}", {"myVar": 11, "done": False}, True),
    ('${variables:get(myVar) == "go to A"}', {"myVar": "go to A"}, True),
])
def test_the_translation_decides_as_the_original_would(written, data, expected):
    condition = translate_condition(written)
    assert Expression(condition.cel).evaluate({"data": data}) is expected


@pytest.mark.parametrize(("written", "why"), [
    ("${execution.getVariable(name)}", "calls execution.getVariable()"),  # the variable is known at run time
    ("${var:exists('myVar')}", "calls var:exists()"),
    ("${vars:getOrDefault(myVar, 123) > 100}", "calls vars:getOrDefault()"),
    ("${reservationService.showUp()}", "calls reservationService.showUp()"),
    ("${empty comments}", "'empty'"),
    ("${task.assignee == 'x'}", "'task'"),
    ("${a ? b : c}", "'?'"),
    ("", "empty"),
])
def test_what_is_more_than_a_comparison_is_not_guessed(written, why):
    condition = translate_condition(written)
    assert condition.cel is None
    assert why in condition.reason


def test_the_fields_read_and_their_types_come_from_the_comparisons():
    condition = translate_condition("${amount > 1000 && region == 'EU' && approved && order.total > 1 && other}")
    assert condition.fields == {"amount": "number", "region": "string", "approved": "boolean", "order": "object",
                                "other": "boolean"}


def test_cel_written_by_the_exporter_is_kept_as_it_is():
    condition = translate_condition("has(data.quote) && data.amount < 10000.0", CEL_LANGUAGE)
    assert condition.cel == "has(data.quote) && data.amount < 10000.0"
    assert set(condition.fields) == {"quote", "amount"}
