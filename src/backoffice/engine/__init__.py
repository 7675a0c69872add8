"""The runtime: deploy definitions, start cases, move them by the rules, and prove it.

    from backoffice.engine import Actor, Engine
    from backoffice.store import SqlStore
    engine = Engine(SqlStore.open("backoffice.db"))

The core imports no database library: it reaches storage through `ports.Store`, which
`backoffice.store.SqlStore` implements. See DESIGN.md, Layers and Invariants.
"""

from backoffice.engine.actions import ActionCall, ActionFailed, ActionRegistry
from backoffice.engine.audit import AuditAction, AuditHead, AuditRecord
from backoffice.engine.audit_keys import AuditKey, AuditLocations
from backoffice.engine.audit_verify import AuditProblem, AuditReport, checkpoint, verify
from backoffice.engine.checkpoints import Checkpoint, CheckpointStore
from backoffice.engine.cases import Actor, Case, Decision
from backoffice.engine.engine import Engine
from backoffice.engine.events import EngineEvent
from backoffice.engine.outbox import OutboxEntry, OutboxStatus
from backoffice.engine.ports import Store, StoredVersion, StoreTransaction
from backoffice.engine.versions import DeployedVersion
from backoffice.engine.worker import Worker, WorkerReport

__all__ = [
    "ActionCall", "ActionFailed", "ActionRegistry", "Actor", "AuditAction", "AuditHead", "AuditKey", "AuditLocations",
    "AuditProblem", "AuditRecord", "AuditReport", "Case", "Checkpoint", "CheckpointStore", "Decision",
    "DeployedVersion", "Engine", "EngineEvent", "OutboxEntry", "OutboxStatus", "Store", "StoreTransaction", "StoredVersion", "Worker", "WorkerReport", "checkpoint", "verify",
]
