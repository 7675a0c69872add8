"""The SpiffWorkflow side of the engine benchmark: the approval process, durable in SQLite.

SpiffWorkflow keeps a workflow in memory and leaves storage to its user: the documented way is
`BpmnWorkflowSerializer.serialize_json(workflow)`, stored wherever the application likes. Here
it goes into one SQLite file in WAL mode with synchronous=FULL, the settings Backoffice's own
store uses (backoffice.store.connect), one committed transaction after each step:

1. start: a new BpmnWorkflow runs its start event up to the review task; INSERT, commit.
2. review: the reviewer's user task gets `approved` and runs; UPDATE, commit.
3. decision and end: do_engine_steps runs the gateway and the end event; UPDATE, commit.

With `reload`, steps 2 and 3 begin, as a stateless server answering the reviewer's request
would, by reading the workflow back from SQLite and deserializing it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from engine_results import CaseRun, approves, payload

BPMN = Path(__file__).resolve().parent / "engine_processes" / "approval.bpmn"
PROCESS_ID = "benchmark_approval"
BUSY_TIMEOUT_S = 30.0


class SpiffStore:
    """Serialized workflows in one SQLite file, one row per case, each write its own transaction."""

    def __init__(self, path: Path) -> None:
        # isolation_level=None: the statements below say where each transaction begins and ends.
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        for pragma in ("journal_mode = WAL", "synchronous = FULL"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("CREATE TABLE IF NOT EXISTS workflows (id INTEGER PRIMARY KEY, "
                                "completed INTEGER NOT NULL, serialization TEXT NOT NULL)")
        self.commits = 0
        self.commit_seconds = 0.0

    def insert(self, case_id: int, completed: bool, serialization: str) -> None:
        self._write("INSERT INTO workflows (id, completed, serialization) VALUES (?, ?, ?)",
                    (case_id, completed, serialization))

    def update(self, case_id: int, completed: bool, serialization: str) -> None:
        self._write("UPDATE workflows SET completed = ?, serialization = ? WHERE id = ?",
                    (completed, serialization, case_id))

    def serialization(self, case_id: int) -> str:
        (text,) = self.connection.execute("SELECT serialization FROM workflows WHERE id = ?", (case_id,)).fetchone()
        return text

    def all_serializations(self) -> list[str]:
        return [text for (text,) in self.connection.execute("SELECT serialization FROM workflows ORDER BY id")]

    def close(self) -> None:
        self.connection.close()

    def _write(self, statement: str, parameters: tuple) -> None:
        # BEGIN IMMEDIATE, as Backoffice's store does for writing transactions.
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            self.connection.execute(statement, parameters)
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        started = time.perf_counter()
        self.connection.execute("COMMIT")
        self.commit_seconds += time.perf_counter() - started
        self.commits += 1


def load_spec():
    """Parse and validate the BPMN file; return the process spec."""
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec(PROCESS_ID)


def run_cases(database: Path, cases: int, *, reload: bool = False) -> CaseRun:
    """Run `cases` approval cases to their end, one after another, committing after each step.

    Raises:
        RuntimeError: a workflow did not reach the end its decision calls for.
    """
    setup_started = time.perf_counter()
    store = SpiffStore(database)
    spec = load_spec()
    serializer = BpmnWorkflowSerializer()
    setup = time.perf_counter() - setup_started

    wall_started, cpu_started = time.perf_counter(), time.process_time()
    for number in range(cases):
        case_id = number + 1
        workflow = BpmnWorkflow(spec)
        workflow.task_tree.set_data(**payload(number))
        workflow.do_engine_steps()
        store.insert(case_id, workflow.is_completed(), serializer.serialize_json(workflow))

        if reload:
            workflow = serializer.deserialize_json(store.serialization(case_id))
        review = workflow.get_next_task(state=TaskState.READY, manual=True)
        review.set_data(approved=approves(number))
        review.run()
        store.update(case_id, workflow.is_completed(), serializer.serialize_json(workflow))

        workflow.do_engine_steps()
        store.update(case_id, workflow.is_completed(), serializer.serialize_json(workflow))
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started

    approved, rejected = _ends(store, serializer)
    commits, commit_seconds = store.commits, store.commit_seconds
    store.close()
    return CaseRun(variant="spiff-reload" if reload else "spiff", cases=cases, approved=approved, rejected=rejected,
                   commits=commits, commit_seconds=commit_seconds, wall=wall, cpu=cpu, setup=setup)


def _ends(store: SpiffStore, serializer: BpmnWorkflowSerializer) -> tuple[int, int]:
    """Count the stored workflows that completed at each end event, from what was committed."""
    approved = rejected = 0
    for text in store.all_serializations():
        workflow = serializer.deserialize_json(text)
        if not workflow.is_completed():
            raise RuntimeError("a SpiffWorkflow case was stored before it reached its end")
        ended = {task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)}
        approved += "approved" in ended
        rejected += "rejected" in ended
    return approved, rejected

