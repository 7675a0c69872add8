"""Reading XES and XES.gz files: real logs, odd but valid XML, and every kind of bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.errors import EmptyLog, LogFileError, LogFileNotFound, MalformedXml, TruncatedGzip
from backoffice.events import xes_parse, xes_reader, xes_scan
from backoffice.events.xes_reader import read_xes

DATA = Path(__file__).resolve().parents[1] / "data"
RUNNING_EXAMPLE = DATA / "running-example.xes"


def xes(body: str, *, header: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
        root: str = '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">') -> str:
    return f"{header}{root}\n{body}\n</log>\n"


def write(tmp_path: Path, text: str | bytes, name: str = "log.xes") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


TWO_CASES = xes("""
  <trace>
    <string key="concept:name" value="case-1"/>
    <int key="Amount" value="120"/>
    <event>
      <string key="concept:name" value="register"/>
      <date key="time:timestamp" value="2024-03-01T09:30:00.000+02:00"/>
      <string key="org:resource" value="Zoë"/>
    </event>
    <event>
      <string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2024-03-01T10:00:00.000+02:00"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    <event>
      <string key="concept:name" value="register"/>
      <date key="time:timestamp" value="2024-03-02T08:00:00Z"/>
    </event>
  </trace>""")


# ------------------------------------------------------------------------- good logs


def test_running_example_gives_42_events_of_6_cases_in_file_order():
    table = read_xes(RUNNING_EXAMPLE).table

    assert table.num_rows == 42
    cases = table.column("case:concept:name").to_pylist()
    assert len(set(cases)) == 6
    assert cases[:9] == ["3"] * 9  # the file's first trace, whole, before the next one
    assert table.column("concept:name").to_pylist()[:3] == ["register request", "examine casually",
                                                            "check ticket"]


def test_running_example_columns_are_the_xes_keys_and_case_prefixed_trace_attributes():
    table = read_xes(RUNNING_EXAMPLE).table

    assert table.column_names == ["concept:name", "org:resource", "time:timestamp", "Activity",
                                  "Resource", "Costs", "case:concept:name", "case:creator"]
    assert all(table.schema.field(name).type == pa.string() for name in table.column_names)


def test_lines_are_not_given_for_xes():
    assert read_xes(RUNNING_EXAMPLE).lines is None


def test_timestamp_with_an_offset_is_kept_as_written(tmp_path):
    table = read_xes(write(tmp_path, TWO_CASES)).table

    assert table.column("time:timestamp").to_pylist() == [
        "2024-03-01T09:30:00.000+02:00", "2024-03-01T10:00:00.000+02:00", "2024-03-02T08:00:00Z"]


def test_trace_attributes_repeat_on_every_event_of_their_trace(tmp_path):
    table = read_xes(write(tmp_path, TWO_CASES)).table

    assert table.column("case:concept:name").to_pylist() == ["case-1", "case-1", "case-2"]
    assert table.column("case:Amount").to_pylist() == [120, 120, None]
    assert table.column("org:resource").to_pylist() == ["Zoë", None, None]


def test_int_float_and_boolean_attributes_get_their_types_and_dates_stay_text(tmp_path):
    path = write(tmp_path, xes("""
      <trace><string key="concept:name" value="c"/>
        <event><int key="n" value="-7"/><float key="x" value="2.5"/><boolean key="ok" value="true"/>
               <date key="d" value="2024-01-01T00:00:00+01:00"/><id key="uid" value="u-1"/></event>
        <event><int key="n" value="12"/><float key="x" value="1e3"/><boolean key="ok" value="false"/></event>
      </trace>"""))

    table = read_xes(path).table

    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("x").type == pa.float64()
    assert table.schema.field("ok").type == pa.bool_()
    assert table.schema.field("d").type == pa.string()
    assert table.column("n").to_pylist() == [-7, 12]
    assert table.column("x").to_pylist() == [2.5, 1000.0]
    assert table.column("ok").to_pylist() == [True, False]
    assert table.column("uid").to_pylist() == ["u-1", None]


def test_a_key_with_mixed_types_or_unreadable_numbers_stays_text(tmp_path):
    path = write(tmp_path, xes("""
      <trace><string key="concept:name" value="c"/>
        <event><int key="mixed" value="1"/><int key="count" value="3"/></event>
        <event><float key="mixed" value="1.5"/><int key="count" value="three"/></event>
      </trace>"""))

    table = read_xes(path).table

    assert table.column("mixed").to_pylist() == ["1", "1.5"]
    assert table.column("count").to_pylist() == ["3", "three"]


def test_declarations_nested_attributes_and_events_outside_traces_are_left_out(tmp_path):
    path = write(tmp_path, xes("""
      <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
      <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
      <classifier name="Activity" keys="concept:name"/>
      <float key="meta" value="1.0"><float key="child" value="2.0"/></float>
      <event><string key="concept:name" value="stray event"/></event>
      <trace>
        <string key="concept:name" value="c"/>
        <list key="tags"><values><string key="tag" value="x"/></values></list>
        <event>
          <string key="concept:name" value="a"><string key="note" value="nested"/></string>
          <container key="box"><string key="inner" value="y"/></container>
        </event>
      </trace>"""))

    table = read_xes(path).table

    assert table.to_pylist() == [{"concept:name": "a", "case:concept:name": "c"}]


def test_a_key_repeated_in_one_event_keeps_its_last_value(tmp_path):
    path = write(tmp_path, xes("""<trace><event><string key="k" value="first"/>
        <string key="k" value="second"/></event></trace>"""))

    assert read_xes(path).table.column("k").to_pylist() == ["second"]


def test_references_and_line_breaks_in_values_read_as_xml_says(tmp_path):
    path = write(tmp_path, xes(
        '<trace><event><string key="a&amp;b" value="x &lt; y &amp; &#233;&#x20AC; &quot;q&quot;"/>'
        "<string key='single' value='it&apos;s \"fine\"'/>"
        '<string key="breaks" value="one\ntwo\tthree&#10;four"/></event></trace>'))

    row = read_xes(path).table.to_pylist()[0]

    assert row == {"a&b": 'x < y & é€ "q"', "single": 'it\'s "fine"', "breaks": "one two three\nfour",
                   "case:trace": "1"}  # the trace has no name: it is numbered


def test_unusual_tag_layouts_read_the_same_as_the_usual_one(tmp_path):
    usual = write(tmp_path, xes('<trace><string key="concept:name" value="c"/><event>'
                                '<string key="concept:name" value="a"/><int key="n" value="1"/>'
                                "</event><event/></trace>"), "usual.xes")
    unusual = write(tmp_path, xes("<trace >\n<string value='c' key='concept:name' />"
                                  '<event\n><string  key = "concept:name"  value = "a"></string>'
                                  '<int value="1" key="n"/></event ><event /></trace>'), "unusual.xes")

    assert read_xes(unusual).table.equals(read_xes(usual).table)


def test_xes_without_a_namespace_reads_like_namespaced_xes(tmp_path):
    plain = write(tmp_path, xes(TWO_CASES.split("\n", 2)[2].rsplit("</log>", 1)[0], root="<log>"), "plain.xes")

    assert read_xes(plain).table.equals(read_xes(write(tmp_path, TWO_CASES)).table)


@pytest.mark.parametrize("variant", ["comment inside the log", "prefixed tags", "latin-1", "utf-16"])
def test_xml_the_scan_does_not_follow_is_read_by_the_full_parser_with_the_same_result(tmp_path, variant):
    expected = read_xes(write(tmp_path, TWO_CASES, "expected.xes")).table
    if variant == "comment inside the log":
        text = TWO_CASES.replace("<event>", "<!-- an <event> in a comment --><event>", 1).encode()
    elif variant == "prefixed tags":
        text = TWO_CASES.replace("<", "<xes:").replace("<xes:/", "</xes:").replace("<xes:?", "<?").replace(
            'xmlns="', 'xmlns:xes="').encode()
    elif variant == "latin-1":
        text = TWO_CASES.replace("UTF-8", "ISO-8859-1").encode("latin-1")
    else:
        text = TWO_CASES.replace("UTF-8", "UTF-16").encode("utf-16")

    assert read_xes(write(tmp_path, text)).table.equals(expected)


def test_a_gzip_file_reads_like_the_plain_file(tmp_path):
    gz = write(tmp_path, gzip.compress(RUNNING_EXAMPLE.read_bytes()), "log.xes.gz")

    assert read_xes(gz).table.equals(read_xes(RUNNING_EXAMPLE).table)


def test_a_gzip_file_of_several_members_reads_them_all(tmp_path):
    text = RUNNING_EXAMPLE.read_bytes()
    middle = text.index(b"<trace>", len(text) // 2)
    gz = write(tmp_path, gzip.compress(text[:middle]) + gzip.compress(text[middle:]), "log.xes.gz")

    assert read_xes(gz).table.equals(read_xes(RUNNING_EXAMPLE).table)


def test_progress_counts_bytes_read_up_to_the_file_size(tmp_path):
    traces = "".join(f'<trace><string key="concept:name" value="c{n}"/><event>'
                     f'<string key="concept:name" value="{"a" * 200}"/></event></trace>\n' for n in range(12000))
    path = write(tmp_path, xes(traces))
    calls: list[tuple[int, int]] = []

    read_xes(path, progress=lambda done, total: calls.append((done, total)))

    size = path.stat().st_size
    assert len(calls) >= 3
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (size, size)


def test_a_byte_order_mark_is_read_past(tmp_path):
    with_bom = write(tmp_path, b"\xef\xbb\xbf" + TWO_CASES.encode(), "bom.xes")

    assert read_xes(with_bom).table.equals(read_xes(write(tmp_path, TWO_CASES)).table)


# ------------------------------------------------------------------------- bad input


def test_a_missing_file_is_log_file_not_found(tmp_path):
    with pytest.raises(LogFileNotFound) as raised:
        read_xes(tmp_path / "absent.xes")
    assert raised.value.path == tmp_path / "absent.xes"


def test_a_directory_is_log_file_not_found(tmp_path):
    with pytest.raises(LogFileNotFound, match="directory"):
        read_xes(tmp_path)


def test_malformed_xml_names_the_line_and_column():
    with pytest.raises(MalformedXml) as raised:
        read_xes(DATA / "malformed.xes")
    assert (raised.value.line, raised.value.column) == (8, 11)
    assert "mismatch" in str(raised.value)


def test_malformed_xml_inside_gzip_names_the_line_and_column(tmp_path):
    gz = write(tmp_path, gzip.compress((DATA / "malformed.xes").read_bytes()), "bad.xes.gz")

    with pytest.raises(MalformedXml) as raised:
        read_xes(gz)
    assert (raised.value.line, raised.value.column) == (8, 11)


def test_a_plain_text_file_is_malformed_xml_at_its_first_character():
    with pytest.raises(MalformedXml) as raised:
        read_xes(DATA / "not-xml.xes")
    assert (raised.value.line, raised.value.column) == (1, 1)


def test_xml_whose_root_is_not_log_is_refused(tmp_path):
    with pytest.raises(LogFileError, match="root element is <html>"):
        read_xes(write(tmp_path, "<html><body>hello</body></html>"))


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_gzip_file_is_truncated_gzip(tmp_path, keep):
    whole = gzip.compress(RUNNING_EXAMPLE.read_bytes())
    gz = write(tmp_path, whole[:int(len(whole) * keep)], "cut.xes.gz")

    with pytest.raises(TruncatedGzip):
        read_xes(gz)


def test_a_gzip_file_missing_only_its_trailer_is_truncated_gzip(tmp_path):
    whole = gzip.compress(RUNNING_EXAMPLE.read_bytes())

    with pytest.raises(TruncatedGzip):
        read_xes(write(tmp_path, whole[:-4], "cut.xes.gz"))


def test_a_real_gzip_log_cut_in_half_is_truncated_gzip(tmp_path, shared_logs):
    whole = (shared_logs / "08_receipt.xes.gz").read_bytes()

    with pytest.raises(TruncatedGzip):
        read_xes(write(tmp_path, whole[:len(whole) // 2], "half.xes.gz"))


def test_a_damaged_gzip_stream_is_truncated_gzip_even_when_the_xml_breaks_first(tmp_path):
    whole = bytearray(gzip.compress(RUNNING_EXAMPLE.read_bytes()))
    for at in range(len(whole) // 3, len(whole) // 3 + 40):
        whole[at] ^= 0x5A

    with pytest.raises(TruncatedGzip):
        read_xes(write(tmp_path, bytes(whole), "damaged.xes.gz"))


def test_bytes_after_the_gzip_stream_are_truncated_gzip(tmp_path):
    gz = write(tmp_path, gzip.compress(RUNNING_EXAMPLE.read_bytes()) + b"trailing garbage", "log.xes.gz")

    with pytest.raises(TruncatedGzip, match="after the end"):
        read_xes(gz)


def test_an_empty_file_is_an_empty_log(tmp_path):
    with pytest.raises(EmptyLog, match="empty"):
        read_xes(write(tmp_path, b""))


def test_a_log_without_traces_is_an_empty_log():
    with pytest.raises(EmptyLog, match="the XES log has no traces"):
        read_xes(DATA / "no-traces.xes")


def test_a_log_whose_traces_have_no_events_is_an_empty_log():
    with pytest.raises(EmptyLog, match="the XES log has traces but no events"):
        read_xes(DATA / "no-events.xes")


# ------------------------------------------------------------------------- real logs


@pytest.mark.parametrize("name", ["08_receipt", "helpdesk"])
def test_real_logs_read_as_pm4py_reads_them(shared_logs, name):
    pm4py = pytest.importorskip("pm4py")
    pandas = pytest.importorskip("pandas")
    path = shared_logs / f"{name}.xes.gz"

    table = read_xes(path).table
    expected = pm4py.read_xes(str(path))

    assert table.num_rows == len(expected)
    assert set(table.column_names) == set(expected.columns)
    for column in ("case:concept:name", "concept:name", "org:resource"):
        assert table.column(column).to_pylist() == expected[column].tolist()
    timestamps = pandas.to_datetime(pandas.Series(table.column("time:timestamp").to_pylist()),
                                    utc=True, format="ISO8601")
    assert timestamps.tolist() == expected["time:timestamp"].tolist()


@pytest.mark.parametrize(("name", "events", "cases"), [
    # The counts pm4py.read_xes gives for these files.
    ("DomesticDeclarations", 55628, 10357), ("bpic2012", 262200, 13087)])
def test_large_real_logs_have_every_event(shared_logs, name, events, cases):
    table = read_xes(shared_logs / f"{name}.xes.gz").table

    assert table.num_rows == events
    assert len(set(table.column("case:concept:name").to_pylist())) == cases


def test_bpic2012_is_read_by_the_scan_without_the_slow_parser(shared_logs, monkeypatch):
    def slow_parser(*args, **kwargs):
        raise AssertionError("fell back to the full parser")
    monkeypatch.setattr(xes_reader, "parse_fully", slow_parser)

    # Speed itself is measured in benchmarks/, not asserted here: this checks the fast path is taken.
    table = read_xes(shared_logs / "bpic2012.xes.gz").table

    assert table.num_rows == 262200


# ------------------------------------------------------------------------- scan = full parser

KEYS = ["concept:name", "time:timestamp", "org:resource", "case:x", "Amount", "a&b", "é"]
TYPES = ["string", "date", "int", "float", "boolean", "id"]
CHARACTERS = list("ab Z09.-:+&<>\"'\t\n\ré€")


@st.composite
def attributes(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(TYPES))
    key = draw(st.sampled_from(KEYS))
    value = draw(st.one_of(st.integers(-10**12, 10**12).map(str), st.sampled_from(["true", "false", "1.5"]),
                           st.lists(st.sampled_from(CHARACTERS), max_size=8).map("".join)))
    quote = draw(st.sampled_from(['"', "'"]))
    pairs = [("key", key), ("value", value)]
    if draw(st.booleans()):
        pairs.reverse()
    spacing = draw(st.sampled_from([" ", "  ", "\n\t", " "]))
    text = f"<{kind}" + "".join(f"{spacing}{name}={quote}{escape(raw, quote, draw)}{quote}"
                                for name, raw in pairs)
    ending = draw(st.sampled_from(["/>", " />", "></%s>" % kind, "children"] if depth < 2 else ["/>"]))
    if ending == "children":
        children = draw(st.lists(attributes(depth + 1), max_size=2))
        return f"{text}>{''.join(children)}</{kind}>"
    return text + ending


def escape(raw: str, quote: str, draw) -> str:
    out = []
    for char in raw:
        if char == "&":
            out.append(draw(st.sampled_from(["&amp;", "&#38;", "&#x26;"])))
        elif char == "<":
            out.append("&lt;")
        elif char == quote:
            out.append("&quot;" if quote == '"' else "&apos;")
        elif char in "\t\n\r>":
            out.append(draw(st.sampled_from([char, f"&#{ord(char)};"])))
        else:
            out.append(char)
    return "".join(out)


@st.composite
def events(draw) -> str:
    inside = draw(st.lists(attributes(), max_size=4))
    if not inside and draw(st.booleans()):
        return draw(st.sampled_from(["<event/>", "<event />"]))
    return draw(st.sampled_from(["<event>", "<event >"])) + "\n".join(inside) + "</event>"


@st.composite
def documents(draw) -> bytes:
    traces = []
    for _ in range(draw(st.integers(0, 4))):
        head = draw(st.lists(attributes(), max_size=3))
        body = draw(st.lists(events(), max_size=4))
        traces.append("<trace>" + "".join(head) + "\n".join(body) + "</trace>")
    metadata = draw(st.lists(st.sampled_from([
        '<global scope="event"><string key="concept:name" value="x"/></global>',
        '<extension name="Concept" prefix="concept" uri="u"/>',
        '<event><string key="concept:name" value="outside"/></event>',
        '<float key="meta" value="1"><float key="m" value="2"/></float>']), max_size=3))
    root = draw(st.sampled_from(['<log xmlns="http://www.xes-standard.org/">', "<log>", "<log >"]))
    return xes("\n".join(metadata + traces), root=root).encode()


def outcome(read) -> object:
    try:
        table = read()
    except EmptyLog as exc:
        return str(exc)
    return table.to_pylist(), table.schema


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents(), cuts=st.lists(st.integers(0, 4000), max_size=6))
def test_the_scan_reads_any_layout_as_the_full_parser_does(document, cuts):
    def scanned():
        scanner = xes_scan.Scanner()
        points = sorted({0, len(document), *(cut for cut in cuts if cut < len(document))})
        for start, stop in zip(points, points[1:]):
            scanner.feed(document[start:stop])
        return scanner.finish().to_table(Path("log.xes"))

    def parsed():
        parser = xes_parse.xml_parser(xes_parse.Collector())
        parser.feed(document)
        return parser.close().to_table(Path("log.xes"))

    assert outcome(scanned) == outcome(parsed)


@pytest.mark.parametrize("name", ["running-example.xes", "08_receipt.xes.gz", "helpdesk.xes.gz"])
def test_the_scan_and_the_full_parser_read_real_logs_alike(shared_logs, name):
    path = shared_logs / name
    with path.open("rb") as handle:
        fully = xes_parse.parse_fully(path, handle, path.stat().st_size, None).to_table(path)

    assert read_xes(path).table.equals(fully)


@pytest.mark.parametrize("variant", ["scan", "full parser"])
def test_traces_without_names_are_numbered_as_cases_in_file_order(tmp_path, variant, monkeypatch):
    # The standard leaves a trace's name optional; without one there is no column to name with --case.
    from backoffice import read_log

    def event(name: str, hour: int) -> str:
        return (f'<event><string key="concept:name" value="{name}"/>'
                f'<date key="time:timestamp" value="2024-03-01T{hour:02d}:00:00Z"/></event>')
    path = write(tmp_path, xes(f"<trace>{event('A', 9)}{event('B', 10)}</trace><trace>{event('A', 8)}</trace>"))
    if variant == "full parser":
        monkeypatch.setattr(xes_reader, "scan", lambda *args: (_ for _ in ()).throw(xes_scan.NeedsFullParser()))
    assert read_xes(path).table.column("case:trace").to_pylist() == ["1", "1", "2"]
    rows = read_log(path).table.to_pylist()
    assert [(row["case_id"], row["activity"]) for row in rows] == [("1", "A"), ("1", "B"), ("2", "A")]


def test_named_traces_get_no_trace_number(tmp_path):
    assert "case:trace" not in read_xes(write(tmp_path, TWO_CASES)).table.column_names
