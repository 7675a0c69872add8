"""`backoffice directory`: who people are and what they may do (bootstrap, people, groups, grants, tokens...).

Every change is made by whoever the command establishes (see `backoffice.cli.identity`),
checked and audited by the engine; only `bootstrap`, on an empty directory, acts before
anyone exists, and maps the operating-system user running it to the first administrator.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from backoffice.cli.engine_commands import AsJson, Db, _engine, _now, _when, console
from backoffice.cli.identity import acting, os_user
from backoffice.cli.moments import parse_moment
from backoffice.engine.identity import canonical_id
from backoffice.errors import BadOption

directory_app = typer.Typer(help="People and authority: the directory of people, groups, roles, tokens, "
                                 "delegations.", no_args_is_help=True)
person_app = typer.Typer(help="Add, deactivate and list people.", no_args_is_help=True)
group_app = typer.Typer(help="Groups and teams: their members hold the roles granted to the group.",
                        no_args_is_help=True)
queue_app = typer.Typer(help="Who works which queue.", no_args_is_help=True)
service_app = typer.Typer(help="Service accounts: systems and workers, acting with a token.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: shown once, stored as a hash, scoped, expiring, revocable.",
                        no_args_is_help=True)
directory_app.add_typer(person_app, name="person")
directory_app.add_typer(group_app, name="group")
directory_app.add_typer(queue_app, name="queue")
directory_app.add_typer(service_app, name="service-account")
directory_app.add_typer(token_app, name="token")

Id = Annotated[str, typer.Argument(metavar="ID", help="A person's or service account's id (trimmed, case-folded).")]
Workflow = Annotated[Optional[str], typer.Option("--workflow", help="Only in this workflow (default: in all).")]


def _id(text: str) -> str:
    """The id as the directory keeps it, for messages (the engine refuses a bad one with its own error)."""
    try:
        return canonical_id(text)
    except ValueError:
        return text


def _changed(changed: bool, done: str, nothing: str) -> None:
    console.print(done if changed else f"{nothing}; nothing changed")


@directory_app.command("bootstrap")
def bootstrap(
    admin: Annotated[str, typer.Option("--admin", help="The first administrator's id.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Their name.")] = None,
    email: Annotated[Optional[str], typer.Option("--email", help="Their email address.")] = None,
    db: Db = "backoffice.db",
) -> None:
    """Create the first administrator of an empty directory, mapped to the OS user running this."""
    user = os_user()
    person = _engine(db).bootstrap(admin, now=_now(), name=name, email=email, os_user=user)
    console.print(f"directory bootstrapped: {person.id} ({person.name}) is an administrator, mapped to the "
                  f"operating-system user {user}")


@person_app.command("add")
def person_add(
    person_id: Id,
    name: Annotated[str, typer.Option("--name", help="Their name.")],
    email: Annotated[Optional[str], typer.Option("--email", help="Their email address.")] = None,
    os_account: Annotated[Optional[str], typer.Option("--os-user", help="The OS account that acts as them on this "
                                                      "machine.")] = None,
    db: Db = "backoffice.db",
) -> None:
    """Add a person."""
    engine = _engine(db)
    person = engine.add_person(person_id, name=name, email=email, os_user=os_account, actor=acting(engine),
                               now=_now())
    console.print(f"added {person.id} ({person.name})" + (f", OS user {person.os_user}" if person.os_user else ""))


@person_app.command("deactivate")
def person_deactivate(person_id: Id, db: Db = "backoffice.db") -> None:
    """Deactivate a person or service account: they can no longer act (nor their tokens, nor their delegates)."""
    engine = _engine(db)
    _changed(engine.set_active(person_id, False, actor=acting(engine), now=_now()),
             f"deactivated {_id(person_id)}", f"{_id(person_id)} is inactive already")


@person_app.command("reactivate")
def person_reactivate(person_id: Id, db: Db = "backoffice.db") -> None:
    """Reactivate a person or service account."""
    engine = _engine(db)
    _changed(engine.set_active(person_id, True, actor=acting(engine), now=_now()),
             f"reactivated {_id(person_id)}", f"{_id(person_id)} is active already")


@person_app.command("list")
def person_list(db: Db = "backoffice.db", as_json: AsJson = False) -> None:
    """List people with their roles, groups and queues."""
    engine = _engine(db)
    store = engine.store
    grants = store.grants()
    groups = store.groups()
    queues = store.queue_members()
    rows = []
    for person in store.people():
        member_of = [g.id for g in groups if person.id in g.members]
        roles = sorted({_scoped(g.role, g.workflow) for g in grants if g.grantee == person.id
                        and str(g.grantee_kind) == "person"}
                       | {f"{_scoped(g.role, g.workflow)} (via {g.grantee})" for g in grants
                          if str(g.grantee_kind) == "group" and g.grantee in member_of})
        rows.append({"id": person.id, "name": person.name, "email": person.email, "active": person.active,
                     "os_user": person.os_user, "roles": roles, "groups": member_of,
                     "queues": [queue for queue, member in queues if member == person.id]})
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "name", "active", "OS user", "roles", "groups", "queues", show_edge=False)
    for row in rows:
        table.add_row(row["id"], row["name"], "yes" if row["active"] else "no", row["os_user"] or "-",
                      ", ".join(row["roles"]) or "-", ", ".join(row["groups"]) or "-", ", ".join(row["queues"]) or "-")
    console.print(table)


@group_app.command("add")
def group_add(group_id: Annotated[str, typer.Argument(metavar="GROUP")],
              name: Annotated[Optional[str], typer.Option("--name", help="The group's name.")] = None,
              db: Db = "backoffice.db") -> None:
    """Add a group (a team)."""
    engine = _engine(db)
    _changed(engine.add_group(group_id, name=name, actor=acting(engine), now=_now()),
             f"added group {_id(group_id)}", f"group {_id(group_id)} exists")


@group_app.command("add-member")
def group_add_member(group_id: Annotated[str, typer.Argument(metavar="GROUP")], person_id: Id,
                     db: Db = "backoffice.db") -> None:
    """Add a person to a group."""
    engine = _engine(db)
    _changed(engine.add_to_group(group_id, person_id, actor=acting(engine), now=_now()),
             f"{_id(person_id)} is a member of {_id(group_id)}", f"{_id(person_id)} is a member already")


@group_app.command("remove-member")
def group_remove_member(group_id: Annotated[str, typer.Argument(metavar="GROUP")], person_id: Id,
                        db: Db = "backoffice.db") -> None:
    """Remove a person from a group."""
    engine = _engine(db)
    _changed(engine.add_to_group(group_id, person_id, actor=acting(engine), now=_now(), remove=True),
             f"{_id(person_id)} left {_id(group_id)}", f"{_id(person_id)} is not a member")


@directory_app.command("password")
def password(
    person_id: Id,
    from_stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from the first line of standard "
                                                             "input (for scripts), instead of a prompt.")] = False,
    db: Db = "backoffice.db",
) -> None:
    """Set a person's local password for the web app (an administrator, or the person for themselves).

    The password is read from a prompt (typed twice, not shown) or from standard input, never
    from the command line, where other users could see it in the process list. It is kept as
    an Argon2id hash; the person's open web sessions end.
    """
    import sys

    from backoffice.services.accounts import LocalAccounts

    if from_stdin or not sys.stdin.isatty():
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    engine = _engine(db)
    LocalAccounts(engine).set_password(person_id, secret, actor=acting(engine), now=_now())
    console.print(f"password set for {_id(person_id)}: they sign in to the web app with it; their open sessions "
                  f"are ended")


@directory_app.command("grant")
def grant(role: Annotated[str, typer.Argument(metavar="ROLE")],
          to: Annotated[str, typer.Option("--to", help="A person, group or service account.")],
          workflow: Workflow = None, db: Db = "backoffice.db") -> None:
    """Grant a role to a person, group or service account (in one workflow, or all)."""
    engine = _engine(db)
    where = f" in {workflow}" if workflow else ""
    _changed(engine.grant(role, to=to, workflow=workflow, actor=acting(engine), now=_now()),
             f"granted {role} to {_id(to)}{where}", f"{_id(to)} holds {role}{where} already")


@directory_app.command("revoke")
def revoke(role: Annotated[str, typer.Argument(metavar="ROLE")],
           from_: Annotated[str, typer.Option("--from", help="A person, group or service account.")],
           workflow: Workflow = None, db: Db = "backoffice.db") -> None:
    """Revoke a role granted to a person, group or service account."""
    engine = _engine(db)
    where = f" in {workflow}" if workflow else ""
    _changed(engine.grant(role, to=from_, workflow=workflow, actor=acting(engine), now=_now(), revoke=True),
             f"revoked {role} from {_id(from_)}{where}", f"{_id(from_)} was not granted {role}{where}")


@queue_app.command("add-member")
def queue_add_member(queue: Annotated[str, typer.Argument(metavar="QUEUE")], person_id: Id,
                     db: Db = "backoffice.db") -> None:
    """Make a person a member of a work queue."""
    engine = _engine(db)
    _changed(engine.add_to_queue(queue, person_id, actor=acting(engine), now=_now()),
             f"{_id(person_id)} works queue {queue}", f"{_id(person_id)} works {queue} already")


@queue_app.command("remove-member")
def queue_remove_member(queue: Annotated[str, typer.Argument(metavar="QUEUE")], person_id: Id,
                        db: Db = "backoffice.db") -> None:
    """Take a person off a work queue."""
    engine = _engine(db)
    _changed(engine.add_to_queue(queue, person_id, actor=acting(engine), now=_now(), remove=True),
             f"{_id(person_id)} no longer works queue {queue}", f"{_id(person_id)} does not work {queue}")


@queue_app.command("list")
def queue_list(queue: Annotated[Optional[str], typer.Argument(metavar="[QUEUE]")] = None,
               db: Db = "backoffice.db") -> None:
    """List queue membership."""
    table = Table("queue", "person", show_edge=False)
    for name, person in _engine(db).store.queue_members(queue):
        table.add_row(name, person)
    console.print(table)


@service_app.command("add")
def service_add(account_id: Id,
                description: Annotated[str, typer.Option("--description", help="What system it is.")] = "",
                db: Db = "backoffice.db") -> None:
    """Add a service account; it acts with a token (`directory token create ID`)."""
    engine = _engine(db)
    account = engine.add_service_account(account_id, description=description, actor=acting(engine), now=_now())
    console.print(f"added service account {account.id}")


@token_app.command("create")
def token_create(
    principal: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="Whose token (default: yours).")]
    = None,
    label: Annotated[str, typer.Option("--label", help="What it is for.")] = "",
    roles: Annotated[Optional[list[str]], typer.Option("--role", help="Only this role (repeat); default: every "
                                                       "role held.")] = None,
    days: Annotated[float, typer.Option("--days", help="Days until it expires.")] = 90,
    db: Db = "backoffice.db",
) -> None:
    """Make a token and print it once: store it now, it cannot be shown again."""
    engine = _engine(db)
    who = acting(engine)
    if not 0 < days <= 366:
        raise BadOption("--days", days, "a number of days from 0 to 366")
    made = engine.create_token(principal or who.id, actor=who, now=_now(), label=label, roles=tuple(roles or ()),
                               valid_for=timedelta(days=days))
    scope = ", ".join(made.token.roles) or "every role held"
    console.print(f"token {made.token.id} for {made.token.principal} ({scope}), expires "
                  f"{_when(made.token.expires_at)} UTC; shown once:")
    console.print(made.secret)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(metavar="TOKEN_ID")], db: Db = "backoffice.db") -> None:
    """Revoke a token now."""
    engine = _engine(db)
    _changed(engine.revoke_token(token_id, actor=acting(engine), now=_now()), f"revoked token {token_id}",
             f"token {token_id} is unknown or revoked already")


@token_app.command("list")
def token_list(principal: Annotated[Optional[str], typer.Argument(metavar="[ID]")] = None,
               db: Db = "backoffice.db") -> None:
    """List tokens (never the tokens themselves: only their hashes are kept)."""
    now = _now()
    table = Table("id", "for", "label", "roles", "created (UTC)", "expires (UTC)", "status", show_edge=False)
    for token in _engine(db).store.tokens(_id(principal) if principal else None):
        status = "revoked" if token.revoked_at else ("live" if token.live(now) else "expired")
        table.add_row(str(token.id), token.principal, token.label or "-", ", ".join(token.roles) or "all held",
                      _when(token.created_at), _when(token.expires_at), status)
    console.print(table)


@directory_app.command("delegate")
def delegate(
    to: Annotated[str, typer.Argument(metavar="DELEGATE", help="Who acts for the delegator.")],
    starts: Annotated[Optional[str], typer.Option("--from", help="When it starts (default: now).")] = None,
    until: Annotated[str, typer.Option("--until", help="When it ends, such as 2024-08-31T18:00+02:00.")] = "",
    workflow: Workflow = None,
    role: Annotated[Optional[str], typer.Option("--role", help="Only this role (default: every role both hold).")]
    = None,
    delegator: Annotated[Optional[str], typer.Option("--delegator", help="Whose authority (an administrator's "
                                                     "right; default: yours).")] = None,
    timezone_name: Annotated[str, typer.Option("--timezone", help="Zone of times without an offset.")] = "UTC",
    db: Db = "backoffice.db",
) -> None:
    """Let DELEGATE act on your behalf (out of office), bounded in time, in a workflow and/or role."""
    engine = _engine(db)
    who = acting(engine)
    now = _now()
    begins = parse_moment(starts, "--from", timezone_name) or now
    ends = parse_moment(until or None, "--until", timezone_name)
    if ends is None:
        raise BadOption("--until", until, "when the delegation ends, such as 2024-08-31 (it must end)")
    made = engine.add_delegation(delegator or who.id, to, starts=begins, ends=ends, workflow=workflow, role=role,
                                 actor=who, now=now)
    scope = " ".join(filter(None, [f"in {made.workflow}" if made.workflow else "in every workflow",
                                   f"as {made.role}" if made.role else None]))
    console.print(f"delegation {made.id}: {made.delegate} may act on behalf of {made.delegator} {scope}, "
                  f"{_when(made.starts_at)} to {_when(made.ends_at)} UTC")


@directory_app.command("import")
def import_file(path: Annotated[Path, typer.Argument(metavar="FILE", help="An HRIS export, CSV or JSON.")],
                db: Db = "backoffice.db") -> None:
    """Import people with their groups and roles from an HRIS export: all of it, or nothing."""
    engine = _engine(db)
    counts = engine.import_directory(path, actor=acting(engine), now=_now())
    console.print(f"imported {path.name}: " + ", ".join(f"{count} {what}" for what, count in counts.items()))


@directory_app.command("list")
def directory_list(db: Db = "backoffice.db") -> None:
    """Show the directory: people, groups, service accounts, delegations."""
    person_list(db=db, as_json=False)
    store = _engine(db).store
    groups = Table("group", "name", "members", "roles", title="groups", title_justify="left", show_edge=False)
    grants = store.grants()
    for group in store.groups():
        roles = [_scoped(g.role, g.workflow) for g in grants if g.grantee == group.id and str(g.grantee_kind) == "group"]
        groups.add_row(group.id, group.name, ", ".join(group.members) or "-", ", ".join(roles) or "-")
    console.print(groups)
    services = Table("service account", "description", "active", "roles", title="service accounts",
                     title_justify="left", show_edge=False)
    for account in store.service_accounts():
        roles = [_scoped(g.role, g.workflow) for g in grants if g.grantee == account.id
                 and str(g.grantee_kind) == "service"]
        services.add_row(account.id, account.description or "-", "yes" if account.active else "no",
                         ", ".join(roles) or "-")
    console.print(services)
    delegations = Table("id", "delegator", "delegate", "scope", "from (UTC)", "until (UTC)", "status",
                        title="delegations", title_justify="left", show_edge=False)
    now = _now()
    for item in store.delegations():
        status = "revoked" if item.revoked_at else ("in force" if item.starts_at <= now < item.ends_at
                                                    else ("ended" if now >= item.ends_at else "to come"))
        scope = ", ".join(filter(None, [item.workflow, item.role])) or "everything both hold"
        delegations.add_row(str(item.id), item.delegator, item.delegate, scope, _when(item.starts_at),
                            _when(item.ends_at), status)
    console.print(delegations)


def _scoped(role: str, workflow: str | None) -> str:
    return f"{role}@{workflow}" if workflow else role


__all__ = ["directory_app"]
