"""The directory rows the gate decides by, held to the audit records that wrote them.

Who may act, and as what, is read from the directory (people, service accounts, role grants, the
group memberships a group's grant reaches a person through, delegations, API tokens) on every act,
and what they see from it too (their queue memberships, the grants scoped to one workflow). Those rows are bound to the audit trail
(`store.audit_store.BOUND_TABLES`), so `audit verify` names one added or edited in SQL; the gate
holds each row it decides by to the system chain's record that last wrote it (`sealed_rows.row_problem`),
so such a row is refused when used, not only named afterwards.

Cheap on the hot path: the gate's reads return, besides the roles, the rows they counted (each
row's key and the values the gate decides by) and the system chain's head, in the same statement.
An engine keeps the rows it has held to their records (`HeldRows`) while that head stays where it
was: every directory change the engine makes moves it, so a row it holds that is still as held
costs nothing more; any other (new, changed, or first seen since the head moved) costs the
read of its writer record, the writers of all such rows of one act in one statement (`directory_writers`).

Memberships: a grant to a group counts for a person through their row in `group_members`, so the
gate's reads return, with each group's grant, the group it reaches the person through, and hold
that membership row (keyed as the trail lists it, the JSON of its two values) beside the grant: a
membership inserted in SQL, or moved to another group (a new key), gives no role and is refused.
The queues a person works (`queue_members`), which decide the tasks and cases they see, are held
where they are read: with a token's holder (`token_holder`, the same statement as their grants)
and by `Engine.queues_of` (the web's reads of who looks).

What this does not see (`audit verify` does): a membership removed in SQL (it takes a role away,
gives none); a group's own row (`person_groups`: the gate decides by the grant and the membership,
not by it); a row put back as an older record wrote it after its record was deleted; and, between
two directory changes, a row the engine held that someone deleted and inserted again exactly as it
was while also moving the system chain's head back. People, service accounts and memberships
written before revision 0008 are listed by no record and have no numeric key a legacy mark covers:
they are refused until changed through the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PEOPLE = "people"
SERVICE_ACCOUNTS = "service_accounts"
ROLE_GRANTS = "role_grants"
DELEGATIONS = "delegations"
API_TOKENS = "api_tokens"
GROUP_MEMBERS = "group_members"
QUEUE_MEMBERS = "queue_members"

_LIMIT = 100_000


def decided_by(table: str, values: Mapping[str, Any], prefix: str = "") -> tuple:
    """Return what the gate decides by in a directory row, from its values as stored (each named `prefix` + name)."""
    if table in (PEOPLE, SERVICE_ACCOUNTS):
        return (bool(values[prefix + "active"]),)
    if table == ROLE_GRANTS:
        return (values[prefix + "grantee_kind"], values[prefix + "grantee"], values[prefix + "role"],
                values[prefix + "workflow"])
    if table == API_TOKENS:
        return (values[prefix + "token_hash"], values[prefix + "principal"], str(values[prefix + "principal_kind"]),
                tuple(values[prefix + "roles"] or ()), values[prefix + "expires_at"], values[prefix + "revoked_at"])
    if table == GROUP_MEMBERS:  # the whole row, which is its key: (group, person)
        return (values[prefix + "group_id"], values[prefix + "person_id"])
    if table == QUEUE_MEMBERS:
        return (values[prefix + "queue"], values[prefix + "person_id"])
    return tuple(values[name] for name in sorted(values))


class HeldRows:
    """The directory rows one engine has held to their records, valid while the system chain's head stays put."""

    def __init__(self) -> None:
        self.head: tuple | None = None
        self.rows: dict[tuple[str, Any], tuple] = {}

    def unheld(self, rows: Iterable[tuple], head: tuple | None) -> list[tuple]:
        """Return the rows not held as they are now (all of them when the head moved, or is unknown)."""
        if head is None or head != self.head:
            self.rows.clear()
            self.head = head
        held = self.rows
        return [row for row in rows if held.get((row[0], row[1])) != row[2]]

    def hold(self, table: str, key: Any, decided: tuple) -> None:
        if self.head is None:
            return
        if len(self.rows) >= _LIMIT:
            self.rows.clear()
        self.rows[(table, key)] = decided
