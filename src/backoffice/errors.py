"""Every error Backoffice raises on purpose, under one root.

A user error carries the data that locates the mistake (file, line, column, field, value)
and renders itself as one sentence that also says what was expected. The command line
prints that sentence and exits with status 2; the API will answer 4xx with the same data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path


class BackofficeError(Exception):
    """Root of every error Backoffice raises on purpose."""


class UserError(BackofficeError):
    """A mistake in what the user gave us: a file, an option, a value. Never a bug."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _where(path: Path | str, line: int | None = None, column: int | None = None) -> str:
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {column}"
    return where


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """Return the choice closest to name, or None when nothing is close."""
    lowered = {choice.lower(): choice for choice in choices}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


class LogFileError(UserError):
    """An event log file that cannot be read as asked."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None,
                 column: int | None = None, expected: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.problem = problem
        self.expected = expected
        message = f"{_where(path, line, column)}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


class LogFileNotFound(LogFileError):
    """The log file does not exist or cannot be opened."""

    def __init__(self, path: Path | str, reason: str = "no such file") -> None:
        super().__init__(path, f"cannot open the file ({reason})",
                         expected="a readable CSV, XES, XES.gz, Parquet or OCEL 2.0 JSON file")


class UnknownLogFormat(LogFileError):
    """The file name does not say which reader to use."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "cannot tell the format from the file name",
                         expected="a name ending in .csv, .tsv, .txt, .xes, .xes.gz, .parquet, "
                                  ".jsonocel or .json, or --format")


class EmptyLog(LogFileError):
    """The file holds no events."""

    def __init__(self, path: Path | str, detail: str = "the file holds no events") -> None:
        super().__init__(path, detail, expected="at least one event")


class MissingColumn(LogFileError):
    """A required column of the event schema was not found."""

    def __init__(self, path: Path | str, role: str, found: Sequence[str],
                 suggestion: str | None, option: str, *, named: str | None = None) -> None:
        self.role = role
        self.found = list(found)
        self.suggestion = suggestion
        self.named = named
        shown = ", ".join(found[:30]) + (" ..." if len(found) > 30 else "")
        hint = f"; did you mean {option} {suggestion!r}?" if suggestion else ""
        missing = (f"no {role} column {named!r} (named by {option})" if named is not None
                   else f"no {role} column")
        super().__init__(path, f"{missing} (columns found: {shown}){hint}",
                         expected=f"a column named as in the event schema, or {option} NAME")


class BadTimestamp(LogFileError):
    """A timestamp value that cannot be parsed."""

    def __init__(self, path: Path | str, *, row: int, value: str, column: str,
                 line: int | None = None) -> None:
        self.row = row
        self.value = value
        self.column_name = column
        where_row = f"row {row}"
        super().__init__(path, f"{where_row}: cannot read {value!r} in column {column!r} as a timestamp",
                         line=line,
                         expected="an ISO 8601 timestamp such as 2024-03-01T09:30:00+01:00, or "
                                  "--timestamp-format, or --on-bad-rows skip")


class NotUtf8(LogFileError):
    """The file is not UTF-8 and no encoding was given."""

    def __init__(self, path: Path | str, *, line: int | None = None, byte_offset: int | None = None) -> None:
        self.byte_offset = byte_offset
        at = f" (byte {byte_offset})" if byte_offset is not None else ""
        super().__init__(path, f"the file is not UTF-8{at}", line=line,
                         expected="UTF-8 text, or --encoding (for example --encoding latin-1)")


class TruncatedGzip(LogFileError):
    """A gzip file that ends early or is damaged."""

    def __init__(self, path: Path | str, detail: str = "the gzip stream ends early") -> None:
        super().__init__(path, f"the compressed file is damaged or truncated ({detail})",
                         expected="a complete gzip file")


class MalformedXml(LogFileError):
    """An XES file that is not well-formed XML."""

    def __init__(self, path: Path | str, *, line: int | None, column: int | None, detail: str) -> None:
        super().__init__(path, f"malformed XML: {detail}", line=line, column=column,
                         expected="a well-formed XES (IEEE 1849) document")


class BadOption(UserError):
    """A command-line option or argument with a value we cannot use."""

    def __init__(self, option: str, value: object, expected: str) -> None:
        self.option = option
        self.value = value
        self.expected = expected
        super().__init__(f"{option} {value!r}: expected {expected}")


class ConfigFileError(UserError):
    """A small YAML file we read (synonyms, step kinds) that is wrong."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None,
                 column: int | None = None, expected: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        message = f"{_where(path, line, column)}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


class OutputFileError(UserError):
    """A report cannot be written where the user asked."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: cannot write the file ({reason}); expected a writable path")


# Data contracts


class ContractFileError(UserError):
    """A data contract file that is not a valid contract: where the mistake is and what was expected."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None, column: int | None = None,
                 key: str | None = None, expected: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.key = key
        self.problem = problem
        self.expected = expected
        message = f"{_where(path, line, column)}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


class InvalidContract(ContractFileError):
    """A data contract file with several mistakes, all found in one reading; each is in `problems`."""

    def __init__(self, path: Path | str, problems: Sequence[ContractFileError]) -> None:
        first = problems[0]
        super().__init__(path, first.problem, line=first.line, column=first.column, key=first.key,
                         expected=first.expected)
        self.problems = list(problems)
        # One line per mistake, so the user fixes them all in one pass instead of one per run.
        self.message = f"{path}: {len(problems)} problems in the contract\n" + "\n".join(
            f"  {problem.message}" for problem in problems)


class PayloadFileError(UserError):
    """A payload file that cannot be read as JSON, JSON Lines or YAML."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None, column: int | None = None,
                 expected: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.problem = problem
        self.expected = expected
        message = f"{_where(path, line, column)}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


class ContractsNotComparable(UserError):
    """Two contract files compared as versions of one contract, though their names differ."""

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name
        super().__init__(f"cannot compare contract {old_name!r} with contract {new_name!r}; "
                         f"expected two versions of one contract (the same name)")


# Workflow definitions

from dataclasses import dataclass  # noqa: E402  (kept in this section: the file is shared by sections)


@dataclass(frozen=True)
class DefinitionProblem:
    """One mistake (or, as a warning, one risk) in a definition file: where, what, what was expected."""

    path: str
    line: int
    column: int
    message: str
    expected: str | None = None
    code: str = "invalid"
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"
        return text + (f"; expected {self.expected}" if self.expected else "")


class DefinitionError(UserError):
    """A workflow definition that cannot be used; every problem found in one reading is in `problems`."""

    def __init__(self, path: Path | str, problems: Sequence[DefinitionProblem]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        first = self.problems[0]
        if len(self.problems) == 1:
            message = str(first)
        else:
            # One line per mistake, so the user fixes them all in one pass instead of one per run.
            message = f"{path}: {len(self.problems)} problems in the definition\n" + "\n".join(
                f"  {problem}" for problem in self.problems)
        super().__init__(message)


class UnknownState(UserError):
    """A state that the workflow definition does not have."""

    def __init__(self, workflow: str, state: str, known: Sequence[str]) -> None:
        self.workflow = workflow
        self.state = state
        close = suggest(state, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        super().__init__(f"workflow {workflow!r} has no state {state!r}{hint}; expected one of {', '.join(known)}")


class ExpressionFailed(UserError):
    """A CEL expression of a definition that cannot be evaluated on the case at hand."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"the expression {expression!r} failed: {reason}; "
                         f"expected the case to hold the fields the expression reads")


# Engine


class DatabaseUnavailable(UserError):
    """The engine's database cannot be opened: a bad URL, a missing folder, a server that does not answer."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot open the database {url}: {reason}; expected a SQLite file path (backoffice.db) "
                         f"or a URL such as postgresql+psycopg://user@host:5432/dbname")


class UnknownWorkflow(UserError):
    """A workflow (or one version of it) that was never deployed."""

    def __init__(self, workflow: str, known: Sequence[str], version: int | None = None) -> None:
        self.workflow = workflow
        self.version = version
        self.known = list(known)
        if version is not None:
            super().__init__(f"workflow {workflow!r} has no deployed version {version}; "
                             f"expected one of versions {', '.join(map(str, known)) or 'none'}")
            return
        close = suggest(workflow, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        super().__init__(f"no workflow {workflow!r} is deployed{hint}; expected one of "
                         f"{', '.join(known) or 'none yet (deploy one with backoffice deploy FILE)'}")


class WorkflowNotActive(UserError):
    """A workflow whose latest version is a draft or retired: it takes no new cases."""

    def __init__(self, workflow: str, version: int, status: str) -> None:
        self.workflow = workflow
        self.version = version
        self.status = status
        super().__init__(f"workflow {workflow!r} version {version} is {status} and takes no new cases; "
                         f"expected an active version (deploy one with status: active)")


class VersionAlreadyDeployed(UserError):
    """A definition whose version number is deployed already, with other content: versions are immutable."""

    def __init__(self, workflow: str, version: int, latest: int) -> None:
        self.workflow = workflow
        self.version = version
        self.latest = latest
        super().__init__(f"workflow {workflow!r} version {version} is already deployed with other content, and "
                         f"deployed versions never change; expected version: {latest + 1} for a changed definition")


class VersionOutOfOrder(UserError):
    """A new definition numbered below the latest deployed version of its workflow."""

    def __init__(self, workflow: str, version: int, latest: int) -> None:
        self.workflow = workflow
        self.version = version
        self.latest = latest
        super().__init__(f"workflow {workflow!r} version {version} is older than the deployed version {latest}; "
                         f"expected version: {latest + 1} or more for a new definition")


class UnknownCase(UserError):
    """A case id that no case has."""

    def __init__(self, case_id: object) -> None:
        self.case_id = case_id
        super().__init__(f"no case {case_id}; expected the id of a started case (see backoffice case list)")


class ContractViolation(UserError):
    """Case data that breaks the workflow's data contract; every violation is in `violations`."""

    def __init__(self, workflow: str, violations: Sequence[object]) -> None:
        self.workflow = workflow
        self.violations = list(violations)
        count = len(self.violations)
        # One line per violation, so the sender fixes them all in one pass instead of one per try.
        self.message = (f"the data breaks the inputs of workflow {workflow!r} ({count} "
                        f"violation{'' if count == 1 else 's'}):\n"
                        + "\n".join(f"  {violation}" for violation in self.violations))
        super().__init__(self.message)


class IdempotencyKeyReused(UserError):
    """An idempotency key sent again with a different payload: a retry must send the same request."""

    def __init__(self, workflow: str, key: str, case_id: object) -> None:
        self.workflow = workflow
        self.key = key
        self.case_id = case_id
        super().__init__(f"idempotency key {key!r} of workflow {workflow!r} already started case {case_id} with "
                         f"another payload; expected the same payload on a retry, or a new key for a new request")


class IdempotencyKeyTaken(UserError):
    """An idempotency key that started another requester's case: their case is neither returned nor named."""

    def __init__(self, workflow: str, key: str) -> None:
        self.workflow = workflow
        self.key = key
        super().__init__(f"idempotency key {key!r} of workflow {workflow!r} was used for another request; expected "
                         f"a key of your own, new for each new request")


class DuplicateIdempotencyKey(BackofficeError):
    """The store refused a second case with an idempotency key: the engine answers with the first case."""

    def __init__(self, workflow: str, key: str) -> None:
        self.workflow = workflow
        self.key = key
        super().__init__(f"a case of workflow {workflow!r} with idempotency key {key!r} exists")


class TransitionNotAllowed(UserError):
    """A move the case's definition version does not allow now, and why."""

    def __init__(self, case_id: object, state: str, to: str, reason: str) -> None:
        self.case_id = case_id
        self.state = state
        self.to = to
        self.reason = reason
        super().__init__(f"case {case_id} cannot move from {state!r} to {to!r}: {reason}")


class BranchesOpen(TransitionNotAllowed):
    """A move of a case out of a parallel, checklist or subcase state while the work it waits for is open."""

    def __init__(self, case_id: object, state: str, to: str, waiting: Sequence[str], join: str) -> None:
        self.waiting = list(waiting)
        shown = ", ".join(self.waiting) or "none"
        super().__init__(case_id, state, to, f"it waits in {state!r} for its branches (open: {shown}; the join "
                                             f"needs {join}) and moves on only when they join")


class StaleVersion(UserError):
    """An update based on an old version of a case: refused, never merged, so nobody's change is lost."""

    def __init__(self, case_id: object, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"case {case_id} is at version {actual}, not {expected}: someone changed it since you "
                         f"read it; expected --expected-version {actual} after checking the case again")


# Template library


class UnknownTemplate(UserError):
    """A template name that the library of workflows does not have."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        close = suggest(name, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        super().__init__(f"no template {name!r} in the library{hint}; expected one of {', '.join(known)} "
                         f"(see backoffice templates)")


class TemplateTargetExists(UserError):
    """Copying a template would overwrite a file that is already there: nothing is written."""

    def __init__(self, path: Path | str, template: str | None = None) -> None:
        self.path = Path(path)
        self.template = template
        copy = f" the template {template!r}" if template else " a template"
        super().__init__(f"{path}: already exists, and copying{copy} never overwrites a file; expected a "
                         f"destination where no such file is (another folder or file name)")


# Tasks, approvals and exceptions


class UnknownTask(UserError):
    """A task id that does not exist."""

    def __init__(self, task_id: object) -> None:
        self.task_id = task_id
        super().__init__(f"no task {task_id}; expected the id of a task (see backoffice task list)")


class TaskClosed(UserError):
    """A task that is already completed or cancelled: nothing more can be done on it."""

    def __init__(self, task_id: object, status: str) -> None:
        self.task_id = task_id
        self.status = status
        super().__init__(f"task {task_id} is {status}; expected an open task (see backoffice task list)")


class ApprovalNotReassigned(UserError):
    """A reassignment of an approval's task: who votes is the approval's rules to say, from every interface."""

    def __init__(self, task_id: object) -> None:
        self.task_id = task_id
        super().__init__(f"task {task_id} is an approval: approvals are delegated by their approver, within the "
                         f"approval's rules, never reassigned; expected a work, exception or in-doubt task "
                         f"(an approver hands their vote on with a delegation: backoffice directory delegate)")


class TaskAlreadyClaimed(UserError):
    """A task someone else holds a live claim on: one claimant at a time."""

    def __init__(self, task_id: object, claimed_by: str, until: object) -> None:
        self.task_id = task_id
        self.claimed_by = claimed_by
        self.until = until
        super().__init__(f"task {task_id} is claimed by {claimed_by} until {until}; expected a task nobody "
                         f"holds (or wait until the claim expires)")


class TaskNotClaimed(UserError):
    """Completing or releasing a task without holding its claim."""

    def __init__(self, task_id: object, actor: str, claimed_by: str | None) -> None:
        self.task_id = task_id
        self.actor = actor
        self.claimed_by = claimed_by
        holder = f"it is claimed by {claimed_by}" if claimed_by else "nobody holds it"
        super().__init__(f"{actor} does not hold the claim on task {task_id} ({holder}, or the claim expired); "
                         f"expected to claim it first (backoffice task claim {task_id})")


class NotEligibleForTask(UserError):
    """A task for another role or person."""

    def __init__(self, task_id: object, actor: str, needed: str) -> None:
        self.task_id = task_id
        self.actor = actor
        self.needed = needed
        super().__init__(f"task {task_id} is for {needed}, and {actor} is not; expected an actor who is")


class NoApprovalHere(UserError):
    """Voting on a case that is not in an approval state."""

    def __init__(self, case_id: object, state: str) -> None:
        self.case_id = case_id
        self.state = state
        super().__init__(f"case {case_id} is in {state!r}, which is no approval; expected a case waiting "
                         f"for approval")


class NotAnApprover(UserError):
    """Someone the approval does not name, or whose vote is cast already."""

    def __init__(self, case_id: object, actor: str, approvers: Sequence[str]) -> None:
        self.case_id = case_id
        self.actor = actor
        self.approvers = list(approvers)
        super().__init__(f"{actor} has no open approval on case {case_id}; expected one of "
                         f"{', '.join(approvers) or 'nobody (all votes are in)'}")


class SeparationOfDuties(UserError):
    """An approval by someone the definition's separation of duties excludes."""

    def __init__(self, case_id: object, actor: str, rule: str) -> None:
        self.case_id = case_id
        self.actor = actor
        self.rule = rule
        super().__init__(f"separation of duties: {actor} may not approve case {case_id}, because {rule}; "
                         f"expected an approver who did not touch the case")


class EvidenceMissing(UserError):
    """An approval before the evidence the definition requires is attached."""

    def __init__(self, case_id: object, documents: Sequence[str], fields: Sequence[str]) -> None:
        self.case_id = case_id
        self.documents = list(documents)
        self.fields = list(fields)
        parts = [f"documents {', '.join(documents)}" if documents else "",
                 f"fields {', '.join(fields)}" if fields else ""]
        super().__init__(f"case {case_id} lacks the evidence its approval requires: "
                         f"{' and '.join(p for p in parts if p)}; expected them attached "
                         f"(--evidence NAME) or filled first")


class DelegationNotAllowed(UserError):
    """Delegating an approval the definition does not let be delegated."""

    def __init__(self, case_id: object, state: str) -> None:
        self.case_id = case_id
        self.state = state
        super().__init__(f"the approval in {state!r} of case {case_id} cannot be delegated (delegation: false); "
                         f"expected the named approvers to decide")


class UnknownExceptionReason(UserError):
    """A reason code the definition's exception taxonomy lacks."""

    def __init__(self, reason: str, known: Sequence[str]) -> None:
        self.reason = reason
        self.known = list(known)
        close = suggest(reason, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        super().__init__(f"no exception reason {reason!r}{hint}; expected one of {', '.join(known) or 'none'}")


class ExceptionNotAllowed(UserError):
    """Raising an exception in a state the taxonomy's raised_in does not name."""

    def __init__(self, case_id: object, reason: str, state: str, allowed: Sequence[str]) -> None:
        self.case_id = case_id
        self.reason = reason
        self.state = state
        self.allowed = list(allowed)
        super().__init__(f"exception {reason!r} cannot be raised on case {case_id} in {state!r}; expected a case "
                         f"in {', '.join(allowed) or 'an open state'}")


class NoOpenException(UserError):
    """Resolving an exception on a case that has none open."""

    def __init__(self, case_id: object) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id} has no open exception; expected a case with one "
                         f"(backoffice exception raise)")


# Automated steps and the outbox


class UnknownAction(UserError):
    """An automated step names an action no one registered."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        close = suggest(name, known)
        hint = f" (did you mean {close!r}?)" if close else ""
        super().__init__(f"no action registered as {name!r}{hint}; expected one of {', '.join(known) or 'none'}")


class UnknownOutboxEntry(UserError):
    """An outbox entry id that does not exist."""

    def __init__(self, entry_id: object) -> None:
        self.entry_id = entry_id
        super().__init__(f"no outbox entry {entry_id}; expected an id from `backoffice dlq list`")


class NotDeadLettered(UserError):
    """Replaying an outbox entry that is not in the dead-letter queue."""

    def __init__(self, entry_id: object, status: str) -> None:
        self.entry_id = entry_id
        self.status = status
        super().__init__(f"outbox entry {entry_id} is {status}, not dead; expected an id from `backoffice dlq list`")


# Controls: approvals left only by their decision, governed change, operator roles


class ControlBypassed(TransitionNotAllowed):
    """A move out of an approval or a control state other than by its decision: refused from every interface."""

    def __init__(self, case_id: object, state: str, to: str, how: str, why: str) -> None:
        self.how = how
        self.why = why
        super().__init__(case_id, state, to, f"{state!r} is a control and is left only by its decision; {why}")


class FieldImmutable(UserError):
    """A change, after intake, to a field the definition declares immutable after intake."""

    def __init__(self, case_id: object, fields: Sequence[str]) -> None:
        self.case_id = case_id
        self.fields = list(fields)
        super().__init__(f"case {case_id}: {', '.join(self.fields)} cannot change after intake "
                         f"(inputs.immutable_after_intake); expected the values the request was submitted with, "
                         f"or a new request")


class RouteFieldLocked(UserError):
    """A change to a field that chose the case's route, after an approval it cannot come back to was decided on it."""

    def __init__(self, case_id: object, fields: Sequence[str], approval: str) -> None:
        self.case_id = case_id
        self.fields = list(fields)
        self.approval = approval
        super().__init__(f"case {case_id}: {', '.join(self.fields)} chose the approval at {approval!r}, which "
                         f"decided already; expected the decided values, or an exception that sends the case "
                         f"back before the approval")


class RoleRequired(UserError):
    """An operation reserved to a role (operator, change-approver) by someone who does not hold it."""

    def __init__(self, actor: str, roles: Sequence[str], what: str) -> None:
        self.actor = actor
        self.roles = list(roles)
        self.what = what
        super().__init__(f"{actor} may not {what}: it needs the role {' or '.join(self.roles)}, which the "
                         f"directory does not grant {actor} (or not in the role chosen); expected an actor it is "
                         f"granted to (backoffice directory grant {self.roles[0]} --to PERSON)")


class ChangeNotPending(UserError):
    """An approval or rejection of a change that is not pending, or of content other than the pending one."""

    def __init__(self, workflow: str, version: int, reason: str) -> None:
        self.workflow = workflow
        self.version = version
        self.reason = reason
        super().__init__(f"{workflow} version {version}: {reason}")


class ChangeApprovalRefused(UserError):
    """An approval of a pending change by someone who may not give it (its deployer, or without the role)."""

    def __init__(self, workflow: str, version: int, actor: str, reason: str) -> None:
        self.workflow = workflow
        self.version = version
        self.actor = actor
        self.reason = reason
        super().__init__(f"{actor} may not approve {workflow} version {version}: {reason}")


class ChangeAlreadyPending(UserError):
    """A deploy of a version number that waits already, with other content."""

    def __init__(self, workflow: str, version: int, content_hash: str) -> None:
        self.workflow = workflow
        self.version = version
        self.content_hash = content_hash
        super().__init__(f"{workflow} version {version} is waiting for a second person already, with content "
                         f"{content_hash[:12]}; expected that content, or the pending change rejected first "
                         f"(backoffice workflow reject-change)")


class AlreadyVoted(UserError):
    """A second vote by one person in one approval, under another role, spelling or task."""

    def __init__(self, case_id: object, actor: str, earlier: str, state: str) -> None:
        self.case_id = case_id
        self.actor = actor
        self.earlier = earlier
        self.state = state
        super().__init__(f"{actor} may not vote again on case {case_id} in {state!r}: {earlier} voted already, "
                         f"and one person casts one vote whatever roles they hold; expected another approver")


class AuditKeyError(UserError):
    """The audit key file cannot be read, created or trusted."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; expected an Ed25519 private key in PEM, readable by its owner only "
                         f"(set BACKOFFICE_AUDIT_KEY to the engine's key file)")


class CheckpointStoreError(UserError):
    """The checkpoint store cannot be read or written, or holds a file that is not a checkpoint."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; expected a folder of signed checkpoints "
                         f"(set BACKOFFICE_CHECKPOINTS to the engine's checkpoint folder)")


class TrailWentBack(BackofficeError):
    """The audit trail holds less than a signed checkpoint saw: no new checkpoint is signed over it."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the audit trail went back since the last checkpoint, so no checkpoint was signed: "
                         + "; ".join(self.problems[:5]) + (f" (and {len(self.problems) - 5} more)"
                                                           if len(self.problems) > 5 else "")
                         + "; run `backoffice audit verify`")


class EvidencePackError(UserError):
    """An evidence pack file that cannot be read as a pack."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; expected an evidence pack written by `backoffice audit export`")


class AuditTrailBroken(BackofficeError):
    """The audit trail does not verify: what was found, so nothing is exported over it."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the audit trail does not verify, so nothing was exported: " + "; ".join(self.problems[:5])
                         + "; run `backoffice audit verify`")


class DefinitionAltered(BackofficeError):
    """What the engine runs by (a definition version, a workflow's mode) is not as its audited change wrote it.

    Someone changed the row in the database, outside the engine: the engine refuses to run it
    rather than run a control that may have been taken out. Not the caller's mistake; the data refuses.
    """

    exit_code = 1

    def __init__(self, workflow: str, version: int | None, problem: str) -> None:
        what = f"{workflow} version {version}" if version is not None else f"the mode of {workflow}"
        self._refuse(what, problem, will_not="run it",
                     remedy=" and deploy the definition again (a new version) through the engine",
                     workflow=workflow, version=version)

    def _refuse(self, what: str, problem: str, *, will_not: str, remedy: str, workflow: str = "",
                version: int | None = None) -> None:
        """Set the data and the one sentence every altered row is refused with: what, how, and what to do."""
        self.workflow = workflow
        self.version = version
        self.problem = problem
        self.message = (f"{what} {problem}, so the engine will not {will_not}; nothing was written. Run "
                        f"`backoffice audit verify`{remedy}")
        BackofficeError.__init__(self, self.message)


class CaseAltered(DefinitionAltered):
    """A case's row (its state, data, version, routing) is not as the audit record that last wrote it lists it.

    Someone changed it in the database, outside the engine (say, set its state to skip an
    approval): the engine refuses to act on it, from every interface, as it refuses an altered
    definition (409 over HTTP, exit 1 on the CLI). Not the caller's mistake; the data refuses.
    """

    def __init__(self, case_id: int, problem: str) -> None:
        self.case_id = case_id
        self._refuse(f"case {case_id}", problem, will_not="act on it",
                     remedy=": the case must be put back as its last record wrote it")


class DirectoryAltered(DefinitionAltered):
    """A directory row the gate decides by (a person, a grant, a delegation, a token) is not as its record lists it.

    Someone added or changed it in the database, outside the engine (say, granted themselves the
    administrator role): the engine refuses to act on it, as it refuses an altered definition
    (409 over HTTP, exit 1 on the CLI). Not the caller's mistake; the data refuses.
    """

    def __init__(self, table: str, key: object, problem: str) -> None:
        self.table = table
        self.key = key
        self._refuse(f"{table} row {key}", problem, will_not="act on it",
                     remedy=": the directory must be changed through the engine")


class StepNotInDoubt(UserError):
    """Confirming an automated step whose outcome is not in doubt (any more)."""

    def __init__(self, entry_id: object, status: str) -> None:
        self.entry_id = entry_id
        self.status = status
        super().__init__(f"outbox entry {entry_id} is {status}, not in doubt; expected an id from "
                         f"`backoffice step in-doubt`")


class NoResultForConfirmation(UserError):
    """Confirming that a step happened without the result its way out needs, or with a result for one that did not."""

    def __init__(self, entry_id: object, problem: str) -> None:
        self.entry_id = entry_id
        self.problem = problem
        super().__init__(f"outbox entry {entry_id}: {problem}")


# Hostile input


class InputRefused(UserError):
    """Input past one of the bounds of `backoffice.limits`, or not plain data: refused before anything is written."""

    def __init__(self, what: str, problem: str, expected: str) -> None:
        self.what = what
        self.problem = problem
        self.expected = expected
        super().__init__(f"{what}: {problem}; expected {expected}")


# --- the directory and the gate: who acts, and with what authority ---

class IdentityError(UserError):
    """Who acts could not be established, or may not do what they asked."""


class UnknownActor(IdentityError):
    """An id that names no person or service account in the directory."""

    def __init__(self, actor: str) -> None:
        self.actor = actor
        super().__init__(f"{actor!r} is not in the directory; expected a person or service account added with "
                         f"`backoffice directory person add` (or `service-account add`)")


class InactiveActor(IdentityError):
    """A deactivated person or service account."""

    def __init__(self, actor: str) -> None:
        self.actor = actor
        super().__init__(f"{actor!r} is deactivated in the directory; expected an active person or service account")


class BadActorId(IdentityError, InputRefused, ValueError):
    """An actor id that is not text, blank, too long, or holds control characters or lone surrogates.

    Refused hostile input too (an `InputRefused`), and a ValueError as a blank id always was.
    """

    def __init__(self, value: object, problem: str) -> None:
        self.value = value
        InputRefused.__init__(self, "the actor", problem, "a person or service account id such as alice or svc-portal")


class RoleNotHeld(IdentityError):
    """A chosen role the actor does not hold (in this workflow)."""

    def __init__(self, actor: str, role: str, held: Sequence[str], *, workflow: str | None = None) -> None:
        self.actor = actor
        self.role = role
        self.held = list(held)
        self.workflow = workflow
        where = f" in {workflow}" if workflow else ""
        holds = ", ".join(held) if held else "no role"
        super().__init__(f"{actor} does not hold the role {role!r}{where}; they hold {holds}; expected --role to "
                         f"name one of the roles the directory grants them")


class NotAuthorizedOnBehalf(IdentityError):
    """Acting for someone else without the administrator role or a delegation that covers the act."""

    def __init__(self, actor: str, on_behalf_of: str, reason: str) -> None:
        self.actor = actor
        self.on_behalf_of = on_behalf_of
        self.reason = reason
        super().__init__(f"{actor} may not act on behalf of {on_behalf_of}: {reason}; expected the administrator "
                         f"role, or a delegation from {on_behalf_of} that covers this workflow, role and time")


class NotAdministrator(IdentityError):
    """A change to the directory by someone who is not an administrator."""

    def __init__(self, actor: str, what: str) -> None:
        self.actor = actor
        self.what = what
        super().__init__(f"{actor} may not {what}: it needs the administrator role")


class DirectoryConflict(UserError):
    """A directory change that clashes with what is there (an id taken, a grant that is not there)."""

    def __init__(self, what: str, expected: str) -> None:
        self.what = what
        self.expected = expected
        super().__init__(f"{what}; expected {expected}")


class DelegationRefused(UserError):
    """A delegation that cannot be made: a delegate who is not eligible, a bad window, a transitive chain."""

    def __init__(self, delegator: str, delegate: str, reason: str) -> None:
        self.delegator = delegator
        self.delegate = delegate
        self.reason = reason
        super().__init__(f"{delegator} cannot delegate to {delegate}: {reason}")


class BadToken(IdentityError):
    """A token that is unknown, revoked or expired, or used for a role outside its scope."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"the token in BACKOFFICE_TOKEN {problem}; expected a live token from "
                         f"`backoffice directory token create`")


class NoIdentity(IdentityError):
    """A command run with no token and by an operating-system user the directory does not map."""

    def __init__(self, os_user: str, *, empty: bool) -> None:
        self.os_user = os_user
        self.empty = empty
        if empty:
            hint = (f"the directory is empty: bootstrap it with `backoffice directory bootstrap --admin ID`, which "
                    f"maps {os_user!r} to the first administrator")
        else:
            hint = (f"expected BACKOFFICE_TOKEN set to a token from `backoffice directory token create`, or "
                    f"{os_user!r} mapped to a person with `backoffice directory person add ID --os-user {os_user}`")
        super().__init__(f"no identity: no token in BACKOFFICE_TOKEN and the operating-system user {os_user!r} is "
                         f"not mapped to a person in the directory; {hint}")


class SignInNotAllowed(IdentityError):
    """Someone an identity provider vouched for, whom the directory does not let in."""

    def __init__(self, who: str, reason: str) -> None:
        self.who = who
        self.reason = reason
        super().__init__(f"sign-in refused for {who!r}: {reason}; expected an active person of the directory")


class AlreadyBootstrapped(DirectoryConflict):
    """Bootstrap on a directory that already has people."""

    def __init__(self, people: int) -> None:
        self.people = people
        UserError.__init__(self, f"the directory already has {people} person(s): bootstrap only works on an empty "
                                 f"directory; expected an administrator to add people with "
                                 f"`backoffice directory person add`")


class ImportFileError(UserError):
    """An HRIS export that cannot be imported; every bad row is named by its line (or item) and field."""

    def __init__(self, path: Path | str, problems: Sequence[tuple[str, str, str]]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        shown = "; ".join(f"{path}, {where}" + (f", field {field}" if field else "") + f": {problem}"
                          for where, field, problem in self.problems[:20])
        more = f"; and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"nothing imported: {shown}{more}")


# BPMN


class BpmnFileError(UserError):
    """A file that cannot be read as a BPMN 2.0 process: where the problem is and what was expected."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None, expected: str | None = None,
                 element: str | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.line = line
        self.expected = expected
        self.element = element
        message = f"{_where(path, line)}: {problem}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


# Serving people (the API and the web app share these)


class NotVisible(UserError):
    """Something that exists but is not the caller's to see: answered as absent, so ids leak nothing."""

    title = "Not found"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no {what} you may see; expected the id of one of your cases, your queues' tasks, or a "
                         f"role that reads it")


class Forbidden(UserError):
    """An authenticated person asking for something their roles do not allow."""

    title = "Forbidden"


class EvidenceRefused(UserError):
    """An uploaded file that is not kept as evidence: empty, markup a browser would run, or of another kind."""

    title = "Unsupported evidence"

    def __init__(self, problem: str, expected: str) -> None:
        self.problem = problem
        self.expected = expected
        super().__init__(problem)


class TooManyRequests(UserError):
    """A caller past a rate limit (intake, sign-in): how long until they may try again."""

    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int, expected: str) -> None:
        self.retry_after = retry_after
        self.expected = expected
        super().__init__(message)


class SignInRefused(UserError):
    """A sign-in that proves nothing: the same answer for an unknown person, a wrong password or an inactive one."""

    def __init__(self) -> None:
        super().__init__("the person id or password is not right; expected the id and password of an active "
                         "person of the directory")


class PasswordRefused(UserError):
    """A password that is too weak or too long to be set."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"the password is {problem}; expected 12 to 1024 characters, not only spaces")
