"""The HTTP status of each error a person can cause, shared by the API (problem+json) and the web app (pages).

A user's mistake is a 4xx, never a 5xx: the engine's errors map to statuses by class (the
nearest listed ancestor wins); anything unlisted is a bug (500).
"""

from __future__ import annotations

from backoffice import errors as e

# The nearest listed ancestor of an error's class decides its status.
STATUS_BY_ERROR: dict[type[BaseException], int] = {
    e.UnknownCase: 404,
    e.UnknownTask: 404,
    e.UnknownWorkflow: 404,
    e.UnknownOutboxEntry: 404,
    e.UnknownState: 422,
    e.StaleVersion: 412,
    e.SeparationOfDuties: 403,
    e.NotEligibleForTask: 403,
    e.NotAnApprover: 403,
    e.DelegationNotAllowed: 403,
    e.TransitionNotAllowed: 409,
    e.TaskAlreadyClaimed: 409,
    e.TaskClosed: 409,
    e.ApprovalNotReassigned: 409,
    e.TaskNotClaimed: 409,
    e.NoApprovalHere: 409,
    e.EvidenceMissing: 409,
    e.NoOpenException: 409,
    e.ExceptionNotAllowed: 409,
    e.NotDeadLettered: 409,
    e.WorkflowNotActive: 409,
    e.VersionAlreadyDeployed: 409,
    e.VersionOutOfOrder: 409,
    e.IdempotencyKeyReused: 422,
    e.IdempotencyKeyTaken: 409,
    e.ContractViolation: 422,
    e.DefinitionError: 422,
    e.ContractFileError: 422,
    e.UnknownExceptionReason: 422,
    e.UnknownAction: 422,
    e.ExpressionFailed: 422,
    e.BadToken: 401,
    e.UnknownActor: 422,
    e.InactiveActor: 403,
    e.BadActorId: 422,
    e.RoleNotHeld: 403,
    e.NotAuthorizedOnBehalf: 403,
    e.NotAdministrator: 403,
    e.DelegationRefused: 409,
    e.DirectoryConflict: 409,
    e.DatabaseUnavailable: 503,
    e.RoleRequired: 403,
    e.ChangeApprovalRefused: 403,
    e.AlreadyVoted: 409,
    e.FieldImmutable: 409,
    e.RouteFieldLocked: 409,
    e.ChangeNotPending: 409,
    e.ChangeAlreadyPending: 409,
    e.NotVisible: 404,
    e.Forbidden: 403,
    e.EvidenceRefused: 415,
    e.TooManyRequests: 429,
    e.SignInRefused: 401,
    e.StepNotInDoubt: 409,
    e.NoResultForConfirmation: 422,
    e.InputRefused: 422,
    e.NoIdentity: 401,
    # An identity provider vouched for someone the directory does not let in (deactivated, unknown
    # and not provisioned, a service account's id): who they are is known, and they may not enter.
    e.SignInNotAllowed: 403,
    # Who acts is known but may not do what they asked; its subclasses above say more.
    e.IdentityError: 403,
    # A password too weak or too long: the field's value is refused, as any other input.
    e.PasswordRefused: 422,
    e.DuplicateIdempotencyKey: 409,
    # The trail is not as its checkpoints say: nothing is exported or signed over it, and the
    # problem names the first record at fault (the state of the data refuses, not the request).
    e.AuditTrailBroken: 409,
    e.TrailWentBack: 409,
    # A definition version or mode changed in the database outside the engine: nothing runs on it.
    e.DefinitionAltered: 409,
    # The server's own audit key or checkpoint folder cannot be used: not the caller's mistake,
    # and not a bug either; like an unreachable database, the server cannot serve it now.
    e.AuditKeyError: 503,
    e.CheckpointStoreError: 503,
    e.UserError: 400,
}


def status_of_error(error: BaseException) -> int:
    """Return the HTTP status of an error, by the nearest of its classes the table lists (500 for a bug)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500
