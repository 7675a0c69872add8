"""What an evidence reference may say: free text (where a document is kept), or exactly a kept file's hash.

A reference that starts `sha256:` is read by the servers as the name of a file in their evidence
folder (see services/evidence_files.py). Whoever attaches evidence writes the reference, from
any interface (the web approval form, `approve --evidence NAME=REFERENCE`, the Python API), so
the engine accepts such a reference only in the form an upload writes: a digest, then fields of
plain words. `sha256:../../audit.key` would otherwise be a download of any file of the server.
"""

from __future__ import annotations

import re

from backoffice.errors import InputRefused
from backoffice.limits import check_text

KEPT_FILE = re.compile(r"sha256:[0-9a-f]{64}(;[a-z]+=[A-Za-z0-9.+-]{1,100}(/[A-Za-z0-9.+-]{1,100})?)*")
MAX_REFERENCE = 1000


def check_reference(reference: str) -> None:
    """Refuse a reference that is not plain text, or names a kept file in another form than an upload's.

    Raises:
        InputRefused: with what was expected.
    """
    check_text(reference, "the evidence reference")
    if len(reference) > MAX_REFERENCE:
        raise InputRefused("the evidence reference", f"it is {len(reference)} characters long",
                           f"at most {MAX_REFERENCE} characters")
    if reference[:7].lower() == "sha256:" and not KEPT_FILE.fullmatch(reference):
        raise InputRefused("the evidence reference", f"{reference[:80]!r} starts like a kept file's hash but is not one",
                           "sha256: and 64 lower-case hex digits (as an upload writes it), or a reference "
                           "that does not start with sha256: (a document number, a link)")
