"""Evidence over HTTP: upload a document to a case; its sha256, kind and size go into the audit trail.

The file is sniffed (markup refused), kept on disk by its hash, and attached through the
engine, whose audit record names the hash: the trail proves which bytes were the evidence.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, UploadFile

from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import EvidenceOut
from backoffice.api.services import MAX_ID, Served

router = APIRouter(prefix="/v1", tags=["evidence"], responses=documented(400, 401, 413, 422))


@router.post("/cases/{case_id}/evidence", response_model=EvidenceOut, status_code=201,
             responses={**documented(404, 415)})
def upload_evidence(case_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller,
                    name: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                              description="The document's name in the definition, e.g. quote.")],
                    file: Annotated[UploadFile, File(description="The document (PDF, image, text, zip).")]
                    ) -> EvidenceOut:
    """Attach a document to a case (multipart: name, file)."""
    served.visibility.case(caller, case_id)
    content = file.file.read()
    stored = served.evidence.keep(content)
    served.engine.attach_evidence(case_id, name, actor=caller.actor(), now=served.clock(), reference=stored.reference)
    return EvidenceOut(case_id=case_id, name=name, sha256=stored.sha256, size=stored.size,
                       media_type=stored.media_type)
