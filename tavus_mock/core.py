"""What the server core and every behaviour module share: the request context, the answer, and the
registry that maps an operationId to the function that serves it.

A behaviour module (tavus_mock/resources/<family>.py) registers its operations with `@handles(...)`;
`TavusMock` looks an operation up here when its own generic behaviours (create, get, list, patch,
delete of the older resources, in app.py) do not cover it. Adding a resource family is therefore a new
module and the spec, nothing else.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import TavusMock
    from .spec import Operation

MAX_PAGE = 1000  # [OURS, protective] items per list page, whatever `limit` asks (the spec's Limit parameter)


@dataclass
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


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["TavusMock", Ctx], Answer]
BEHAVIOURS: dict[str, Handler] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register a function as the behaviour of these operations (by operationId)."""

    def register(func: Handler) -> Handler:
        for operation_id in operation_ids:
            if operation_id in BEHAVIOURS:
                raise RuntimeError(f"two behaviours for {operation_id}")
            BEHAVIOURS[operation_id] = func
        return func

    return register


@functools.lru_cache(maxsize=4096)  # a request costs no hashing for a key seen before
def tenant_of(api_key: str) -> str:
    """The tenant an API key stands for: a digest, so neither memory dumps nor a --db file hold keys."""
    return "k" + hashlib.sha256(api_key.encode()).hexdigest()[:31]


def owner_id(tenant: str) -> str:
    return "u" + hashlib.sha256(tenant.encode()).hexdigest()[:15]


def short(text: str, limit: int = 80) -> str:
    """At most `limit` characters of a value quoted in an error message."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
