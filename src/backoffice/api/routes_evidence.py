"""Evidence over HTTP: upload a document to a case; its sha256, kind and size go into the audit trail.

The file is sniffed (markup refused), kept on disk by its hash, and attached through the
engine, whose audit record names the hash: the trail proves which bytes were the evidence.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import FileResponse

from backoffice.api.principal import Caller
from backoffice.api.problems import ApiError, Forbidden, documented
from backoffice.api.schemas import EvidenceOut
from backoffice.api.services import MAX_ID, Served
from backoffice.services.evidence_files import ALLOWED
from backoffice.store.evidence_reads import evidence_of

EvidenceName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
router = APIRouter(prefix="/v1", tags=["evidence"], responses=documented(400, 401, 413, 422))


@router.post("/cases/{case_id}/evidence", response_model=EvidenceOut, status_code=201,
             responses={**documented(403, 404, 415)})
def upload_evidence(case_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller,
                    name: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                              description="The document's name in the definition, e.g. quote.")],
                    file: Annotated[UploadFile, File(description="The document (PDF, image, text, zip).")]
                    ) -> EvidenceOut:
    """Attach a document to a case (multipart: name, file)."""
    case = served.visibility.case(caller, case_id)
    if not served.visibility.takes_part(caller, case):
        # Who only reads the case (an auditor, a team lead) attaches nothing to it (Visibility.takes_part).
        raise Forbidden(f"{caller.id} reads case {case_id} but takes no part in it; expected its requester, a worker "
                        f"of its queue, someone with a task on it, or an administrator")
    content = file.file.read()
    stored = served.evidence.keep(content)
    served.engine.attach_evidence(case_id, name, actor=caller.actor(), now=served.clock(), reference=stored.reference)
    return EvidenceOut(case_id=case_id, name=name, sha256=stored.sha256, size=stored.size,
                       media_type=stored.media_type)


@router.get("/cases/{case_id}/evidence/{name}", response_class=FileResponse, responses={
    200: {"description": "The file, as an attachment (never shown inline)",
          "content": {media_type: {} for media_type in ALLOWED}}, **documented(404)})
def download_evidence(case_id: Annotated[int, Path(ge=1, le=MAX_ID)], name: EvidenceName, served: Served,
                      caller: Caller) -> FileResponse:
    """Download the latest file attached under `name` to a case the caller may see: always as an attachment."""
    served.visibility.case(caller, case_id)
    kept = [item for item in evidence_of(served.engine.store.engine, case_id)
            if item.name == name and (item.reference or "").startswith("sha256:")]
    if not kept:
        raise ApiError(404, f"case {case_id} has no uploaded evidence named {name!r}", pointer="/path/name",
                       expected="the name of a document uploaded to the case", title="Not found")
    fields = dict(part.split("=", 1) for part in kept[-1].reference.split(";")[1:] if "=" in part)
    digest = kept[-1].reference.split(";", 1)[0].removeprefix("sha256:")
    path = served.evidence.path_of(digest)
    if path is None or not path.is_file():
        raise ApiError(404, f"the file of evidence {name!r} (sha256 {digest}) is not in this server's evidence "
                            f"folder", pointer="/path/name", expected="the server's evidence folder to hold it",
                       title="Not found")
    media_type = fields.get("type") if fields.get("type") in ALLOWED else "application/octet-stream"
    # An attachment with its own sandbox: even a browser told to open it will not run it as a page.
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type="attachment",
                        headers={"Content-Security-Policy": "sandbox; default-src 'none'"})
