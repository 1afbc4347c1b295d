"""The state on a PostgreSQL server (`tavus-mock --db postgresql://user@host/dbname`): several tavus-mock
instances, on several machines, share one state. The store is DbStore (tavus_mock/db.py); this is its
PostgreSQL backend (psycopg 3 and its connection pool).

What differs from SQLite:
* The tables live in their own schema, `tavus_mock` (the database may hold others): `meta` (one row:
  the revision, the creation rank, the schema version) and `records`, as in SQLite.
* The write lock is a row lock: every write transaction begins with `SELECT ... FROM meta FOR UPDATE`,
  so writers on every instance take turns, and each sees the latest commit once it holds the lock: no
  lost update, ETags that move with every change, a callback claimed by one instance only (the claim
  is a write). A read asks for the revision (one round trip) and loads what is newer, in one snapshot.
* Commits are `synchronous_commit = on` (the server's default): a write is on the server's disk before
  its answer leaves; nothing acknowledged is lost when an instance is killed.
* The connection comes from psycopg's pool, which replaces a connection the server dropped (a restart
  of PostgreSQL costs the requests in flight, not the instance).
* The schema is created under an advisory lock (several instances may start on an empty database at
  once), carries its version, and is migrated in place (MIGRATIONS); a newer one is refused.

Keys are never stored: records carry the tenant, a digest of the key (core.tenant_of).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from .persist import DatabaseError, migrations

SCHEMA_VERSION = 1
LOCK_ID = 0x54564D4B  # the advisory lock held while the schema is made or migrated ("TVMK")
SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS tavus_mock;
CREATE TABLE IF NOT EXISTS tavus_mock.meta (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    rev BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    schema_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tavus_mock.records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    seq BIGINT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    job_started DOUBLE PRECISION NOT NULL,
    last_recrawl DOUBLE PRECISION,
    state SMALLINT NOT NULL,
    callback_for DOUBLE PRECISION,
    data BYTEA,
    rev BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_rev ON tavus_mock.records (rev);
INSERT INTO tavus_mock.meta (one, rev, seq, schema_version) VALUES (1, 0, 1000000, {SCHEMA_VERSION})
ON CONFLICT (one) DO NOTHING;
"""
# Schema changes: MIGRATIONS[n] turns a version-n database into version n + 1.
MIGRATIONS: dict[int, str] = {}


def shown(url: str) -> str:
    """A URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, parts.fragment))


class PostgresBackend:
    """DbStore's backend on a PostgreSQL server."""

    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.name = shown(url)
        self._known_rev = -1
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=2,
            kwargs={"autocommit": True, "options": "-c search_path=tavus_mock"},
            open=False,
            name="tavus-mock",
        )
        try:
            self.pool.open(wait=True, timeout=15.0)  # PoolTimeout (an OperationalError): no server there
        except psycopg.Error as exc:  # a URL it cannot parse, a server it cannot reach or log in to
            self.pool.close()
            raise DatabaseError(f"{self.name}: cannot be reached ({_first_line(exc)})") from None
        self.conn = self.pool.getconn()
        try:
            self._open()
        except psycopg.Error as exc:
            self.close()
            raise DatabaseError(f"{self.name}: cannot be used as a tavus-mock database ({_first_line(exc)})") from None
        except DatabaseError:
            self.close()
            raise

    # -- the Backend protocol -----------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection().execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._connection().cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    def begin_write(self) -> None:
        conn = self._connection()
        conn.execute("BEGIN")
        conn.execute("SELECT rev FROM meta WHERE one = 1 FOR UPDATE")  # the row lock every writer takes

    def begin_read(self) -> None:
        self._connection().execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def changed(self) -> bool:
        """Whether the revision moved since the last call (one round trip)."""
        row = self._connection().execute("SELECT rev FROM meta").fetchone()
        rev = int(row[0]) if row else -1
        if rev == self._known_rev:
            return False
        self._known_rev = rev
        return True

    def close(self) -> None:
        conn, self.conn = self.conn, None  # type: ignore[assignment]
        if conn is not None:
            self.pool.putconn(conn)
        self.pool.close()

    # -- inside --------------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection[Any]:
        """The instance's connection; one the server dropped is given back to the pool (which discards
        it) and replaced, when no transaction is open on it."""
        conn = self.conn
        if conn.closed or conn.broken:
            self.pool.putconn(conn)
            self.conn = conn = self.pool.getconn()
        return conn

    def _open(self) -> None:
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
            exists = conn.execute("SELECT to_regclass('tavus_mock.meta') IS NOT NULL").fetchone()
            if not (exists and exists[0]):
                conn.execute(SCHEMA)
                return
            row = conn.execute("SELECT schema_version FROM tavus_mock.meta WHERE one = 1").fetchone()
            if row is None:
                raise DatabaseError(f"{self.name}: its tavus_mock schema is not a tavus-mock state (no meta row)")
            for version, step in migrations(self.name, int(row[0]), SCHEMA_VERSION, MIGRATIONS, "database"):
                conn.execute(step)
                conn.execute("UPDATE tavus_mock.meta SET schema_version = %s", (version,))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
