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
import itertools
import json
import math
import operator
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer
import orjson
from sortedcontainers import SortedKeyList

STOCK_REPLICA_ID = "rfe12d8b9597"
JOB_KINDS = frozenset({"replicas", "videos", "documents", "transcriptions"})  # records a background job moves on
STOCK_PERSONA_ID = "pdced222244b"


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


_SEQUENCE = itertools.count()


@dataclass(slots=True)  # no __dict__: a smaller record (a stored resource is kept for the server's life)
class Record:
    kind: str
    id: str
    tenant: str | None  # None: a stock resource every key can read
    data: dict[str, Any]
    # Wall-clock seconds (not monotonic): lifecycles are computed from them, also after a restart on a
    # stored database (tavus_mock/db.py).
    created: float = field(default_factory=time.time)
    seq: int = field(default_factory=_SEQUENCE.__next__)  # creation order, without ties
    deleted: bool = False
    job_started: float = 0.0  # when the current background job (training, rendering, crawl) began
    last_recrawl: float | None = None
    # What a persistent store last wrote of it (state, JSON, job_started, last_recrawl, callback_for); db.py.
    stored: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)
    # The `job_started` of the job whose finished-state callback went out (claimed): sent once per job,
    # by one process, also across a restart on a stored state.
    callback_for: float | None = None

    def __post_init__(self) -> None:
        self.job_started = self.job_started or self.created


@dataclass
class Kind:
    """How one tag's resources behave."""

    tag: str
    id_field: str
    make_id: Callable[[], str]
    type_field: str | None = None  # persona_type / replica_type
    fields: tuple[str, ...] = ()  # filled from the spec at start-up: the single GET's properties
    list_fields: tuple[str, ...] = ()  # ... and the list items' properties
    field_set: frozenset[str] = frozenset()  # the same two, for lookups
    list_field_set: frozenset[str] = frozenset()
    # How a stored record is shown (after the projection onto `fields`): e.g. tools scrub their secrets.
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    read_only: frozenset[str] = frozenset()  # fields a JSON Patch may not change, beyond READ_ONLY
    # A kind's own rules for a JSON Patch (tavus_mock/resources): a check of the operations before they
    # apply, and what the patched document becomes before it is checked against the spec and stored.
    check_patch: Callable[[list[dict[str, Any]]], None] | None = None
    normalize: Callable[[dict[str, Any]], None] | None = None
    terse: frozenset[str] = frozenset()  # fields a read without `verbose=true` leaves out
    lists_read_verbose: bool = False  # a list honours `verbose` too (else it shows every field)
    newest_first: bool = False  # the order of a list that names none
    schema: str | None = None  # the spec schema of a kind no tag of its own describes (its fields)


_creation = operator.attrgetter("seq")  # the order key of records (a C call per comparison)


_IDS = random.Random(secrets.randbits(64))  # ids need to be unique (checked), not secret: no syscall per id


def id_maker(prefix: str, digits: int) -> Callable[[], str]:
    """The id maker of a kind: `prefix` and `digits` random hex digits, in one formatting call."""
    bits, rand = 4 * digits, _IDS.getrandbits
    template = prefix.replace("{", "{{").replace("}", "}}") + f"{{:0{digits}x}}"
    return lambda: template.format(rand(bits))


KINDS: dict[str, Kind] = {
    "conversations": Kind(
        "conversations", "conversation_id", id_maker("c", 14), terse=frozenset({"events", "shutdown_reason"})
    ),
    "personas": Kind("personas", "persona_id", id_maker("p", 11), type_field="persona_type"),
    "replicas": Kind(
        "replicas",
        "replica_id",
        id_maker("r", 11),
        type_field="replica_type",
        terse=frozenset({"replica_type"}),
        lists_read_verbose=True,
    ),
    "objectives": Kind("objectives", "objectives_id", id_maker("o", 11)),
    "guardrails": Kind("guardrails", "guardrails_id", id_maker("g", 12)),
    "documents": Kind("documents", "document_id", id_maker("d8-", 12)),
    "videos": Kind(
        "videos", "video_id", id_maker("", 10), terse=frozenset({"still_image_thumbnail_url", "gif_thumbnail_url"})
    ),
    "voices": Kind("voices", "voice_name", id_maker("voice_", 6)),
    "pronunciation_dictionaries": Kind(
        "pronunciation_dictionaries", "pronunciation_dictionary_id", id_maker("pd_", 14), newest_first=True
    ),
    "transcriptions": Kind("transcriptions", "transcription_id", id_maker("t", 12)),
}

STOCK_VOICES = (
    ("anna", ("female", "warm")),
    ("ben", ("male", "calm")),
    ("carmen", ("female", "energetic")),
    ("dev", ("male", "warm")),
)

# Fields a JSON Patch may not change: identifiers, ownership and server timestamps.
READ_ONLY = frozenset(
    {
        "persona_id",
        "persona_type",
        "objectives_id",
        "guardrails_id",
        "created_at",
        "updated_at",
    }
)


# Stock PALs/personas and faces/replicas that real clients and Tavus's docs use as defaults
# (live-surface inventory: livekit-plugins-tavus defaults pb87e71797da / r4067604db72, docs examples
# pcb7a34da5fe / r90bbd427f71, pipecat-ai's persona_id "pipecat0"). Their names and settings are not
# published; the ones below are ours. Every key reads them; none may change them.
STOCK_REPLICAS = (
    (STOCK_REPLICA_ID, "Nathan"),
    ("r4067604db72", "Stock face (LiveKit default)"),
    ("r90bbd427f71", "Stock face (docs example)"),
)
STOCK_PERSONAS = (
    (STOCK_PERSONA_ID, "Sales Coach", STOCK_REPLICA_ID, "You coach sales people through realistic practice calls."),
    ("pb87e71797da", "Stock PAL (LiveKit default)", "r4067604db72", "You are a friendly, concise assistant."),
    ("pcb7a34da5fe", "Stock PAL (docs example)", "r90bbd427f71", "You are a patient life coach."),
    ("p1af207b8189", "Stock PAL", STOCK_REPLICA_ID, "You are a helpful assistant."),
    ("paaee96e4f87", "Stock PAL", STOCK_REPLICA_ID, "You are a helpful assistant."),
    ("pdac61133ac5", "Stock PAL", STOCK_REPLICA_ID, "You are a helpful assistant."),
    ("pipecat0", "Pipecat default persona", STOCK_REPLICA_ID, "You are a voice assistant run by Pipecat."),
)


# Stock records of the behaviour modules (tavus_mock/resources): each registers a factory here.
STOCK_FACTORIES: list[Callable[[], list[Record]]] = []
STOCK_CREATED = "2025-01-01T00:00:00.000000Z"


def _stock() -> list[Record]:
    return [*_base_stock(), *(record for factory in STOCK_FACTORIES for record in factory())]


def _base_stock() -> list[Record]:
    created = STOCK_CREATED
    voices = [
        Record(
            "voices",
            name,
            None,
            {
                "voice_name": name,
                "replica_id": STOCK_REPLICA_ID,
                "audio_url": f"https://cdn.tavus.example/voices/{name}.mp3",
                "tags": [{"tag_name": t} for t in tags],
            },
        )
        for name, tags in STOCK_VOICES
    ]
    replicas = [
        Record(
            "replicas",
            rid,
            None,
            {
                "replica_id": rid,
                "replica_name": name,
                "replica_type": "system",
                "model_name": "phoenix-4",
                "status": "completed",
                "training_progress": "100/100",
                "thumbnail_video_url": f"https://cdn.tavus.example/replicas/{rid}.mp4",
                "error_message": None,
                "created_at": created,
                "updated_at": created,
            },
        )
        for rid, name in STOCK_REPLICAS
    ]
    personas = [
        Record(
            "personas",
            pid,
            None,
            {
                "persona_id": pid,
                "persona_name": name,
                "persona_type": "system",
                "system_prompt": prompt,
                "pipeline_mode": "full",
                "default_replica_id": replica,
                "document_ids": [],
                "document_tags": [],
                "layers": {"llm": {"model": "tavus-gpt-oss"}, "tts": {"tts_engine": "cartesia"}},
                "created_at": created,
                "updated_at": created,
            },
        )
        for pid, name, replica, prompt in STOCK_PERSONAS
    ]
    return [*voices, *replicas, *personas]


Callback = Callable[[str, dict[str, Any], float], None]


class Store:
    """Every resource of every tenant, behind one lock: a write is read-modify-write under it."""

    def __init__(
        self,
        *,
        delays: Delays | None = None,
        on_callback: Callback | None = None,
        tenant_of: Callable[[str], str] | None = None,
    ) -> None:
        self.delays = delays or Delays()
        self.on_callback = on_callback
        # How a seed's API key becomes a tenant (the server stores a digest of the key, never the key).
        self.tenant_of = tenant_of or (lambda key: key)
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, Record]] = {tag: {} for tag in KINDS}
        # Live records per (kind, owner) in creation order (owner None: stock), so a page of a list costs
        # O(log n + page) whatever the number of records, and one tenant's data never slows another's.
        self.order: dict[tuple[str, str | None], SortedKeyList] = {}
        # Ids of hard-deleted records: never given again (a live record's id is its key in `records`).
        self.retired_ids: set[str] = set()
        for record in _stock():
            self._put(record)

    # -- seeding ------------------------------------------------------------------------------
    def load_seed(self, path: Path) -> int:
        """Load a seed file (see `load_seed_data`); answers the count loaded."""
        return self.load_seed_data(json.loads(path.read_text(encoding="utf-8")))

    def load_seed_data(self, seed: Mapping[str, Any]) -> int:
        """Load `{"system": {tag: [..]}, "tenants": {key: {tag: [..]}}}`; answers the count loaded.
        A loaded job with a `callback_url` is called back when it is due, like a created one."""
        with self.lock:
            loaded = self._load(seed)
            for record in loaded:
                if self._owes_callback(record):
                    self.schedule_callback(record)
            return len(loaded)

    def _load(self, seed: Mapping[str, Any]) -> list[Record]:
        loaded: list[Record] = []
        groups: list[tuple[str | None, Mapping[str, Any]]] = [(None, seed.get("system", {}))]
        groups += [(self.tenant_of(key), tags) for key, tags in seed.get("tenants", {}).items()]
        for tenant, tags in groups:
            for tag, items in tags.items():
                kind = KINDS.get(tag)
                if kind is None:
                    raise ValueError(f"seed: unknown resource kind {tag!r}")
                for item in items:
                    rid = item.get(kind.id_field) or self._new_id(kind)
                    data = {**item, kind.id_field: rid}
                    data.setdefault("created_at", iso_now())
                    data.setdefault("updated_at", data["created_at"])
                    if kind.type_field:
                        data.setdefault(kind.type_field, "system" if tenant is None else "user")
                    record = self._new_record(tag, rid, tenant, data)
                    self._put(record)
                    loaded.append(record)
        return loaded

    def _new_record(self, tag: str, rid: str, tenant: str | None, data: dict[str, Any]) -> Record:
        """A new record; a persistent store gives it a creation rank shared by every process."""
        now = time.time()
        return Record(tag, rid, tenant, data, now, next(_SEQUENCE), False, now)  # every field: no factories

    def transaction(self, *, write: bool) -> contextlib.AbstractContextManager[Any]:
        """One request's work on the state: under the lock here (the lock itself: no generator to run
        per request); a persistent store also makes it one database transaction (tavus_mock/db.py)."""
        return self.lock

    async def settle(self) -> None:
        """Wait until the writes so far are durable: at once here (see tavus_mock/db.py)."""
        return

    def export(self, tenant: str) -> dict[str, list[dict[str, Any]]]:
        """Every live record of one tenant, by kind, as a seed file lists them (`load_seed_data`)."""
        with self.lock:
            out: dict[str, list[dict[str, Any]]] = {}
            for (tag, owner), ordered in self.order.items():
                if owner == tenant and len(ordered):
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

    def _new_id(self, kind: Kind) -> str:
        """An id no record of the kind has, nor had (the caller stores the record at once)."""
        same_kind, retired = self.records[kind.tag], self.retired_ids
        rid = kind.make_id()
        while rid in same_kind or rid in retired:
            rid = kind.make_id()
        return rid

    def reset(self) -> None:
        with self.lock:
            self.records = {tag: {} for tag in KINDS}
            self.order = {}
            self.retired_ids.clear()
            for record in _stock():
                self._put(record)

    # -- lookups ------------------------------------------------------------------------------
    def find(self, tag: str, tenant: str, rid: str, *, writable: bool = False) -> Record:
        record = self.records[tag].get(rid)
        if record is None or record.deleted or record.tenant not in (tenant, None):
            raise ApiError(404, f"{tag[:-1].capitalize()} not found", key="message")
        if writable and record.tenant is None:
            # Stock resources belong to no key: every key reads them, none may change them.
            raise ApiError(404, f"Stock {tag} are read-only", key="message")
        if tag in JOB_KINDS:
            self.advance(record)
        return record

    def visible(self, tag: str, tenant: str) -> list[Record]:
        """Every live record a key sees (its own and the stock ones): for filters that need a scan."""
        out = [*self.order.get((tag, tenant), ()), *self.order.get((tag, None), ())]
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
        for record in out:
            self.advance(record)
        return out, total

    def exists(self, tag: str, tenant: str, rid: Any) -> bool:
        record = self.records[tag].get(rid) if isinstance(rid, str) else None
        return record is not None and not record.deleted and record.tenant in (tenant, None)

    # -- lifecycles ---------------------------------------------------------------------------
    def _due(self, record: Record) -> float:
        delay = {
            "replicas": self.delays.replica,
            "videos": self.delays.video,
            "documents": self.delays.document,
            "transcriptions": self.delays.transcription,
        }
        return record.job_started + delay.get(record.kind, 0.0)

    def advance(self, record: Record) -> bool:
        """Move a background job on to the state its age implies; answers whether it just finished."""
        data = record.data
        if record.kind not in JOB_KINDS or record.tenant is None:
            return False
        now = time.time()
        due = self._due(record)
        total = max(due - record.job_started, 1e-9)
        share = min(1.0, (now - record.job_started) / total)
        pct = round(share * 100)
        finished = now >= due
        # A state reached is stamped with when it was due, not when someone looked: every process, and
        # the server after a restart, computes the same record.
        done_at = iso_at(due)
        if record.kind == "replicas" and data["status"] == "started":
            data["training_progress"] = f"{pct}/100"
            if finished:
                data.update(status="completed", updated_at=done_at)
                data["thumbnail_video_url"] = f"https://cdn.tavus.example/replicas/{record.id}.mp4"
                return True
        elif record.kind == "videos" and data["status"] in ("queued", "generating"):
            data["generation_progress"] = f"{pct}/100"
            if finished:
                base = f"https://cdn.tavus.example/videos/{record.id}"
                data.update(
                    status="ready",
                    status_details="Your request has processed successfully!",
                    download_url=f"{base}.mp4",
                    stream_url=f"{base}.m3u8",
                    still_image_thumbnail_url=f"{base}.jpg",
                    gif_thumbnail_url=f"{base}.gif",
                    updated_at=done_at,
                )
                return True
            if share >= 0.5 and data["status"] == "queued":
                halfway = iso_at(record.job_started + (due - record.job_started) / 2)
                data.update(status="generating", status_details="Rendering.", updated_at=halfway)
        elif record.kind == "transcriptions" and data["status"] == "started":
            if finished:
                data.update(status="completed", text=f"Transcript of {data['file_url']}.")
                return True
        elif record.kind == "documents" and data["status"] in ("started", "processing", "recrawling"):
            data["progress"] = pct
            if finished:
                if data.get("crawl_config"):
                    crawls = (data.get("crawl_count") or 0) + 1
                    data.update(crawl_count=crawls, last_crawled_at=done_at, crawled_urls=[data["document_url"]])
                data.update(status="ready", progress=100, updated_at=done_at)
                return True
            if share > 0 and data["status"] == "started":
                data["status"] = "processing"
        return False

    def schedule_callback(self, record: Record) -> None:
        """Ask the server to POST the finished-state callback when the job is due."""
        url = record.data.get("callback_url")
        if url and self.on_callback is not None:
            self.on_callback(record.kind + ":" + record.id, {"url": url}, self._due(record))

    def pending_callbacks(self) -> list[Record]:
        """Jobs with a callback URL whose callback has not gone out: what a server starting on a stored
        state (or on a seed) still owes. Each is sent once it is due (at once if it is overdue)."""
        with self.lock:
            return [r for tag in sorted(JOB_KINDS) for r in dict.values(self.records[tag]) if self._owes_callback(r)]

    @staticmethod
    def _owes_callback(record: Record) -> bool:
        """A key's live job with a callback URL whose callback has not gone out."""
        return (
            record.kind in JOB_KINDS
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
            record.callback_for = record.job_started
            if tag == "replicas":
                status = "ready" if data["status"] == "completed" else data["status"]
                return url, {"replica_id": rid, "status": status, "error_message": data.get("error_message")}
            return url, copy.deepcopy(data)

    # -- writes -------------------------------------------------------------------------------
    def create(self, tag: str, tenant: str, data: dict[str, Any]) -> Record:
        with self.lock:
            kind = KINDS[tag]
            rid = self._new_id(kind)
            data[kind.id_field] = rid
            record = self._new_record(tag, rid, tenant, data)
            self._put(record)
            return record

    def recrawl(self, record: Record, cooldown: float) -> None:
        """Start crawling a website document again (it must be crawl-backed, settled and cooled down)."""
        with self.lock:
            data = record.data
            if not data.get("crawl_config"):
                raise ApiError(400, "Document was not created with crawl configuration")
            if data["status"] not in ("ready", "error"):
                raise ApiError(
                    409, f"Document must be in 'ready' or 'error' state to recrawl, current status: {data['status']}"
                )
            now = time.time()
            if record.last_recrawl is not None and now - record.last_recrawl < cooldown:
                wait = int(cooldown - (now - record.last_recrawl)) + 1
                raise ApiError(429, f"Recrawl cooldown: please wait {wait} seconds", headers={"Retry-After": str(wait)})
            record.last_recrawl = now
            record.job_started = now
            # The body's `crawl` settings would only shape this crawl, whose pages the server does not
            # fetch; the stored settings stay as they are.
            data.update(status="recrawling", progress=None, updated_at=iso_now())

    def delete(self, record: Record, *, hard: bool) -> None:
        with self.lock:
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
            try:
                doc = jsonpatch.JsonPatch([step]).apply(doc, in_place=True)
            except jsonpatch.JsonPatchTestFailed as exc:
                raise ApiError(422, f"JSON Patch test failed: {exc}", key="message") from exc
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
                raise ApiError(422, f"Invalid JSON patch format: {exc}", key="message") from exc
        patched = doc
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid JSON patch format: the result is not an object", key="message")
        if depth(patched) > MAX_DOCUMENT_DEPTH:
            raise ApiError(
                422,
                f"Invalid JSON patch format: the result nests deeper than {MAX_DOCUMENT_DEPTH} levels",
                key="message",
            )
        kind = KINDS[record.kind]
        for name in READ_ONLY | kind.read_only | {kind.id_field}:
            if patched.get(name) != view.get(name):
                raise ApiError(422, f"Invalid JSON patch format: {name} cannot be changed", key="message")
        result: dict[str, Any] = patched
        return result


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
