"""The server's state: per-key tenants, stock resources, ids, lifecycles and JSON Patch.

Schemas are not repeated here: what a resource looks like on the wire is the projection of its
stored record onto the properties of the spec's `get…` answer for that tag (see `Kind.fields`).
What is here is behaviour the spec cannot express: which fields the server fills in, how states
move on, what a filter means.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import email.utils
import json
import math
import operator
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer
import orjson
from sortedcontainers import SortedKeyList

from .core import _SEQUENCE, FAMILIES, Family, Record


def iso_now() -> str:
    """Now as `2025-09-10T00:35:24.310570Z` (the conversations format), from the integer clock (no
    float rounding: the microseconds are truncated) and the cached text of the current second."""
    micros = time.time_ns() // 1000
    return _iso(micros // 1_000_000, micros % 1_000_000)


def iso_at(seconds: float) -> str:
    """A wall-clock time (seconds since the epoch) in the format of iso_now, to the nearest microsecond
    (what `datetime.fromtimestamp(...).isoformat()` writes, at a fifth of its cost)."""
    whole = math.floor(seconds)
    micro = round((seconds - whole) * 1_000_000)
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return _iso(whole, micro)


def _iso(whole: int, micro: int) -> str:
    global _LAST_SECOND
    last = _LAST_SECOND
    if last[0] != whole:
        last = _LAST_SECOND = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{last[1]}.{micro:06d}Z"


_LAST_SECOND: tuple[int, str] = (-1, "")  # the text of the last whole second formatted: most calls reuse it


def http_date_now() -> str:
    return email.utils.format_datetime(datetime.now(UTC), usegmt=True)


class ApiError(Exception):
    """An error answer: status plus the `Error` body (`{"error": ...}` or `{"message": ...}`)."""

    def __init__(self, status: int, text: str, *, key: str = "error", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.body = {key: text}
        self.headers = dict(headers or {})


@dataclass
class Delays:
    """Seconds until the background states of a kind are reached (0 = at once)."""

    replica: float = 8.0
    video: float = 6.0
    document: float = 3.0
    transcription: float = 3.0

    @classmethod
    def instant(cls) -> Delays:
        """Every background job done at once (tests, contract runs)."""
        return cls(0.0, 0.0, 0.0, 0.0)

    def scaled(self, speed: float) -> Delays:
        return Delays(self.replica / speed, self.video / speed, self.document / speed, self.transcription / speed)


_creation = operator.attrgetter("seq")  # the order key of records (a C call per comparison)


_IDS = random.Random(secrets.randbits(64))  # ids need to be unique (checked), not secret: no syscall per id


def id_maker(prefix: str, digits: int) -> Callable[[], str]:
    """The id maker of a kind: `prefix` and `digits` random hex digits, in one formatting call."""
    bits, rand = 4 * digits, _IDS.getrandbits
    template = prefix.replace("{", "{{").replace("}", "}}") + f"{{:0{digits}x}}"
    return lambda: template.format(rand(bits))


# Fields no JSON Patch may change in any family (beyond its id field, type field and `read_only`).
READ_ONLY = frozenset({"created_at", "updated_at"})
STOCK_CREATED = "2025-01-01T00:00:00.000000Z"  # when every stock record was made


class Journal:
    """What one write request changed: each record's state before its first change, and the records it
    created; enough to undo the request whole, and what a --db store writes."""

    __slots__ = ("admitted", "before", "created")

    def __init__(self) -> None:
        self.before: dict[int, tuple[Record, bytes, bool, bool, float, float | None, float | None]] = {}
        self.created: list[Record] = []
        self.admitted: set[int] = set()  # records already checked (a seed checks each as it loads)

    def changed(self) -> list[Record]:
        """Every record created or changed, once each."""
        seen = {id(r): r for r in self.created}
        for entry in self.before.values():
            seen.setdefault(id(entry[0]), entry[0])
        return list(seen.values())


# The check of a record a write leaves: (record, its data before this request or None) -> raises ApiError.
Admit = Callable[["Record", "dict[str, Any] | None"], None]


Callback = Callable[[str, dict[str, Any], float], None]


class Store:
    """Every resource of every tenant, behind one lock: a write is read-modify-write under it.

    What the store knows of a family comes from its declaration (tavus_mock/core.py `Family`): id field
    and maker, stock records, lifecycle. A write request is one transaction (`transaction(write=True)`):
    every record it changes is noted first (`change`), so a refused request is undone whole, in memory
    exactly as on a --db file, and the records it leaves are checked (`admit`) before it ends.
    """

    def __init__(
        self,
        *,
        delays: Delays | None = None,
        on_callback: Callback | None = None,
        tenant_of: Callable[[str], str] | None = None,
        families: Mapping[str, Family] | None = None,
    ) -> None:
        # The families it keeps records of: the registry (tavus_mock.resources registers them when it
        # is imported; TavusMock passes it), or the ones given.
        self.families = families if families is not None else FAMILIES
        if not self.families:
            raise RuntimeError("no resource family is registered: import tavus_mock.resources first")
        self.delays = delays or Delays()
        self.on_callback = on_callback
        # How a seed's API key becomes a tenant (the server stores a digest of the key, never the key).
        self.tenant_of = tenant_of or (lambda key: key)
        # The check of every record a write leaves (the server sets it: schema, references, the family's rules).
        self.admit: Admit | None = None
        self.lock = threading.RLock()
        # Seconds the store's clock is ahead of the wall clock (POST /_mock/clock): lifecycles and the
        # callbacks they owe are computed from `now()`, so a test can move them on without waiting.
        self.offset = 0.0
        self._journal: Journal | None = None
        self._writer = _Write(self)  # the context manager of every write (reentrant: one per store)
        self._jobs = {tag: f.lifecycle for tag, f in self.families.items() if f.lifecycle is not None}
        self.records: dict[str, dict[str, Record]] = {tag: {} for tag in self.families}
        # Live records per (kind, owner) in creation order (owner None: stock), so a page of a list costs
        # O(log n + page) whatever the number of records, and one tenant's data never slows another's.
        self.order: dict[tuple[str, str | None], SortedKeyList] = {}
        # Ids of hard-deleted records: never given again (a live record's id is its key in `records`).
        self.retired_ids: set[str] = set()
        self._put_stock()

    def now(self) -> float:
        """The store's clock: wall-clock seconds, plus what a test advanced it by."""
        return time.time() + self.offset

    def due_callbacks(self) -> list[Record]:
        """The callbacks owed and due by now, the earliest first (after the clock moved on)."""
        now = self.now()
        owed = [r for r in self.pending_callbacks() if self._due(r) <= now]
        return sorted(owed, key=self._due)

    def _put_stock(self) -> None:
        for tag, family in self.families.items():
            for data in family.stock() if family.stock is not None else ():
                record = Record(tag, data[family.id_field], None, data)
                record.job_started = record.created
                self._put(record)

    # -- seeding ------------------------------------------------------------------------------
    def load_seed(self, path: Path) -> int:
        """Load a seed file (see `load_seed_data`); answers the count loaded. A file that cannot be read,
        is not JSON, or holds a record the spec refuses is a ValueError naming where."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"seed {path}: cannot be read ({exc.strerror if isinstance(exc, OSError) else exc})"
            ) from None
        try:
            seed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"seed {path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
        return self.load_seed_data(seed)

    def load_seed_data(self, seed: Any) -> int:
        """Load `{"system": {tag: [..]}, "tenants": {key: {tag: [..]}}}`; answers the count loaded. Every
        record is checked as a create's would be (a ValueError names the record and the field), and the
        seed loads whole or not at all. A loaded job with a `callback_url` is called back when it is due."""
        try:
            with self.transaction(write=True):
                loaded = self._load(seed)
        except ApiError as exc:
            raise ValueError(f"seed: {exc}") from None
        for record in loaded:
            if self._owes_callback(record):
                self.schedule_callback(record)
        return len(loaded)

    def _load(self, seed: Any) -> list[Record]:
        if not isinstance(seed, Mapping):
            raise ValueError('seed: expected an object {"system": {...}, "tenants": {key: {...}}}')
        unknown = sorted(set(seed) - {"system", "tenants"})
        if unknown:
            raise ValueError(f"seed: unknown top-level member {unknown[0]!r} (system, tenants)")
        tenants = seed.get("tenants", {})
        if not isinstance(tenants, Mapping):
            raise ValueError("seed: tenants must be an object {api_key: {kind: [records]}}")
        loaded: list[Record] = []
        groups: list[tuple[str, str | None, Any]] = [("system", None, seed.get("system", {}))]
        groups += [(f"tenants[{i}]", self.tenant_of(str(key)), tags) for i, (key, tags) in enumerate(tenants.items())]
        for where, tenant, tags in groups:
            if not isinstance(tags, Mapping):
                raise ValueError(f"seed: {where} must be an object {{kind: [records]}}")
            for tag, items in tags.items():
                family = self.families.get(tag)
                if family is None:
                    known = ", ".join(sorted(self.families))
                    raise ValueError(f"seed: {where}: unknown resource kind {tag!r} (known: {known})")
                if not isinstance(items, list):
                    raise ValueError(f"seed: {where}.{tag} must be a list of records")
                for index, item in enumerate(items):
                    record = self._load_one(family, tenant, item, f"{where}.{tag}[{index}]")
                    loaded.append(record)
        return loaded

    def _load_one(self, family: Family, tenant: str | None, item: Any, where: str) -> Record:
        if not isinstance(item, Mapping):
            raise ValueError(f"seed: {where} is not an object")
        given = item.get(family.id_field)
        if given is not None and (not isinstance(given, str) or not given):
            raise ValueError(f"seed: {where}: {family.id_field} must be a non-empty string")
        rid = given or self._new_id(family)
        data = {**item, family.id_field: rid}
        data.setdefault("created_at", iso_now())
        data.setdefault("updated_at", data["created_at"])
        if family.type_field:
            data.setdefault(family.type_field, "system" if tenant is None else "user")
        record = self._new_record(family.tag, rid, tenant, data)
        lifecycle = family.lifecycle
        if lifecycle is not None and data.get("status") in lifecycle.running:
            # A job seeded part-way (an export of a running one) goes on from its progress, not from 0.
            done = _progress_share(data.get(lifecycle.progress)) if lifecycle.progress else 0.0
            record.job_started = record.created - done * getattr(self.delays, lifecycle.delay)
        old = self.records[family.tag].get(rid)
        if old is not None:
            self.change(old)  # replaced by id: undone with the rest if the seed is refused
        self._put(record)
        if self.admit is not None:
            try:
                self.admit(record, None)
            except ApiError as exc:
                raise ValueError(f"seed: {where} ({rid}): {exc}") from None
            if self._journal is not None:
                self._journal.admitted.add(id(record))
        return record

    def _new_record(self, tag: str, rid: str, tenant: str | None, data: dict[str, Any]) -> Record:
        """A new record, noted in the request's journal; a persistent store gives it a creation rank
        shared by every process (`_next_seq`)."""
        now = time.time() + self.offset  # self.now(), without the call
        record = Record(tag, rid, tenant, data, now, self._next_seq(), False, now)  # every field: no factories
        if self._journal is not None:
            self._journal.created.append(record)
        return record

    def _next_seq(self) -> int:
        return next(_SEQUENCE)

    # -- transactions ------------------------------------------------------------------------------
    def transaction(self, *, write: bool) -> contextlib.AbstractContextManager[Any]:
        """One request's work on the state: a read is under the lock (the lock itself: no generator to
        run per read); a write also keeps a journal, so that it is undone whole when refused, and checks
        the records it leaves. A persistent store also makes it one database transaction (db.py)."""
        return self._writer if write else self.lock

    def _admit_all(self, journal: Journal) -> None:
        """Check every record the request created or changed and left alive."""
        admit = self.admit
        if admit is None:
            return
        for record in journal.created:
            if id(record) not in journal.admitted and not record.deleted and record.tenant is not None:
                admit(record, None)
        for record, blob, *_ in journal.before.values():
            if not record.deleted and record.tenant is not None and self.records[record.kind].get(record.id) is record:
                admit(record, orjson.loads(blob))

    def change(self, record: Record) -> dict[str, Any]:
        """Note, before it changes, that the request changes this record; answers its data to change."""
        journal = self._journal
        if journal is not None and id(record) not in journal.before:
            live = self.records[record.kind].get(record.id) is record
            journal.before[id(record)] = (
                record,
                orjson.dumps(record.data),
                record.deleted,
                live,
                record.job_started,
                record.last_recrawl,
                record.callback_for,
            )
        return record.data

    def _undo(self, journal: Journal) -> None:
        """Put every record the request created or changed back as it was before it."""
        for record in reversed(journal.created):
            if self.records[record.kind].get(record.id) is record:
                del self.records[record.kind][record.id]
            self._ordered(record.kind, record.tenant).discard(record)
        for record, blob, deleted, live, job_started, last_recrawl, callback_for in journal.before.values():
            ordered = self._ordered(record.kind, record.tenant)
            ordered.discard(record)
            record.data = orjson.loads(blob)
            record.deleted, record.job_started = deleted, job_started
            record.last_recrawl, record.callback_for = last_recrawl, callback_for
            if live:
                self.records[record.kind][record.id] = record
                self.retired_ids.discard(record.id)
                if not deleted:
                    ordered.add(record)

    async def settle(self) -> None:
        """Wait until the writes so far are durable: at once here (see tavus_mock/db.py)."""
        return

    def export(self, tenant: str) -> dict[str, list[dict[str, Any]]]:
        """Every live record of one tenant, by kind, as a seed file lists them (`load_seed_data`); each
        job as it stands now (its state and progress), so a seed of the export goes on from there."""
        with self.lock:
            out: dict[str, list[dict[str, Any]]] = {}
            for (tag, owner), ordered in self.order.items():
                if owner == tenant and len(ordered):
                    for record in ordered:
                        self.advance(record)
                    out[tag] = [copy.deepcopy(r.data) for r in ordered]
            return out

    def _put(self, record: Record) -> None:
        rid = record.id
        same_kind = self.records[record.kind]
        old = same_kind.get(rid)
        if old is not None and not old.deleted:  # a seed may replace a record by id
            self._ordered(old.kind, old.tenant).discard(old)
        same_kind[rid] = record
        ordered = self.order.get((record.kind, record.tenant))
        if ordered is None:
            ordered = self._ordered(record.kind, record.tenant)
        ordered.add(record)

    def _ordered(self, tag: str, owner: str | None) -> SortedKeyList:
        found = self.order.get((tag, owner))
        if found is None:
            found = self.order[(tag, owner)] = SortedKeyList(key=_creation)
        return found

    def _new_id(self, family: Family) -> str:
        """An id no record of the kind has, nor had (the caller stores the record at once)."""
        same_kind, retired = self.records[family.tag], self.retired_ids
        rid = family.make_id()
        while rid in same_kind or rid in retired:
            rid = family.make_id()
        return rid

    def reset(self) -> None:
        with self.lock:
            self.offset = 0.0
            self.records = {tag: {} for tag in self.families}
            self.order = {}
            self.retired_ids.clear()
            self._put_stock()

    # -- lookups ------------------------------------------------------------------------------
    def find(self, tag: str, tenant: str, rid: str, *, writable: bool = False) -> Record:
        record = self.records[tag].get(rid)
        if record is None or record.deleted or record.tenant not in (tenant, None):
            raise ApiError(404, f"{tag[:-1].replace('_', ' ').capitalize()} not found", key="message")
        if tag in self._jobs:
            self.advance(record)
        if writable:
            if record.tenant is None:
                # Stock resources belong to no key: every key reads them, none may change them.
                raise ApiError(404, f"Stock {tag.replace('_', ' ')} are read-only", key="message")
            self.change(record)
        return record

    def lookup(self, tag: str, tenant: str, rid: Any) -> Record | None:
        """A live record the key sees, or None."""
        record = self.records[tag].get(rid) if isinstance(rid, str) else None
        if record is None or record.deleted or record.tenant not in (tenant, None):
            return None
        if tag in self._jobs:
            self.advance(record)
        return record

    def visible(self, tag: str, tenant: str) -> list[Record]:
        """Every live record a key sees (its own and the stock ones): for filters that need a scan."""
        out = [*self.order.get((tag, tenant), ()), *self.order.get((tag, None), ())]
        if tag in self._jobs:
            for record in out:
                self.advance(record)
        return out

    def page(
        self, tag: str, tenant: str, *, owner: str | None = None, offset: int, limit: int, order: str = "asc"
    ) -> tuple[list[Record], int]:
        """One page of the records a key sees, in creation order, and how many there are in all.

        `owner` "user" or "system" keeps one side; `order` is "asc", "desc" or "stock_first". Costs
        O(s log n + limit) for s stock records and n of the key's own, never a scan of n.
        """
        mine = self.order.get((tag, tenant)) if owner != "system" else None
        stock = self.order.get((tag, None)) if owner != "user" else None
        mine = mine if mine is not None else SortedKeyList(key=_creation)
        stock = stock if stock is not None else SortedKeyList(key=_creation)
        total = len(mine) + len(stock)
        end = min(offset + limit, total)
        if offset >= end:
            return [], total
        if order == "stock_first":
            ranks = list(range(len(stock)))
        else:  # the merged position of each stock record among the key's own, by creation
            ranks = [i + mine.bisect_key_left(_creation(r)) for i, r in enumerate(stock)]
        stock_at = dict(zip(ranks, range(len(stock)), strict=True))
        sorted_ranks = sorted(stock_at)
        out = []
        for position in range(offset, end):
            rank = total - 1 - position if order == "desc" else position
            if rank in stock_at:
                out.append(stock[stock_at[rank]])
            else:
                out.append(mine[rank - bisect.bisect_left(sorted_ranks, rank)])
        if tag in self._jobs:
            for record in out:
                self.advance(record)
        return out, total

    def exists(self, tag: str, tenant: str, rid: Any) -> bool:
        record = self.records[tag].get(rid) if isinstance(rid, str) else None
        return record is not None and not record.deleted and record.tenant in (tenant, None)

    # -- lifecycles ---------------------------------------------------------------------------
    def _due(self, record: Record) -> float:
        lifecycle = self._jobs.get(record.kind)
        return record.job_started + (getattr(self.delays, lifecycle.delay) if lifecycle is not None else 0.0)

    def advance(self, record: Record) -> bool:
        """Move a background job on to the state its age implies (its family's `Lifecycle`); answers
        whether it just finished. A state reached is stamped with when it was due, not when someone
        looked: every process, and the server after a restart, computes the same record."""
        lifecycle = self._jobs.get(record.kind)
        data = record.data
        if lifecycle is None or record.tenant is None or data.get("status") not in lifecycle.running:
            return False
        now = self.now()
        due = self._due(record)
        span = max(due - record.job_started, 1e-9)
        share = min(1.0, (now - record.job_started) / span)
        if lifecycle.progress is not None:
            pct = round(share * 100)
            data[lifecycle.progress] = f"{pct}/100" if lifecycle.progress_text else pct
        finished = now >= due
        for stage in lifecycle.stages:
            final = stage.at >= 1.0
            if final and not finished:
                break
            if (final or share >= stage.at) and (not stage.after or data.get("status") in stage.after):
                values = {**data, "id": record.id}
                data.update({k: v.format_map(values) if isinstance(v, str) else v for k, v in stage.sets.items()})
                if stage.stamp:
                    data["updated_at"] = iso_at(record.job_started + span * min(stage.at, 1.0))
                if final:
                    if lifecycle.on_finish is not None:
                        lifecycle.on_finish(data, iso_at(due))
                    return True
        return False

    def restart(self, record: Record) -> None:
        """Start the record's job again from now (a recrawl): its callback is owed again."""
        self.change(record)
        record.job_started = self.now()

    def schedule_callback(self, record: Record) -> None:
        """Ask the server to POST the finished-state callback when the job is due."""
        url = record.data.get("callback_url")
        if url and self.on_callback is not None:
            self.on_callback(record.kind + ":" + record.id, {"url": url}, self._due(record))

    def pending_callbacks(self) -> list[Record]:
        """Jobs with a callback URL whose callback has not gone out: what a server starting on a stored
        state (or on a seed) still owes. Each is sent once it is due (at once if it is overdue)."""
        with self.lock:
            return [r for tag in sorted(self._jobs) for r in dict.values(self.records[tag]) if self._owes_callback(r)]

    def _owes_callback(self, record: Record) -> bool:
        """A key's live job with a callback URL whose callback has not gone out."""
        return (
            record.kind in self._jobs
            and record.tenant is not None
            and not record.deleted
            and bool(record.data.get("callback_url"))
            and record.callback_for != record.job_started
        )

    def claim_callback(self, tag: str, rid: str) -> tuple[str, dict[str, Any]] | None:
        """(url, body) of a finished job's callback, claimed in one write so that no other process, nor
        this one after a restart, sends it again; None when there is nothing (more) to send.
        [OURS] Tavus documents no delivery guarantee or retry for callbacks: one delivery per job, and a
        claim made just before a crash is not sent again (two workers must never both send)."""
        with self.transaction(write=True):
            record = self.records[tag].get(rid)
            if record is None or record.deleted or record.callback_for == record.job_started:
                return None
            self.advance(record)
            data = record.data
            url = data.get("callback_url")
            if not url:
                return None
            self.change(record)
            record.callback_for = record.job_started
            lifecycle = self._jobs.get(tag)
            if lifecycle is not None and lifecycle.callback is not None:
                return url, lifecycle.callback(rid, data)
            return url, copy.deepcopy(data)

    # -- writes -------------------------------------------------------------------------------
    def create(self, tag: str, tenant: str, data: dict[str, Any]) -> Record:
        with self.lock:
            family = self.families[tag]
            rid = self._new_id(family)
            data[family.id_field] = rid
            record = self._new_record(tag, rid, tenant, data)
            self._put(record)
            return record

    def delete(self, record: Record, *, hard: bool) -> None:
        with self.lock:
            self.change(record)
            self._ordered(record.kind, record.tenant).discard(record)
            if hard:
                del self.records[record.kind][record.id]  # memory freed; the id is retired: never given again
                self.retired_ids.add(record.id)
            else:
                record.deleted = True

    def json_patch(self, record: Record, operations: list[dict[str, Any]], view: dict[str, Any]) -> dict[str, Any]:
        """Apply a patch to `view` (the resource as GET shows it) atomically; answers the new view.

        The work is bounded (see `PatchBudget`): a patch that would make the document larger than
        MAX_DOCUMENT, or copy more than PATCH_WORK bytes in all, is stopped before the operation that
        crosses the line and refused with 413; nothing is stored.
        """
        doc = copy.deepcopy(view)
        budget = PatchBudget(doc)
        for index, operation in enumerate(operations):
            step = budget.before(doc, operation, index)
            where = f"operation {index} ({short_pointer(operation.get('path'))})"
            try:
                doc = jsonpatch.JsonPatch([step]).apply(doc, in_place=True)
            except jsonpatch.JsonPatchTestFailed:
                raise ApiError(422, f"JSON Patch test failed: {where}: the value differs", key="message") from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
                reason = str(exc) if len(str(exc)) <= 120 else type(exc).__name__
                raise ApiError(422, f"Invalid JSON patch format: {where}: {reason}", key="message") from None
        patched = doc
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid JSON patch format: the result is not an object", key="message")
        if depth(patched) > MAX_DOCUMENT_DEPTH:
            raise ApiError(
                422,
                f"Invalid JSON patch format: the result nests deeper than {MAX_DOCUMENT_DEPTH} levels",
                key="message",
            )
        family = self.families[record.kind]
        fixed = READ_ONLY | family.read_only | {family.id_field}
        if family.type_field:
            fixed = fixed | {family.type_field}
        for name in fixed:
            if patched.get(name) != view.get(name):
                raise ApiError(422, f"Invalid JSON patch format: /{name} cannot be changed", key="message")
        result: dict[str, Any] = patched
        return result


class _Write:
    """The write transaction of the in-memory store: under the lock, with a journal; undone whole when it
    raises, its records checked when it ends. One per store, entered again by a write inside a write
    (one transaction); a class, not a generator, and made once: this runs on every write."""

    __slots__ = ("_depth", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._depth = 0  # writes entered and not left; changed only by the thread holding the lock

    def __enter__(self) -> None:
        store = self._store
        store.lock.acquire()
        self._depth += 1
        if store._journal is None:  # else inside a write already: one transaction
            store._journal = Journal()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        store = self._store
        self._depth -= 1
        try:
            if self._depth == 0:
                journal = store._journal
                if journal is not None:
                    try:
                        if kind is None:
                            store._admit_all(journal)
                    except BaseException:
                        store._undo(journal)
                        raise
                    finally:
                        store._journal = None
                    if kind is not None:
                        store._undo(journal)
        finally:
            store.lock.release()


def short_pointer(pointer: Any) -> str:
    text = str(pointer)
    return text if len(text) <= 80 else text[:80] + "..."


def _progress_share(progress: Any) -> float:
    """The share of a job done, from its progress field ("40/100" or 40)."""
    text = str(progress).partition("/")[0]
    try:
        return min(max(float(text) / 100.0, 0.0), 1.0)
    except ValueError:
        return 0.0


# [OURS, protective] What one JSON Patch may do: the document it leaves may not exceed MAX_DOCUMENT
# bytes of JSON (the order of the 1 MiB body limit), nor nest deeper than MAX_DOCUMENT_DEPTH, and its
# operations may add, copy or compare PATCH_WORK bytes in all. A 1 KB patch of 19 `copy` operations
# that doubles the document each time is stopped when it would cross 1 MiB.
MAX_DOCUMENT = 1024 * 1024
MAX_DOCUMENT_DEPTH = 64
PATCH_WORK = 4 * MAX_DOCUMENT
# jsonpatch deep-copies every value it adds, at a few microseconds per object or array: a patch may
# add at most this many (a persona has about 20; 1,000 dictionary rules are 1,001).
PATCH_CONTAINERS = 5000


def _encoded(value: Any) -> bytes | None:
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # too deep to encode
        return None


def _size(value: Any) -> int:
    encoded = _encoded(value)
    return MAX_DOCUMENT + 1 if encoded is None else len(encoded)


def _containers(value: Any, limit: int) -> int:
    """Objects and arrays in a JSON value, counted up to `limit + 1`."""
    count = 0
    stack = [value]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, dict):
            count += 1
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            count += 1
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return count


class PatchBudget:
    """Keeps an upper bound of the patched document's size and of the work done, operation by operation."""

    def __init__(self, doc: Any) -> None:
        self.size = _size(doc)
        self.work = self.size
        self.containers = 0

    def before(self, doc: Any, operation: dict[str, Any], index: int) -> dict[str, Any]:
        """Check the budget for one operation; answers the operation to apply (a `copy` becomes an `add`)."""
        op = operation.get("op")
        growth = 0
        if op in ("add", "replace", "test"):
            growth = _size(operation.get("value"))
        elif op == "copy":
            try:
                source = jsonpointer.resolve_pointer(doc, operation.get("from", ""))
            except jsonpointer.JsonPointerException:
                return operation  # jsonpatch refuses it (422)
            encoded = _encoded(source)
            growth = MAX_DOCUMENT + 1 if encoded is None else len(encoded)
            if growth <= MAX_DOCUMENT and encoded is not None:
                # RFC 6902: copy is an add of the value at `from`. Decoding its JSON is a deep copy many
                # times faster than copy.deepcopy, which jsonpatch would use.
                operation = {"op": "add", "path": operation.get("path"), "value": orjson.loads(encoded)}
        self._spend(growth, index)
        if op in ("add", "replace", "copy"):
            added = operation.get("value")
            self.containers += _containers(added, PATCH_CONTAINERS - self.containers)
            if self.containers > PATCH_CONTAINERS:
                raise ApiError(
                    413,
                    f"JSON Patch operation {index} adds more than {PATCH_CONTAINERS} objects and arrays in all;"
                    " nothing was changed",
                )
        if op == "test":
            return operation
        if self.size + growth > MAX_DOCUMENT:
            self.size = _size(doc)  # the bound was loose (removes and replaces shrink): measure
            self._spend(self.size, index)
        if self.size + growth > MAX_DOCUMENT:
            raise ApiError(
                413,
                f"JSON Patch operation {index} would make the document larger than {MAX_DOCUMENT} bytes;"
                " nothing was changed",
            )
        self.size += growth
        return operation

    def _spend(self, amount: int, index: int) -> None:
        self.work += amount
        if self.work > PATCH_WORK:
            raise ApiError(
                413,
                f"JSON Patch does too much work (stopped at operation {index}, over {PATCH_WORK} bytes);"
                " nothing was changed",
            )


def depth(value: Any) -> int:
    """Nesting depth of a JSON value, measured without recursion (stops counting past MAX_DOCUMENT_DEPTH)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DOCUMENT_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def matches_any_tag(tags: Iterable[Any], wanted: str) -> bool:
    wanted_set = {t.strip() for t in wanted.split(",") if t.strip()}
    return bool(wanted_set & {str(t) for t in tags or ()})
