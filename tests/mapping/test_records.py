"""The map's records write the JSON pydantic writes for the same models, and convert values as it does."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import BaseModel, TypeAdapter

from backoffice.mapping.model import (Activity, CycleTime, DurationStats, Filters, LaneShare, Lanes, ProcessMap,
                                      Reading, StepKind, Summary)
from backoffice.mapping.records import json_datetime, json_float, pydantic_twin

FLOATS = TypeAdapter(list[float])
TIMES = TypeAdapter(list[datetime])


def test_floats_are_written_as_pydantic_writes_them():
    rng = random.Random(11)
    values = [0.0, -0.0, 1.0, 0.1, 5.0, 1e-5, 1.234e-5, 9.999e-5, 1e-4, 1e-6, 1.5e-6, 1e-7, 2.5e-320, 1e15, 1e16,
              1.5e16, 1e22, 1234567890123456.7, 12345678901234567.0, 1.7976931348623157e308, -1.25e-5, -3e-9,
              float("inf"), float("-inf"), float("nan")]
    values += [rng.uniform(0.5, 10) * 10.0 ** rng.randint(-30, 30) * rng.choice((1, -1)) for _ in range(5000)]
    values += [rng.randint(1, 10 ** 6) / 10 ** rng.randint(0, 12) for _ in range(2000)]
    assert "[" + ",".join(json_float(value) for value in values) + "]" == FLOATS.dump_json(values).decode()


def test_times_are_written_as_pydantic_writes_them():
    values = [datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2020, 1, 1, 1, 2, 3, 4500, tzinfo=timezone.utc),
              datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=1))),
              datetime(2020, 6, 1, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30))), datetime(2020, 1, 1),
              datetime(2020, 1, 1, 1, 2, 3, 123000)]
    assert json.dumps([json_datetime(value) for value in values], separators=(",", ":")) == \
        TIMES.dump_json(values).decode()


def tricky_map() -> ProcessMap:
    # Values as the analysis might hand them: numpy numbers, ints for floats, text for enums,
    # dicts for records, control characters and non-ASCII text in names.
    stats = DurationStats(count=np.int64(3), total=7, mean=np.float64(2.5), median=1e-5, p90=float("nan"),
                          max=1.5e16)
    name = 'Check "amount"\n\t\x01\x1f é 😀 \\ \u2028'
    activity = Activity(name=name, events=np.int32(4), cases=2, lane=None, kind="approval", wait_before=stats,
                        lane_split=[LaneShare(lane="Clerk", events=3, share=0.75), {"lane": "Boss", "events": 1,
                                                                                     "share": 1 / 3}],
                        repeats=0)
    summary = Summary(source="log.csv", cases=2, events=4, steps=4, activities=1, variants=1,
                      first_event=datetime(2020, 1, 1, 8, 30, tzinfo=timezone.utc),
                      last_event=datetime(2020, 1, 2, 9, 0, 0, 250000, tzinfo=timezone(timedelta(hours=1))),
                      start_activities=[], end_activities=[])
    return ProcessMap(reading=Reading(mode="events", lifecycle="none", timestamps="one per step", note="n"),
                      lanes="role", summary=summary, filters=Filters(since=datetime(2019, 12, 31)),
                      activities=[activity], edges=[], variants=[], slowest_variants=[1, np.int64(2)],
                      cycle_time=CycleTime(stats=stats, histogram=[(0, 1.5, 2), [1.5, 3, np.int64(1)]]),
                      waiting_paths=[], waiting_activities=[], handoffs=[],
                      rework={"cases_affected": 0, "share_of_cases": 0, "repeated_activities": [], "loops": [],
                              "median_cycle_time_with": None, "median_cycle_time_without": None,
                              "added_time": None},
                      exceptions=None, sla=None, step_kinds=[], notes=["a note", ""])


def test_a_map_is_written_byte_for_byte_as_its_pydantic_twin_writes_it():
    record = tricky_map()
    twin = pydantic_twin(ProcessMap).model_validate(record.model_dump())
    assert record.model_dump_json(indent=2) == twin.model_dump_json(indent=2)
    assert record.model_dump_json() == twin.model_dump_json()
    assert json.dumps(record.model_dump(mode="json")) == json.dumps(twin.model_dump(mode="json"))
    assert json.loads(record.model_dump_json())["activities"][0]["name"] == tricky_map().activities[0].name


def test_values_are_converted_to_the_declared_types():
    record = tricky_map()
    stats = record.cycle_time.stats
    assert type(stats.count) is int and type(stats.total) is float and stats.total == 7.0
    assert record.lanes is Lanes.ROLE and record.activities[0].kind is StepKind.APPROVAL
    assert type(record.activities[0].events) is int
    assert record.activities[0].lane_split[1] == LaneShare(lane="Boss", events=1, share=1 / 3)
    assert record.cycle_time.histogram == [(0.0, 1.5, 2), (1.5, 3.0, 1)]
    assert all(type(value) is float for value in record.cycle_time.histogram[0][:2])
    assert record.rework.share_of_cases == 0.0 and record.slowest_variants == [1, 2]
    assert math.isnan(stats.p90)


def test_a_record_refuses_what_pydantic_would_refuse():
    with pytest.raises(TypeError, match="required"):
        LaneShare(lane="Clerk", events=3)
    with pytest.raises(TypeError, match="no field"):
        LaneShare(lane="Clerk", events=3, share=0.5, colour="red")
    with pytest.raises(TypeError, match="not None"):
        LaneShare(lane=None, events=3, share=0.5)
    with pytest.raises(ValueError):
        LaneShare(lane="Clerk", events=3.5, share=0.5)
    with pytest.raises(ValueError):
        Activity(name="a", events=1, cases=1, lane=None, kind="cooking", wait_before=None, repeats=0)
    with pytest.raises(AttributeError, match="frozen"):
        tricky_map().lanes = Lanes.SYSTEM


def test_copies_defaults_and_fields_set_behave_as_pydantics():
    record = tricky_map()
    activity = record.activities[0]
    assert "rework_cases" not in activity.model_fields_set and activity.rework_cases == 0
    assert activity.shared is False and activity.processing is None and activity.exception_reasons == []
    changed = activity.model_copy(update={"rework_cases": 2})
    assert changed.rework_cases == 2 and "rework_cases" in changed.model_fields_set and activity.rework_cases == 0
    assert changed != activity and changed.model_copy(update={"rework_cases": 0}) == activity
    assert ProcessMap.model_validate(record.model_dump()) == record
    assert record.reading == Reading(mode="events", lifecycle="none", timestamps="one per step", note="n")
    assert ProcessMap.model_fields["reading"].default == Reading(mode="events", lifecycle="none",
                                                                 timestamps="one per step", note="")
    assert hash(LaneShare(lane="a", events=1, share=0.5)) == hash(LaneShare(lane="a", events=1, share=0.5))


def test_a_pydantic_model_holding_a_record_validates_and_writes_it_as_the_twin():
    class Answer(BaseModel):
        map: ProcessMap

    record = tricky_map()
    answer = Answer(map=record)
    assert json.loads(answer.model_dump_json())["map"] == json.loads(record.model_dump_json())
    schema = Answer.model_json_schema()
    assert schema["properties"]["map"] == {"$ref": "#/$defs/ProcessMap"}
    assert schema["$defs"]["ProcessMap"]["description"] == "The as-is map of an event log."
