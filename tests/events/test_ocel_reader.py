"""Reading OCEL 2.0 JSON, flattened onto the object type the user chooses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.errors import EmptyLog, LogFileError, LogFileNotFound
from backoffice.events.ocel_reader import read_ocel

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "ocel20_example.jsonocel"
TYPES = "Invoice, Payment, Purchase Order, Purchase Requisition"


def write(tmp_path: Path, document: object | str, name: str = "log.jsonocel") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def ocel(*, events: list[dict], objects: list[dict], object_types: list[str] | None = None) -> dict:
    names = object_types or sorted({obj["type"] for obj in objects})
    return {"objectTypes": [{"name": name, "attributes": []} for name in names],
            "eventTypes": [], "objects": objects, "events": events}


def event(number: int, kind: str, time: str, *objects: str, **attributes: object) -> dict:
    return {"id": f"e{number}", "type": kind, "time": time,
            "attributes": [{"name": name, "value": value} for name, value in attributes.items()],
            "relationships": [{"objectId": obj, "qualifier": ""} for obj in objects]}


ORDERS = [{"id": "o1", "type": "order", "attributes": []}, {"id": "o2", "type": "order", "attributes": []},
          {"id": "i1", "type": "item", "attributes": []}]


def test_each_event_of_an_object_of_the_chosen_type_becomes_a_row_of_its_case():
    table = read_ocel(EXAMPLE, object_type="Purchase Order").table

    assert table.select(["case:concept:name", "concept:name", "time:timestamp"]).to_pylist() == [
        {"case:concept:name": "PO1", "concept:name": "Create Purchase Order", "time:timestamp": "2022-01-10T08:15:00+00:00"},
        {"case:concept:name": "PO1", "concept:name": "Change PO Quantity", "time:timestamp": "2022-01-13T11:00:00+00:00"},
        {"case:concept:name": "PO1", "concept:name": "Insert Invoice", "time:timestamp": "2022-01-14T11:00:00+00:00"},
        {"case:concept:name": "PO1", "concept:name": "Insert Invoice", "time:timestamp": "2022-01-16T10:00:00+00:00"},
        {"case:concept:name": "PO2", "concept:name": "Create Purchase Order", "time:timestamp": "2022-02-02T16:00:00+00:00"},
    ]


def test_event_attributes_are_columns_and_object_attributes_are_case_columns():
    table = read_ocel(EXAMPLE, object_type="Purchase Order").table

    first = table.to_pylist()[0]
    assert first["po_creator"] == "Mike"
    assert first["case:po_product"] == "Cows"
    assert table.column_names[:3] == ["case:concept:name", "concept:name", "time:timestamp"]


def test_an_object_attribute_that_changes_over_time_takes_its_latest_value():
    table = read_ocel(EXAMPLE, object_type="Invoice").table

    # R3 is blocked at 06:30 and unblocked at 22:30 on 3 February: its last state is "No".
    blocked = {row["case:concept:name"]: row["case:is_blocked"] for row in table.to_pylist()}
    assert blocked["R3"] == "No"


def test_the_example_flattens_to_the_row_counts_pm4py_gives():
    pm4py = pytest.importorskip("pm4py")
    log = pm4py.read_ocel2_json(str(EXAMPLE))
    for object_type in TYPES.split(", "):
        table = read_ocel(EXAMPLE, object_type=object_type).table
        expected = pm4py.ocel_flattening(log, object_type)
        assert table.num_rows == len(expected), object_type
        assert table.column("concept:name").to_pylist() == expected["concept:name"].tolist()
        assert table.column("case:concept:name").to_pylist() == expected["case:concept:name"].tolist()


def test_an_event_of_two_objects_of_the_type_appears_in_both_cases_in_file_order(tmp_path):
    path = write(tmp_path, ocel(objects=ORDERS, events=[
        event(1, "create", "2024-01-01T09:00:00Z", "o1"),
        event(2, "ship together", "2024-01-02T09:00:00Z", "o2", "i1", "o1", "o2"),
        event(3, "pack item", "2024-01-03T09:00:00Z", "i1"),
        event(4, "create", "2024-01-01T08:00:00Z", "o2"),
    ]))

    rows = read_ocel(path, object_type="order").table.select(["case:concept:name", "concept:name"]).to_pylist()

    assert [(row["case:concept:name"], row["concept:name"]) for row in rows] == [
        ("o1", "create"), ("o2", "ship together"), ("o1", "ship together"), ("o2", "create")]


def test_timestamps_are_kept_as_written(tmp_path):
    path = write(tmp_path, ocel(objects=ORDERS, events=[event(1, "create", "2024-01-01T09:00:00+02:00", "o1")]))

    assert read_ocel(path, object_type="order").table.column("time:timestamp").to_pylist() == [
        "2024-01-01T09:00:00+02:00"]


def test_attribute_values_keep_their_json_types_and_mixed_ones_become_text(tmp_path):
    path = write(tmp_path, ocel(objects=ORDERS, events=[
        event(1, "a", "2024-01-01T09:00:00Z", "o1", amount=12.5, count=3, urgent=True, mixed=1),
        event(2, "b", "2024-01-02T09:00:00Z", "o1", amount=7, count=4, urgent=False, mixed="one"),
    ]))

    table = read_ocel(path, object_type="order").table

    assert table.column("amount").to_pylist() == [12.5, 7.0]
    assert table.column("count").to_pylist() == [3, 4]
    assert table.column("urgent").to_pylist() == [True, False]
    assert table.column("mixed").to_pylist() == ["1", "one"]


def test_a_missing_file_is_log_file_not_found(tmp_path):
    with pytest.raises(LogFileNotFound):
        read_ocel(tmp_path / "absent.jsonocel", object_type="order")


def test_invalid_json_names_the_line_and_column(tmp_path):
    path = write(tmp_path, '{\n  "objectTypes": [],\n  "events": [,]\n}')

    with pytest.raises(LogFileError) as raised:
        read_ocel(path, object_type="order")
    assert (raised.value.line, raised.value.column) == (3, 14)
    assert "not valid JSON" in str(raised.value) and "OCEL 2.0 JSON" in str(raised.value)


def test_json_that_is_not_ocel_is_refused(tmp_path):
    with pytest.raises(LogFileError, match="no list of events"):
        read_ocel(write(tmp_path, [1, 2, 3]), object_type="order")


def test_an_ocel_1_log_is_named_as_such(tmp_path):
    with pytest.raises(LogFileError, match="OCEL 1.0"):
        read_ocel(write(tmp_path, {"ocel:global-log": {}, "ocel:events": {}, "ocel:objects": {}}),
                  object_type="order")


def test_no_object_type_lists_the_types_to_choose_from():
    with pytest.raises(LogFileError) as raised:
        read_ocel(EXAMPLE, object_type=None)
    assert raised.value.expected == f"--object-type, one of: {TYPES}"


def test_an_unknown_object_type_lists_the_types_and_suggests_the_closest():
    with pytest.raises(LogFileError) as raised:
        read_ocel(EXAMPLE, object_type="purchase ordr")
    assert raised.value.expected == f"--object-type, one of: {TYPES}"
    assert "did you mean 'Purchase Order'" in str(raised.value)


def test_an_object_type_without_events_is_an_empty_log(tmp_path):
    path = write(tmp_path, ocel(objects=ORDERS, events=[event(1, "pack", "2024-01-01T09:00:00Z", "i1")],
                                object_types=["order", "item", "invoice"]))

    with pytest.raises(EmptyLog, match="no event relates to an object of type 'invoice'"):
        read_ocel(path, object_type="invoice")


def test_an_event_without_a_time_is_refused_by_its_id(tmp_path):
    broken = event(1, "create", "2024-01-01T09:00:00Z", "o1")
    del broken["time"]

    with pytest.raises(LogFileError, match="event 'e1' has no time"):
        read_ocel(write(tmp_path, ocel(objects=ORDERS, events=[broken])), object_type="order")


def test_an_event_time_written_as_a_number_is_named_as_not_text(tmp_path):
    # Epoch seconds instead of ISO 8601 text: the message says what is there, not that nothing is.
    broken = event(1, "create", "2024-01-01T09:00:00Z", "o1")
    broken["time"] = 1704099600

    with pytest.raises(LogFileError, match=r"event 'e1': time is 1704099600, not text; expected .*ISO 8601"):
        read_ocel(write(tmp_path, ocel(objects=ORDERS, events=[broken])), object_type="order")
