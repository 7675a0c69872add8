"""Operations over HTTP: who am I, dead letters, the audit trail and evidence packs, and the probes (/health, /ready,
/metrics)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import AuditVerifyOut, Health, OutboxOut, OutboxPage, PrincipalOut, Readiness
from backoffice.api.services import MAX_ID, Served, decode_cursor, encode_cursor
from backoffice.services.visibility import OPERATES, READS_EVERYTHING, require
from backoffice.engine import verify
from backoffice.engine.evidence_pack import export_pack, pack_text
from backoffice.store.migrate import current_revision, head_revision

router = APIRouter(prefix="/v1", responses=documented(400, 401, 413, 422))
probes = APIRouter(tags=["probes"])


@router.get("/me", response_model=PrincipalOut, tags=["directory"])
def who_am_i(caller: Caller) -> PrincipalOut:
    """Say who the token proves the caller is, with the roles and queues the directory gives them."""
    return PrincipalOut(id=caller.id, roles=list(caller.every_role), queues=list(caller.queues), service=caller.service)


@router.get("/dead-letters", response_model=OutboxPage, tags=["operations"], responses=documented(403))
def dead_letters(served: Served, caller: Caller, cursor: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> OutboxPage:
    """List the dead-letter queue (operators, administrators and auditors)."""
    require(caller, (*OPERATES, *READS_EVERYTHING), "read the dead-letter queue")
    limit = min(limit, served.settings.page_limit)
    entries = served.engine.dead_letters(after_id=decode_cursor(cursor), limit=limit)
    after = entries[-1].id if len(entries) == limit else None
    return OutboxPage(items=[OutboxOut.of(entry) for entry in entries], next_cursor=encode_cursor(after))


@router.post("/dead-letters/{entry_id}/replay", response_model=OutboxOut, tags=["operations"],
             responses=documented(403, 404, 409))
def replay(entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller) -> OutboxOut:
    """Put a dead letter back in the outbox with fresh attempts and the same idempotency key (operators)."""
    require(caller, OPERATES, "replay dead letters")
    return OutboxOut.of(served.engine.replay(entry_id, actor=caller.actor(), now=served.clock()))


@router.get("/audit/verify", response_model=AuditVerifyOut, tags=["audit"], responses=documented(403, 503))
def audit_verify(served: Served, caller: Caller) -> AuditVerifyOut:
    """Check the audit chain and name the first record altered (auditors and administrators)."""
    require(caller, READS_EVERYTHING, "verify the audit trail")
    report = verify(served.engine.store)
    first = report.first
    return AuditVerifyOut(ok=report.ok, records=report.records, chains=report.chains, rows=report.rows,
                          checkpoint=report.checkpoint.number if report.checkpoint else None,
                          problem=str(first) if first else None, chain=first.chain if first else None,
                          seq=first.seq if first else None, table=first.table if first else None,
                          key=first.key if first else None, field=first.field if first else None,
                          summary=str(report))


@router.get("/cases/{case_id}/evidence-pack", tags=["audit"], response_class=Response,
            responses={200: {"content": {"application/json": {"schema": {"type": "object"}}},
                             "description": "The evidence pack, as a download (the file `backoffice audit export` "
                                            "writes)"},
                       **documented(403, 404, 409, 503)})
def evidence_pack(case_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller) -> Response:
    """Download a case's evidence pack: its audit records, rows and a signed checkpoint (auditors, administrators).

    A checkpoint is signed first, as `backoffice audit export` does; a trail that does not
    verify exports nothing (409, naming the first record at fault).
    """
    require(caller, READS_EVERYTHING, "export evidence packs")
    served.engine.case(case_id)
    pack = export_pack(served.engine.store, case_id, now=served.clock(), key=served.engine.audit_key)
    return Response(pack_text(pack).encode("utf-8"), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence-pack.json"'})


@probes.get("/health", response_model=Health)
def health() -> Health:
    """Say the process is alive (it reads nothing)."""
    return Health(status="ok")


@probes.get("/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
def ready(served: Served) -> Readiness | JSONResponse:
    """Say whether the database answers and its tables are at the newest migration."""
    database = served.engine.store.url
    expected = head_revision()
    try:
        revision = current_revision(served.engine.store.engine)
    except sa.exc.SQLAlchemyError as exc:
        answer = Readiness(status="not ready", database=database, revision=None, expected_revision=expected,
                           detail=f"the database does not answer: {str(exc).splitlines()[0]}")
        return JSONResponse(answer.model_dump(mode="json"), status_code=503)
    if revision != expected:
        answer = Readiness(status="not ready", database=database, revision=revision, expected_revision=expected,
                           detail="the database is not at the newest migration")
        return JSONResponse(answer.model_dump(mode="json"), status_code=503)
    return Readiness(status="ready", database=database, revision=revision, expected_revision=expected)


@probes.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                                                   "description": "Prometheus text format"}})
def metrics(served: Served) -> Response:
    """Prometheus metrics: requests and latency, cases, queues, SLA breaches, the outbox, dead letters, steps in
    doubt, and the age of the last audit checkpoint."""
    return Response(generate_latest(served.metrics.registry), media_type=CONTENT_TYPE_LATEST)
