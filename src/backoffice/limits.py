"""The bounds on what a person or a system may send, in one place, with their defaults.

Everything that comes in (a payload, a file, an option, an expression, a lease) is checked
against these bounds before anything is built from it or written: past a bound, the input is
refused with `InputRefused` (exit status 2 on the command line), naming what was wrong.

| bound | default | why |
|---|---|---|
| MAX_PAYLOAD_BYTES | 1 MiB (env BACKOFFICE_MAX_PAYLOAD_BYTES) | case data, transition data, action results |
| MAX_JSON_DEPTH | 32 levels | JSON nested without end exhausts the parser's stack |
| integers | -2^63 .. 2^63-1 | what both databases store; ids are 1 .. 2^63-1 |
| numbers | finite | NaN, Infinity and 1e400 (an overflow to infinity) have no JSON form and break comparisons |
| text | no NUL, no lone surrogate | neither can be stored as UTF-8 (PostgreSQL refuses NUL) |
| MAX_ACTOR_LENGTH | 200 characters | an actor id is a name, not a document |
| MAX_FILE_BYTES | 1 MiB (env BACKOFFICE_MAX_FILE_BYTES) | a definition or contract file, checked before it is read |
| MAX_YAML_NODES | 100,000 nodes once aliases are expanded | a YAML alias bomb expands to billions of nodes |
| MAX_EXPRESSION_LENGTH | 2,000 characters | a CEL guard is a condition, not a program |
| MAX_EXPRESSION_NESTING | 32 brackets deep, macros 2 deep | nested macros multiply their cost |
| CEL_BUDGET | 100,000 items built per evaluation | strings, lists and ranges a guard builds |
| CEL_DEADLINE | 1 second per evaluation | an expression that runs longer is stopped at its next call |
| MIN_LEASE .. MAX_LEASE | 1 second .. 24 hours | a worker's lease on a step, a person's claim on a task |
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from backoffice.errors import BadActorId, InputRefused


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputRefused(name, f"{raw!r} is not a whole number", "a size in bytes such as 1048576") from None
    if value <= 0:
        raise InputRefused(name, f"{value} is not positive", "a size in bytes such as 1048576")
    return value


MAX_PAYLOAD_BYTES = _setting("BACKOFFICE_MAX_PAYLOAD_BYTES", 1024 * 1024)
MAX_FILE_BYTES = _setting("BACKOFFICE_MAX_FILE_BYTES", 1024 * 1024)
MAX_JSON_DEPTH = 32
MIN_INTEGER, MAX_INTEGER = -(2 ** 63), 2 ** 63 - 1
MAX_ID = MAX_INTEGER
MAX_ACTOR_LENGTH = 200
MAX_KEY_LENGTH = 200
MAX_YAML_NODES = 100_000
MAX_EXPRESSION_LENGTH = 2_000
MAX_EXPRESSION_NESTING = 32
MAX_MACRO_NESTING = 2
CEL_BUDGET = 100_000
CEL_DEADLINE = 1.0
MIN_LEASE = timedelta(seconds=1)
MAX_LEASE = timedelta(hours=24)

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_text(value: str, what: str) -> str:
    """Refuse text with a NUL byte or a lone surrogate (neither is storable UTF-8); return it."""
    if "\x00" in value:
        raise InputRefused(what, "it holds a NUL byte (\\u0000)", "text without NUL bytes")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputRefused(what, f"it holds a lone surrogate ({value[exc.start]!r} at character {exc.start})",
                           "valid Unicode text") from None
    return value


def check_payload(value: Any, *, what: str = "the data", max_bytes: int | None = None) -> Any:
    """Refuse data that is not plain, bounded JSON; return it unchanged.

    Plain: objects with text keys, lists, text, booleans, null, 64-bit integers and finite
    numbers; at most MAX_JSON_DEPTH levels deep and `max_bytes` (MAX_PAYLOAD_BYTES) as JSON.

    Raises:
        InputRefused: naming the first place that breaks a bound, and the bound.
    """
    limit = max_bytes or MAX_PAYLOAD_BYTES
    # Depth first and without recursion: a value nested without end must not exhaust the stack here either.
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        place = f"{what}{where}" if where else what
        if depth > MAX_JSON_DEPTH:
            raise InputRefused(what, f"it is nested more than {MAX_JSON_DEPTH} levels deep (at {place})",
                               f"at most {MAX_JSON_DEPTH} levels of objects and lists")
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            if not MIN_INTEGER <= item <= MAX_INTEGER:
                raise InputRefused(place, f"the integer {_short(item)} does not fit in 64 bits",
                                   f"a whole number from {MIN_INTEGER} to {MAX_INTEGER}")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InputRefused(place, f"{item} is not a finite number",
                                   "a finite number (NaN, Infinity and overflowing numbers such as 1e400 are refused)")
        elif isinstance(item, str):
            check_text(item, place)
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise InputRefused(place, f"the key {key!r} is not text", "an object with text keys")
                check_text(key, f"{place} (a key)")
                stack.append((child, f"{where}.{key}"[:200], depth + 1))
        elif isinstance(item, (list, tuple)):
            for index, child in enumerate(item):
                stack.append((child, f"{where}[{index}]"[:200], depth + 1))
        else:
            raise InputRefused(place, f"a {type(item).__name__} is not plain data",
                               "JSON values: objects, lists, text, numbers, true, false, null")
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > limit:
        raise InputRefused(what, f"it is {mib(size)} as JSON", f"at most {mib(limit)} (BACKOFFICE_MAX_PAYLOAD_BYTES)")
    return value


def parse_json(text: str | bytes, *, what: str, max_bytes: int | None = None) -> Any:
    """Parse JSON text within the bounds of `check_payload`, refusing NaN, Infinity and 1e400 as it reads.

    Raises:
        InputRefused: the text breaks a bound (before it is parsed, for size and depth).
        json.JSONDecodeError: the text is not JSON (the caller says where).
    """
    limit = max_bytes or MAX_PAYLOAD_BYTES
    if isinstance(text, bytes):
        if len(text) > limit:
            raise InputRefused(what, f"it is {mib(len(text))}", f"at most {mib(limit)} (BACKOFFICE_MAX_PAYLOAD_BYTES)")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRefused(what, f"byte {exc.start} is not UTF-8", "UTF-8 text") from None
    if len(text) > limit:
        raise InputRefused(what, f"it is {mib(len(text.encode('utf-8', 'surrogatepass')))}",
                           f"at most {mib(limit)} (BACKOFFICE_MAX_PAYLOAD_BYTES)")
    depth = 0
    for char in _STRINGS.sub("", text):
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InputRefused(what, f"it is nested more than {MAX_JSON_DEPTH} levels deep",
                                   f"at most {MAX_JSON_DEPTH} levels of objects and lists")
        elif char in "]}":
            depth -= 1

    def constant(name: str) -> Any:
        raise InputRefused(what, f"{name} is not a JSON number", "finite numbers (NaN and Infinity are refused)")

    def number(literal: str) -> float:
        parsed = float(literal)
        if not math.isfinite(parsed):
            raise InputRefused(what, f"the number {literal[:40]} overflows to infinity", "a finite number")
        return parsed

    def integer(literal: str) -> int:
        if len(literal.lstrip("-")) > 19:
            raise InputRefused(what, f"the integer {literal[:40]}{'...' if len(literal) > 40 else ''} does not fit "
                               "in 64 bits", f"a whole number from {MIN_INTEGER} to {MAX_INTEGER}")
        return int(literal)

    value = json.loads(text, parse_constant=constant, parse_float=number, parse_int=integer)
    return check_payload(value, what=what, max_bytes=limit)


def check_id(value: Any, what: str) -> int:
    """Refuse an id that is not a whole number from 1 to 2^63-1 (what both databases store); return it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputRefused(what, f"{_short(value)} is not a whole number", "an id such as 42")
    if not 1 <= value <= MAX_ID:
        raise InputRefused(what, f"{_short(value)} is out of range", f"an id from 1 to {MAX_ID}")
    return value


def check_page(*, after_id: Any = 0, limit: Any = 100, **ids: Any) -> None:
    """Refuse the paging and filter values of a listing that no database stores (ids past 64 bits, a limit below 1)."""
    if isinstance(after_id, bool) or not isinstance(after_id, int) or not 0 <= after_id <= MAX_ID:
        raise InputRefused("the id to list after", f"{_short(after_id)} is out of range", f"0 to {MAX_ID}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ID:
        raise InputRefused("the limit", f"{_short(limit)} is out of range", "a number of rows from 1")
    for name, value in ids.items():
        if value is not None:
            check_id(value, f"the {name.replace('_', ' ')}")


def check_actor_id(value: Any) -> str:
    """Refuse an actor id that is not text, blank, too long or holds control characters; return it."""
    if not isinstance(value, str):
        raise BadActorId(value, f"{type(value).__name__} is not text")
    if not value.strip():
        raise BadActorId(value, "the id is blank")
    if len(value) > MAX_ACTOR_LENGTH:
        raise BadActorId(value, f"the id is {len(value)} characters long, more than {MAX_ACTOR_LENGTH}")
    if _CONTROL.search(value):
        raise BadActorId(value, "the id holds a control character (a NUL byte, a newline...)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadActorId(value, "the id holds a lone surrogate") from None
    return value


def check_lease(lease: Any, what: str = "the lease") -> timedelta:
    """Refuse a lease that is not a duration from MIN_LEASE to MAX_LEASE; return it."""
    if not isinstance(lease, timedelta):
        raise InputRefused(what, f"{_short(lease)} is not a duration", "a duration such as 5 minutes")
    if not MIN_LEASE <= lease <= MAX_LEASE:
        raise InputRefused(what, f"{lease} is out of bounds",
                           f"a duration from {MIN_LEASE} to {MAX_LEASE} (a claim renews when it needs longer)")
    return lease


def check_file_size(path: Any, what: str = "the file", *, limit: int | None = None) -> None:
    """Refuse a file past `limit` (MAX_FILE_BYTES) before reading it (a missing file is the caller's to report)."""
    limit = limit or MAX_FILE_BYTES
    try:
        size = os.stat(path).st_size
    except (OSError, ValueError):
        return
    if size > limit:
        setting = "BACKOFFICE_MAX_FILE_BYTES" if limit == MAX_FILE_BYTES else "BACKOFFICE_MAX_PAYLOAD_BYTES"
        raise InputRefused(f"{path}", f"{what} is {mib(size)}", f"at most {mib(limit)} ({setting})")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 30 else f"an integer of {len(str(abs(value)))} digits"
    return text if len(text) <= 60 else text[:57] + "..."


def check_yaml(text: str, what: str) -> None:
    """Refuse YAML whose aliases expand past MAX_YAML_NODES (an alias bomb), or nested past the parser's reach.

    The text is composed into its node graph, in which an alias is one shared node: counting
    the nodes as they would be once expanded costs one pass over the graph, and nothing is built.
    Syntax errors are left to the caller's parser, which reports them with their line.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    try:
        root = YAML(typ="safe", pure=True).compose(text)
    except YAMLError:
        return
    except RecursionError:
        raise InputRefused(what, "the YAML is nested too deep to read", "at most a few hundred levels") from None
    if root is None:
        return

    def children(node: Any) -> list[Any]:
        if isinstance(node, MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = min(1 + sum(sizes[id(child)] for child in children(node)), MAX_YAML_NODES + 1)
            continue
        if key in sizes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in children(node):
            if id(child) in open_nodes:
                line = node.start_mark.line + 1 if node.start_mark else None
                raise InputRefused(what, f"an alias at line {line} refers to a node that holds it (a loop)",
                                   "YAML without recursive aliases")
            if id(child) not in sizes:
                stack.append((child, False))
    if sizes[id(root)] > MAX_YAML_NODES:
        raise InputRefused(what, f"its aliases expand it past {MAX_YAML_NODES:,} nodes (an alias bomb)",
                           f"at most {MAX_YAML_NODES:,} values once aliases are expanded; write the values out")
