"""Local accounts: Argon2id passwords for small teams without an identity provider, and the checks of a sign-in.

    accounts = LocalAccounts(engine, attempts=5, lock_for=timedelta(minutes=15))
    accounts.set_password("ann", secret, actor="root", now=now)
    person_id = accounts.verify("ann", secret, now=now)      # or SignInRefused

A sign-in proves who a person is; their roles still come from the directory and every act
still passes the engine's gate. Wrong passwords in a row lock the account for a while, kept in
the database so every server process counts the same attempts. An unknown person, a wrong
password, a locked account and a deactivated person get the same refusal, so a guesser learns
nothing about which ids exist.

What Argon2id hashes is not the password itself but its digest keyed by the audit key and bound to
the person (`_keyed`): whoever can write to the database, but not read that key, can neither copy
their own hash onto someone else's account nor write the hash of a password of their choosing.
Hashes made before this (of the bare password) no longer match: their people's passwords are set again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backoffice.engine import Engine
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, utc
from backoffice.errors import IdentityError, PasswordRefused, SignInRefused
from backoffice.store.account_store import AccountStore

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
_HASHER = PasswordHasher()
# Checked when the id is unknown, so a wrong id costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


class LocalAccounts:
    """Set and check local passwords over the engine's database."""

    def __init__(self, engine: Engine, *, attempts: int = 5, lock_for: timedelta = timedelta(minutes=15),
                 hasher: PasswordHasher = _HASHER) -> None:
        """Check passwords over `engine`'s database; `hasher` sets the cost of new hashes (a hash keeps its own)."""
        self.engine = engine
        self.hasher = hasher
        self.attempts = attempts
        self.lock_for = lock_for
        self.store = AccountStore(engine.store.engine)

    def set_password(self, person_id: str, password: str, *, actor: Actor | str, now: datetime) -> None:
        """Set a person's password (an administrator, or the person for themselves); audited, without the hash.

        Their open web sessions end: whoever signed in with the old password is signed out.

        Raises:
            PasswordRefused: shorter than 12 characters, longer than 1024, or only spaces.
            NotAdministrator: someone else's password, set by a non-administrator.
            UnknownActor, InactiveActor: no such active person.
        """
        now = utc(now)
        if len(password) < MIN_PASSWORD:
            raise PasswordRefused(f"{len(password)} characters long")
        if len(password) > MAX_PASSWORD:
            raise PasswordRefused(f"longer than {MAX_PASSWORD} characters")
        if not password.strip():
            raise PasswordRefused("only spaces")
        who = self.engine.identify(actor, workflow=None, now=now)
        person = self.engine.identify(person_id, workflow=None, now=now)
        if who.id != person.id:
            who = self.engine._administrator(actor, now=now, what="set another person's password")
        hashed = self.hasher.hash(self._keyed(person.id, password))
        with self.engine.store.transaction() as tx:
            AccountStore.set_password(tx.connection, person.id, hashed, by=who.id, at=now)
            self.engine._audit(tx, AuditEntry(AuditAction.PASSWORD_SET, actor=who.id, at=now,
                                              detail={"person": person.id}))
        self.store.end_sessions_of(person.id, now=now)

    def verify(self, person_id: str, password: str, *, now: datetime) -> str:
        """Return the canonical id of the active person whose password this is.

        Raises:
            SignInRefused: unknown person, no local password, wrong password, locked, or deactivated.
        """
        now = utc(now)
        if not person_id or len(person_id) > 200 or len(password) > MAX_PASSWORD:
            raise SignInRefused()
        try:
            person = self.engine.identify(person_id.strip(), workflow=None, now=now).id
        except (IdentityError, ValueError):
            person = None
        account = self.store.account(person) if person is not None else None
        if account is None:
            _check(_DUMMY_HASH, self._keyed(person_id, password))
            raise SignInRefused()
        if account.locked_until is not None and now < account.locked_until:
            raise SignInRefused()
        if not _check(account.password_hash, self._keyed(person, password)):
            locked = self.store.record_failure(person, now=now, limit=self.attempts, lock_until=now + self.lock_for)
            if locked:
                with self.engine.store.transaction() as tx:
                    self.engine._audit(tx, AuditEntry(AuditAction.ACCOUNT_LOCKED, actor=person, at=now,
                                                      detail={"person": person, "attempts": self.attempts,
                                                              "until": (now + self.lock_for).isoformat()}))
            raise SignInRefused()
        if account.failed_attempts or account.locked_until is not None:
            self.store.record_success(person)
        return person

    def _keyed(self, person_id: str, password: str) -> str:
        """What is hashed for a person's password: its digest under the audit key, bound to the person."""
        return self.engine.audit_key.secret_digest("local password", f"{person_id}\x00{password}")


def _check(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
