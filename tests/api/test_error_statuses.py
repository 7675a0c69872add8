"""Every error a person can cause is a 4xx over HTTP, found by walking the error classes, not by a list.

A new error class that nobody added to the status table falls back to its nearest listed
ancestor; one outside UserError would fall to 500 (a bug). These tests walk every subclass of
BackofficeError, so an error added later is judged too.
"""

from __future__ import annotations

import importlib
import pkgutil

import backoffice
from backoffice import errors as e
from backoffice.api.problems import ApiError
from backoffice.cli.calendar_input import CalendarInputError
from backoffice.definitions.docs import DocsError
from backoffice.services.statuses import STATUS_BY_ERROR, status_of_error
from backoffice.web.oidc import ProviderAnswerRefused
from backoffice.web.sessions import SignInRequired

# Error classes live beside the code that raises them too: import every module, so that the walk
# below sees them all whichever tests ran before (the migrations' environment runs only under Alembic).
for module in pkgutil.walk_packages(backoffice.__path__, "backoffice."):
    if not module.name.startswith("backoffice.store.migrations"):
        importlib.import_module(module.name)

# Not the caller's doing: the server's database, audit key or checkpoint folder cannot be used now.
SERVER_SIDE = {e.DatabaseUnavailable, e.AuditKeyError, e.CheckpointStoreError}
# Mistakes in a file or an option given to the command line: a plain 400 where they reach HTTP at all.
# Every other class needs a status of its own in the table (or a listed ancestor other than UserError).
PLAIN_BAD_REQUEST = {e.UserError, e.BadOption, e.LogFileError, e.BadTimestamp, e.EmptyLog, e.LogFileNotFound,
                     e.MalformedXml, e.MissingColumn, e.NotUtf8, e.TruncatedGzip, e.UnknownLogFormat, e.BpmnFileError,
                     e.ConfigFileError, e.ContractsNotComparable, e.EvidencePackError, e.ImportFileError,
                     e.OutputFileError, e.PayloadFileError, e.TemplateTargetExists, e.UnknownTemplate, DocsError,
                     CalendarInputError}
# Answered by the web app's own handling, never by the table: a redirect to sign in, and the OpenID
# Connect refusal that carries the status of what went wrong (400, 403, 502, 503).
OWN_ANSWER = {SignInRequired, ProviderAnswerRefused}


def subclasses(root: type) -> set[type]:
    found: set[type] = set()
    for cls in root.__subclasses__():
        found |= {cls, *subclasses(cls)}
    return found


def status_of_class(cls: type) -> int:
    return next(STATUS_BY_ERROR[k] for k in cls.__mro__ if k in STATUS_BY_ERROR) if any(
        k in STATUS_BY_ERROR for k in cls.__mro__) else 500


def test_every_error_a_user_can_cause_is_a_4xx():
    found = subclasses(e.BackofficeError)
    assert len(found) > 50   # the walk reaches the whole tree, not one branch
    wrong = {cls.__name__: status_of_class(cls) for cls in found
             if cls not in SERVER_SIDE and not any(issubclass(cls, s) for s in SERVER_SIDE)
             and not 400 <= status_of_class(cls) < 500}
    assert wrong == {}


def test_no_error_of_the_platform_falls_to_a_server_error():
    assert {cls.__name__ for cls in subclasses(e.BackofficeError) if status_of_class(cls) >= 500} == \
        {cls.__name__ for cls in SERVER_SIDE}
    assert all(status_of_class(cls) == 503 for cls in SERVER_SIDE)


def test_only_the_command_lines_file_and_option_errors_fall_to_a_plain_400():
    fall_to_user_error = {cls for cls in subclasses(e.BackofficeError) | {e.UserError}
                          if next((k for k in cls.__mro__ if k in STATUS_BY_ERROR), None) is e.UserError
                          and not issubclass(cls, ApiError)    # the HTTP layer's own errors carry their status
                          and cls not in OWN_ANSWER}
    assert {cls.__name__ for cls in fall_to_user_error} == {cls.__name__ for cls in PLAIN_BAD_REQUEST}


def test_the_errors_of_signing_in_have_their_own_status():
    # The provider vouched for them; the directory refuses them: known, and not let in.
    assert status_of_error(e.SignInNotAllowed("carol", "they are deactivated in the directory")) == 403
    assert STATUS_BY_ERROR[e.SignInNotAllowed] == 403
    assert status_of_error(e.SignInRefused()) == 401
    assert status_of_error(e.BadToken("expired")) == 401
    assert status_of_error(e.NoIdentity("nobody", empty=False)) == 401
    assert status_of_error(e.PasswordRefused("too short")) == 422


def test_the_errors_of_steps_in_doubt_and_hostile_input_have_their_own_status():
    assert status_of_error(e.StepNotInDoubt(7, "done")) == 409
    assert status_of_error(e.NoResultForConfirmation(7, "a result for a step that did not happen")) == 422
    assert status_of_error(e.InputRefused("the result", "holds NUL", "plain text")) == 422
    assert status_of_error(e.AuditTrailBroken(["record 3 altered"])) == 409
    assert status_of_error(e.TrailWentBack(["chain case:1 is shorter"])) == 409
    # The nearest listed ancestor decides: BadActorId is an InputRefused, listed on its own.
    assert status_of_error(e.BadActorId("x\x00y", "holds a control character")) == 422


def test_a_bug_is_a_500_not_a_4xx():
    assert status_of_error(KeyError("x")) == 500

