"""Who looks: a person, with the roles and queues the directory and the deployed definitions give them."""

from __future__ import annotations

from backoffice.engine import Engine
from backoffice.engine.identity import canonical_id
from backoffice.engine.worklist import Viewer
from backoffice.services.visibility import READS_EVERY_CASE



def viewer_of(engine: Engine, person: str) -> Viewer:
    """Return the viewer `person` is: their roles (in every workflow, and in one), and their queues (memberships and
    the queues of the roles they hold in each workflow).

    `person` is who the session proves; nothing a client sends changes what follows from it.

    Raises:
        UnknownActor, InactiveActor: not an active principal of the directory.
    """
    person = canonical_id(person)
    # A role granted in one workflow only counts there (as in the gate): its queues, its tasks, its cases.
    # Read as the gate reads them, each grant (a group's too) held to its record: one inserted in SQL shows nothing.
    everywhere, scoped = engine.roles_in_every_workflow_and_one(person)
    roles = tuple(everywhere)
    queues = dict.fromkeys(engine.queues_of(person))   # each membership held to its record, as the roles are
    latest = {}
    for stored in engine.versions():
        latest[stored.workflow] = stored.version
    for workflow, version in latest.items():
        definition = engine.running(workflow, version).definition
        held = (*roles, *(role for scope, role in scoped if scope == workflow))
        queues.update(dict.fromkeys(role.queue for role_id, role in definition.roles.items()
                                    if role.queue is not None and role_id in held))
        queues.update(dict.fromkeys(queue_id for queue_id, queue in definition.queues.items()
                                    if queue.role is not None and queue.role in held))
    return Viewer(person=person, roles=roles, queues=tuple(queues),
                  sees_everything=any(role in roles for role in READS_EVERY_CASE), scoped_roles=scoped,
                  every_case_of=tuple(sorted({workflow for workflow, role in scoped if role in READS_EVERY_CASE})))
