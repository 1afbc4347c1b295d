"""What the server core and every resource family share: the request, the answer, the narrow interface
a handler works through (`Api`), and the one registry of families (`FAMILIES`).

A family (tavus_mock/resources/<family>.py) is one module that declares a `Family`: its kind (id field,
id maker, how a record is shown), its stock records, its lifecycle as data (`Lifecycle`, `Stage`), its
list filters, the references its records hold (`Reference`), its patch rules, its own check of a whole
record, and its operations (a generic behaviour by name, or a handler). The core (app.py, store.py,
db.py) reads these declarations and names no family; tests/mock/test_layout.py keeps it so.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .spec import Operation, SchemaValidator

# ASGI, as every part of the server speaks it.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_PAGE = 1000  # [OURS, protective] items per list page, whatever `limit` asks (the spec's Limit parameter)
# The generic behaviours an operation may name in its family's `operations` (app.py serves them).
GENERIC = frozenset({"create", "get", "list", "patch", "rename", "delete"})


@dataclass(slots=True)
class Ctx:
    """One checked request: its operation, its tenant (the API key), and its checked inputs."""

    op: Operation
    tenant: str
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def account(self) -> str:
        """The id of the key's account (what a resource answers as its owner): derived from the key,
        never the key itself."""
        return account_id(self.tenant)


_SEQUENCE = itertools.count()  # creation ranks of this process's records


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
    # When the current background job (training, rendering, crawl) began; 0.0: at `created` (stock).
    job_started: float = 0.0
    last_recrawl: float | None = None
    # What a persistent store last wrote of it (state, JSON, job_started, last_recrawl, callback_for); db.py.
    stored: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)
    # The `job_started` of the job whose finished-state callback went out (claimed): sent once per job,
    # by one process, also across a restart on a stored state.
    callback_for: float | None = None


@dataclass(slots=True)
class Answer:
    status: int
    body: Any = None
    headers: Mapping[str, str] | None = None  # extra response headers (most answers have none)


class Api(Protocol):
    """What a handler may do: read, write (every write goes through `create`, `change` or `delete`, so a
    refused request is undone whole and a --db store writes exactly what changed), schedule, answer."""

    @property
    def recrawl_cooldown(self) -> float: ...

    def now(self) -> float:
        """The server's clock (wall-clock seconds, plus what a test advanced it by)."""
        ...

    def find(self, tag: str, tenant: str, rid: str, *, writable: bool = False) -> Record:
        """A record the key sees (404 otherwise); `writable` refuses stock records and notes a change."""
        ...

    def lookup(self, tag: str, tenant: str, rid: Any) -> Record | None:
        """A live record the key sees, or None (no 404)."""
        ...

    def lookup_any(self, tag: str, rid: Any) -> Record | None:
        """A live record whoever owns it: for a public operation (no key), which answers only what any
        visitor may see."""
        ...

    def exists(self, tag: str, tenant: str, rid: Any) -> bool: ...

    def visible(self, tag: str, tenant: str) -> list[Record]:
        """Every live record the key sees (its own and the stock ones), in creation order."""
        ...

    def page(
        self, tag: str, tenant: str, *, owner: str | None = None, offset: int, limit: int, order: str = "asc"
    ) -> tuple[list[Record], int]: ...

    def create(self, tag: str, tenant: str, data: dict[str, Any]) -> Record: ...

    def change(self, record: Record) -> dict[str, Any]:
        """Note that this request changes the record (before changing it); answers its data."""
        ...

    def delete(self, record: Record, *, hard: bool = False) -> None: ...

    def restart(self, record: Record) -> None:
        """Start the record's background job again from now (its lifecycle's first state)."""
        ...

    def schedule(self, record: Record) -> None:
        """Send the record's callback when its job is due (if it has a callback URL)."""
        ...

    def post_soon(self, url: str, payload: dict[str, Any]) -> None: ...

    def view(self, record: Record, *, verbose: bool = True, listing: bool = False) -> dict[str, Any]: ...

    def fields(self, tag: str) -> frozenset[str]:
        """The fields a read of the kind shows (from the spec)."""
        ...

    def success(self, op: Operation) -> int: ...

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]: ...

    def generic(self, name: str, ctx: Ctx) -> Answer:
        """A generic behaviour (GENERIC) of the core, for a family that builds on it."""
        ...

    def json_patch(self, record: Record, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """The record's view with a JSON Patch applied (bounded, atomic; nothing stored)."""
        ...

    def validator(self, schema_name: str) -> SchemaValidator: ...


Handler = Callable[[Api, Ctx], Answer]
# A control-plane action on one record of a family (POST /_mock/{tag}/{id}/{action}, for tests):
# (api, the record's id, the JSON body) -> the answer.
Control = Callable[[Api, str, dict[str, Any]], Answer]
# How a family's create stores a checked body: (api, request, body, now as iso text) -> the answer.
Creator = Callable[[Api, Ctx, dict[str, Any], str], Answer]
# A list filter: (a record, the query parameter's value) -> whether the record is kept.
Filter = Callable[["Record", Any], bool]


@dataclass(frozen=True, slots=True)
class Stage:
    """A state a background job reaches once `at` of its time has passed (1.0: when it is done)."""

    at: float
    sets: Mapping[str, Any]  # fields it sets; text is formatted with the record's fields and `id`
    after: frozenset[str] = frozenset()  # only from these statuses (empty: from any running one)
    stamp: bool = True  # `updated_at` becomes the moment the stage was due


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A background job (training, rendering, processing) as data: the statuses in which it runs, its
    progress field, its stages and what its callback carries."""

    delay: str  # the `Delays` setting that gives its duration
    running: frozenset[str]  # statuses in which the job moves on
    stages: tuple[Stage, ...]  # in order; the last, at 1.0, is the finished state
    progress: str | None = None  # the field that shows progress
    progress_text: bool = False  # progress as "n/100" (else a number)
    on_finish: Callable[[dict[str, Any], str], None] | None = None  # what a stage cannot say (a crawl's count)
    callback: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None  # (id, data) -> body; None: the record


@dataclass(frozen=True, slots=True)
class Reference:
    """A field of a record that names another resource: it must exist and be the same key's (or stock)."""

    field: str
    tag: str  # the kind it names
    many: bool = False  # a list of ids
    label: str | None = None  # how an error names the kind (default: the tag, singular)
    status: int = 400
    message: str | None = None  # the whole error text, where the real API's is known

    def error(self, missing: list[str]) -> str:
        if self.message is not None:
            return self.message
        from_tag = self.label or self.tag[:-1].replace("_", " ")
        return f"Invalid {self.field}: no {from_tag} {short(', '.join(map(str, missing)))}"


@dataclass
class Family:
    """Everything one resource family is; app.py and store.py read it and name no family."""

    tag: str  # the spec's tag (also the store's kind)
    id_field: str
    make_id: Callable[[], str]
    type_field: str | None = None  # the field that says "system" for stock records, "user" for the key's own
    schema: str | None = None  # the spec schema of a kind no tag of its own serves (its fields)
    stock: Callable[[], Iterable[dict[str, Any]]] | None = None  # the records every key reads
    lifecycle: Lifecycle | None = None
    filters: Mapping[str, Filter] = field(default_factory=dict)  # list filters that need a scan
    references: tuple[Reference, ...] = ()
    check: Callable[[Api, str, dict[str, Any]], None] | None = None  # the family's own rules of a whole record
    # How a stored record is shown (after the projection onto its fields): e.g. tools scrub their secrets.
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    read_only: frozenset[str] = frozenset()  # fields a JSON Patch may not change (beyond ids and timestamps)
    # A family's own rules for a JSON Patch: a check of the operations before they apply, and what the
    # patched document becomes before it is checked and stored.
    check_patch: Callable[[list[dict[str, Any]]], None] | None = None
    normalize: Callable[[dict[str, Any]], None] | None = None
    terse: frozenset[str] = frozenset()  # fields a read without `verbose=true` leaves out
    lists_read_verbose: bool = False  # a list honours `verbose` too (else it shows every field)
    ordered_by_id: bool = False  # a list in the order of ids (else of creation)
    # operationId -> a generic behaviour's name (GENERIC) or the family's handler.
    operations: dict[str, str | Handler] = field(default_factory=dict)
    create: Creator | None = None
    # A PAL-era vocabulary over this family's records (tavus_mock/aliases.py), and its operations.
    alias: Any = None
    alias_operations: Mapping[str, str] = field(default_factory=dict)  # alias operationId -> this family's
    # What a test may make a record do through the control plane (e.g. a conversation's events).
    controls: dict[str, Control] = field(default_factory=dict)

    def handles(self, *operation_ids: str) -> Callable[[Handler], Handler]:
        """Register a function as the behaviour of these operations (by operationId)."""

        def register(func: Handler) -> Handler:
            for operation_id in operation_ids:
                _claim(operation_id, self.tag)
                self.operations[operation_id] = func
            return func

        return register

    def control(self, action: str) -> Callable[[Control], Control]:
        """Register a control-plane action on this family's records (POST /_mock/{tag}/{id}/{action})."""

        def register(func: Control) -> Control:
            self.controls[action] = func
            return func

        return register

    def creates(self, func: Creator) -> Creator:
        """Register a function as this family's create (what the generic create calls)."""
        if self.create is not None:
            raise RuntimeError(f"two creates for {self.tag}")
        self.create = func
        return func


FAMILIES: dict[str, Family] = {}
_SERVED_BY: dict[str, str] = {}  # operationId -> the family that serves it (each is served once)


def _claim(operation_id: str, tag: str) -> None:
    if operation_id in _SERVED_BY:
        raise RuntimeError(f"two behaviours for {operation_id} ({_SERVED_BY[operation_id]}, {tag})")
    _SERVED_BY[operation_id] = tag


def register(family: Family) -> Family:
    """Add a family to the registry (each module does so once, at import)."""
    if family.tag in FAMILIES:
        raise RuntimeError(f"two families for {family.tag}")
    for operation_id, behaviour in family.operations.items():
        if isinstance(behaviour, str) and behaviour not in GENERIC:
            raise RuntimeError(f"{operation_id}: no generic behaviour {behaviour!r}")
        _claim(operation_id, family.tag)
    for operation_id in family.alias_operations:
        _claim(operation_id, family.tag)
    FAMILIES[family.tag] = family
    return family


def tag_page(ctx: Ctx, tag_sets: Iterable[Iterable[Any]]) -> Answer:
    """One page of the tags in use (each resource's tags), counted and filtered by `search`: the
    answer of the document and guardrail tag lists."""
    counts: dict[str, int] = {}
    for tags in tag_sets:
        for tag in set(tags):
            if isinstance(tag, str):
                counts[tag] = counts.get(tag, 0) + 1
    needle = str(ctx.query.get("search", "")).lower()
    found = sorted(tag for tag in counts if needle in tag.lower())
    limit = min(ctx.query.get("limit", 10), MAX_PAGE)
    offset = max(ctx.query.get("page", 1) - 1, 0) * limit
    page = [{"tag": tag, "document_count": counts[tag]} for tag in found[offset : offset + limit]]
    return Answer(200, {"tags": page, "total_count": len(found)})


@functools.lru_cache(maxsize=4096)  # a request costs no hashing for a key seen before
def tenant_of(api_key: str) -> str:
    """The tenant an API key stands for: a digest, so neither memory dumps nor a --db file hold keys."""
    return "k" + hashlib.sha256(api_key.encode()).hexdigest()[:31]


def account_id(tenant: str) -> str:
    return "u" + hashlib.sha256(tenant.encode()).hexdigest()[:15]


def short(text: str, limit: int = 80) -> str:
    """At most `limit` characters of a value quoted in an error message."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
