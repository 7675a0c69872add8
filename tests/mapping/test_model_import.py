"""The map's models cost nothing at import: they are records, pydantic is imported only for their JSON Schema."""

from __future__ import annotations

import subprocess
import sys

from backoffice.mapping import model
from backoffice.mapping.records import Frozen


def test_importing_the_maps_models_imports_no_pydantic():
    # pydantic's import and the building of 27 models' schemas: some 0.09 s of CPU at the
    # start of every map.
    script = ("import sys\n"
              "import backoffice.mapping.model, backoffice.mapping.analyze\n"
              "print(sorted(name for name in sys.modules if name.split('.')[0] in ('pydantic', 'pydantic_core')))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_model_of_the_map_is_a_record_and_a_default_factory_gives_a_new_list_each_time():
    records = [value for value in vars(model).values()
               if isinstance(value, type) and issubclass(value, Frozen) and value.__module__ == model.__name__]
    assert model.ProcessMap in records and model.Activity in records and len(records) == 25
    first, second = model.Activity.model_fields["lane_split"].factory(), model.Activity.model_fields["lane_split"].factory()
    assert first == [] and first is not second
