"""The storage the engine needs, as a small protocol: the engine imports no database library.

`backoffice.store.SqlStore` implements it on SQLite and PostgreSQL; a test may implement it
in memory. Everything one change writes (the case, its event, its audit record) goes through
one `StoreTransaction`, which commits all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backoffice.definitions.model import Priority
from backoffice.engine.audit import AuditHead, AuditRecord
from backoffice.engine.cases import Case
from backoffice.engine.events import EngineEvent


@dataclass(frozen=True)
class StoredVersion:
    """A deployed definition version, as stored: immutable once written.

    Attributes:
        definition_json: the validated definition as canonical JSON; the engine runs on this.
        source: the YAML text deployed, kept for people (reviews, audits).
        contract_source, contract_name: the data contract's YAML text and file name, when the
            definition names one; stored with the version so later edits of the file change nothing.
        content_hash: sha256 over what the engine runs on; the same content deploys to the same version.
    """

    workflow: str
    version: int
    content_hash: str
    definition_json: str
    source: str
    status: str
    deployed_at: datetime
    deployed_by: str
    contract_source: str | None = None
    contract_name: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class NewCase:
    """A case about to be stored; the store gives it its id and version 1."""

    workflow: str
    definition_version: int
    state: str
    data: Mapping[str, Any]
    requester: str
    created_at: datetime
    priority: Priority = Priority.NORMAL
    queue: str | None = None
    owner: str | None = None
    idempotency_key: str | None = None
    intake_hash: str | None = None


class StoreTransaction(Protocol):
    """The writes of one change; all are committed together or none is."""

    def insert_version(self, version: StoredVersion) -> StoredVersion:
        """Store a new definition version.

        Raises:
            VersionAlreadyDeployed: the workflow has this version number already.
        """

    def insert_case(self, case: NewCase) -> Case:
        """Store a new case at version 1.

        Raises:
            DuplicateIdempotencyKey: a case of the workflow has this idempotency key already.
        """

    def update_case(self, case: Case, *, expected_version: int) -> Case:
        """Write the case's new state, data and routing, if it is still at `expected_version`.

        Returns the case at version expected_version + 1.

        Raises:
            StaleVersion: the stored case is at another version (the update is refused, not merged).
            UnknownCase: there is no such case.
        """

    def insert_event(self, event: EngineEvent) -> EngineEvent:
        """Store an event and return it with its sequence number."""

    def lock_audit_head(self) -> AuditHead:
        """Return the end of the audit chain, locked until this transaction ends."""

    def insert_audit(self, record: AuditRecord) -> None:
        """Append a sealed record and move the chain head to it."""


class Store(Protocol):
    """The engine's storage: reads, and transactions for writes."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Open a transaction: committed when the block ends, rolled back when it raises."""

    def version(self, workflow: str, version: int | None = None) -> StoredVersion | None:
        """Return a deployed version (the latest when version is None), or None."""

    def versions(self, workflow: str | None = None) -> Sequence[StoredVersion]:
        """Return deployed versions, by workflow and version number."""

    def case(self, case_id: int) -> Case | None:
        """Return a case, or None."""

    def case_by_key(self, workflow: str, idempotency_key: str) -> tuple[Case, str | None] | None:
        """Return the case started with this idempotency key and the hash of its intake payload, or None."""

    def cases(self, *, workflow: str | None = None, state: str | None = None, queue: str | None = None,
              after_id: int = 0, limit: int = 100) -> Sequence[Case]:
        """Return cases by id, after `after_id`, filtered by what is given."""

    def events(self, case_id: int) -> Sequence[EngineEvent]:
        """Return a case's events in order of arrival."""

    def audit_records(self, *, after_seq: int = 0, limit: int = 1000) -> Sequence[AuditRecord]:
        """Return audit records after a sequence number, in order."""

    def audit_head(self) -> AuditHead:
        """Return the end of the audit chain, without locking it."""
