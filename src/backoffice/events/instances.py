"""Steps: the events of one activity instance read as one step, with its start and processing time.

An XES log may record one piece of work as several events (the lifecycle model: schedule,
assign, start, suspend, resume, complete...), and a CSV may give each row a start and an end
timestamp. Counted event by event, a work item that was scheduled, started and completed
reads as the activity following itself twice. Here each instance becomes one step, placed
where it completed (paths and variants follow the order in which steps complete), with its
start time and its processing time (start to complete, suspensions left out).

Pairing is done per case and activity, first in first out: a complete (or an abort, a
withdrawal, a skip) closes the oldest open start of the same activity in the same case. A
complete without a start is still a step, with no processing time; a start never closed is
no step (the work has not finished) and is counted. The whole pairing is a few numpy passes
over integer codes: no Python step per event.

Lifecycle values outside the XES model (status words such as "Awaiting Assignment") are
not instances: each event is then a step, as it is with `lifecycle="events"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import BadOption, LogFileError
from backoffice.events import arrow_numpy
from backoffice.events.schema import START_TIMESTAMP, TIMESTAMP_TYPE, Column, EventLog
from backoffice.wording import plural

NOT_MEASURED = -1  # the processing time of a step whose start the evidence does not give


class LifecycleMode(StrEnum):
    """How events become steps: one per activity instance (default), or one per event."""

    INSTANCES = "instances"
    EVENTS = "events"


class Timestamps(StrEnum):
    START_AND_COMPLETE = "start and complete"
    ONE_PER_STEP = "one per step"


# The XES standard lifecycle model (IEEE 1849), folded to lower case, by the part each plays.
COMPLETE, START, SUSPEND, RESUME, OTHER_END, FOLDED = range(6)
XES_LIFECYCLE = {"complete": COMPLETE, "start": START, "suspend": SUSPEND, "resume": RESUME,
                 "ate_abort": OTHER_END, "pi_abort": OTHER_END, "withdraw": OTHER_END, "autoskip": OTHER_END,
                 "manualskip": OTHER_END, "schedule": FOLDED, "assign": FOLDED, "reassign": FOLDED,
                 "unknown": FOLDED}


@dataclass(frozen=True)
class StepReading:
    """Which reading turned events into steps, in words a report can print."""

    mode: str  # "instances" | "events"
    lifecycle: str  # what the log holds: "standard XES lifecycle", "status words", "start and end columns", "none"
    timestamps: str  # "start and complete" | "one per step"
    note: str


@dataclass(frozen=True)
class Steps:
    """A log read as steps.

    Attributes:
        log: one row per step (the row of the event that completed it), grouped by case and
            in the order steps completed.
        start: per step, microseconds since the epoch when it started (its completion when
            the start is unknown); None when the log has one timestamp per step.
        processing: per step, active microseconds (NOT_MEASURED where the start is unknown);
            None when the log has one timestamp per step.
        reading: how the events were read.
        events: how many events the log holds.
    """

    log: EventLog
    start: np.ndarray | None
    processing: np.ndarray | None
    reading: StepReading
    events: int


def read_steps(log: EventLog, *, lifecycle: LifecycleMode | str = LifecycleMode.INSTANCES) -> Steps:
    """Read a log's events as steps: one per activity instance, or one per event.

    Args:
        log: the events.
        lifecycle: "instances" pairs lifecycle events (or reads start and end columns);
            "events" makes every event a step.

    Raises:
        BadOption: lifecycle is neither "instances" nor "events".
    """
    try:
        mode = LifecycleMode(lifecycle)
    except ValueError as exc:
        raise BadOption("--lifecycle", lifecycle, "instances (one step per activity instance) or events "
                                                  "(one step per event)") from exc
    events = len(log)
    found, words = _lifecycle_found(log)
    if mode is LifecycleMode.EVENTS:
        return Steps(log, None, None, StepReading(
            mode.value, found, Timestamps.ONE_PER_STEP.value,
            f"each event is a step (--lifecycle events): {plural(events, 'event')}"), events)
    if log.has_values(START_TIMESTAMP):
        return _start_and_end(log)
    if found == "status words":
        return Steps(log, None, None, StepReading(
            mode.value, found, Timestamps.ONE_PER_STEP.value,
            "lifecycle values outside the XES model (" + ", ".join(repr(word) for word in words[:5])
            + (f" and {len(words) - 5} more" if len(words) > 5 else "")
            + ") are read as status words: each event is a step, and waits run from one event to the next"),
            events)
    if found == "none":
        return Steps(log, None, None, StepReading(
            mode.value, found, Timestamps.ONE_PER_STEP.value,
            "one timestamp per step (no lifecycle, no start column): waits run from one step's "
            "timestamp to the next, and processing time is not known"), events)
    return _instances(log)


def _lifecycle_found(log: EventLog) -> tuple[str, list[str]]:
    """What the lifecycle column holds: "standard XES lifecycle", "status words" or "none", and the outside words."""
    if not log.has_values(Column.LIFECYCLE):
        return "none", []
    words = [str(word) for word in pc.unique(_dictionary(log.table.column(Column.LIFECYCLE)).dictionary).to_pylist()
             if word is not None]
    outside = sorted(word for word in words if word.strip().lower() not in XES_LIFECYCLE)
    return ("status words", outside) if outside else ("standard XES lifecycle", [])


def _dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    if pa.types.is_dictionary(column.type):
        return column.unify_dictionaries().combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return pc.dictionary_encode(column.combine_chunks().cast(pa.string()))


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    encoded = _dictionary(column)
    return arrow_numpy.dictionary_codes(encoded), encoded.dictionary.to_pylist()


def _instances(log: EventLog) -> Steps:
    """Pair the standard lifecycle's events into instances, first in first out per case and activity."""
    table = log.table
    rows = table.num_rows
    lifecycle, words = _codes(table.column(Column.LIFECYCLE))
    # A missing lifecycle value reads as complete: an event with no more said is a finished step.
    part_of_word = np.array([XES_LIFECYCLE[str(word).strip().lower()] for word in words] + [COMPLETE], dtype=np.int8)
    part = part_of_word[lifecycle]
    counts = np.bincount(part, minlength=6)
    if counts[START] == 0 and counts[SUSPEND] == 0 and counts[RESUME] == 0 and counts[COMPLETE] == rows:
        return Steps(log, None, None, StepReading(
            "instances", "standard XES lifecycle", Timestamps.ONE_PER_STEP.value,
            "every event completes a step (lifecycle complete only): one timestamp per step, so waits run "
            "from one step's completion to the next and processing time is not known"), rows)

    case, _ = _codes(table.column(Column.CASE_ID))
    activity, names = _codes(table.column(Column.ACTIVITY))
    times = arrow_numpy.values(table.column(Column.TIMESTAMP).cast(TIMESTAMP_TYPE))
    # Group by (case, activity), keeping time order inside each group: rows are in case and
    # time order, so a stable sort on the pair's number is enough.
    key = case.astype(np.int64) * max(len(names), 1) + activity
    order = np.argsort(key, kind="stable")
    key, part, times_sorted = key[order], part[order], times[order]
    group_start = np.r_[True, key[1:] != key[:-1]]
    group = np.cumsum(group_start) - 1
    first_of_group = np.flatnonzero(group_start)

    closes = (part == COMPLETE) | (part == OTHER_END)
    opens = part == START
    closes_so_far = _within_group_cumsum(closes, first_of_group, group)
    opens_so_far = _within_group_cumsum(opens, first_of_group, group)
    # First in, first out: a close that finds no open start is unmatched and takes none.
    # The unmatched closes so far are the deepest the closes have run ahead of the opens.
    ahead = closes_so_far - opens_so_far
    span = 2 * rows + 2
    unmatched_so_far = np.maximum(np.maximum.accumulate(ahead + group * span) - group * span, 0)
    unmatched_before = np.where(group_start, 0, np.r_[0, unmatched_so_far[:-1]])
    matched_close = closes & (unmatched_so_far == unmatched_before)
    # The matched close's rank among the group's matched closes is the rank of its start.
    open_positions = np.flatnonzero(opens)
    opens_before_group = np.r_[0, np.cumsum(opens)][first_of_group]
    close_rows = np.flatnonzero(matched_close)
    start_position = open_positions[opens_before_group[group[close_rows]]
                                    + closes_so_far[close_rows] - unmatched_so_far[close_rows] - 1]

    started = times_sorted.copy()  # a close without a start starts when it completes
    started[close_rows] = times_sorted[start_position]
    suspended = _suspended(part, times_sorted, group, closes)
    processing = np.full(rows, NOT_MEASURED, dtype=np.int64)
    processing[close_rows] = np.maximum(times_sorted[close_rows] - started[close_rows] - suspended[close_rows], 0)

    is_step = part == COMPLETE
    step_rows_sorted = np.flatnonzero(is_step)
    step_rows = order[step_rows_sorted]
    # Back in case and completion order (the table's order), ties in file order.
    back = np.argsort(step_rows, kind="stable")
    step_rows, step_rows_sorted = step_rows[back], step_rows_sorted[back]
    if not len(step_rows):
        # Otherwise the map would find no case and blame its filters.
        raise LogFileError(log.source, f"no activity instance completes: the {plural(rows, 'event')} are "
                                       f"{_parts_named(counts)}, and a step is read where an instance completes",
                           expected="complete events, or --lifecycle events to read each event as a step")
    steps_table = table.take(arrow_numpy.arrow(step_rows))
    matched_steps = int(np.count_nonzero(matched_close & is_step))
    unmatched_opens = int(counts[START]) - int(np.count_nonzero(matched_close))
    steps = len(step_rows)
    ended_otherwise = int(counts[OTHER_END])
    parts = [f"{plural(rows, 'event')} read as {plural(steps, 'step')}, one per activity instance "
             f"(paired per case and activity, first in first out)",
             f"{plural(matched_steps, 'step')} with a start and a complete"]
    if steps - matched_steps:
        parts.append(f"{plural(steps - matched_steps, 'complete')} without a start (no processing time)")
    if unmatched_opens:
        parts.append(f"{plural(unmatched_opens, 'start')} never completed (not steps)")
    if counts[FOLDED]:
        parts.append(f"{plural(int(counts[FOLDED]), 'schedule or assign event')} folded into the waiting before "
                     f"their step")
    if ended_otherwise:
        parts.append(f"{plural(ended_otherwise, 'instance')} aborted, withdrawn or skipped (not steps)")
    # Case codes number the cases 0..n-1 (dictionary codes), so counting needs no sort.
    cases_without_steps = int(np.count_nonzero(np.bincount(case, minlength=1))) - \
        int(np.count_nonzero(np.bincount(case[step_rows], minlength=1)))
    if cases_without_steps:
        parts.append(f"{plural(cases_without_steps, 'case')} with no completed step (not on the map)")
    note = "; ".join(parts)
    timestamps = Timestamps.START_AND_COMPLETE if matched_steps else Timestamps.ONE_PER_STEP
    if timestamps is Timestamps.ONE_PER_STEP:
        note += "; no step has both a start and a complete: one timestamp per step"
        return Steps(EventLog(steps_table, log.source, log.skipped_rows, log.notes), None, None, StepReading(
            "instances", "standard XES lifecycle", timestamps.value, note), rows)
    return Steps(EventLog(steps_table, log.source, log.skipped_rows, log.notes),
                 started[step_rows_sorted], processing[step_rows_sorted],
                 StepReading("instances", "standard XES lifecycle", timestamps.value, note), rows)


def _parts_named(counts: np.ndarray) -> str:
    """The lifecycle parts a log holds, in words: "3 starts and 1 schedule or assign"."""
    names = {START: ("start", "starts"), SUSPEND: ("suspend", "suspends"), RESUME: ("resume", "resumes"),
             OTHER_END: ("abort, withdrawal or skip", "aborts, withdrawals or skips"),
             FOLDED: ("schedule or assign", "schedules or assigns")}
    found = [plural(int(counts[part]), *name) for part, name in names.items() if counts[part]]
    return ", ".join(found[:-1]) + " and " + found[-1] if len(found) > 1 else "".join(found)


def _within_group_cumsum(flags: np.ndarray, first_of_group: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, how many flagged rows its group has up to and including it."""
    running = np.cumsum(flags, dtype=np.int64)
    before_group = running[first_of_group] - flags[first_of_group]
    return running - before_group[group]


def _suspended(part: np.ndarray, times: np.ndarray, group: np.ndarray, closes: np.ndarray) -> np.ndarray:
    """Per close row, the microseconds its instance spent suspended (each resume minus the suspend before it)."""
    suspended = np.zeros(len(part), dtype=np.int64)
    pauses = np.flatnonzero((part == SUSPEND) | (part == RESUME))
    if not len(pauses):
        return suspended
    resumed = pauses[1:][(part[pauses[1:]] == RESUME) & (part[pauses[:-1]] == SUSPEND)
                         & (group[pauses[1:]] == group[pauses[:-1]])]
    suspend_of = pauses[np.searchsorted(pauses, resumed) - 1]
    # A close between them ends the suspended instance: the resume belongs to no pause of it.
    closes_so_far = np.cumsum(closes)
    same_instance = closes_so_far[resumed] == closes_so_far[suspend_of]
    resumed, suspend_of = resumed[same_instance], suspend_of[same_instance]
    # The pause belongs to the instance that closes next in the same group.
    close_positions = np.flatnonzero(closes)
    next_close = np.searchsorted(close_positions, resumed)
    inside = next_close < len(close_positions)
    resumed, suspend_of, next_close = resumed[inside], suspend_of[inside], close_positions[next_close[inside]]
    same = group[next_close] == group[resumed]
    np.add.at(suspended, next_close[same], times[resumed[same]] - times[suspend_of[same]])
    return suspended


def _start_and_end(log: EventLog) -> Steps:
    """Each row is a step with a start and an end timestamp column."""
    table = log.table
    end = arrow_numpy.values(table.column(Column.TIMESTAMP).cast(TIMESTAMP_TYPE))
    start_column = table.column(START_TIMESTAMP).cast(TIMESTAMP_TYPE)
    has_start = arrow_numpy.valid(start_column)
    start = np.where(has_start, arrow_numpy.values(start_column.fill_null(0)), end)
    after_end = has_start & (start > end)
    processing = np.where(has_start & ~after_end, end - start, NOT_MEASURED)
    start = np.where(after_end, end, start)
    rows = len(log)
    parts = [f"{plural(rows, 'row')} read as steps with a start and an end timestamp"]
    if (~has_start).any():
        parts.append(f"{plural(int((~has_start).sum()), 'row')} without a start (no processing time)")
    if after_end.any():
        parts.append(f"{plural(int(after_end.sum()), 'row')} starting after their end (no processing time)")
    return Steps(log, start, processing, StepReading("instances", "start and end columns",
                                                     Timestamps.START_AND_COMPLETE.value, "; ".join(parts)), rows)
