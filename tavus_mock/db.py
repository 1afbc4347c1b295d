"""The state in a database (`tavus-mock --db PATH` for a SQLite file, `--db postgresql://...` for a
PostgreSQL server, tavus_mock/pg.py): nothing acknowledged is lost, several processes share it.

The store's algorithm is one (DbStore); what differs between the two databases is a `Backend`: how to
connect, create and migrate the schema, take the write lock, and tell cheaply whether another process
committed. The description below is SQLite's; pg.py says what PostgreSQL does instead.

How it works. Each process keeps the records in memory, as the in-memory store does (so reads and
lists cost what they cost there), and the file is the source of truth:

* Every request that may write (any method but GET and HEAD) is one database transaction, begun with
  `BEGIN IMMEDIATE` (one writer at a time across every process on the file) and committed before the
  answer is sent. A refused request rolls back and the records it touched are put back as stored, so
  a JSON Patch is applied entirely or not at all, also across a crash.
* On commit, the records the request changed are written, each stamped with the transaction's
  revision number. Handlers change records only through the store's `create`, `change` and `delete`
  (core.Api), so the request's journal names exactly those records: nothing read is written.
* Before a request, a process asks SQLite whether another connection committed since it last looked
  (`PRAGMA data_version`, a few microseconds) and, if so, loads the rows with a newer revision. A
  writer does this after taking the write lock, so it always patches the latest version: no lost
  update across processes.
* WAL journal; `synchronous=NORMAL` by default, which survives the process being killed at any moment
  (`kill -9`); `--db-synchronous full` also survives a power cut, at the cost of an fsync per write.

Lifecycles (training, rendering, crawling) are computed from stored wall-clock timestamps, so they go
on correctly after a restart. A job's callback is claimed (`callback_for`) in the same kind of write
before it is sent, so it goes out once whichever process sends it; a server starting on the file sends
the callbacks still owed (those that fell due while it was down: at once).

The file carries `PRAGMA application_id` (it is a tavus-mock database) and `PRAGMA user_version` (its
schema version): a file of another program, or of a newer tavus-mock, is refused with a message; an
older schema is migrated in place (MIGRATIONS).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from .core import Family, Record
from .persist import DatabaseError, StoreError, migrations
from .store import Callback, Delays, Journal, Store

__all__ = ["Backend", "DatabaseError", "DbStore", "SqliteBackend", "StoreError", "is_postgres"]

APPLICATION_ID = 0x54564D4B  # "TVMK": marks the file as a tavus-mock database
SCHEMA_VERSION = 2
FIRST_SEQ = 1_000_000  # creation ranks of stored records start above the stock records' ranks
LIVE, SOFT_DELETED, HARD_DELETED = 0, 1, 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (one INTEGER PRIMARY KEY CHECK (one = 1), rev INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    job_started REAL NOT NULL,
    last_recrawl REAL,
    state INTEGER NOT NULL,
    callback_for REAL,
    data BLOB,
    rev INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_rev ON records (rev);
INSERT OR IGNORE INTO meta (one, rev, seq) VALUES (1, 0, 1000000);
"""
# Schema changes: MIGRATIONS[n] turns a version-n file into version n + 1.
MIGRATIONS: dict[int, str] = {
    # 2: callbacks are claimed. A version-1 server sent every callback of its jobs when they fell due (or
    # never, if it was down): none is owed, so every job is marked as called back.
    1: "ALTER TABLE records ADD COLUMN callback_for REAL; UPDATE records SET callback_for = job_started;",
}


# One statement for both databases (SQLite 3.24+ and PostgreSQL both write ON CONFLICT ... DO UPDATE).
UPSERT = (
    "INSERT INTO records (kind, id, tenant, seq, created, job_started, last_recrawl, callback_for, state, data, rev) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET tenant = excluded.tenant, "
    "seq = excluded.seq, created = excluded.created, job_started = excluded.job_started, "
    "last_recrawl = excluded.last_recrawl, callback_for = excluded.callback_for, state = excluded.state, "
    "data = excluded.data, rev = excluded.rev"
)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _why(path: Path, exc: Exception) -> str:
    """What went wrong with a --db path, in the words a user can act on."""
    if path.is_dir():
        return "it is a directory"
    if not path.parent.is_dir():
        return f"the directory {path.parent} does not exist"
    text = str(exc) or type(exc).__name__
    if "unable to open" in text:
        return f"{text}: is the place writable?"
    if "not a database" in text or "malformed" in text:
        return f"{text}: the file is not a tavus-mock database, or it is damaged"
    return text


class Backend(Protocol):
    """What DbStore needs of a database. SQL is written with `?` placeholders."""

    name: str  # for messages: the file, or the URL without its password
    errors: tuple[type[Exception], ...]  # what the driver raises

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...  # a cursor (fetchone, fetchall)
    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None: ...
    def begin_write(self) -> None: ...  # begin a transaction holding the write lock of every process
    def begin_read(self) -> None: ...  # begin a transaction that reads one consistent snapshot
    def changed(self) -> bool: ...  # whether another process may have committed since it was last asked
    def close(self) -> None: ...


class SqliteBackend:
    """A SQLite file in WAL mode; the write lock is the file's (`BEGIN IMMEDIATE`)."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, synchronous: str) -> None:
        self.path = path
        self.name = str(path)
        self._data_version = -1
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.path}: cannot be opened ({_why(self.path, exc)})") from None
        try:
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self._open()
            self._wal()
            self.conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            # A page cache that holds a large state (the default 2 MB makes every insert into a table of
            # 100k records read pages back), and reads through mmap.
            self.conn.execute("PRAGMA cache_size = -65536")
            self.conn.execute("PRAGMA mmap_size = 268435456")
        except (sqlite3.Error, ValueError) as exc:  # not a database, a damaged one, a place it cannot write
            self.conn.close()
            raise DatabaseError(
                f"{self.path}: cannot be used as a tavus-mock database ({_why(self.path, exc)})"
            ) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.executemany(sql, rows)

    def begin_write(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")  # the write lock of every process on the file

    def begin_read(self) -> None:
        self.conn.execute("BEGIN")  # deferred: its first read takes the snapshot

    def changed(self) -> bool:
        """`PRAGMA data_version` moves when another connection commits (a few microseconds to ask)."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return False
        self._data_version = version
        return True

    def close(self) -> None:
        self.conn.close()

    def _wal(self) -> None:
        """Switch the file to WAL. Switching needs the file to itself, and SQLite answers "database is
        locked" at once (not after busy_timeout) while another process switches it or reads it; once
        it is WAL the switch is a no-op. So: retry for up to 30 s."""
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _open(self) -> None:
        """Create the schema in a new file, migrate an older one, refuse anything else."""
        conn = self.conn
        # One statement, so one snapshot: read one by one, the marks and the tables of a file another
        # process is creating at that moment could come from before and after its commit.
        app_id, version, tables = conn.execute(
            "SELECT (SELECT application_id FROM pragma_application_id()), (SELECT user_version FROM "
            "pragma_user_version()), (SELECT count(*) FROM sqlite_master WHERE type = 'table')"
        ).fetchone()
        if app_id == 0 and version == 0 and not tables:
            # One transaction (the marks too, so a crash leaves an empty file or a whole database);
            # idempotent, for two servers starting on one new file at once.
            conn.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; "
                f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
            return
        if app_id != APPLICATION_ID:
            raise DatabaseError(f"{self.path} is not a tavus-mock database (it has other tables); use another file")
        for reached, step in migrations(str(self.path), version, SCHEMA_VERSION, MIGRATIONS, "file"):
            conn.executescript(f"BEGIN IMMEDIATE; {step} PRAGMA user_version = {reached}; COMMIT;")


def is_postgres(target: str | Path) -> bool:
    """Whether a --db target names a PostgreSQL server (a URL) rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class DbStore(Store):
    """The in-memory store, kept in a database and in step with every other process on it."""

    def __init__(
        self,
        path: str | Path,
        *,
        delays: Delays | None = None,
        on_callback: Callback | None = None,
        tenant_of: Callable[[str], str] | None = None,
        synchronous: str = "normal",
        families: Mapping[str, Family] | None = None,
    ) -> None:
        self._batch: asyncio.Future[None] | None = None
        super().__init__(delays=delays, on_callback=on_callback, tenant_of=tenant_of, families=families)
        if synchronous not in ("normal", "full"):
            raise ValueError("synchronous must be normal or full")
        self.rev = 0
        self._seq = FIRST_SEQ
        self.db: Backend
        if is_postgres(path):
            try:
                from .pg import PostgresBackend  # psycopg loads only when asked for
            except ImportError:
                raise DatabaseError(
                    "a PostgreSQL --db needs psycopg: pip install 'tavus-client[mock,postgres]'"
                ) from None
            self.db = PostgresBackend(str(path))
        else:
            self.db = SqliteBackend(Path(path), synchronous)
        self.path = self.db.name
        try:
            self._catch_up()
        except self.db.errors as exc:
            self.db.close()
            raise DatabaseError(f"{self.db.name}: cannot be read ({str(exc).strip()[:300]})") from None

    def close(self) -> None:
        self.db.close()

    # -- keeping in step -------------------------------------------------------------------------
    def _catch_up(self, *, in_transaction: bool = False, force: bool = False) -> None:
        """Load what other processes committed since this one last looked: the records stamped with a
        newer revision, read in one snapshot with the revision and creation rank they go up to.
        `in_transaction`: inside a write, which holds the lock and sees the latest commit."""
        if not in_transaction and not force and not self.db.changed():
            return
        if not in_transaction:
            self.db.begin_read()
        try:
            rev, seq = self.db.execute("SELECT rev, seq FROM meta").fetchone()
            if rev != self.rev:
                rows = self.db.execute(
                    "SELECT kind, id, tenant, seq, created, job_started, last_recrawl, callback_for, state, data "
                    "FROM records WHERE rev > ? AND rev <= ? ORDER BY rev",
                    (self.rev, rev),
                ).fetchall()
                for kind, rid, tenant, rseq, created, started, recrawl, called, state, blob in rows:
                    data = bytes(blob) if blob is not None else None
                    self._apply(kind, rid, tenant, rseq, created, (started, recrawl, called), state, data)
            self.rev, self._seq = rev, seq
        finally:
            if not in_transaction:
                self.db.execute("COMMIT")

    def _apply(
        self,
        kind: str,
        rid: str,
        tenant: str,
        seq: int,
        created: float,
        times: tuple[float, float | None, float | None],
        state: int,
        blob: bytes | None,
    ) -> None:
        if kind not in self.families:
            return  # a kind this version does not serve
        records = self.records[kind]
        old = records.get(rid)
        if old is not None and not old.deleted:
            self._ordered(kind, old.tenant).discard(old)
        if state == HARD_DELETED or blob is None:
            records.pop(rid, None)
            self.retired_ids.add(rid)
            return
        record = Record(kind, rid, tenant, orjson.loads(blob), created=created, seq=seq, deleted=state == SOFT_DELETED)
        record.job_started, record.last_recrawl, record.callback_for = times
        record.stored = (state, blob, *times)
        records[rid] = record
        if not record.deleted:
            self._ordered(kind, tenant).add(record)

    # -- transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """A request's work. A write is a savepoint inside the open batch transaction (group commit):
        the writes that arrive in one turn of the event loop share one COMMIT, which `settle()` waits
        for before the answers are sent. Outside an event loop, each write commits at once. A refused
        write rolls back to its savepoint and its journal puts the records back as they were."""
        with self.lock:
            if not write or self._journal is not None:  # a read, or a write already inside one
                if self._journal is None:
                    self._catch_up()
                yield
                return
            if self._batch is None:
                self.db.begin_write()  # the write lock of every process on the database
                self._catch_up(in_transaction=True)
                loop = _running_loop()
                if loop is not None:
                    self._batch = loop.create_future()
                    loop.call_soon(self._flush)
            journal = self._journal = Journal()
            self.db.execute("SAVEPOINT request")
            try:
                yield
                self._admit_all(journal)
                self._persist(journal)
                self.db.execute("RELEASE SAVEPOINT request")
            except BaseException:
                self.db.execute("ROLLBACK TO SAVEPOINT request")
                self.db.execute("RELEASE SAVEPOINT request")
                self._undo(journal)
                raise
            finally:
                self._journal = None
                if self._batch is None:
                    self._commit()
            # Our own commit does not move our data_version; nothing to load.

    def _commit(self) -> None:
        """Commit a write made outside an event loop (no batch); a failure is the request's."""
        try:
            self.db.execute("COMMIT")
        except self.db.errors as exc:
            with contextlib.suppress(*self.db.errors):
                self.db.execute("ROLLBACK")
            self._reload()
            raise StoreError(f"the database refused the change: {exc}") from None

    async def settle(self) -> None:
        """Wait until the writes made so far are committed (raises StoreError if the commit failed)."""
        batch = self._batch
        if batch is not None:
            await asyncio.shield(batch)

    def _flush(self) -> None:
        """Commit the batch: every write of this turn of the event loop becomes durable at once."""
        with self.lock:
            batch, self._batch = self._batch, None
            if batch is None:
                return
            try:
                self.db.execute("COMMIT")
            except self.db.errors as exc:
                with contextlib.suppress(*self.db.errors):
                    self.db.execute("ROLLBACK")
                self._reload()  # memory holds changes the database refused: read it all again
                batch.set_exception(StoreError(f"the database refused the change: {exc}"))
                batch.add_done_callback(lambda f: f.exception())  # retrieved even if nobody waits
            else:
                batch.set_result(None)

    def _reload(self) -> None:
        for tag, records in self.records.items():
            for record in [r for r in records.values() if r.tenant is not None]:
                records.pop(record.id)
                if not record.deleted:
                    self._ordered(tag, record.tenant).discard(record)
        self.rev = 0
        self._catch_up(force=True)

    def _persist(self, journal: Journal) -> None:
        rows = []
        for record in journal.changed():
            if record.tenant is None:
                continue  # stock records are not stored: every process makes them
            live = self.records[record.kind].get(record.id) is record
            state = HARD_DELETED if not live else SOFT_DELETED if record.deleted else LIVE
            blob = None if state == HARD_DELETED else orjson.dumps(record.data)
            stored = (state, blob, record.job_started, record.last_recrawl, record.callback_for)
            if record.stored == stored:
                continue
            rows.append((record, stored))
        if not rows:
            return
        rev = self.rev + 1  # under the write lock and caught up: self.rev is the file's latest
        self.db.executemany(
            UPSERT, [(r.kind, r.id, r.tenant, r.seq, r.created, *s[2:], s[0], s[1], rev) for r, s in rows]
        )
        self.db.execute("UPDATE meta SET rev = ?, seq = ?", (rev, self._seq))
        self.rev = rev
        for record, stored in rows:
            record.stored = stored

    # -- the store's hooks ------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def reset(self) -> None:
        raise RuntimeError("reset() would empty a database others may use; start on a new --db file instead")
