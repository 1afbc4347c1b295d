"""What the server core and every behaviour module share: the request context, the answer, and the
registry that maps an operationId to the function that serves it.

A behaviour module (tavus_mock/resources/<family>.py) registers its operations with `@handles(...)`
and its kind's create with `@creates(tag)`; `TavusMock` looks an operation up here when its generic
behaviours (get, list, patch, rename, delete, and the common steps of a create, in app.py) do not
cover it. Adding a resource family is therefore a new module and the spec, nothing else.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import TavusMock
    from .spec import Operation

MAX_PAGE = 1000  # [OURS, protective] items per list page, whatever `limit` asks (the spec's Limit parameter)


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
    def owner_id(self) -> str:
        """The account id answered as `owner_id`: derived from the key, never the key itself."""
        return owner_id(self.tenant)


@dataclass(slots=True)
class Answer:
    status: int
    body: Any = None
    headers: Mapping[str, str] | None = None  # extra response headers (most answers have none)


Handler = Callable[["TavusMock", Ctx], Answer]
BEHAVIOURS: dict[str, Handler] = {}
# How a kind's create stores a checked body: (server, request, body, now as iso text) -> the answer.
Creator = Callable[["TavusMock", Ctx, dict[str, Any], str], Answer]
CREATORS: dict[str, Creator] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register a function as the behaviour of these operations (by operationId)."""

    def register(func: Handler) -> Handler:
        for operation_id in operation_ids:
            if operation_id in BEHAVIOURS:
                raise RuntimeError(f"two behaviours for {operation_id}")
            BEHAVIOURS[operation_id] = func
        return func

    return register


def creates(tag: str) -> Callable[[Creator], Creator]:
    """Register a function as the create of a kind (by tag): what the generic create calls."""

    def register(func: Creator) -> Creator:
        if tag in CREATORS:
            raise RuntimeError(f"two creates for {tag}")
        CREATORS[tag] = func
        return func

    return register


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


def owner_id(tenant: str) -> str:
    return "u" + hashlib.sha256(tenant.encode()).hexdigest()[:15]


def short(text: str, limit: int = 80) -> str:
    """At most `limit` characters of a value quoted in an error message."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
