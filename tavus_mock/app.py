"""The reference server as an ASGI app: routing, auth, faults, validation, then the resource handlers.

Order of checks for every request (the contract suite relies on it):
route (404 unknown path, 405 + Allow undeclared method) -> auth (401) -> injected fault ->
body size (413) -> content type, JSON and schema of path, query and body (400) -> lookup (404)
-> behaviour. Routes, parameters and schemas all come from openapi/tavus.yaml at start-up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import orjson

from tavus_spec.facts import facts as spec_facts

from .aliases import Alias
from .control import ControlPlane, Faults, is_loopback
from .core import MAX_PAGE, Answer, Ctx, Family, Message, Receive, Record, Scope, Send, short, tenant_of
from .journal import BODY_BYTES, DEFAULT_SIZE, Journal, problem_of
from .resources import registry
from .service import Service
from .spec import Operation, Router, SchemaValidator, Spec
from .store import ApiError, Delays, Store, depth, iso_now

logger = logging.getLogger("tavus_mock")


MAX_BODY = 1024 * 1024
MAX_DEPTH = 64  # JSON nesting; far deeper than any Tavus body, far shallower than Python's recursion limit
UNAUTHORIZED = {"message": "Invalid access token"}
_NOTHING: frozenset[str] = frozenset()
USED_HEADERS = frozenset({"x-api-key", "prefer", "content-type", "content-length", "if-match"})
# The headers the server reads, by their ASGI name (ASGI servers give header names in lower case).
_USED_BY_BYTES = {name.encode(): name for name in USED_HEADERS}
_JSON_TYPE = (b"content-type", b"application/json")


@dataclass
class MockConfig:
    """Settings of one server. An empty `api_keys` accepts any non-empty key (each its own tenant)."""

    api_keys: frozenset[str] = frozenset()
    delays: Delays = field(default_factory=Delays)
    fault_rate: float = 0.0
    fault_codes: tuple[int, ...] = (429, 500, 503)
    fault_seed: int | None = None
    max_body: int = MAX_BODY
    access_log: bool = True
    # Callbacks go to loopback addresses only unless this is set: a test run must never reach out.
    external_callbacks: bool = False
    recrawl_cooldown: float = 3600.0  # [S1] one recrawl per document per hour
    # Check every answer against the spec (documented status, body schema) and turn a mismatch into a 500
    # that names it. On in the project's tests and the pytest plugin; costs a validation per answer.
    check_answers: bool = False
    # A SQLite file that keeps the state (tavus_mock/db.py); None keeps it in memory (the default).
    db: str | None = None
    db_synchronous: str = "normal"  # survives kill -9; "full" also survives power loss
    journal_size: int = DEFAULT_SIZE  # requests the journal keeps (tavus_mock/journal.py)
    # The control plane (/_mock/...) answers loopback clients only, unless a token is set: then any
    # client that sends it in `x-mock-token`, and no other.
    control_token: str | None = None


class TavusMock:
    """A stateful Tavus v2 server. Call `reset()` between test cases for a fresh state."""

    def __init__(self, spec: Spec | None = None, config: MockConfig | None = None) -> None:
        self.spec = spec or Spec()
        self.config = config or MockConfig()
        if self.config.db is None:
            self.store = Store(
                delays=self.config.delays,
                on_callback=self._schedule_callback,
                tenant_of=tenant_of,
                families=registry(),
            )
        else:
            from .db import DbStore  # sqlite3 loads only when asked for

            self.store = DbStore(
                self.config.db,
                delays=self.config.delays,
                on_callback=self._schedule_callback,
                tenant_of=tenant_of,
                synchronous=self.config.db_synchronous,
                families=registry(),
            )
        # Whether a write waits for the store before its answer leaves (a --db store's group commit).
        self._settles = type(self.store).settle is not Store.settle
        self._callback_client: httpx.AsyncClient | None = None
        # The last callbacks sent (url, body), for tests and debugging; bounded for long-running servers.
        self.callbacks_sent: deque[tuple[str, dict[str, Any]]] = deque(maxlen=1000)
        # ...and how each was answered (the inspector page shows them).
        self.callback_log: deque[dict[str, Any]] = deque(maxlen=1000)
        # Every request answered (the control plane's excepted), for tests: GET /_mock/requests.
        self.journal = Journal(self.config.journal_size)
        # Faults a test asked for or a --fault-rate draws (tavus_mock/control.py).
        self.faults = Faults(self.config.fault_rate, self.config.fault_codes, self.config.fault_seed)
        self.control_plane = ControlPlane(self)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the serving loop, between start-up and shutdown
        # The newest outgoing callback: each one leaves after the one before it is answered (or failed),
        # so a receiver gets them in the order they fell due.
        self._last_delivery: asyncio.Task[None] | None = None
        self._router = Router(self.spec.operations)
        self.families = registry()
        # How each family's records are shown and checked, from the spec (per server: nothing global changes).
        self._shapes = {tag: self._shape(family) for tag, family in self.families.items()}
        self.store.admit = self._admit
        self.api = Service(self)  # what handlers get: the narrow interface (core.Api)
        self._aliases = {op_id: f.alias for f in self.families.values() for op_id in f.alias_operations}
        self._handlers = {op.operation_id: self._handler_for(op) for op in self.spec.operations}
        self._page_bases = {op.operation_id: self._page_base(op) for op in self.spec.operations}
        # What a list does when the request does not say (tavus_spec.facts: the `x-server-default` of its
        # `limit` and `sort` parameters): the spec is the one place these are written.
        self._list_defaults = {op.operation_id: self._list_default(op) for op in self.spec.operations}
        self._patch_schema = {op.operation_id: self._read_validator(op) for op in self.spec.operations}

    # -- spec-derived facts --------------------------------------------------------------------
    def _shape(self, family: Family) -> Shape:
        """The fields of a family's reads (single and listed) and the validator of a whole record."""
        if family.schema is not None:  # no tag of its own: the named schema's properties
            schema = self.spec.schema(family.schema)
            fields = tuple(schema.get("properties", {}))
            return Shape(fields, fields, frozenset(fields), frozenset(fields), self.spec.validator(schema))
        tag = family.tag
        single = next(
            (
                op
                for op in self.spec.operations
                if op.tag == tag and op.method == "GET" and "{" in op.path and op.path.count("/") == 3
            ),
            None,
        )
        listing = next(
            (op for op in self.spec.operations if op.tag == tag and op.method == "GET" and "{" not in op.path), None
        )
        list_item: dict[str, Any] = {}
        if listing is not None:
            props = listing.response_validators["200"].schema
            props = props.get("anyOf", [props])[0]["properties"]  # the first shape (guardrail sets)
            arrays = [p for p in props.values() if p.get("type") == "array"]
            list_item = arrays[0]["items"] if arrays else {}
        if single is not None:
            schema = single.response_validators["200"].schema
            first = schema.get("anyOf", [schema])[0]
            fields = tuple(first.get("properties", {}))
            validator = single.response_validators["200"]
        else:
            fields, validator = tuple(list_item.get("properties", {})), self.spec.validator(list_item)
        list_fields = tuple(list_item.get("properties", {})) or fields
        return Shape(fields, list_fields, frozenset(fields), frozenset(list_fields), validator)

    def shape(self, tag: str) -> Shape:
        return self._shapes[tag]

    def field_set(self, tag: str) -> frozenset[str]:
        return self._shapes[tag].field_set

    @property
    def control_token(self) -> str | None:
        return self.config.control_token

    @property
    def recrawl_cooldown(self) -> float:
        return self.config.recrawl_cooldown

    def _read_validator(self, op: Operation) -> SchemaValidator | None:
        """The schema a JSON Patch of `op`'s resource must leave (the GET of the same path)."""
        get = next((o for o in self.spec.operations if o.path == op.path and o.method == "GET"), None)
        return get.response_validators.get("200") if get is not None else None

    def _handler_for(self, op: Operation) -> Callable[[Ctx], Answer]:
        """The behaviour of an operation: what its family declares (a generic behaviour by name, its own
        handler, or a PAL-era alias); 501 for one no family serves."""
        for family in self.families.values():
            behaviour = family.operations.get(op.operation_id)
            if isinstance(behaviour, str):
                handler: Callable[[Ctx], Answer] = getattr(self, "_" + behaviour)
                return handler
            if behaviour is not None:
                return functools.partial(behaviour, self.api)
            target = family.alias_operations.get(op.operation_id)
            if target is not None:
                return functools.partial(self._alias, family.alias, target)
        return self._not_implemented

    def _admit(self, record: Record, before: dict[str, Any] | None) -> None:
        """The check every write ends in (create, JSON Patch, flat update, rename, seed): the record as a
        read shows it must match the spec, the references it changed must name the same key's (or
        stock) resources, and its family's own rules must hold. A refusal undoes the request."""
        family = self.families[record.kind]
        shape = self._shapes[record.kind]
        data = record.data
        # What a read shows: the stored data itself when the view would be a plain copy of it.
        view = data if family.present is None and shape.field_set.issuperset(data) else self._view(record)
        if not shape.validator.is_valid(view):
            raise Refusal("the result breaks the schema: " + "; ".join(shape.validator.errors(view)))
        exists = self.store.exists
        tenant = record.tenant or ""
        for ref in family.references:
            value = data.get(ref.field)
            if value is None or value == [] or (before is not None and before.get(ref.field) == value):
                continue  # nothing named, or nothing changed
            if ref.many and isinstance(value, list):
                missing = [str(i) for i in value if not exists(ref.tag, tenant, i)]
            else:
                missing = [] if exists(ref.tag, tenant, value) else [str(value)]
            if missing:
                raise Refusal(ref.error(missing), status=ref.status, schema=False)
        if family.check is not None:
            family.check(self.api, tenant, data)

    def reset(self) -> None:
        """Back to the stock resources: the state, the fault sequence and the callbacks sent."""
        self.store.reset()
        self.faults.reset()
        self.callbacks_sent.clear()
        self.callback_log.clear()
        self.journal.clear()

    # -- ASGI ----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        log = self.config.access_log and logger.isEnabledFor(logging.INFO)
        started = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        # What the journal keeps of this request, filled in as _handle learns it:
        # operation id, tenant, the body's first bytes, the body's size.
        note: list[Any] = [None, "", b"", 0]
        control = path.startswith("/_mock")
        try:
            if control:
                answer = await self.control_plane.answer(scope, receive)
            else:
                answer = await self._handle(scope, receive, note)
        except ApiError as err:
            answer = Answer(err.status, err.body, err.headers)
        except Exception:  # a bug in the server must still give a JSON answer and a log line
            logger.exception("unhandled error on %s %s", method, path)
            answer = Answer(500, {"error": "Internal server error"})
        start, body = self._messages(answer, head=method == "HEAD")
        # Journaled before the answer leaves: a test that reads the journal after its call sees it.
        elapsed = (time.perf_counter() - started) * 1000
        if not control:
            status = answer.status
            self.journal.entries.append(
                (
                    time.time(),
                    note[1],
                    note[0],
                    method,
                    path,
                    scope.get("query_string", b""),
                    status,
                    elapsed,
                    note[2],
                    note[3],
                    problem_of(status, answer.body) if status >= 400 else None,
                )
            )
        await send(start)
        await send(body)
        if log:
            logger.info("%s %s %d %.1fms", method, path, answer.status, elapsed)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                self._last_delivery = None  # a task of an earlier loop is never awaited on this one
                for record in self.store.pending_callbacks():  # owed from before a restart, or a seed
                    self.store.schedule_callback(record)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._loop = None
                if self._callback_client is not None:  # closed with its loop; a later start makes a new one
                    client, self._callback_client = self._callback_client, None
                    await client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    def _messages(answer: Answer, *, head: bool) -> tuple[Message, Message]:
        """The two ASGI messages of an answer (its head, its body)."""
        headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()] if answer.headers else []
        payload = b""
        if isinstance(answer.body, bytes):  # a page of the control plane (its type in answer.headers)
            payload = answer.body
        elif answer.body is not None and answer.status not in (204, 304):
            payload = orjson.dumps(answer.body)  # strict JSON out: NaN/Infinity cannot be written
            headers.append(_JSON_TYPE)
        headers.append((b"content-length", b"%d" % len(payload)))
        start = {"type": "http.response.start", "status": answer.status, "headers": headers}
        return start, {"type": "http.response.body", "body": b"" if head else payload}

    def _route(self, path: str, method: str) -> tuple[Operation, dict[str, str]]:
        found = self._router.find(path)
        if found is None:
            raise ApiError(404, f"No such endpoint: {short(path)}")
        ops, params = found
        op = ops.get(method)
        if op is None:
            allow = ", ".join(sorted(ops))
            raise ApiError(405, f"Method {method} is not allowed here", headers={"Allow": allow})
        return op, params

    async def _handle(self, scope: Scope, receive: Receive, note: list[Any]) -> Answer:
        op, path_params = self._route(scope["path"], scope["method"])
        note[0] = op.operation_id
        # Only the headers the server reads are decoded (looked up as bytes first: most are not).
        headers = {}
        for raw_name, value in scope["headers"]:
            name = _USED_BY_BYTES.get(raw_name)
            if name is not None:
                headers[name] = value.decode("latin-1")
        key = self.authenticate(headers)
        if key is None:
            if not op.public:
                return Answer(401, UNAUTHORIZED)
            tenant = ""  # a public operation (`security: []`): no tenant
        else:
            tenant = tenant_of(key)
        note[1] = tenant
        if self.faults.armed or "prefer" in headers:
            fault = self.faults.answer(op.operation_id, headers.get("prefer", ""))
            if fault is not None:
                return fault
        try:
            body = None
            if op.body_validator is not None:
                first = await receive()  # most bodies come whole in one message: no second coroutine
                if first["type"] == "http.request" and not first.get("more_body", False):
                    raw = first.get("body", b"")
                    if len(raw) > self.config.max_body:
                        raise self._too_large()
                else:  # more to come: refused before reading it when the declared length is over the limit
                    self._check_declared_size(headers)
                    raw = await self._read_rest(receive, first)
                note[2], note[3] = raw[:BODY_BYTES], len(raw)
                body = self._check_body(op, raw, headers)
            ctx = Ctx(
                op,
                tenant,
                self._check_path(op, path_params) if op.path_parameters else {},
                self._check_query(op, scope) if op.query_parameters else {},
                body,
                headers,
            )
            # One transaction per request: with --db, committed before the answer leaves (nothing
            # acknowledged is lost) and rolled back whole when the handler refuses.
            write = op.method not in ("GET", "HEAD")
            try:
                with self.store.transaction(write=write):
                    answer = self._handlers[op.operation_id](ctx)
            except Refusal as err:
                answer = self._refused(op, ctx.body, err)
            if write and self._settles:
                await self.store.settle()  # the answer leaves only once the change is stored
        except ApiError as err:
            answer = Answer(err.status, err.body, err.headers)
        if self.config.check_answers and answer.status != 501:
            self._check_answer(op, answer)
        return answer

    # -- the control plane (/_mock/...; tavus_mock/control.py), as methods for in-process tests ---
    def control(self, tag: str, rid: str, action: str, body: dict[str, Any]) -> Answer:
        """A family's control action on one record (`ControlPlane.control`)."""
        return self.control_plane.control(tag, rid, action, body)

    def advance(self, seconds: Any) -> Answer:
        """Move the clock on by `seconds` (`ControlPlane.advance`)."""
        return self.control_plane.advance(seconds)

    def fail_next(self, operation_id: Any, status: Any, times: Any = 1) -> Answer:
        """The next `times` calls of `operation_id` answer `status` (`ControlPlane.fail_next`)."""
        return self.control_plane.fail_next(operation_id, status, times)

    def requests(self, operation_id: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries of `operation_id` (`ControlPlane.requests`)."""
        return self.control_plane.requests(operation_id, **filters)

    def assert_called(self, operation_id: str, times: int | None = None, **fields: Any) -> list[dict[str, Any]]:
        """AssertionError unless `operation_id` was called so (`ControlPlane.assert_called`)."""
        return self.control_plane.assert_called(operation_id, times, **fields)

    def send_callback_soon(self, tag: str, rid: str) -> None:
        """Send a job's callback now, on the serving loop (from a test's thread too), after those before it."""
        self._soon(lambda: self._send_job_callback(tag, rid))

    def _refused(self, op: Operation, body: Any, err: Refusal) -> Answer:
        """The answer to a write whose result breaks a rule: 422 for a JSON Patch, else 400 (each when
        the operation documents it), worded in the operation's own vocabulary (a PAL's names)."""
        patching = isinstance(body, list) and err.schema
        status = err.status
        if status in (400, 422):
            choices = ("422", "400") if patching else ("400", "422")
            status = next((int(c) for c in choices if c in op.responses), status)
        text = err.text
        alias = self._aliases.get(op.operation_id)
        if alias is not None:
            text = alias.message(text)
        if patching:
            text = "Invalid JSON patch format: " + text
        elif not text.startswith("Invalid"):
            text = "Invalid request: " + text
        return Answer(status, {"message" if status == 422 else "error": text})

    @staticmethod
    def _check_answer(op: Operation, answer: Answer) -> None:
        """Raise (a 500 naming the problem) when an answer is not one the spec documents for `op`."""
        status = str(answer.status)
        problem = ""
        if status not in op.responses:
            problem = f"status {status} is not documented"
        elif answer.status in (204, 304) and answer.body is not None:
            problem = f"a {status} answer has a body"
        else:
            validator = op.response_validators.get(status)
            if validator is not None:
                errors = validator.errors(answer.body)
                if errors:
                    problem = f"the {status} body breaks the spec: {'; '.join(errors)}"
        if problem:
            logger.error("tavus-mock broke its spec on %s: %s", op.operation_id, problem)
            raise ApiError(500, f"tavus-mock broke its own spec on {op.operation_id}: {problem}")

    def authenticate(self, headers: Mapping[str, str]) -> str | None:
        """The tenant of a request (its key), or None when the key is missing or unknown."""
        key = headers.get("x-api-key", "")
        if not key or (self.config.api_keys and key not in self.config.api_keys):
            return None
        return key

    # -- input checks --------------------------------------------------------------------------
    def _check_declared_size(self, headers: Mapping[str, str]) -> None:
        """413 before reading when the declared length is over the limit."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.config.max_body:
            raise self._too_large()

    def _too_large(self) -> ApiError:
        return ApiError(413, f"Request body is larger than {self.config.max_body} bytes")

    async def _read_rest(self, receive: Receive, message: Message) -> bytes:
        """A body that comes in several messages, from its first; 413 once it passes the limit."""
        chunks = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_body:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
            message = await receive()
        return b"".join(chunks)

    @staticmethod
    def _check_path(op: Operation, values: dict[str, str]) -> dict[str, str]:
        out = {}
        for param in op.path_parameters:
            value = values[param.name]
            if "%" in value:
                value = unquote(value)
            bounds = param.length_bounds
            if bounds is None or not bounds[0] <= len(value) <= bounds[1]:
                errors = param.validator.errors(value)
                if errors:
                    raise ApiError(400, f"Invalid {param.name}: {errors[0]}")
            out[param.name] = value
        return out

    @staticmethod
    def _check_query(op: Operation, scope: Scope) -> dict[str, Any]:
        params = op.query_parameters
        if not params:
            return {}
        raw = scope.get("query_string", b"").decode("latin-1")
        given: dict[str, str] = {}
        if raw:
            for name, text in parse_qsl(raw, keep_blank_values=True):
                given.setdefault(name, text)
        out: dict[str, Any] = {}
        for param in params:
            if param.name not in given:
                if param.required:
                    raise ApiError(400, f"Invalid request: {param.name} is required")
                continue
            text = given[param.name]
            value: Any
            if param.kind == "integer":
                try:
                    value = int(text)
                except ValueError:
                    raise ApiError(400, f"Invalid request: {param.name} must be an integer") from None
            elif param.kind == "boolean":
                if text.lower() not in ("true", "false"):
                    raise ApiError(400, f"Invalid request: {param.name} must be true or false") from None
                value = text.lower() == "true"
            else:
                value = text
            errors = param.validator.errors(value)
            if errors:
                raise ApiError(400, f"Invalid request: {param.name}: {errors[0].split(': ', 1)[-1]}")
            out[param.name] = value
        return out

    @staticmethod
    def _check_body(op: Operation, raw: bytes, headers: Mapping[str, str]) -> Any:
        if op.body_validator is None:
            return None
        if not raw or raw.isspace():
            if op.body_required:
                raise ApiError(400, "Invalid request: a JSON body is required")
            return None
        ctype = headers.get("content-type", "")
        if ctype != "application/json":  # the common spelling needs no parsing
            ctype = ctype.split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(
                400, f"Invalid request: Content-Type must be application/json, not {short(ctype) or 'missing'}"
            )
        # Strict JSON (orjson): UTF-8 only, no BOM, no NaN/Infinity, no number that overflows a double,
        # no lone surrogate, nesting bounded; each is a 400 saying which.
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "depth limit" in str(exc):
                raise ApiError(400, f"Invalid request: the body is nested deeper than {MAX_DEPTH} levels") from None
            raise ApiError(400, f"Invalid request: the body is not strict JSON ({short(str(exc), 160)})") from None
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth(body) > MAX_DEPTH:  # counting is C-fast
            raise ApiError(400, f"Invalid request: the body is nested deeper than {MAX_DEPTH} levels")
        if not op.body_validator.is_valid(body):  # one pass on valid input; the messages only on refusal
            raise ApiError(400, "Invalid request: " + "; ".join(op.body_validator.errors(body)))
        return body

    # -- views ---------------------------------------------------------------------------------
    def _view(self, record: Record, *, verbose: bool = True, listing: bool = False) -> dict[str, Any]:
        family = self.families[record.kind]
        shape = self._shapes[record.kind]
        hidden = _NOTHING if verbose else family.terse
        allowed = shape.list_field_set if listing else shape.field_set
        data = record.data
        if hidden or not allowed.issuperset(data):
            view = {k: v for k, v in data.items() if k in allowed and k not in hidden}
        else:  # the common case: every stored field is one the view shows (a copy made in C)
            view = data.copy()
        return family.present(view) if family.present is not None else view

    def success(self, op: Operation) -> int:
        """The first documented success status of an operation (what a create answers)."""
        return op.success_statuses[0]

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]:
        """(limit, page, offset, descending) of a list request: the one place that reads page bases and a
        list's documented defaults (`default_limit` where the spec documents none)."""
        q = ctx.query
        op_id = ctx.op.operation_id
        documented_limit, documented_sort = self._list_defaults[op_id]
        limit = min(q.get("limit", documented_limit or default_limit), MAX_PAGE)
        base = self._page_bases[op_id]
        page = q.get("page", base)
        descending = q.get("sort", documented_sort) in ("desc", "descending")  # both spellings (SortOrder)
        return limit, page, max(page - base, 0) * limit, descending

    def _record(self, ctx: Ctx, *, writable: bool = False) -> Record:
        family = self.families[ctx.op.tag]
        return self.store.find(ctx.op.tag, ctx.tenant, ctx.path[family.id_field], writable=writable)

    # -- the generic behaviours ------------------------------------------------------------------
    def _not_implemented(self, ctx: Ctx) -> Answer:
        return Answer(
            501, {"error": f"{ctx.op.operation_id} ({ctx.op.method} {ctx.op.path}) is not implemented by tavus-mock"}
        )

    def _create(self, ctx: Ctx) -> Answer:
        """Create a resource with the create its family declared (`Family.creates`)."""
        family = self.families.get(ctx.op.tag)
        if family is None or family.create is None:
            return self._not_implemented(ctx)
        return family.create(self.api, ctx, ctx.body, iso_now())  # under the request's transaction

    def _get(self, ctx: Ctx) -> Answer:
        record = self._record(ctx)
        return Answer(200, self._view(record, verbose=bool(ctx.query.get("verbose"))))

    def _list(self, ctx: Ctx) -> Answer:
        """A page of a list. Without a filter that needs a scan (the family's `filters`) it costs
        O(log n + page): see Store.page."""
        tag = ctx.op.tag
        q = ctx.query
        family = self.families[tag]
        limit, page, offset, descending = self.paging(ctx)
        store = self.store
        if not family.ordered_by_id and (not family.filters or family.filters.keys().isdisjoint(q)):
            owner = q.get(family.type_field) if family.type_field else None
            order = "stock_first" if q.get("sort") == "recommended" else ("desc" if descending else "asc")
            chunk, total = store.page(tag, ctx.tenant, owner=owner, offset=offset, limit=limit, order=order)
        else:
            records = self._scan(family, ctx.tenant, q)
            if family.ordered_by_id:
                records.sort(key=lambda r: r.id, reverse=descending)
            elif q.get("sort") == "recommended":  # stock ones first, then by creation
                records.sort(key=lambda r: (r.tenant is not None, r.seq))
            else:
                records.sort(key=lambda r: r.seq, reverse=descending)
            chunk, total = records[offset : offset + limit], len(records)
        verbose = bool(q.get("verbose")) if family.lists_read_verbose else True
        out: dict[str, Any] = {
            "data": [self._view(r, verbose=verbose, listing=True) for r in chunk],
            "total_count": total,
        }
        props = ctx.op.response_validators["200"].schema.get("properties", {})
        if "page" in props:
            out["page"] = page
        if "limit" in props:
            out["limit"] = limit
        return Answer(200, out)

    def _scan(self, family: Family, tenant: str, q: dict[str, Any]) -> list[Record]:
        """The records a key sees that pass the list's filters (its family's `filters`, and its type)."""
        records = self.store.visible(family.tag, tenant)
        if family.type_field and family.type_field in q:
            records = [r for r in records if r.data.get(family.type_field) == q[family.type_field]]
        for name, keep in family.filters.items():
            if name in q:
                value = q[name]
                records = [r for r in records if keep(r, value)]
        return records

    def _page_base(self, op: Operation) -> int:
        """First page number of a list (tavus_spec.facts: `x-page-base` of its `page` parameter; 0 and 1
        both work on 1)."""
        found = spec_facts(self.spec.raw).list_at(op.path)
        return found.page_base if found is not None and found.page_base is not None else 1

    def _list_default(self, op: Operation) -> tuple[int | None, str]:
        """(page size, order) of a list that names neither: the spec's, else none and ascending."""
        found = spec_facts(self.spec.raw).list_at(op.path) if op.method == "GET" else None
        if found is None:
            return None, "asc"
        return found.default_limit, found.default_sort or "asc"

    def _patch(self, ctx: Ctx) -> Answer:
        """A JSON Patch of the resource as its GET shows it, or a flat update. Either ends in the same
        check as every write (`_admit`, when the request's transaction ends)."""
        record = self._record(ctx, writable=True)
        family = self.families[record.kind]
        if isinstance(ctx.body, list):
            view = self._view(record)
            if family.check_patch is not None:
                family.check_patch(ctx.body)
            patched = self.store.json_patch(record, ctx.body, view)
            if patched == view:
                return Answer(304)
            unknown = sorted(set(patched) - self._shapes[record.kind].field_set)
            if unknown:  # a member the resource does not have would vanish from every read
                message = f"Invalid JSON patch format: /{unknown[0]} is not a field of this resource"
                raise ApiError(422, message, key="message")
            validator = self._patch_schema[ctx.op.operation_id]
            if validator is not None and not validator.is_valid(patched):
                raise Refusal("the result breaks the schema: " + "; ".join(validator.errors(patched)))
            if family.normalize is not None:
                family.normalize(patched)
            patched["updated_at"] = iso_now()
            record.data.update(patched)
            for gone in set(view) - set(patched):
                record.data.pop(gone, None)
            answer = ctx.op.response_validators.get("200")
            if answer is None:
                return Answer(200)
            if family.id_field in answer.schema.get("properties", {}):
                return Answer(200, self._view(record))  # the spec answers the updated resource
            return Answer(200, {"message": f"{ctx.op.tag.capitalize()} updated successfully"})
        field_set = self._shapes[record.kind].field_set
        record.data.update({k: v for k, v in ctx.body.items() if k in field_set})
        record.data["updated_at"] = iso_now()
        return Answer(200, self._view(record))

    def _alias(self, alias: Alias, target_id: str, ctx: Ctx) -> Answer:
        """A PAL-era operation: its legacy twin, with names translated both ways (aliases.py)."""
        target = self.spec.by_id[target_id]
        body = ctx.body
        if isinstance(body, dict):
            body = alias.request_keys(body)
        elif isinstance(body, list):
            for op in body:
                for pointer in (op.get("path"), op.get("from")):
                    name = alias.legacy_member(pointer) if isinstance(pointer, str) else None
                    if name is not None:  # RFC 6902: a member the document does not have
                        hint = f"use /{alias.to_alias(name)}"
                        message = f"Invalid JSON patch format: {pointer} is not in a {alias.tag[:-1]}; {hint}"
                        raise ApiError(422, message, key="message")
            body = alias.patch(body)
        legacy = Ctx(target, ctx.tenant, alias.request_keys(ctx.path), alias.request_keys(ctx.query), body)
        try:
            answer = self._handlers[target.operation_id](legacy)
            if answer.status == 200 and answer.body is None and "200" in ctx.op.response_validators:
                answer = Answer(200, self._view(self._record(legacy)))  # an alias patch may answer the updated resource
        except Refusal as err:
            raise Refusal(err.text, status=err.status, schema=err.schema) from None  # worded by _refused
        except ApiError as err:
            key = next(iter(err.body))
            raise ApiError(err.status, alias.message(_error_text(err)), key=key, headers=err.headers) from None
        return Answer(answer.status, alias.answer(answer.body), answer.headers)

    def _rename(self, ctx: Ctx) -> Answer:
        record = self._record(ctx, writable=True)
        field_set = self._shapes[record.kind].field_set
        record.data.update({k: v for k, v in ctx.body.items() if k in field_set})
        record.data["updated_at"] = iso_now()
        return Answer(self.success(ctx.op))

    def _delete(self, ctx: Ctx) -> Answer:
        record = self._record(ctx, writable=True)
        self.store.delete(record, hard=bool(ctx.query.get("hard")))
        return Answer(self.success(ctx.op))

    # -- callbacks -----------------------------------------------------------------------------
    def _schedule_callback(self, key: str, info: dict[str, Any], due: float) -> None:
        """Send a job's callback when it is due, on the serving loop (asked from another thread too:
        a test that seeds the running server). Without a loop nothing is scheduled: start-up sends
        what is owed (`Store.pending_callbacks`)."""
        tag, _, rid = key.partition(":")
        try:
            loop = asyncio.get_running_loop()
            here = True
        except RuntimeError:
            serving = self._loop
            if serving is None or serving.is_closed():
                return
            loop, here = serving, False

        def arm() -> None:
            delay = max(0.0, due - self.store.now())
            loop.call_later(delay, lambda: self._deliver(loop, lambda: self._send_job_callback(tag, rid)))

        if here:
            arm()
        else:
            loop.call_soon_threadsafe(arm)

    async def _send_job_callback(self, tag: str, rid: str) -> None:
        found = self.store.claim_callback(tag, rid)
        if found is not None:
            await self.store.settle()  # the claim is stored before the callback leaves: sent once
            await self._post(*found)

    def post_soon(self, url: str, payload: dict[str, Any]) -> None:
        """POST a callback in the background, on the serving loop (also when asked from another thread:
        a test's control action)."""
        self._soon(lambda: self._post(url, payload))

    def _soon(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Deliver `job()` in the background on the serving loop, after every delivery asked for before it:
        here when called on it, else handed to it from this thread (`call_soon_threadsafe` keeps the order
        of the calls); nothing without a serving loop (start-up sends what is owed)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            serving = self._loop
            if serving is not None and not serving.is_closed():
                serving.call_soon_threadsafe(lambda: self._deliver(serving, job))
            return
        self._deliver(loop, job)

    def _deliver(self, loop: asyncio.AbstractEventLoop, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `job()` once the delivery before it has ended, however it ended. [OURS] Tavus documents no
        order for callbacks; an emulator that keeps the order they fell due in lets a test read them in
        that order. A receiver slow to answer holds the ones after it for at most the 5 s timeout."""
        before = self._last_delivery

        async def in_turn() -> None:
            if before is not None and not before.done():
                await asyncio.wait((before,))
            await job()

        self._last_delivery = self._spawn(loop, in_turn())

    def _spawn(self, loop: asyncio.AbstractEventLoop, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a background job, keeping a reference so it is not collected before it ends."""
        task = loop.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._job_done)
        return task

    def _job_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished background job; log its failure (no 'Task exception was never retrieved')."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            logger.warning("background job failed: %s: %.200s", type(error).__name__, error)

    def callback_allowed(self, url: str) -> bool:
        """Loopback targets only (judged from the URL text; nothing is resolved), unless configured."""
        if self.config.external_callbacks:
            return True
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False
        return is_loopback(host)

    async def _post(self, url: str, payload: dict[str, Any]) -> None:
        if not self.callback_allowed(url):
            logger.info("callback to %.80s skipped: not a loopback address (see --external-callbacks)", url)
            return
        if self._callback_client is None:
            self._callback_client = httpx.AsyncClient(timeout=5.0)
        self.callbacks_sent.append((url, payload))
        entry: dict[str, Any] = {
            "at": time.time(),
            "url": url,
            "event": payload.get("event_type") or payload.get("status"),
        }
        self.callback_log.append(entry)
        try:
            response = await self._callback_client.post(url, json=payload)
            logger.info("callback %.80s -> %d", url, response.status_code)
            entry.update(answer=response.status_code, ok=response.status_code < 400)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            logger.warning("callback %.80s failed: %s", url, type(exc).__name__)
            entry.update(answer=type(exc).__name__, ok=False)


class Refusal(ApiError):
    """A write whose result breaks a rule (the schema, a reference, a family's check): answered 422 for a
    JSON Patch and 400 for any other body, whichever of the two the operation documents."""

    def __init__(self, text: str, *, status: int = 400, schema: bool = True) -> None:
        super().__init__(status, text)
        self.text = text
        self.schema = schema  # the result breaks the schema (else: a reference or a family's rule)


@dataclass(frozen=True, slots=True)
class Shape:
    """How one family's records are shown and checked, read from the spec when a server starts."""

    fields: tuple[str, ...]  # the single GET's properties
    list_fields: tuple[str, ...]  # the list items' properties
    field_set: frozenset[str]
    list_field_set: frozenset[str]
    validator: SchemaValidator  # of a whole record as a read shows it


def _error_text(err: ApiError) -> str:
    return str(next(iter(err.body.values())))


def request_problem(op: Operation, scope: Scope, path_params: dict[str, str], raw: bytes) -> str | None:
    """What the server would refuse in a request to `op` (the first problem, worded as its 400), or None:
    the server's own checks of the path, the query and the body, for the proxy's drift report."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    try:
        TavusMock._check_path(op, path_params)
        TavusMock._check_query(op, scope)
        TavusMock._check_body(op, raw, headers)
    except ApiError as err:
        return _error_text(err)
    return None
