"""Frozen records for the map's models, written as JSON the way pydantic writes them, without pydantic.

`backoffice map` builds a few hundred of these and writes them once; pydantic's import and
the building of its schemas for the map's 27 models cost about 0.09 s of CPU at the start
of every map, a tenth of mapping a million-event CSV. A `Frozen` record keeps pydantic's
surface that the map's readers use (`model_dump_json`, `model_dump`, `model_copy`,
`model_fields`, `model_fields_set`, `model_json_schema`, `model_validate`) and converts
values as pydantic's lax mode does for the types the models declare (an int for a float
field is written 2.0, a numpy integer is an int, an enum's value its member, a dict a
record). The JSON is byte for byte pydantic's (`tests/mapping/test_records.py` checks it
against pydantic on the same values); pydantic twins of the records are built on demand for
the JSON Schema and for FastAPI (`pydantic_twin`).
"""

from __future__ import annotations

import builtins
import sys
from datetime import datetime, timedelta
from enum import Enum
from json.encoder import encode_basestring
from typing import Any, ClassVar

_REQUIRED = object()


class FieldSpec:
    """One field of a record: its declared type (as written), default and description."""

    __slots__ = ("name", "annotation", "default", "factory", "description", "convert")

    def __init__(self, default: Any = _REQUIRED, *, factory: Any = None, description: str | None = None) -> None:
        self.name = ""
        self.annotation = ""
        self.default = default
        self.factory = factory
        self.description = description
        self.convert = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.factory is None

    def copy_for(self, name: str, annotation: str) -> FieldSpec:
        spec = FieldSpec(self.default, factory=self.factory, description=self.description)
        spec.name, spec.annotation = name, annotation
        return spec


def field(default: Any = _REQUIRED, *, factory: Any = None, description: str | None = None) -> Any:
    """A field's default (or `factory`, called for each record) and its description for the JSON Schema."""
    return FieldSpec(default, factory=factory, description=description)


class Frozen:
    """A record whose fields are its class's annotations, in order; immutable once built."""

    __slots__ = ("__dict__", "_fields_set")
    model_fields: ClassVar[dict[str, FieldSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls.model_fields)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if annotation.startswith("ClassVar"):
                continue
            value = cls.__dict__.get(name, _REQUIRED)
            spec = value if isinstance(value, FieldSpec) else FieldSpec(value)
            fields[name] = spec.copy_for(name, annotation)
            if name in cls.__dict__:
                delattr(cls, name)  # the instance's value, never the class's default, answers
        cls.model_fields = fields
        cls._converters_ready = False

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        if not cls.__dict__.get("_converters_ready"):
            _resolve(cls)
        fields = cls.model_fields
        unknown = values.keys() - fields.keys()
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
        own = {}
        for name, spec in fields.items():
            if name in values:
                value = values[name]
                own[name] = spec.convert(value)
            elif spec.factory is not None:
                own[name] = spec.factory()
            elif spec.default is not _REQUIRED:
                own[name] = spec.default
            else:
                raise TypeError(f"{cls.__name__}: field {name!r} is required")
        object.__setattr__(self, "__dict__", own)
        object.__setattr__(self, "_fields_set", frozenset(values))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in self.__dict__.items())})"

    def __reduce__(self):
        return (_rebuild, (type(self), dict(self.__dict__), self._fields_set))

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The fields given when the record was built (or updated by `model_copy`), not left to their default."""
        return self._fields_set

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy with `update`'s fields replaced, as given (not converted, as pydantic's model_copy)."""
        values = dict(self.__dict__)
        if deep:
            import copy
            values = copy.deepcopy(values)
        if update:
            values.update(update)
        return _rebuild(type(self), values, self._fields_set | set(update or ()))

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        """The fields as a dict; with mode="json", of JSON's types (times as text, enums as values), as pydantic's."""
        if mode == "json":
            return _jsonable(self)
        return {name: _plain(value) for name, value in self.__dict__.items()}

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """The record as pydantic writes it: fields in order, floats and times in its forms, inf and NaN as null."""
        if indent is not None:
            return _indented(self, "\n", " " * indent)
        parts: list[str] = []
        _write_compact(self, parts.append)
        return "".join(parts)

    @classmethod
    def exact(cls, **values: Any) -> Any:
        """A record from every field, each already of its declared type: nothing converted nor checked but the names.

        For records built by the thousand (a log's variants, as many as its cases at worst).
        """
        if values.keys() != cls.model_fields.keys():
            raise TypeError(f"{cls.__name__}.exact takes every field: {list(cls.model_fields)}")
        return _rebuild(cls, {name: values[name] for name in cls.model_fields}, frozenset(values))

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        return data if isinstance(data, cls) else cls(**data)

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return pydantic_twin(cls).model_json_schema()

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # A record in a pydantic model or a FastAPI response is its twin, built from its fields.
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(
            lambda value: value.model_dump() if isinstance(value, Frozen) else value, handler(pydantic_twin(cls)))


def _rebuild(cls: type, values: dict[str, Any], fields_set: frozenset[str] | set[str]) -> Any:
    record = object.__new__(cls)
    object.__setattr__(record, "__dict__", values)
    object.__setattr__(record, "_fields_set", frozenset(fields_set))
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, Frozen):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Frozen):
        return {name: _jsonable(item) for name, item in value.__dict__.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return json_datetime(value)
    return value


# --- conversion, as pydantic's lax mode does for the types the map's models declare

def _to_int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _to_float(value: Any) -> float:
    return value if type(value) is float else float(value)


def _to_bool(value: Any) -> bool:
    return value if type(value) is bool else bool(value)


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value if type(value) is str or isinstance(value, Enum) else str(value)
    raise TypeError(f"{value!r} is not text")


def _same(value: Any) -> Any:
    return value


def _split_top(text: str, separator: str) -> list[str]:
    """Split a type's text at `separator` outside brackets."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0 and text.startswith(separator, position):
            parts.append(text[start:position].strip())
            start = position + len(separator)
    parts.append(text[start:].strip())
    return parts


def _converter(annotation: str, namespace: dict[str, Any]):
    options = _split_top(annotation, "|")
    if len(options) > 1:
        kept = [option for option in options if option != "None"]
        inner = _converter(" | ".join(kept), namespace)
        if "None" not in options:
            return inner
        return lambda value: None if value is None else inner(value)
    if annotation.startswith("list[") and annotation.endswith("]"):
        item = _converter(annotation[5:-1], namespace)
        return _required(lambda value: [item(entry) for entry in value])
    if annotation.startswith("tuple[") and annotation.endswith("]"):
        items = [_converter(part, namespace) for part in _split_top(annotation[6:-1], ",")]
        return _required(lambda value: tuple(convert(entry) for convert, entry in zip(items, value, strict=True)))
    simple = {"int": _to_int, "float": _to_float, "bool": _to_bool, "str": _to_str, "datetime": _same,
              "Any": _same}
    if annotation in simple:
        return _same if annotation == "Any" else _required(simple[annotation])
    kind = namespace[annotation]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _required(lambda value: value if type(value) is kind else kind(value))
    if isinstance(kind, type) and issubclass(kind, Frozen):
        return _required(lambda value: value if isinstance(value, kind) else kind(**value))
    raise TypeError(f"no conversion for the field type {annotation!r}")


def _required(convert):
    def checked(value: Any) -> Any:
        if value is None:
            raise TypeError("a value is required, not None")
        return convert(value)
    return checked


def _resolve(cls: type) -> None:
    namespace = vars(sys.modules[cls.__module__])
    for spec in cls.model_fields.values():
        spec.convert = _converter(spec.annotation, namespace)
    cls._converters_ready = True


# --- JSON in pydantic's forms

def json_float(value: float) -> str:
    """A float as pydantic writes it: Python's shortest repr, but 1e-7 for 1e-07, 0.00001 for 1e-05, null for inf and NaN."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    text = float.__repr__(value)
    if "e-" not in text:
        return text
    mantissa, exponent = text.split("e-")
    if exponent == "05":
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e-{int(exponent)}"


def json_datetime(value: datetime) -> str:
    """A time as pydantic writes it: ISO 8601, with Z for UTC."""
    text = value.isoformat()
    offset = value.utcoffset()
    if offset is not None and offset == timedelta(0) and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(value.value if isinstance(value, Enum) else value)
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, datetime):
        return f'"{json_datetime(value)}"'
    if isinstance(value, Enum):
        return _scalar(value.value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_KEYS: dict[str, str] = {}
_float_repr = float.__repr__
_int_repr = int.__repr__


def _indented(value: Any, newline: str, step: str) -> str:
    # The map's JSON has some 16,000 values (a few hundred variants, each with its steps and
    # times; 60,000 on a log of 4,000 variants): the common scalars are told apart by `type`
    # and written in the loop of their record, without a call each, and lists of text (a
    # variant's steps) in one join.
    kind = type(value)
    if kind is float:
        text = _float_repr(value)
        return json_float(value) if "n" in text or "e-" in text else text
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return _int_repr(value)
    if value is None:
        return "null"
    inner = newline + step
    if isinstance(value, Frozen):
        parts = []
        for name, item in value.__dict__.items():
            key = _KEYS.get(name)
            if key is None:
                key = _KEYS[name] = encode_basestring(name) + ": "
            kind = type(item)
            if kind is float:
                text = _float_repr(item)
                parts.append(key + (json_float(item) if "n" in text or "e-" in text else text))
            elif kind is int:
                parts.append(key + _int_repr(item))
            elif kind is str:
                parts.append(key + encode_basestring(item))
            elif item is None:
                parts.append(key + "null")
            else:
                parts.append(key + _indented(item, inner, step))
        return "{" + inner + ("," + inner).join(parts) + newline + "}" if parts else "{}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        if all(type(item) is str for item in value):
            items = map(encode_basestring, value)
        else:
            items = [_indented(item, inner, step) for item in value]
        return "[" + inner + ("," + inner).join(items) + newline + "]"
    if isinstance(value, (list, tuple)):
        return _indented(list(value), newline, step)
    return _scalar(value)


def _write_compact(value: Any, write) -> None:
    if isinstance(value, Frozen):
        write("{")
        first = True
        for name, item in value.__dict__.items():
            if not first:
                write(",")
            first = False
            write(encode_basestring(name))
            write(":")
            _write_compact(item, write)
        write("}")
    elif isinstance(value, (list, tuple)):
        write("[")
        first = True
        for item in value:
            if not first:
                write(",")
            first = False
            _write_compact(item, write)
        write("]")
    else:
        write(_scalar(value))


# --- pydantic twins, for the JSON Schema and for pydantic models or FastAPI answers holding a record

_twins: dict[type, type] = {}


def pydantic_twin(cls: type) -> type:
    """The pydantic model with the record's name, docstring, fields, types, defaults and descriptions."""
    if cls in _twins:
        return _twins[cls]
    from pydantic import BaseModel, ConfigDict, Field, create_model

    module = sys.modules[cls.__module__]

    class _TwinNamespace(dict):
        def __missing__(self, name: str) -> Any:
            if not hasattr(module, name):
                return getattr(builtins, name)
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, Frozen):
                return pydantic_twin(value)
            return value

    namespace = _TwinNamespace(datetime=datetime, Any=Any)

    class FrozenTwin(BaseModel):
        model_config = ConfigDict(frozen=True)

    fields = {}
    for name, spec in cls.model_fields.items():
        annotation = eval(spec.annotation, {}, namespace)  # noqa: S307 (the model's own annotations)
        options: dict[str, Any] = {}
        if spec.factory is not None:
            options["default_factory"] = spec.factory
        elif spec.default is not _REQUIRED:
            default = spec.default
            options["default"] = (pydantic_twin(type(default)).model_validate(default.model_dump())
                                  if isinstance(default, Frozen) else default)
        if spec.description is not None:
            options["description"] = spec.description
        fields[name] = (annotation, Field(**options))
    twin = create_model(cls.__name__, __base__=FrozenTwin, __module__=cls.__module__, __doc__=cls.__doc__,
                        **fields)
    twin.__qualname__ = cls.__qualname__
    _twins[cls] = twin
    return twin
