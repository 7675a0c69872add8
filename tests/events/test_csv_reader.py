"""Reading delimited logs: column recognition, time zones, file order, and every bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backoffice import read_log
from backoffice.errors import (BadOption, BadTimestamp, ConfigFileError, EmptyLog, LogFileError, LogFileNotFound, MissingColumn,
                               NotUtf8, UnknownLogFormat)
from backoffice.events.schema import EventLog


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_schema_names_are_recognised_and_other_columns_become_attributes(write_csv):
    path = write_csv("case_id,activity,timestamp,resource,role,system,reason,amount\n"
                     "A,Submit,2024-01-01T09:00:00Z,ann,clerk,ERP,,10.5\n")
    log = read_log(path)
    row = log.table.to_pylist()[0]
    assert (row["case_id"], row["activity"], row["resource"], row["role"], row["system"]) == \
        ("A", "Submit", "ann", "clerk", "ERP")
    assert row["reason"] is None
    assert log.attribute_columns == ["amount"]
    assert row["amount"] == 10.5


def test_xes_standard_names_in_a_csv_header_are_recognised(write_csv):
    path = write_csv("case:concept:name;concept:name;time:timestamp;org:resource;org:role;org:group;"
                     "lifecycle:transition\n7;Approve;2024-01-01 09:00:00;bob;manager;finance;complete\n")
    row = read_log(path).table.to_pylist()[0]
    assert (row["case_id"], row["activity"], row["resource"], row["role"], row["group"], row["lifecycle"]) == \
        ("7", "Approve", "bob", "manager", "finance", "complete")


def test_named_columns_override_recognition(write_csv):
    path = write_csv("ticket,step,when,agent\nT1,Open,2024-01-01 09:00,amy\n")
    log = read_log(path, case="ticket", activity="step", timestamp="when", resource="agent")
    assert log.table.column("resource").to_pylist() == ["amy"]


def test_offsets_are_converted_to_utc_not_relabelled(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-03-01T10:00:00+02:00\nA,b,2024-03-01T10:00:00-05:00\n")
    assert read_log(path).table.column("timestamp").to_pylist() == [utc(2024, 3, 1, 8), utc(2024, 3, 1, 15)]


def test_naive_timestamps_are_utc_unless_a_timezone_is_given(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-07-01 12:00:00\n")
    assert read_log(path).table.column("timestamp").to_pylist() == [utc(2024, 7, 1, 12)]
    assert read_log(path, timezone="Europe/Amsterdam").table.column("timestamp").to_pylist() == \
        [utc(2024, 7, 1, 10)]


def test_day_first_timestamps_are_detected(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,13-01-2024 09:30:00\nA,b,14-01-2024 10:00:00\n")
    assert read_log(path).table.column("timestamp").to_pylist()[0] == utc(2024, 1, 13, 9, 30)


def test_ties_in_timestamp_keep_file_order(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,third,2024-01-01 10:00\nA,first,2024-01-01 09:00\n"
                     "A,zeta,2024-01-01 10:00\nA,alpha,2024-01-01 10:00\n")
    assert read_log(path).table.column("activity").to_pylist() == ["first", "third", "zeta", "alpha"]


def test_activity_labels_are_trimmed_and_folded_to_one_spelling(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,Approve  Invoice,2024-01-01\nB, approve invoice ,2024-01-01\n"
                     "C,Approve Invoice,2024-01-01\n")
    assert set(read_log(path).table.column("activity").to_pylist()) == {"Approve Invoice"}


def test_synonyms_file_maps_team_labels_to_one_name(write_csv, tmp_path):
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text("Approve invoice:\n  - OK by manager\n  - mgr approval\n", encoding="utf-8")
    path = write_csv("case_id,activity,timestamp\nA,ok by Manager,2024-01-01\nB,MGR approval,2024-01-01\n")
    assert set(read_log(path, synonyms=synonyms).table.column("activity").to_pylist()) == {"Approve invoice"}


def test_encoding_and_delimiter_can_be_given(write_csv):
    path = write_csv("case_id|activity|timestamp\nA|Prüfen|2024-01-01\n".encode("cp1252"))
    assert read_log(path, encoding="cp1252", delimiter="|").table.column("activity").to_pylist() == ["Prüfen"]


def test_blank_optional_values_are_missing_not_empty_strings(write_csv):
    path = write_csv("case_id,activity,timestamp,resource\nA,a,2024-01-01,  \n")
    assert read_log(path).table.column("resource").to_pylist() == [None]


def test_parquet_row_groups_are_joined_with_their_missing_values(tmp_path):
    # Each row group has its own dictionaries; timestamps and codes are joined by numpy.
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = 3_000
    table = pa.table({
        "case_id": [f"c{row % 700}" for row in range(rows)],
        "activity": [f"step {row % 7}" for row in range(rows)],
        "timestamp": pa.array([start + timedelta(minutes=row) for row in range(rows)], pa.timestamp("us", tz="UTC")),
        "resource": [None if row % 5 == 0 else f"person {row % 11}" for row in range(rows)],
        "reason": [f"reason {row % 3}" if row % 97 == 0 else None for row in range(rows)]})
    parquet = tmp_path / "groups.parquet"
    pq.write_table(table, parquet, row_group_size=400)
    assert pq.ParquetFile(parquet).metadata.num_row_groups == 8
    log = read_log(parquet)
    expected = EventLog.from_table(table).table
    for name in ("case_id", "activity", "timestamp", "resource", "reason"):
        assert log.table.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_parquet_logs_read_with_the_same_mapping(tmp_path, write_csv):
    csv = write_csv("case_id,activity,timestamp,amount\nA,a,2024-01-01T00:00:00Z,3\nA,b,2024-01-02T00:00:00Z,3\n")
    parquet = tmp_path / "log.parquet"
    pq.write_table(read_log(csv).table, parquet)
    log = read_log(parquet)
    assert log.table.column("activity").to_pylist() == ["a", "b"]
    assert log.table.column("timestamp").to_pylist()[1] == utc(2024, 1, 2)


# Bad input: one clear error naming the file and where, never a traceback or a partial log.

def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(LogFileNotFound, match="nothing.csv"):
        read_log(tmp_path / "nothing.csv")


def test_an_unknown_extension_asks_for_format(tmp_path):
    path = tmp_path / "log.dat"
    path.write_text("x")
    with pytest.raises(UnknownLogFormat, match="--format"):
        read_log(path)


def test_an_empty_file_is_refused(write_csv):
    with pytest.raises(EmptyLog, match="empty"):
        read_log(write_csv(""))


def test_a_header_without_rows_is_refused(write_csv):
    with pytest.raises(EmptyLog, match="header but no rows"):
        read_log(write_csv("case_id,activity,timestamp\n"))


def test_a_missing_timestamp_column_lists_columns_and_suggests_one(write_csv):
    path = write_csv("case_id,activity,tstamp\nA,a,2024-01-01\n")
    with pytest.raises(MissingColumn) as caught:
        read_log(path)
    message = str(caught.value)
    assert "no timestamp column" in message and "case_id, activity, tstamp" in message
    assert "--timestamp 'tstamp'" in message


def test_a_named_column_that_does_not_exist_is_refused_with_a_suggestion(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01\n")
    with pytest.raises(MissingColumn, match="'activty'.*did you mean --activity 'activity'"):
        read_log(path, activity="activty")


def test_an_unparseable_timestamp_names_row_line_and_value(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01 09:00\nA,b,yesterday\n")
    with pytest.raises(BadTimestamp) as caught:
        read_log(path)
    assert caught.value.row == 2 and caught.value.line == 3 and caught.value.value == "yesterday"
    assert "line 3" in str(caught.value) and "'yesterday'" in str(caught.value)


def test_bad_rows_can_be_skipped_and_are_counted(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01 09:00\nA,b,yesterday\n,c,2024-01-01\n")
    log = read_log(path, on_bad_rows="skip")
    assert len(log) == 1 and log.skipped_rows == 2
    assert "2 unreadable rows skipped" in log.notes


def test_an_empty_case_id_is_named(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01\n,b,2024-01-01\n")
    with pytest.raises(LogFileError, match="line 3: row 2: the case_id value in column 'case_id' is empty"):
        read_log(path)


def test_a_file_that_is_not_utf8_names_the_line_and_asks_for_encoding(write_csv):
    path = write_csv(b"case_id,activity,timestamp\nA,a,2024-01-01\nA,Pr\xfcfen,2024-01-02\n")
    with pytest.raises(NotUtf8, match=r"line 3.*--encoding"):
        read_log(path)


@pytest.mark.parametrize("where", ["case_id", "timestamp", "attribute"])
def test_bytes_that_are_not_utf8_in_any_column_read_name_their_line(write_csv, where):
    # UTF-8 is checked after Arrow's read, through each text column's dictionaries.
    rows = {"case_id": b'A,a,2024-01-01,x\n"B\xe9",b,2024-01-02,y\n',
            "timestamp": b"A,a,2024-01-01,x\nB,b,2024-01-0\xe9,y\n",
            "attribute": b"A,a,2024-01-01,x\nB,b,2024-01-02,Gr\xfc\xdfe\n"}[where]
    path = write_csv(b"case_id,activity,timestamp,note\n" + rows)
    with pytest.raises(NotUtf8, match=r"line 3.*--encoding"):
        read_log(path, attributes=["note"])


def test_an_unknown_timezone_is_refused(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01\n")
    with pytest.raises(BadOption, match="--timezone 'Mars/Olympus'"):
        read_log(path, timezone="Mars/Olympus")


def test_a_bad_synonyms_file_names_its_line(write_csv, tmp_path):
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text("Approve:\n  - a\n - b\n", encoding="utf-8")
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01\n")
    with pytest.raises(ConfigFileError, match=r"synonyms.yaml, line 3"):
        read_log(path, synonyms=synonyms)


def test_iso_timestamps_parsed_while_reading_equal_the_text_path(write_csv):
    # The first value decides whether Arrow parses the column while reading; a later naive
    # value does not fit that type, so the file is read again as text: same instants.
    mixed = write_csv("case_id,activity,timestamp\nA,a,2024-03-01T10:00:00+02:00\nA,b,2024-03-01 12:00:00\n")
    assert read_log(mixed).table.column("timestamp").to_pylist() == [utc(2024, 3, 1, 8), utc(2024, 3, 1, 12)]
    fractions = write_csv("case_id,activity,timestamp\nA,a,2024-03-01T10:00:00.250Z\nA,b,2024-03-01T10:00:01+0100\n",
                          name="fractions.csv")
    assert read_log(fractions).table.column("timestamp").to_pylist() == [  # sorted in time
        utc(2024, 3, 1, 9, 0, 1), datetime(2024, 3, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)]


def test_a_bad_timestamp_after_good_iso_ones_is_still_named(write_csv):
    path = write_csv("case_id,activity,timestamp\nA,a,2024-01-01T09:00:00Z\nA,b,2024-01-01T10:00:00Z\n"
                     "A,c,not a time\n")
    with pytest.raises(BadTimestamp) as caught:
        read_log(path)
    assert caught.value.row == 3 and caught.value.value == "not a time"


def test_blank_case_ids_and_lanes_read_as_missing_from_per_block_dictionaries(write_csv):
    path = write_csv("case_id,activity,timestamp,role\nA,a,2024-01-01T09:00:00Z,  \n ,b,2024-01-01T10:00:00Z,clerk\n")
    log = read_log(path, on_bad_rows="skip")
    assert log.skipped_rows == 1
    assert log.table.column("role").to_pylist() == [None]


LANES_CSV = ("case_id,activity,timestamp,role,group,system\n"
             "A,Submit,2024-01-01T09:00:00Z,{role},g1,ERP\n"
             "A,Approve,2024-01-01T10:00:00Z,boss,g2,CRM\n")


def lanes_read(log):
    return [name for name in ("role", "group", "system") if log.has_values(name)]


def test_lane_columns_after_the_first_seen_with_a_value_are_left_unread(write_csv):
    path = write_csv(LANES_CSV.format(role="clerk"))
    assert lanes_read(read_log(path)) == ["role", "group", "system"]
    assert lanes_read(read_log(path, lane_columns=["role", "group", "system"])) == ["role"]
    # Asked for one lane column, only that one is read; resources (no lane column here) need none.
    assert lanes_read(read_log(path, lane_columns=["system"])) == ["system"]
    assert lanes_read(read_log(path, lane_columns=[])) == []


def test_a_lane_column_not_seen_with_a_value_keeps_the_next_ones_read(write_csv):
    # "NA" is read as missing; the role's only value comes later, so it is read, and the
    # group (seen with a value) too; the system, after the group, is not.
    path = write_csv(LANES_CSV.format(role="NA"))
    assert lanes_read(read_log(path, lane_columns=["role", "group", "system"])) == ["role", "group"]


def test_skipping_bad_rows_reads_every_lane_column_asked_for(write_csv):
    # The row whose role was seen may be the one skipped: then no later lane column may be left out.
    path = write_csv(LANES_CSV.format(role="clerk").replace("2024-01-01T09:00:00Z", "later"))
    log = read_log(path, on_bad_rows="skip", lane_columns=["role", "group", "system"])
    assert len(log) == 1 and lanes_read(log) == ["role", "group", "system"]


def test_a_utf8_byte_order_mark_does_not_stick_to_the_first_column_name(write_csv):
    # Spreadsheets save "CSV UTF-8" with a byte order mark before the header.
    path = write_csv("\ufeffcase_id,activity,timestamp\nA,Submit,2024-01-01T09:00:00Z\n".encode("utf-8"))
    row = read_log(path).table.to_pylist()[0]
    assert (row["case_id"], row["activity"]) == ("A", "Submit")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_file_with_a_byte_order_mark_is_read_without_encoding(write_csv, codec):
    import codecs
    mark = {"utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    text = "case_id\tactivity\ttimestamp\nA\tPrüfen\t2024-01-01T09:00:00Z\nA\tSenden\t2024-01-01T10:00:00Z\n"
    path = write_csv(mark + text.encode(codec), name="log.txt")
    assert [(row["case_id"], row["activity"]) for row in read_log(path).table.to_pylist()] == \
        [("A", "Prüfen"), ("A", "Senden")]


def test_a_header_naming_two_columns_alike_reads_the_first(write_csv):
    path = write_csv("case_id,activity,timestamp,note,note\nA,Submit,2024-01-01T09:00:00Z,first,second\n")
    log = read_log(path)
    assert log.attribute_columns == ["note"]
    assert log.table.to_pylist()[0]["note"] == "first"


def test_na_and_null_are_case_ids_and_activities_as_written(write_csv):
    # The Sepsis log has a case "NA"; Arrow would read it as missing and the row as bad.
    path = write_csv("case_id,activity,timestamp,resource\nNA,null,2024-01-01T09:00:00Z,NA\n"
                     "NA,Submit,2024-01-01T10:00:00Z,\nB,N/A,2024-01-01T09:00:00Z,ann\n")
    rows = [(row["case_id"], row["activity"]) for row in read_log(path).table.to_pylist()]
    assert sorted(rows) == [("B", "N/A"), ("NA", "Submit"), ("NA", "null")]


def test_a_blank_case_id_is_still_missing_when_others_are_read_as_written(write_csv):
    path = write_csv("case_id,activity,timestamp\nNA,Submit,2024-01-01T09:00:00Z\n ,Submit,2024-01-01T10:00:00Z\n")
    with pytest.raises(LogFileError, match=r"line 3: row 2: the case_id value in column 'case_id' is empty"):
        read_log(path)


@pytest.mark.parametrize("written, expected", [
    ("2024-03-01 10:00:00 +01:00", utc(2024, 3, 1, 9)),  # an offset after a space (Java, Oracle exports)
    ("2024-03-01 10:00:00.250 +0100", utc(2024, 3, 1, 9, 0, 0, 250_000)),
    ("3/1/2024 1:05:07 PM", utc(2024, 3, 1, 13, 5, 7)),  # US spreadsheets, 12-hour clock
    ("3/1/2024 10:05 AM", utc(2024, 3, 1, 10, 5)),
    ("01-03-2024 10:00:00.123", utc(2024, 3, 1, 10, 0, 0, 123_000)),  # day first, with fractions
    ("2024-03-01 10:00:00,123", utc(2024, 3, 1, 10, 0, 0, 123_000)),  # a decimal comma (log4j)
])
def test_timestamps_as_other_exporters_write_them_are_read(write_csv, written, expected):
    path = write_csv(f"case_id;activity;timestamp\nA;Submit;{written}\nA;Approve;{written}\n")
    assert read_log(path).table.column("timestamp").to_pylist()[0] == expected


def test_an_object_centric_csv_is_named_as_such_not_mapped_by_its_event_ids(write_csv):
    path = write_csv("ocel:eid,ocel:activity,ocel:timestamp,ocel:type:order,ocel:type:item\n"
                     "e1,place order,2024-01-01T09:00:00Z,['o1'],\"['i1', 'i2']\"\n")
    with pytest.raises(LogFileError, match=r"object-centric CSV .*; expected OCEL 2.0 JSON with --object-type"):
        read_log(path)
