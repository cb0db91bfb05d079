"""Local accounts: users with one role each, argon2-hashed passwords, API tokens and page sessions.

The tables live in the store's database (assistant/store/database.py, or pg_database.py with
KVSP_DATABASE_URL, so every host sees one set of accounts): its migrations make them, reads use
this thread's connection, writes one transaction under the writer lock. Tokens and session ids are
256-bit random strings of which only the SHA-256 is stored, so a copy of the database opens no
account; being random, they need no slow hash, unlike passwords. With no account at all the
product runs in local single-user mode; the first account must be an admin and turns login on.
"""
import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.store.database import Database, database

if TYPE_CHECKING:  # psycopg is the optional `postgres` extra
    from assistant.store.pg_database import PostgresDatabase

ROLES = ("secretary", "member", "auditor", "admin")
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "kvsp_"
TOKEN_ID_LENGTH = 12  # a token's id: the head of its stored hash, safe to show, list and audit
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_hasher = PasswordHasher()

class AuthError(ValueError):
    """A request about accounts that cannot be done; `code` is the API error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


Db = "Database | PostgresDatabase | Path"


def local_mode(db: Db) -> bool:
    """True while no account exists: every request is then the local admin."""
    return AuthDb(db).local_mode()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@lru_cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


class AuthDb:
    def __init__(self, db: Db):
        self.db = database(db)

    def _read(self):
        return self.db.connection()

    def local_mode(self) -> bool:
        return self._read().execute("SELECT 1 FROM users LIMIT 1").fetchone() is None

    # -- users -------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str) -> dict:
        if not _NAME.match(name):
            raise AuthError("invalid_request", "A user name is 1-64 letters, digits, '.', '_', '@' or '-'.")
        _check_role(role)
        _check_password(password)
        password_hash = _hasher.hash(password)  # before the writer lock: the hash is slow on purpose
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AuthError("conflict", f"The user {name!r} exists already.")
            if role != "admin" and not conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                raise AuthError("invalid_request", "The first account must be an admin.")
            conn.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                         (name, role, password_hash, _now().isoformat(timespec="seconds")))
        return {"name": name, "role": role}

    def update_user(self, name: str, *, role: str | None = None, password: str | None = None) -> dict:
        if role is not None:
            _check_role(role)
        if password is not None:
            _check_password(password)
        password_hash = _hasher.hash(password) if password is not None else None
        with self.db.transaction() as conn:
            user = self._get(conn, name)
            if role is not None:
                if user["role"] == "admin" and role != "admin":
                    self._keep_an_admin(conn)
                conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            if password_hash is not None:  # a new password ends every way in that the old one gave
                conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))
                conn.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
                conn.execute("DELETE FROM api_tokens WHERE user_name = ?", (name,))
            return {"name": name, "role": role or user["role"]}

    def remove_user(self, name: str) -> None:
        """Remove the account with its tokens and sessions."""
        with self.db.transaction() as conn:
            if self._get(conn, name)["role"] == "admin":
                self._keep_an_admin(conn)
            conn.execute("DELETE FROM api_tokens WHERE user_name = ?", (name,))
            conn.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
            conn.execute("DELETE FROM users WHERE name = ?", (name,))

    def list_users(self) -> list[dict]:
        rows = self._read().execute(
            "SELECT name, role, created_at, (SELECT COUNT(*) FROM api_tokens t WHERE t.user_name = u.name) "
            "AS tokens FROM users u ORDER BY name").fetchall()
        return [dict(row) for row in rows]

    def get_user(self, name: str) -> dict | None:
        row = self._read().execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        return dict(row) if row else None

    @staticmethod
    def _get(conn, name: str):
        row = conn.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise AuthError("not_found", f"No user {name!r}.")
        return row

    @staticmethod
    def _keep_an_admin(conn) -> None:
        if conn.execute("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetchone()[0] <= 1:
            raise AuthError("conflict", "This is the last admin; make another admin first.")

    # -- passwords, tokens, sessions ---------------------------------------------------------
    def check_password(self, name: str, password: str) -> dict | None:
        # read outside the writer lock: the slow hash must not hold up every other write
        row = self._read().execute("SELECT name, role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
        try:
            # An unknown name still costs one hash, so timing does not reveal which names exist.
            _hasher.verify(row["password_hash"] if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            new_hash = _hasher.hash(password)
            with self.db.transaction() as conn:
                conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (new_hash, name))
        return {"name": row["name"], "role": row["role"]}

    def new_token(self, name: str) -> str:
        """A new API token for `name`, shown once: only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            self._get(conn, name)
            conn.execute("INSERT INTO api_tokens VALUES (?, ?, ?)",
                         (_digest(token), name, _now().isoformat(timespec="seconds")))
        return token

    def list_tokens(self, name: str) -> list[dict]:
        """The user's API tokens as {"id", "created_at"}: never the token, which is not kept."""
        self._get(self._read(), name)
        rows = self._read().execute("SELECT token_hash, created_at FROM api_tokens WHERE user_name = ? "
                                    "ORDER BY created_at, token_hash", (name,)).fetchall()
        return [{"id": row["token_hash"][:TOKEN_ID_LENGTH], "created_at": row["created_at"]} for row in rows]

    def revoke_token(self, name: str, token_id: str) -> str:
        """Revoke one of the user's tokens, named by its id (or given whole); returns its id."""
        if token_id.startswith(TOKEN_PREFIX):
            token_id = token_id_of(token_id)
        with self.db.transaction() as conn:
            self._get(conn, name)
            hashes = [row[0] for row in conn.execute("SELECT token_hash FROM api_tokens WHERE user_name = ?", (name,))
                      if row[0][:TOKEN_ID_LENGTH] == token_id]
            if len(hashes) != 1:
                raise AuthError("not_found", f"{name!r} has no token {token_id!r}.")
            conn.execute("DELETE FROM api_tokens WHERE token_hash = ?", (hashes[0],))
        return token_id

    def user_for_token(self, token: str) -> dict | None:
        row = self._read().execute("SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.name = t.user_name "
                                   "WHERE t.token_hash = ?", (_digest(token),)).fetchone()
        return dict(row) if row else None

    def new_session(self, name: str) -> str:
        session_id = secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            now = _now()
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?)",
                         (_digest(session_id), name, (now + SESSION_LIFETIME).isoformat()))
        return session_id

    def user_for_session(self, session_id: str) -> dict | None:
        row = self._read().execute("SELECT u.name, u.role FROM sessions s JOIN users u ON u.name = s.user_name "
                                   "WHERE s.session_hash = ? AND s.expires_at >= ?",
                                   (_digest(session_id), _now().isoformat())).fetchone()
        return dict(row) if row else None

    def end_session(self, session_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE session_hash = ?", (_digest(session_id),))


def token_id_of(token: str) -> str:
    """The id under which a token is listed and revoked."""
    return _digest(token)[:TOKEN_ID_LENGTH]


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError("invalid_request", f"Unknown role {role!r}; one of {', '.join(ROLES)}.")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError("invalid_request", f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
