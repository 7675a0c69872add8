"""Translate the conditions of BPMN sequence flows into CEL over the case data.

Camunda 7 and Flowable write conditions in JUEL (`${amount > 1000}`, `${approved}`,
`${x == 'y' && !rejected}`, `${a gt 5 and b eq 'c'}`), Camunda 8 in FEEL (`=amount > 1000`,
`x = "y"`), SpiffWorkflow in Python (`amount > 1000 and x == "y"`). The simple ones, which are
most of them, are comparisons of process variables with literals joined by and/or/not: those
read the same in CEL once each variable becomes a field of the case data (`data.amount`).
Anything more (a method call, a bean, `execution`, the ternary, `empty`) is not guessed at:
the caller lists it for a person to rewrite.

Each translation also says which data fields the condition reads and, where a comparison shows
it, their type, so the importer can draft the inputs the guards need.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from backoffice.definitions.expressions import Expression

CEL_LANGUAGE = "https://github.com/google/cel-spec"
"""The expression language URI the exporter writes on conditions, read back as CEL unchanged."""

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<number>\d+(?:\.\d+)?(?![\w.]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!=()\[\],+\-*/])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_WORDS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
          "ge": ">=", "true": "true", "false": "false", "True": "true", "False": "false", "null": "null",
          "None": "null", "in": "in"}
# Names that are the engine's, not the case's: a condition on them means nothing to us.
_ENGINE_NAMES = frozenset({"execution", "task", "authentication", "environment", "this", "self"})
_UNTRANSLATABLE_WORDS = frozenset({"empty", "instanceof", "div", "mod", "is", "if", "then", "else", "for",
                                   "some", "every", "satisfies", "between", "function", "lambda"})
# JUEL's Java way to compare a name with a literal (Camunda's invoice example: ${clarified.equals('yes')}).
_EQUALS_CALL = re.compile(r"""\b([A-Za-z_][\w.]*)\.equals\(\s*('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?|true|false)\s*\)""")
_LITERAL = r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?|true|false"""
# Camunda's and Flowable's way to read a variable by its name: ${execution.getVariable('amount') > 5}.
_GET_VARIABLE = re.compile(r"""\bexecution\.getVariable(?:Local)?\(\s*(['"])([A-Za-z_]\w*)\1\s*\)""")
# Flowable's variable functions (${var:gt(amount, 5)}, ${variables:equals(decision, 'up')}): a comparison
# of a variable, named bare or quoted, with a literal; var:get(name) reads it.
_VARIABLE_FUNCTION = re.compile(
    rf"""\b(?:var|vars|variables):(\w+)\(\s*(['"]?)([A-Za-z_]\w*)\2\s*(?:,\s*({_LITERAL})\s*)?\)""")
_PREFIXED_CALL = re.compile(r"\b([A-Za-z_]\w*:[A-Za-z_]\w*)\s*\(")
_FUNCTION_OPERATORS = {"equals": "==", "eq": "==", "notEquals": "!=", "ne": "!=", "gt": ">", "greaterThan": ">",
                       "gte": ">=", "greaterThanOrEquals": ">=", "lt": "<", "lowerThan": "<", "lte": "<=",
                       "lowerThanOrEquals": "<="}
_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">=", "="})
_LOGIC = frozenset({"&&", "||", "!", "(", ")", None})


@dataclass(frozen=True)
class Condition:
    """A condition as written, and its CEL translation or why there is none.

    fields: the top-level data fields it reads -> their type where a comparison shows it
    (number, string or boolean), else None. A dotted name (order.total) reads the object `order`.
    """

    source: str
    cel: str | None
    reason: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)


def translate_condition(text: str, language: str | None = None) -> Condition:
    """Translate a JUEL, FEEL, Python or CEL condition into CEL over `data`.

    Args:
        text: the condition as written in the BPMN file.
        language: the expression's language attribute, when it has one.

    Returns:
        A Condition whose `cel` is None when the text is beyond simple comparisons; then
        `reason` says why.
    """
    source = text.strip()
    if language and "cel" in language.lower():
        return _checked(source, source, {name: None for name in re.findall(r"\bdata\.([A-Za-z_]\w*)", source)})
    body = source
    juel = re.fullmatch(r"[$#]\{(.*)\}", body, re.DOTALL)
    if juel:
        body = juel.group(1)
    elif body.startswith("="):  # FEEL as Camunda 8 writes it
        body = body[1:]
    if not body.strip():
        return Condition(source, None, "the condition is empty")
    body = _EQUALS_CALL.sub(r"(\1 == \2)", body)  # bracketed: a `!` before it negates the comparison
    body = _GET_VARIABLE.sub(r"\2", body)
    body = _VARIABLE_FUNCTION.sub(_variable_function, body)
    if call := _PREFIXED_CALL.search(re.sub(_LITERAL, '""', body)):
        return Condition(source, None, f"it calls {call.group(1)}(), which only the engine it was written for knows")
    output: list[str] = []
    fields: dict[str, str | None] = {}
    tokens = [(kind, value) for kind, value in _tokens(body) if kind != "space"]
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else None
        if kind == "other":
            return Condition(source, None, f"{value!r} is not a comparison, and/or or not")
        if kind == "string":
            output.append(json.dumps(_unquote(value)))
        elif kind == "number":
            output.append(value)
        elif kind == "op":
            output.append("==" if value == "=" else value)
        elif value in _WORDS:
            output.append(_WORDS[value])
        elif value in _UNTRANSLATABLE_WORDS:
            return Condition(source, None, f"{value!r} has no simple counterpart in CEL")
        elif following == "(":
            return Condition(source, None, f"it calls {value}(), which only the engine it was written for knows")
        elif value.split(".")[0] in _ENGINE_NAMES:
            return Condition(source, None, f"it reads {value.split('.')[0]!r}, which is the engine's, not the "
                                           "case's data")
        else:
            output.append(f"data.{value}")
            top = value.split(".")[0]
            fields.setdefault(top, None)
            if "." in value:
                fields[top] = "object"
            elif fields[top] is None:
                fields[top] = _type_beside(tokens, index)
    return _checked(source, _join(output), fields)


def _variable_function(match: re.Match[str]) -> str:
    """Rewrite one of Flowable's variable functions as the comparison it makes; leave any other as written."""
    function, name, literal = match.group(1), match.group(3), match.group(4)
    if function == "get" and literal is None:
        return name
    if function in _FUNCTION_OPERATORS and literal is not None:
        return f"({name} {_FUNCTION_OPERATORS[function]} {literal})"
    return match.group()


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(match.lastgroup or "other", match.group()) for match in _TOKEN.finditer(text)]


def _join(parts: list[str]) -> str:
    """Join CEL tokens with spaces, except inside brackets and after a negation."""
    text = ""
    for part in parts:
        if text and not text.endswith(("(", "[", "!")) and part not in (")", "]", ","):
            text += " "
        text += part
    return text


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _type_beside(tokens: list[tuple[str, str]], index: int) -> str | None:
    """Return the type a comparison gives the name at index, or boolean when it stands alone."""
    before = tokens[index - 1][1] if index > 0 else None
    after = tokens[index + 1][1] if index + 1 < len(tokens) else None
    for operator, other in ((after, index + 2), (before, index - 2)):
        if _WORDS.get(operator or "", operator) in _COMPARISONS and 0 <= other < len(tokens):
            kind, value = tokens[other]
            if kind == "number" or (kind == "op" and value == "-"):
                return "number"
            if kind == "string":
                return "string"
            if value in ("true", "false", "True", "False"):
                return "boolean"
    if _WORDS.get(before or "", before) in _LOGIC and _WORDS.get(after or "", after) in (_LOGIC - {"!", "("}):
        return "boolean"
    return None


def _checked(source: str, cel: str, fields: dict[str, str | None]) -> Condition:
    try:
        Expression(cel)
    except ValueError as exc:
        return Condition(source, None, f"it does not read as a comparison ({exc})")
    return Condition(source, cel, None, fields)
