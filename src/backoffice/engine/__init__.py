"""The runtime: deploy definitions, start cases, move them by the rules, and prove it.

    from backoffice.engine import Actor, Engine
    from backoffice.store import SqlStore
    engine = Engine(SqlStore.open("backoffice.db"))

The core imports no database library: it reaches storage through `ports.Store`, which
`backoffice.store.SqlStore` implements. See DESIGN.md, Layers and Invariants.
"""

from backoffice.engine.audit import AuditAction, AuditHead, AuditRecord, AuditReport, verify
from backoffice.engine.cases import Actor, Case, Decision
from backoffice.engine.engine import Engine
from backoffice.engine.events import EngineEvent
from backoffice.engine.ports import Store, StoredVersion, StoreTransaction
from backoffice.engine.versions import DeployedVersion

__all__ = [
    "Actor", "AuditAction", "AuditHead", "AuditRecord", "AuditReport", "Case", "Decision", "DeployedVersion",
    "Engine", "EngineEvent", "Store", "StoreTransaction", "StoredVersion", "verify",
]
