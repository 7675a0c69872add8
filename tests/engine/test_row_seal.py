"""A row's seal is sha256 over the canonical JSON of [table, key, its non-null fields], however it is computed.

`seal_row` joins the row's text from each field's canonical JSON instead of encoding the row again;
this holds it to the definition `audit verify` and every stored digest rest on.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from backoffice.engine.audit import FIELD_DIGEST_LENGTH, canonical_json, seal_row


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_row_seal_is_the_digest_of_the_rows_canonical_json():
    values = {"id": 7, "state": 'quote " back\\slash\nline é 中', "data": {"z": [1, 2.5, None, True], "a": {"é": -0.0}},
              "version": 3, "empty": None, "ratio": 1e-07, "escalated": False, "big": 2 ** 70,
              "at": datetime(2024, 3, 4, 10, 0, tzinfo=timezone(timedelta(hours=1))), "list": []}
    for table, key in (("cases", 7), ("group_members", canonical_json(["finance", "ann"])), ("workflow_modes", "w")):
        sealed = seal_row(table, key, values, case_id=None)
        present = {name: value for name, value in values.items() if value is not None}
        assert sealed.digest == _sha(canonical_json([table, key, present]))
        assert sealed.fields == {name: _sha(canonical_json(value))[:FIELD_DIGEST_LENGTH]
                                 for name, value in present.items()}
