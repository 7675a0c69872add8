"""The audit texts built from their parts are the canonical JSON the whole encoder gives, byte for byte.

A record's hash covers the canonical JSON of its body, and its `rows` the canonical JSON of the rows
it lists; both are built from each part's own text (engine.audit `_body_text`, `RowSeal.listed_text`).
A text that differed by a byte would break every record sealed before, so they are compared here
with the encoder's over arbitrary values.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from backoffice.engine.audit import AuditRecord, _body_text, canonical_json, removed_row, seal_row

TEXT = st.text(max_size=30)  # quotes, backslashes, control characters and non-ASCII included
NUMBER = st.integers(-(2**63), 2**63)
MAYBE_TEXT = st.none() | TEXT
MAYBE_NUMBER = st.none() | NUMBER
ZONES = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60))
MOMENT = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1), timezones=ZONES)
VALUE = st.recursive(st.none() | st.booleans() | NUMBER | st.floats(allow_nan=False, allow_infinity=False) | TEXT
                     | MOMENT, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                     max_leaves=8)

RECORD = st.builds(AuditRecord, chain=TEXT, seq=NUMBER, action=TEXT, actor=TEXT, at=MOMENT, role=MAYBE_TEXT,
                   case_id=MAYBE_NUMBER, workflow=MAYBE_TEXT, version=MAYBE_NUMBER, detail=TEXT, rows=TEXT,
                   prev_hash=TEXT, hash=TEXT, key_id=MAYBE_TEXT)


@given(RECORD)
def test_a_records_body_text_is_the_canonical_json_of_its_body(record):
    assert _body_text(record) == canonical_json(record.body())


@given(TEXT, NUMBER | TEXT, st.dictionaries(TEXT, VALUE, max_size=8))
def test_a_rows_listed_text_is_the_canonical_json_of_its_listing(table, key, values):
    sealed = seal_row(table, key, values, case_id=None)
    assert sealed.listed_text() == canonical_json(sealed.listed())
    removed = removed_row(table, key)
    assert removed.listed_text() == canonical_json(removed.listed())
