"""CEL expressions in definitions: compiled once, evaluated many times, checked against the data.

Guards, routing conditions, control conditions and the proof of completion are written in
CEL (the Common Expression Language) over these variables:

    data     the case's data, as the inputs (the data contract) define it: data.amount
    case     the case itself: case.state, case.priority, case.requester ... (CASE_FIELDS)
    actor    who acts: actor.id, actor.role, actor.roles (ACTOR_FIELDS)
    result   the output of the last automated step (free form)
    now      the current time, as a timestamp the engine passes in

The extended standard library of the `cel` package (strings, math, lists, sets) is on.

An expression's cost is bounded (see `backoffice.limits`): statically, by its length, its
bracket depth, and macros (map, filter, all, exists) nested over the case's own lists, which
multiply their cost (a macro inside a macro may only walk the item its outer macro is on); and
at run time, by a budget of items the library functions may build in one evaluation (a string
grown by replace, a list by lists.range) and a deadline. Past a bound an expression is refused
when it is loaded (`check` reports it) or fails fast when it runs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cel
from cel.stdlib import EXTENSIONS
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from backoffice.errors import ExpressionFailed, suggest
from backoffice.limits import (CEL_BUDGET, CEL_DEADLINE, MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_NESTING,
                               MAX_MACRO_NESTING)

CASE_FIELDS: dict[str, str] = {
    "id": "the case id", "workflow": "the definition id", "version": "the definition version",
    "state": "the current state", "previous_state": "the state before the current one",
    "priority": "low, normal, high or urgent", "queue": "the queue it waits in", "owner": "who owns it now",
    "requester": "who asked for the work", "created_at": "when it started", "updated_at": "when it last moved",
    "documents": "names of the documents attached", "attempts": "attempts of the current automated step",
    "reason": "the open exception reason, if any",
}
ACTOR_FIELDS: dict[str, str] = {"id": "who acts", "role": "the role they act in", "roles": "all their roles"}
VARIABLES: dict[str, str] = {"data": "the case data", "case": "the case", "actor": "who acts",
                             "result": "the last automated step's output", "now": "the current time"}
# Names bound inside macros (the x in items.exists(x, ...)) are not variables of the case.
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_RAW_FUNCTIONS = {name: function for library in EXTENSIONS.values() for name, function in library.items()}
_COST_MARK = "backoffice-cost-exceeded"
_evaluation = threading.local()


class _Spending:
    """What one evaluation may still build, and until when it may run."""

    def __init__(self) -> None:
        self.remaining = CEL_BUDGET
        self.deadline = time.monotonic() + CEL_DEADLINE


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 1


def _foreseen(name: str, args: tuple[Any, ...]) -> int:
    """Return the size a call will build, known before it runs, so a huge result is never built."""
    if name == "lists.range" and args and isinstance(args[0], int):
        return max(args[0], 0)
    if name == "replace" and len(args) >= 3 and all(isinstance(arg, str) for arg in args[:3]):
        text, old, new = args[:3]
        return len(text) + (text.count(old) if old else len(text) + 1) * max(len(new) - len(old), 0)
    return sum(_size(arg) for arg in args)


def _bounded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        spending: _Spending | None = getattr(_evaluation, "spending", None)
        if spending is not None:
            if time.monotonic() > spending.deadline:
                raise RuntimeError(f"{_COST_MARK}: it ran past {CEL_DEADLINE:g} s")
            if _foreseen(name, args) > spending.remaining:
                raise RuntimeError(f"{_COST_MARK}: {name}() would build more than the {CEL_BUDGET:,} items an "
                                   f"expression may build")
        result = function(*args)
        if spending is not None:
            spending.remaining -= _size(result)
            if spending.remaining < 0:
                raise RuntimeError(f"{_COST_MARK}: it built more than {CEL_BUDGET:,} items")
        return result
    return call


_FUNCTIONS = {name: _bounded(name, function) for name, function in _RAW_FUNCTIONS.items()}
# The cel package logs every failing Python function as a warning; a refused cost is reported by
# ExpressionFailed instead, once, so its log line is dropped.
logging.getLogger("cel").addFilter(lambda record: _COST_MARK not in record.getMessage())
_NAMESPACES = frozenset(name.split(".")[0] for name in _RAW_FUNCTIONS if "." in name)
_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")
_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\d[\w.]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

# A field tree: field name -> its own fields, or None where we cannot look further (a leaf,
# a list, or an object whose fields are free).
FieldTree = Mapping[str, "FieldTree | None"]


@dataclass(frozen=True)
class SyntaxProblem:
    """A CEL syntax error: where in the expression (1-based line and column), and what was expected."""

    line: int
    column: int
    offset: int
    message: str
    expected: str
    code: str = "cel-syntax"
    """cel-syntax, or cel-cost for an expression whose cost has no bound."""


@dataclass(frozen=True)
class Reference:
    """A dotted name in an expression (data.customer.name), with each part's offset in the text."""

    path: tuple[str, ...]
    offsets: tuple[int, ...]


@dataclass(frozen=True)
class ReferenceProblem:
    """A name an expression uses that the case does not have."""

    offset: int
    message: str
    expected: str


class Expression:
    """A CEL expression compiled once; `evaluate` runs it over a context of variables.

    Built from text. A syntax error raises ValueError, unless the expression is built with
    `defer_errors=True` (the loader does, to report every error of a file in one run): then
    `syntax_problem` holds it and `evaluate` refuses to run.
    """

    __slots__ = ("source", "syntax_problem", "_program", "_references")

    def __init__(self, source: str, *, defer_errors: bool = False) -> None:
        self.source = source
        self.syntax_problem: SyntaxProblem | None = None
        self._program = None
        self._references: tuple[Reference, ...] | None = None
        # Refused before it is compiled: the parser's own cost grows with the text and its nesting.
        self.syntax_problem = _cost_problem(source)
        if self.syntax_problem is not None:
            if not defer_errors:
                raise ValueError(f"{self.syntax_problem.message}; expected {self.syntax_problem.expected}")
            return
        try:
            self._program = cel.compile(source)
        except (ValueError, RuntimeError) as exc:
            self.syntax_problem = _syntax_problem(source, str(exc))
            if not defer_errors:
                raise ValueError(f"CEL syntax error at column {self.syntax_problem.column}: "
                                 f"{self.syntax_problem.message}; expected {self.syntax_problem.expected}") from None

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Run the expression with these variables (data, case, actor, result, now) and return its value.

        Raises:
            ExpressionFailed: the expression has a syntax error, or fails on this context
                (a missing field, a type mismatch).
        """
        if self._program is None:
            raise ExpressionFailed(self.source, "it has a syntax error")
        outer = getattr(_evaluation, "spending", None)
        _evaluation.spending = _Spending()
        try:
            return self._program.execute(cel.Context(dict(context), functions=_FUNCTIONS))
        except KeyError as exc:
            raise ExpressionFailed(self.source, f"no field {exc.args[0]!r} in the case") from None
        except (RuntimeError, TypeError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
            text = str(exc)
            if _COST_MARK in text:
                why = text.split(_COST_MARK + ": ", 1)[1].split(". Check function", 1)[0]
                raise ExpressionFailed(self.source, f"it costs too much to evaluate ({why})") from None
            raise ExpressionFailed(self.source, text.split(". ")[0]) from None
        finally:
            _evaluation.spending = outer

    def test(self, context: Mapping[str, Any]) -> bool:
        """Run a condition and return its truth; anything but true or false is an error.

        Raises:
            ExpressionFailed: as `evaluate`, or the value is not a boolean.
        """
        value = self.evaluate(context)
        if not isinstance(value, bool):
            raise ExpressionFailed(self.source, f"it gave {value!r}, not true or false")
        return value

    @property
    def variables(self) -> tuple[str, ...]:
        """The top-level variables the expression reads (macro-bound names left out)."""
        return tuple(dict.fromkeys(reference.path[0] for reference in self.references))

    @property
    def references(self) -> tuple[Reference, ...]:
        """Every dotted name the expression reads from its variables, in order of appearance."""
        if self._references is None:
            known = set(self._program.variables()) if self._program is not None else set()
            self._references = tuple(r for r in _scan_references(self.source)
                                     if r.path[0] in known and r.path[0] not in _NAMESPACES)
        return self._references

    def unknown_references(self, data_fields: FieldTree | None) -> list[ReferenceProblem]:
        """Return every name that is neither a field of the data nor a built-in of the case.

        data_fields None means the data's fields are not known (no readable contract): data.*
        is then not checked.
        """
        problems = []
        for reference in self.references:
            root, *rest = reference.path
            if root == "data":
                if data_fields is not None:
                    problems.extend(_walk_fields(reference, data_fields))
            elif root in ("case", "actor"):
                fields = CASE_FIELDS if root == "case" else ACTOR_FIELDS
                if rest and rest[0] not in fields:
                    close = suggest(rest[0], fields)
                    hint = f" (did you mean {root}.{close}?)" if close else ""
                    problems.append(ReferenceProblem(reference.offsets[1], f"{root}.{rest[0]} is not a field of "
                                                     f"the {root}{hint}", f"one of {_listing(root, fields)}"))
            elif root not in VARIABLES:
                known_data = list(data_fields or ())
                close = f"data.{root}" if root in known_data else suggest(root, list(VARIABLES))
                hint = f" (did you mean {close}?)" if close else ""
                problems.append(ReferenceProblem(reference.offsets[0], f"unknown name {root!r}{hint}",
                                                 "data.FIELD for the case data, or case, actor, result, now"))
        return problems

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __str__(self) -> str:
        return self.source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "description": "a CEL expression"}

    @classmethod
    def _validate(cls, value: Any, info: core_schema.ValidationInfo) -> Expression:
        if isinstance(value, Expression):
            return value
        if not isinstance(value, str) or not value.strip():
            raise PydanticCustomError("cel_type", "expected a CEL expression as text, such as data.amount > 1000")
        defer = bool(info.context and info.context.get("defer_expression_errors"))
        try:
            return cls(value, defer_errors=defer)
        except ValueError as exc:
            raise PydanticCustomError("cel_syntax", str(exc)) from None


def _cost_problem(source: str) -> SyntaxProblem | None:
    """Return why an expression may cost without bound (too long, too deep, macros over the case's lists nested)."""
    expected = "a shorter condition; move the computation into an automated step"
    if len(source) > MAX_EXPRESSION_LENGTH:
        return SyntaxProblem(1, 1, 0, f"the expression is {len(source):,} characters long, more than "
                             f"{MAX_EXPRESSION_LENGTH:,}", expected, "cel-cost")
    tokens = [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(source) if m.lastgroup != "space"]
    # One entry per open bracket: the name a macro binds there, or None for a plain bracket.
    brackets: list[str | None] = []
    for index, (kind, text, start) in enumerate(tokens):
        if text in "([{":
            macro = (index >= 2 and tokens[index - 1][0] == "name" and tokens[index - 1][1] in _MACROS
                     and tokens[index - 2][1] == ".")
            bound = tokens[index + 1][1] if macro and index + 1 < len(tokens) else None
            if macro:
                enclosing = [name for name in brackets if name is not None]
                root = _receiver_root(tokens, index - 2)
                if enclosing and (len(enclosing) >= MAX_MACRO_NESTING or root not in enclosing):
                    return _at(source, start, f"the macro {tokens[index - 1][1]}() at column {{column}} walks "
                               f"{root or 'a list'} inside another macro: the cost multiplies",
                               "a macro inside a macro only over the item the outer one is on "
                               "(items.exists(i, i.lines.all(l, ...))), two levels at most")
            brackets.append(bound if macro else None)
            if len(brackets) > MAX_EXPRESSION_NESTING:
                return _at(source, start, f"the expression nests more than {MAX_EXPRESSION_NESTING} brackets "
                           "deep (column {column})", expected)
        elif text in ")]}" and brackets:
            brackets.pop()
    return None


def _receiver_root(tokens: list[tuple[str | None, str, int]], dot: int) -> str | None:
    """Return the first name of the receiver before `.macro(` (items in items.exists), or None for a literal."""
    index = dot - 1
    root = None
    while index >= 0 and tokens[index][0] == "name":
        root = tokens[index][1]
        if index >= 1 and tokens[index - 1][1] == ".":
            index -= 2
            continue
        break
    return root


def _at(source: str, offset: int, message: str, expected: str) -> SyntaxProblem:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return SyntaxProblem(line, column, offset, message.replace("{column}", str(column)), expected, "cel-cost")


def _syntax_problem(source: str, text: str) -> SyntaxProblem:
    match = _ERROR.search(text)
    if not match:
        return SyntaxProblem(1, 1, 0, text.strip(), "a valid CEL expression, such as data.amount > 1000")
    line, column, detail = int(match[1]), int(match[2]), match[3].strip()
    detail = detail.removeprefix("Syntax error: ")
    expected = "a valid CEL expression, such as data.amount > 1000"
    if " expecting " in detail:
        detail, tokens = detail.split(" expecting ", 1)
        tokens = tokens.strip("{} ").replace("'", "")
        expected = ("an operand: a name such as data.amount, a number, a 'string', or (" if "IDENTIFIER" in tokens
                    else f"one of {tokens}")
    lines = source.split("\n")
    offset = sum(len(text_line) + 1 for text_line in lines[:line - 1]) + column - 1
    return SyntaxProblem(line, column, min(offset, len(source)), f"CEL syntax error: {detail}", expected)


def _scan_references(source: str) -> list[Reference]:
    tokens = [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(source) if m.lastgroup != "space"]
    bound = {tokens[i + 3][1] for i in range(len(tokens) - 4)
             if tokens[i][1] == "." and tokens[i + 1][1] in _MACROS and tokens[i + 2][1] == "("
             and tokens[i + 3][0] == "name" and tokens[i + 4][1] == ","}
    references = []
    index = 0
    while index < len(tokens):
        kind, text, start = tokens[index]
        after_dot = index > 0 and tokens[index - 1][1] == "."
        if kind != "name" or after_dot or text in bound:
            index += 1
            continue
        parts, offsets = [text], [start]
        index += 1
        while index + 1 < len(tokens) and tokens[index][1] == "." and tokens[index + 1][0] == "name":
            parts.append(tokens[index + 1][1])
            offsets.append(tokens[index + 1][2])
            index += 2
        if index < len(tokens) and tokens[index][1] == "(":
            # name(...) calls a function; a.b.size() calls a method on a.b.
            parts, offsets = parts[:-1], offsets[:-1]
        if parts:
            references.append(Reference(tuple(parts), tuple(offsets)))
    return references


def _walk_fields(reference: Reference, fields: FieldTree) -> list[ReferenceProblem]:
    tree: FieldTree | None = fields
    for depth, name in enumerate(reference.path[1:], start=1):
        if tree is None:
            return []
        if name not in tree:
            so_far = ".".join(reference.path[:depth])
            close = suggest(name, tree)
            hint = f" (did you mean {so_far}.{close}?)" if close else ""
            shown = ", ".join(sorted(tree)[:15]) + (" ..." if len(tree) > 15 else "")
            return [ReferenceProblem(reference.offsets[depth],
                                     f"{so_far}.{name} is not a field the data contract defines{hint}",
                                     f"a field of the contract ({shown or 'it defines none'})")]
        tree = tree[name]
    return []


def _listing(root: str, fields: Mapping[str, str]) -> str:
    return ", ".join(f"{root}.{name}" for name in fields)
