"""The map's models cost what they must at import: no default factory that makes pydantic tokenize."""

from __future__ import annotations

import inspect

from pydantic import BaseModel

from backoffice.mapping import model


def test_no_model_of_the_map_has_a_builtin_default_factory():
    # pydantic reads each default factory's signature; a builtin's (list, dict) is parsed
    # from its text signature by the tokenizer, whose patterns are compiled on first use:
    # some 15 ms of CPU at the start of every map for two empty lists.
    models = [value for value in vars(model).values()
              if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == model.__name__]
    assert model.ProcessMap in models and model.Activity in models
    factories = [(cls.__name__, name, field.default_factory) for cls in models
                 for name, field in cls.model_fields.items() if field.default_factory is not None]
    assert factories, "the models have default factories: the test must see them"
    assert [entry for entry in factories if not inspect.isfunction(entry[2])] == []


def test_the_empty_list_factory_gives_a_new_empty_list_each_time():
    first = model.Activity.model_fields["lane_split"].default_factory()
    assert first == [] and first is not model.Activity.model_fields["lane_split"].default_factory()
