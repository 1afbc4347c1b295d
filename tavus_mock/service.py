"""`Service`: the narrow interface (core.Api) a family's handlers get instead of the server object.

Reads go to the store; every write goes through `create`, `change` or `delete`, so the store's journal
knows what a request changed (to undo it whole when it is refused, and for a --db file to write
exactly that); answers are shaped by the server's views of the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .core import Answer, Ctx, Record

if TYPE_CHECKING:
    from .spec import Operation, SchemaValidator, Spec
    from .store import Store


class Server(Protocol):
    """What the service needs of the server (tavus_mock.app.TavusMock): its views of the spec."""

    @property
    def spec(self) -> Spec: ...

    @property
    def store(self) -> Store: ...

    @property
    def recrawl_cooldown(self) -> float: ...

    def _view(self, record: Record, *, verbose: bool = True, listing: bool = False) -> dict[str, Any]: ...

    def field_set(self, tag: str) -> frozenset[str]: ...

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]: ...

    def post_soon(self, url: str, payload: dict[str, Any]) -> None: ...


class Service:
    """What a handler may do (core.Api), bound to one server."""

    __slots__ = ("_mock", "_store", "_validators")

    def __init__(self, mock: Server) -> None:
        self._mock = mock
        self._store = mock.store
        self._validators: dict[str, SchemaValidator] = {}

    @property
    def recrawl_cooldown(self) -> float:
        return self._mock.recrawl_cooldown

    def now(self) -> float:
        return self._store.now()

    # -- reads --------------------------------------------------------------------------------
    def find(self, tag: str, tenant: str, rid: str, *, writable: bool = False) -> Record:
        return self._store.find(tag, tenant, rid, writable=writable)

    def lookup(self, tag: str, tenant: str, rid: Any) -> Record | None:
        return self._store.lookup(tag, tenant, rid)

    def lookup_any(self, tag: str, rid: Any) -> Record | None:
        record = self._store.records[tag].get(rid) if isinstance(rid, str) else None
        return record if record is not None and not record.deleted else None

    def exists(self, tag: str, tenant: str, rid: Any) -> bool:
        return self._store.exists(tag, tenant, rid)

    def visible(self, tag: str, tenant: str) -> list[Record]:
        return self._store.visible(tag, tenant)

    def page(
        self, tag: str, tenant: str, *, owner: str | None = None, offset: int, limit: int, order: str = "asc"
    ) -> tuple[list[Record], int]:
        return self._store.page(tag, tenant, owner=owner, offset=offset, limit=limit, order=order)

    # -- writes -------------------------------------------------------------------------------
    def create(self, tag: str, tenant: str, data: dict[str, Any]) -> Record:
        return self._store.create(tag, tenant, data)

    def change(self, record: Record) -> dict[str, Any]:
        return self._store.change(record)

    def delete(self, record: Record, *, hard: bool = False) -> None:
        self._store.delete(record, hard=hard)

    def restart(self, record: Record) -> None:
        self._store.restart(record)

    def json_patch(self, record: Record, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return self._store.json_patch(record, operations, self._mock._view(record))

    # -- jobs and callbacks --------------------------------------------------------------------
    def schedule(self, record: Record) -> None:
        self._store.schedule_callback(record)

    def post_soon(self, url: str, payload: dict[str, Any]) -> None:
        self._mock.post_soon(url, payload)

    # -- answers ------------------------------------------------------------------------------
    def view(self, record: Record, *, verbose: bool = True, listing: bool = False) -> dict[str, Any]:
        return self._mock._view(record, verbose=verbose, listing=listing)

    def fields(self, tag: str) -> frozenset[str]:
        return self._mock.field_set(tag)

    def success(self, op: Operation) -> int:
        return op.success_statuses[0]

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]:
        return self._mock.paging(ctx, default_limit)

    def generic(self, name: str, ctx: Ctx) -> Answer:
        handler = getattr(self._mock, "_" + name)
        answer: Answer = handler(ctx)
        return answer

    def validator(self, schema_name: str) -> SchemaValidator:
        found = self._validators.get(schema_name)
        if found is None:
            spec = self._mock.spec
            found = self._validators[schema_name] = spec.validator(spec.schema(schema_name))
        return found
