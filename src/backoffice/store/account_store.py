"""The store's part for the web app's sign-ins: local accounts, browser sessions, and the key that signs cookies.

Not part of the engine's `Store` protocol: who may sign in is the interfaces' business; what a
signed-in person may do is still decided by the engine's gate. Writes that must commit with an
audit record take the connection of the engine's transaction (`SqlTransaction.connection`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backoffice.store.connect import WRITE
from backoffice.store.tables import local_accounts, web_keys, web_sessions


@dataclass(frozen=True)
class LocalAccount:
    """A person's local password, as stored: its Argon2id hash and the state of its lock-out."""

    person_id: str
    password_hash: str
    set_by: str
    set_at: datetime
    failed_attempts: int
    locked_until: datetime | None


@dataclass(frozen=True)
class WebSession:
    """One browser sign-in: whose it is, and until when it holds."""

    id: int
    person_id: str
    created_at: datetime
    seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None

    def live(self, now: datetime) -> bool:
        """Whether the session still proves who holds it at `now`."""
        return self.ended_at is None and now < self.expires_at


class AccountStore:
    """Local accounts and web sessions in the engine's database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _writing(self):
        return self.engine.connect().execution_options(**{WRITE: True})

    # --- local accounts ---

    def account(self, person_id: str) -> LocalAccount | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(local_accounts).where(local_accounts.c.person_id == person_id)).first()
        return LocalAccount(**row._mapping) if row is not None else None

    @staticmethod
    def set_password(connection: sa.Connection, person_id: str, password_hash: str, *, by: str, at: datetime) -> None:
        """Store a person's new password hash (replacing the old one) and clear their lock-out."""
        values = dict(password_hash=password_hash, set_by=by, set_at=at, failed_attempts=0, locked_until=None)
        updated = connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == person_id)
                                     .values(**values)).rowcount
        if not updated:
            connection.execute(sa.insert(local_accounts).values(person_id=person_id, **values))

    def record_failure(self, person_id: str, *, now: datetime, limit: int, lock_until: datetime) -> bool:
        """Count a wrong password; at `limit` in a row, lock the account until `lock_until`. Return True when locked now."""
        with self._writing() as connection, connection.begin():
            # One UPDATE, so two wrong passwords at once both count.
            connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == person_id)
                               .values(failed_attempts=local_accounts.c.failed_attempts + 1))
            count = connection.execute(sa.select(local_accounts.c.failed_attempts)
                                       .where(local_accounts.c.person_id == person_id)).scalar()
            if count is not None and count >= limit:
                connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == person_id)
                                   .values(failed_attempts=0, locked_until=lock_until))
                return True
        return False

    def record_success(self, person_id: str) -> None:
        """Clear the count of wrong passwords after a right one."""
        with self._writing() as connection, connection.begin():
            connection.execute(sa.update(local_accounts).where(local_accounts.c.person_id == person_id)
                               .values(failed_attempts=0, locked_until=None))

    # --- sessions ---

    def open_session(self, token_hash: str, person_id: str, *, now: datetime, expires_at: datetime) -> int:
        with self._writing() as connection, connection.begin():
            result = connection.execute(sa.insert(web_sessions).values(
                token_hash=token_hash, person_id=person_id, created_at=now, seen_at=now, expires_at=expires_at))
            return int(result.inserted_primary_key[0])

    def session(self, token_hash: str) -> WebSession | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(web_sessions).where(web_sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values.pop("token_hash")
        return WebSession(**values)

    def touch_session(self, session_id: int, *, now: datetime, expires_at: datetime) -> None:
        with self._writing() as connection, connection.begin():
            connection.execute(sa.update(web_sessions).where(web_sessions.c.id == session_id,
                                                             web_sessions.c.ended_at.is_(None))
                               .values(seen_at=now, expires_at=expires_at))

    def end_session(self, session_id: int, *, now: datetime) -> None:
        with self._writing() as connection, connection.begin():
            connection.execute(sa.update(web_sessions).where(web_sessions.c.id == session_id,
                                                             web_sessions.c.ended_at.is_(None)).values(ended_at=now))

    def end_sessions_of(self, person_id: str, *, now: datetime) -> int:
        """End every live session of a person (deactivated, or their password changed); return how many."""
        with self._writing() as connection, connection.begin():
            return connection.execute(sa.update(web_sessions).where(web_sessions.c.person_id == person_id,
                                                                    web_sessions.c.ended_at.is_(None))
                                      .values(ended_at=now)).rowcount

    # --- keys ---

    def key(self, name: str, *, now: datetime) -> bytes:
        """Return the secret named `name`, made (and shared by every process on this database) on first use."""
        query = sa.select(web_keys.c.secret).where(web_keys.c.name == name)
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        if found is None:
            try:
                with self._writing() as connection, connection.begin():
                    connection.execute(sa.insert(web_keys).values(name=name, secret=secrets.token_hex(32),
                                                                  created_at=now))
            except sa.exc.IntegrityError:
                pass  # another process made it first: theirs is the key
            with self.engine.connect() as connection:
                found = connection.execute(query).scalar()
        return bytes.fromhex(found)
