"""`backoffice directory password PERSON`: the password read from stdin or a prompt, never argv; kept as Argon2id."""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone

from backoffice.engine import Engine
from backoffice.services.accounts import LocalAccounts
from backoffice.store import SqlStore
from backoffice.store.account_store import AccountStore

from .test_directory_commands import bootstrapped
from .test_engine_commands import backoffice, database  # noqa: F401 (fixtures)


def _accounts() -> tuple[LocalAccounts, SqlStore]:
    store = SqlStore.open(os.environ["BACKOFFICE_DB"])
    return LocalAccounts(Engine(store)), store


def test_an_administrator_sets_a_password_from_stdin_and_it_is_stored_as_argon2id(database, backoffice,
                                                                                   monkeypatch):
    bootstrapped(backoffice)
    backoffice("directory", "person", "add", "bob", "--name", "Bob Desk")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    status, out, err = backoffice("directory", "password", "bob", "--stdin")
    assert status == 0, err
    assert out.startswith("password set for bob")
    accounts, store = _accounts()
    try:
        stored = AccountStore(store.engine).account("bob")
        assert stored.password_hash.startswith("$argon2id$") and "a long enough secret" not in stored.password_hash
        assert accounts.verify("bob", "a long enough secret", now=datetime.now(timezone.utc)) == "bob"
        records = [record for record in store.audit_records() if record.action == "password.set"]
        assert [record.detail for record in records] == ['{"person":"bob"}']
        assert records[0].actor == "alice"
    finally:
        store.close()


def test_a_short_password_is_refused_with_exit_2_and_nothing_stored(database, backoffice, monkeypatch):
    bootstrapped(backoffice)
    backoffice("directory", "person", "add", "bob", "--name", "Bob Desk")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    status, _, err = backoffice("directory", "password", "bob", "--stdin")
    assert status == 2
    assert "the password is 5 characters long; expected 12 to 1024 characters" in err
    _, store = _accounts()
    try:
        assert AccountStore(store.engine).account("bob") is None
    finally:
        store.close()


def test_the_password_is_not_an_argument(database, backoffice, monkeypatch):
    bootstrapped(backoffice)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, _, err = backoffice("directory", "password", "alice", "a long enough secret")
    assert status == 2 and "unexpected extra argument" in err.lower()
