"""Prometheus metrics: the server's requests, and the state of the work in the database.

Each app has its own registry (tests build many apps in one process). Request counters and
latency histograms are this process's; the work figures (cases by workflow, version and
whether they ended; open tasks and the oldest per queue; cases past their SLA; the outbox, its
lag, dead letters and steps in doubt) are read from the database at each scrape, with aggregate
queries only, so every server process reports the same numbers. The age of the last signed audit
checkpoint is read from the checkpoint store (a file), absent while there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from backoffice.engine import Engine
from backoffice.engine.audit_keys import AuditLocations
from backoffice.engine.checkpoints import Checkpoint, CheckpointStore
from backoffice.errors import BackofficeError, CheckpointStoreError
from backoffice.store.operations_stats import late_cases, operations_snapshot

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The metrics of one app."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("backoffice_http_requests", "HTTP requests answered, by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("backoffice_http_request_duration_seconds", "Time to answer a request.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cases_started = Counter("backoffice_api_cases_started", "Cases started through this server.",
                                     ["workflow", "version"], registry=self.registry)
        self.transitions = Counter("backoffice_api_transitions", "Case moves made through this server.",
                                   ["workflow", "from_state", "to_state"], registry=self.registry)
        self.registry.register(WorkCollector(engine, clock))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class WorkCollector(Collector):
    """Reads the work figures from the database when Prometheus scrapes."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def describe(self) -> list:
        # Described without a database read, so registering the collector touches nothing.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = operations_snapshot(self.engine.store.engine)
        started = GaugeMetricFamily("backoffice_cases", "Cases in the database, by workflow, version and "
                                                        "whether they ended (completed) or are open.",
                                    labels=["workflow", "version", "status"])
        totals: dict[tuple[str, str, str], int] = {}
        for row in snapshot.cases:
            status = "completed" if self._ended(row.workflow, row.version, row.state) else "open"
            key = (row.workflow, str(row.version), status)
            totals[key] = totals.get(key, 0) + row.count
        for labels, count in sorted(totals.items()):
            started.add_metric(list(labels), count)
        yield started
        depth = GaugeMetricFamily("backoffice_queue_open_tasks", "Open tasks per queue.", labels=["queue"])
        oldest = GaugeMetricFamily("backoffice_queue_oldest_task_age_seconds",
                                   "Age of the oldest open task per queue.", labels=["queue"])
        now = self.clock()
        for queue in snapshot.queues:
            depth.add_metric([queue.queue], queue.open_tasks)
            if queue.oldest_created_at is not None:
                oldest.add_metric([queue.queue], max(0.0, (now - queue.oldest_created_at).total_seconds()))
        yield depth
        yield oldest
        yield GaugeMetricFamily("backoffice_dead_letters", "Outbox entries parked in the dead-letter queue.",
                                value=snapshot.dead_letters)
        yield GaugeMetricFamily("backoffice_outbox_pending", "Outbox entries waiting for delivery.",
                                value=snapshot.pending_outbox)
        lag = (now - snapshot.oldest_pending_outbox).total_seconds() if snapshot.oldest_pending_outbox else 0.0
        yield GaugeMetricFamily("backoffice_outbox_lag_seconds", "Age of the oldest pending outbox entry.",
                                value=max(0.0, lag))
        yield GaugeMetricFamily("backoffice_steps_in_doubt", "Automated steps whose outcome nobody knows, waiting "
                                                             "for a person to confirm.", value=snapshot.in_doubt)
        breaches = GaugeMetricFamily("backoffice_sla_breaches", "Open cases past their resolution SLA (business "
                                                                "time, pauses counted), by workflow.",
                                     labels=["workflow"])
        for workflow, count in sorted(late_cases(self.engine.store.engine, now=now).items()):
            breaches.add_metric([workflow], count)
        yield breaches
        latest = self._latest_checkpoint()
        yield GaugeMetricFamily("backoffice_audit_checkpoint_number", "Number of the last signed audit checkpoint "
                                                                      "(0: none, or the store cannot be read).",
                                value=latest.number if latest else 0)
        if latest is not None:
            # Absent while there is none: an alert on its absence or its size catches both.
            yield GaugeMetricFamily("backoffice_audit_checkpoint_age_seconds", "Age of the last signed audit "
                                                                               "checkpoint.",
                                    value=max(0.0, (now - latest.at).total_seconds()))

    def _latest_checkpoint(self) -> Checkpoint | None:
        folder = AuditLocations.for_database(self.engine.store.url).checkpoints
        try:
            return CheckpointStore(folder).latest()
        except CheckpointStoreError:
            return None

    def _ended(self, workflow: str, version: int, state: str) -> bool:
        try:
            return self.engine.running(workflow, version).definition.state(state).kind.is_end
        except BackofficeError:
            return False
