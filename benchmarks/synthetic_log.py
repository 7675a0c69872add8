"""Generate a seeded synthetic back-office event log: invoice handling (purchase-to-pay).

Every invoice is received (by e-mail or scanned through OCR), registered, checked for
duplicates, matched to a purchase order and approved (automatically under a threshold,
by a second level above another), then scheduled, paid and closed. On the way: missing
purchase orders, price and quantity mismatches that wait on the supplier, rejections that
send the invoice back for correction and re-approval (rework loops), payment blocks and
duplicates that end in a cancellation. Steps are done by AP clerks, approvers,
controllers, treasury and service accounts (`svc-erp`, `svc-ocr`, `svc-mail`) in the ERP,
e-mail or OCR system; waits between steps are log-normal with business-like medians
(minutes for systems, days for approvals and suppliers).

Generation is vectorised with numpy, chunk by chunk of cases, so 15 million events take
well under a few minutes and little memory: each chunk becomes one Parquet row group and
one slice of the CSV. The output is deterministic for a seed and a number of events.

Within a chunk, events are written in time order (as exports usually are), so the events
of one case are interleaved with others'. CSV timestamps are ISO 8601 text with an offset:
events of the e-mail system and of the Dutch subsidiary's invoices are written in local
time with `+01:00`, the others with `+00:00`. Parquet stores typed UTC timestamps.

    python benchmarks/synthetic_log.py --events 1500000 --seed 7 --csv out.csv --parquet out.parquet
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

CASES_PER_CHUNK = 50_000
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

# Roles (the lanes of the map).
AP_CLERK, APPROVER, CONTROLLER, TREASURY, SYSTEM_ROLE = "AP clerk", "Approver", "Controller", "Treasury", "System"
ROLES = (AP_CLERK, APPROVER, CONTROLLER, TREASURY, SYSTEM_ROLE)
ERP, EMAIL, OCR = "ERP", "email", "OCR"
SYSTEMS = (ERP, EMAIL, OCR)
SERVICE_ACCOUNT = {ERP: "svc-erp", EMAIL: "svc-mail", OCR: "svc-ocr"}
TEAM_SIZE = {AP_CLERK: 24, APPROVER: 60, CONTROLLER: 8, TREASURY: 6}


@dataclass(frozen=True)
class Step:
    """One activity: who does it, where, how long work waits before it, and why (exceptions)."""

    label: str
    role: str                       # the human role when the step is not automated
    automated: float                # share of events done by a service account
    systems: tuple[tuple[str, float], ...]
    wait_median: float              # seconds from the previous event of the case
    wait_sigma: float               # spread of the log-normal wait
    reasons: tuple[str, ...] = ()   # exception or rework reasons, chosen uniformly
    same_second: float = 0.0        # share of events in the same second as the previous one


STEPS = (
    Step("Receive invoice", SYSTEM_ROLE, 1.0, ((EMAIL, 1.0),), 0, 0),   # OCR when the case is scanned
    Step("Scan invoice", SYSTEM_ROLE, 1.0, ((OCR, 1.0),), 5 * MINUTE, 1.0),
    Step("Register invoice", AP_CLERK, 0.45, ((ERP, 1.0),), 3 * HOUR, 1.2),
    Step("Check for duplicates", AP_CLERK, 1.0, ((ERP, 1.0),), 20, 1.0, same_second=0.4),
    Step("Flag duplicate", AP_CLERK, 0.3, ((ERP, 1.0),), 2 * HOUR, 1.0, ("duplicate invoice",)),
    Step("Cancel invoice", AP_CLERK, 0.0, ((ERP, 1.0),), DAY, 1.0, ("duplicate invoice",)),
    Step("Match invoice to PO", AP_CLERK, 0.8, ((ERP, 1.0),), 30 * MINUTE, 1.5),
    Step("Request purchase order", AP_CLERK, 0.0, ((EMAIL, 1.0),), 3 * HOUR, 1.0, ("missing PO",)),
    Step("Receive purchase order", AP_CLERK, 0.5, ((EMAIL, 1.0),), 3 * DAY, 0.8),
    Step("Put invoice on hold", AP_CLERK, 0.5, ((ERP, 1.0),), HOUR, 1.0,
         ("price mismatch", "quantity mismatch", "missing goods receipt")),
    Step("Request information from supplier", AP_CLERK, 0.0, ((EMAIL, 1.0),), 2 * HOUR, 1.0),
    Step("Receive supplier response", AP_CLERK, 0.7, ((EMAIL, 1.0),), 4 * DAY, 0.9),
    Step("Auto-approve invoice", SYSTEM_ROLE, 1.0, ((ERP, 1.0),), 30, 0.5),
    Step("Reject invoice", APPROVER, 0.0, ((ERP, 0.8), (EMAIL, 0.2)), DAY, 1.0,
         ("wrong cost center", "wrong VAT code", "amount above budget", "missing receipt")),
    Step("Correct invoice data", AP_CLERK, 0.0, ((ERP, 1.0),), 8 * HOUR, 1.1),
    Step("Approve invoice", APPROVER, 0.0, ((ERP, 0.8), (EMAIL, 0.2)), 1.5 * DAY, 1.0),
    Step("Approve invoice (second level)", CONTROLLER, 0.0, ((ERP, 1.0),), 2 * DAY, 1.0),
    Step("Schedule payment", TREASURY, 0.6, ((ERP, 1.0),), DAY, 1.0),
    Step("Block payment", TREASURY, 0.0, ((ERP, 1.0),), 3 * HOUR, 1.0, ("bank details changed", "supplier on hold")),
    Step("Release payment", TREASURY, 0.0, ((ERP, 1.0),), 3 * DAY, 1.0),
    Step("Pay invoice", TREASURY, 0.7, ((ERP, 1.0),), 9 * DAY, 0.5),
    Step("Send remittance advice", SYSTEM_ROLE, 1.0, ((EMAIL, 1.0),), MINUTE, 0.5),
    Step("Close case", AP_CLERK, 0.9, ((ERP, 1.0),), 2 * HOUR, 1.0),
)
CODE = {step.label: code for code, step in enumerate(STEPS)}

# The order of a case: slots of one or more steps, each repeated 0..k times per case.
SLOTS = (
    ("Receive invoice",), ("Scan invoice",), ("Register invoice",), ("Check for duplicates",),
    ("Flag duplicate", "Cancel invoice"),
    ("Match invoice to PO",),
    ("Request purchase order", "Receive purchase order"),
    ("Put invoice on hold", "Request information from supplier", "Receive supplier response", "Match invoice to PO"),
    ("Auto-approve invoice",),
    ("Reject invoice", "Correct invoice data"),                        # rework before the first approval
    ("Approve invoice",),
    ("Reject invoice", "Correct invoice data", "Approve invoice"),     # second level sends it back
    ("Approve invoice (second level)",),
    ("Schedule payment",), ("Block payment", "Release payment"), ("Pay invoice",),
    ("Send remittance advice",), ("Close case",),
)
SLOT_CODES = np.array([CODE[label] for slot in SLOTS for label in slot], np.int16)
SLOT_LENGTH = np.array([len(slot) for slot in SLOTS], np.int64)
SLOT_OFFSET = np.concatenate([[0], np.cumsum(SLOT_LENGTH)[:-1]])

AUTO_APPROVE_BELOW = 1_000.0
SECOND_LEVEL_FROM = 10_000.0
MEAN_EVENTS_PER_CASE = 10.2    # measured on seed 7; only sets the span the arrivals cover
SPAN_WEEKS = 104
START = np.datetime64("2023-01-02T08:00:00", "s")   # a Monday
BUSINESS_DAY = 10 * HOUR                             # arrivals between 08:00 and 18:00 UTC, Monday to Friday

FIRST_NAMES = ("anna", "bas", "carla", "daan", "eva", "floor", "gijs", "hanna", "ingrid", "jeroen", "kim",
               "lars", "marieke", "niels", "olga", "pieter", "quinten", "rosa", "sven", "tess", "umar",
               "vera", "wouter", "yara", "zoe")
LAST_NAMES = ("bakker", "de vries", "jansen", "visser", "smit", "meijer", "mulder", "bos", "vos", "peters",
              "hendriks", "dekker", "brouwer", "dijkstra", "kok")

SCHEMA = pa.schema([("case_id", pa.string()), ("activity", pa.string()),
                    ("timestamp", pa.timestamp("us", tz="UTC")), ("resource", pa.string()),
                    ("role", pa.string()), ("system", pa.string()), ("reason", pa.string()),
                    ("amount", pa.float64())])
CSV_SCHEMA = SCHEMA.set(2, pa.field("timestamp", pa.string()))


def _team(role: str) -> list[str]:
    """Deterministic person names for a role: first.last, with a number on clashes."""
    size = TEAM_SIZE[role]
    salt = ROLES.index(role) * 7
    names = []
    for index in range(size):
        first = FIRST_NAMES[(index * 7 + salt) % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 4 + salt + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        name = f"{first}.{last.replace(' ', '')}"
        names.append(name if name not in names else f"{name}{index}")
    return names


# Resource dictionary: service accounts first, then each team; busy people do more (Zipf-like).
SERVICE_ACCOUNTS = tuple(SERVICE_ACCOUNT[system] for system in SYSTEMS)
TEAMS = {role: _team(role) for role in TEAM_SIZE}
RESOURCES = list(SERVICE_ACCOUNTS) + [name for role in TEAM_SIZE for name in TEAMS[role]]
TEAM_FIRST = {role: len(SERVICE_ACCOUNTS) + sum(TEAM_SIZE[r] for r in list(TEAM_SIZE)[:i])
              for i, role in enumerate(TEAM_SIZE)}
REASONS = sorted({reason for step in STEPS for reason in step.reasons})


def _team_weights(size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** 0.6
    return weights / weights.sum()


@dataclass
class Chunk:
    """One chunk of generated events, in case order (codes, not text)."""

    case_number: np.ndarray   # per event, global case number (0-based)
    activity: np.ndarray      # per event, index into STEPS
    seconds: np.ndarray       # per event, seconds since START (UTC)
    resource: np.ndarray      # per event, index into RESOURCES, -1 for missing
    role: np.ndarray          # per event, index into ROLES
    system: np.ndarray        # per event, index into SYSTEMS
    reason: np.ndarray        # per event, index into REASONS, -1 for none
    amount: np.ndarray        # per event, the invoice amount
    local_offset: np.ndarray  # per event, True when written in +01:00


def _slot_counts(rng: np.random.Generator, cases: int, amount: np.ndarray) -> np.ndarray:
    """How many times each slot happens in each case: the control flow of the process."""
    counts = np.zeros((cases, len(SLOTS)), np.int64)
    u = rng.random((cases, 12))
    duplicate = u[:, 0] < 0.02
    ok = ~duplicate
    counts[:, 0] = 1                                          # receive
    counts[:, 1] = u[:, 1] < 0.35                             # paper invoices are scanned
    counts[:, 2] = 1                                          # register
    counts[:, 3] = 1                                          # duplicate check
    counts[:, 4] = duplicate                                  # flag + cancel
    counts[:, 5] = ok                                         # match to PO
    counts[:, 6] = ok & (u[:, 2] < 0.08)                      # missing PO
    mismatch = ok & (u[:, 3] < 0.13)
    counts[:, 7] = mismatch * (1 + (u[:, 4] < 0.2))           # mismatch, sometimes twice
    auto = ok & ~mismatch & (amount < AUTO_APPROVE_BELOW) & (u[:, 5] < 0.9)
    manual = ok & ~auto
    counts[:, 8] = auto
    # Rework before approval: geometric number of reject/correct rounds.
    rounds = np.minimum(rng.geometric(0.55, cases) - 1, 6)
    counts[:, 9] = manual * (u[:, 6] < 0.2) * np.maximum(rounds, 1)
    counts[:, 10] = manual
    second = manual & (amount >= SECOND_LEVEL_FROM)
    counts[:, 11] = second & (u[:, 7] < 0.1)
    counts[:, 12] = second
    counts[:, 13] = ok                                        # schedule payment
    counts[:, 14] = ok & (u[:, 8] < 0.03)                     # payment block
    counts[:, 15] = ok                                        # pay
    counts[:, 16] = ok & (u[:, 9] < 0.55)                     # remittance advice
    counts[:, 17] = 1                                         # close
    return counts * SLOT_LENGTH


def _arrivals(rng: np.random.Generator, cases: int, after: float, mean_gap: float) -> np.ndarray:
    """Case start times in business seconds (Monday-Friday, 10 hours a day), increasing."""
    return after + np.cumsum(rng.exponential(mean_gap, cases))


def _calendar_seconds(business: np.ndarray) -> np.ndarray:
    """Business seconds since START to calendar seconds since START."""
    week, rest = np.divmod(business, 5 * BUSINESS_DAY)
    day, second = np.divmod(rest, BUSINESS_DAY)
    return week * 7 * DAY + day * DAY + second


def generate_chunk(seed: int, index: int, *, first_case: int, after: float,
                   mean_gap: float, cases: int = CASES_PER_CHUNK) -> tuple[Chunk, np.ndarray, float]:
    """Generate one chunk of cases.

    Returns:
        the events, the number of events of each case (to cut at a case boundary), and the
        business second of the last arrival (where the next chunk goes on).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    amount = np.round(np.exp(rng.normal(np.log(1_800.0), 1.3, cases)), 2)
    starts_business = _arrivals(rng, cases, after, mean_gap)
    subsidiary = rng.random(cases) < 0.2

    per_slot = _slot_counts(rng, cases, amount)               # events per (case, slot)
    per_case = per_slot.sum(axis=1)
    case_of_pair, slot_of_pair = np.nonzero(per_slot)         # row-major: case order, then slot order
    events_of_pair = per_slot[case_of_pair, slot_of_pair]
    total = int(events_of_pair.sum())
    pair_of_event = np.repeat(np.arange(len(events_of_pair)), events_of_pair)
    pair_start = np.cumsum(events_of_pair) - events_of_pair
    within = np.arange(total) - pair_start[pair_of_event]
    slot = slot_of_pair[pair_of_event]
    activity = SLOT_CODES[SLOT_OFFSET[slot] + within % SLOT_LENGTH[slot]].astype(np.int64)
    case_local = case_of_pair[pair_of_event]

    medians = np.array([max(step.wait_median, 1e-9) for step in STEPS])
    sigmas = np.array([step.wait_sigma for step in STEPS])
    same = np.array([step.same_second for step in STEPS])
    wait = np.exp(np.log(medians[activity]) + sigmas[activity] * rng.standard_normal(total))
    wait[rng.random(total) < same[activity]] = 0.0
    case_first = np.cumsum(per_case) - per_case
    wait[case_first] = 0.0
    elapsed = np.cumsum(wait)
    elapsed -= np.repeat(elapsed[case_first], per_case)       # restart the clock at each case
    seconds = np.floor(_calendar_seconds(starts_business)[case_local] + elapsed).astype(np.int64)

    automated_share = np.array([step.automated for step in STEPS])
    automated = rng.random(total) < automated_share[activity]
    system = np.zeros(total, np.int64)
    pick = rng.random(total)
    role = np.full(total, ROLES.index(SYSTEM_ROLE), np.int64)
    resource = np.zeros(total, np.int64)
    reason = np.full(total, -1, np.int64)
    draw = rng.random(total)
    for code, step in enumerate(STEPS):
        mine = activity == code
        if not mine.any():
            continue
        bound = 0.0
        chosen = np.zeros(total, bool)
        for name, share in step.systems:
            hit = mine & ~chosen & (pick < bound + share)
            system[hit] = SYSTEMS.index(name)
            chosen |= hit
            bound += share
        if step.reasons:
            codes = np.array([REASONS.index(r) for r in step.reasons])
            reason[mine] = codes[np.minimum((draw[mine] * len(codes)).astype(np.int64), len(codes) - 1)]
        if step.role != SYSTEM_ROLE:
            people = mine & ~automated
            count = int(people.sum())
            role[people] = ROLES.index(step.role)
            resource[people] = TEAM_FIRST[step.role] + rng.choice(TEAM_SIZE[step.role], count,
                                                                  p=_team_weights(TEAM_SIZE[step.role]))
    # Paper invoices arrive through the OCR mailroom; the rest by e-mail.
    receive = activity == CODE["Receive invoice"]
    scanned = per_slot[:, SLOTS.index(("Scan invoice",))] > 0
    system[receive] = np.where(scanned[case_local[receive]], SYSTEMS.index(OCR), SYSTEMS.index(EMAIL))
    machine = automated | (role == ROLES.index(SYSTEM_ROLE))
    role[machine] = ROLES.index(SYSTEM_ROLE)
    resource[machine] = system[machine]                       # svc-erp, svc-mail, svc-ocr by system
    # A few manual events lost their user in the export.
    resource[~machine & (rng.random(total) < 0.003)] = -1
    local_offset = subsidiary[case_local] | (system == SYSTEMS.index(EMAIL))

    chunk = Chunk(case_number=first_case + case_local, activity=activity, seconds=seconds, resource=resource,
                  role=role, system=system, reason=reason, amount=amount[case_local], local_offset=local_offset)
    return chunk, per_case, float(starts_business[-1])


def _take(chunk: Chunk, rows: np.ndarray | slice) -> Chunk:
    return Chunk(**{name: getattr(chunk, name)[rows] for name in Chunk.__dataclass_fields__})


def _dictionary(codes: np.ndarray, values: list[str] | tuple[str, ...]) -> pa.Array:
    """Codes to a string column (-1 is missing)."""
    indices = pa.array(codes, pa.int32(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string())).cast(pa.string())


def to_table(chunk: Chunk, *, text_timestamps: bool) -> pa.Table:
    """Turn a chunk into the output columns; text timestamps carry their offset."""
    first = int(chunk.case_number.min())
    last = int(chunk.case_number.max())
    case_ids = pa.array([f"INV-{number:08d}" for number in range(first + 1, last + 2)], pa.string())
    case_id = pc.take(case_ids, pa.array(chunk.case_number - first))
    instants = START + chunk.seconds.astype("timedelta64[s]")
    if text_timestamps:
        local = instants + np.where(chunk.local_offset, 3600, 0).astype("timedelta64[s]")
        text = pc.strftime(pa.array(local, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
        suffix = pa.DictionaryArray.from_arrays(pa.array(chunk.local_offset.astype(np.int32)),
                                                pa.array(["+00:00", "+01:00"])).cast(pa.string())
        timestamp = pc.binary_join_element_wise(text, suffix, "")
    else:
        timestamp = pa.array(instants.astype("datetime64[us]"), pa.timestamp("us", tz="UTC"))
    columns = [case_id, _dictionary(chunk.activity, [step.label for step in STEPS]), timestamp,
               _dictionary(chunk.resource, RESOURCES), _dictionary(chunk.role, ROLES),
               _dictionary(chunk.system, SYSTEMS), _dictionary(chunk.reason, REASONS),
               pa.array(chunk.amount, pa.float64())]
    return pa.Table.from_arrays(columns, schema=CSV_SCHEMA if text_timestamps else SCHEMA)


def generate(events: int, *, seed: int, csv_path: Path | None = None, parquet_path: Path | None = None,
             progress: bool = False) -> tuple[int, int]:
    """Write about `events` events (whole cases, at least `events`) to CSV and/or Parquet.

    Returns:
        (events written, cases written).
    """
    if events < 1:
        raise ValueError("--events must be at least 1")
    mean_gap = SPAN_WEEKS * 5 * BUSINESS_DAY / max(events / MEAN_EVENTS_PER_CASE, 1.0)
    csv_writer = parquet_writer = None
    csv_tmp = csv_path.with_name(csv_path.name + ".partial") if csv_path else None
    parquet_tmp = parquet_path.with_name(parquet_path.name + ".partial") if parquet_path else None
    written = cases_written = 0
    after = 0.0
    index = 0
    try:
        if csv_tmp:
            csv_writer = pa_csv.CSVWriter(csv_tmp, CSV_SCHEMA,
                                          write_options=pa_csv.WriteOptions(quoting_style="needed"))
        if parquet_tmp:
            parquet_writer = pq.ParquetWriter(parquet_tmp, SCHEMA, compression="snappy")
        while written < events:
            chunk, per_case, after = generate_chunk(seed, index, first_case=cases_written, after=after,
                                                    mean_gap=mean_gap)
            cumulative = written + np.cumsum(per_case)
            if cumulative[-1] >= events:
                keep_cases = int(np.searchsorted(cumulative, events)) + 1
                chunk = _take(chunk, slice(0, int(per_case[:keep_cases].sum())))
                per_case = per_case[:keep_cases]
            # Exports list events in time order; ties keep the case's own order.
            order = np.lexsort((np.arange(len(chunk.seconds)), chunk.seconds))
            chunk = _take(chunk, order)
            if csv_writer:
                csv_writer.write_table(to_table(chunk, text_timestamps=True))
            if parquet_writer:
                parquet_writer.write_table(to_table(chunk, text_timestamps=False))
            written += len(chunk.seconds)
            cases_written += len(per_case)
            index += 1
            if progress:
                print(f"\r{written:,} events, {cases_written:,} cases", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
    finally:
        if csv_writer:
            csv_writer.close()
        if parquet_writer:
            parquet_writer.close()
    # Rename only when complete, so an interrupted run never leaves a file that looks whole.
    if csv_tmp:
        csv_tmp.replace(csv_path)
    if parquet_tmp:
        parquet_tmp.replace(parquet_path)
    return written, cases_written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_500_000, help="events to write (whole cases, at least this)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv", type=Path, help="write the log as CSV here")
    parser.add_argument("--parquet", type=Path, help="write the log as Parquet here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.csv and not args.parquet:
        parser.error("give --csv and/or --parquet")
    for path in (args.csv, args.parquet):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    events, cases = generate(args.events, seed=args.seed, csv_path=args.csv, parquet_path=args.parquet,
                             progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {events:,} events of {cases:,} cases in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
