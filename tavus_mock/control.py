"""The control plane of tavus-mock (`/_mock/...`) and the faults a test asks for: for tests, never part of
the Tavus API.

Kept apart from the server (tavus_mock/app.py), which serves the API: the inspector page, the journal
queries, the state, export, reset, seed, the clock, planned and injected faults, and the families' control
actions (`@FAMILY.control`). The contract tool cannot see any of this (it is not in the spec); tavus-mock's
own tests do (tests/mock/test_journal.py, test_control.py, test_inspector.py).
"""

from __future__ import annotations

import ipaddress
import random
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

import orjson

from .core import Answer, Api, Family, Message, Receive, Scope, short, tenant_of
from .inspector import PAGE
from .journal import Journal, describe, matches
from .store import ApiError

if TYPE_CHECKING:
    from .spec import Spec
    from .store import Store

_FAULTS_USAGE = "Invalid request: operation_id of the spec, status 400-599, times >= 1"


class Faults:
    """Faults answered instead of the API: planned ones (`fail_next`, `POST /_mock/faults`: the next calls
    of one operation), asked for by a request (`Prefer: code=503`) and random ones (`--fault-rate`)."""

    __slots__ = ("_codes", "_next", "_random", "_rate", "_seed", "armed")

    def __init__(self, rate: float, codes: tuple[int, ...], seed: int | None) -> None:
        self._rate, self._codes, self._seed = rate, codes, seed
        self._random = random.Random(seed)
        self._next: dict[str, list[int]] = {}  # operationId -> [status, calls left]
        # Whether any request may get a fault without asking for one (a planned fault is left, or a
        # random rate is set): a plain attribute, read on every request.
        self.armed = rate > 0

    def reset(self) -> None:
        self._random.seed(self._seed)
        self._next.clear()
        self.armed = self._rate > 0

    def plan(self, operation_id: str, status: int, times: int) -> None:
        self._next[operation_id] = [status, times]
        self.armed = True

    def answer(self, operation_id: str, prefer: str) -> Answer | None:
        """The fault this call gets instead of its answer, if any: a planned one first, then one the
        request asks for (`Prefer: code=NNN`), then a random one at the configured rate."""
        planned = self._next.get(operation_id)
        if planned is not None:
            status, left = planned
            if left <= 1:
                del self._next[operation_id]
                self.armed = bool(self._next) or self._rate > 0
            else:
                planned[1] = left - 1
            return _fault_answer(status, f"Injected fault {status} (asked for by the test)")
        code = None
        for part in prefer.split(","):
            name, _, value = part.strip().partition("=")
            if name == "code" and value.isdigit() and 400 <= int(value) <= 599:
                code = int(value)
        if code is None and self._rate > 0 and self._random.random() < self._rate:
            code = self._random.choice(self._codes)
        if code is None:
            return None
        return _fault_answer(code, f"Injected fault {code}")


def _fault_answer(status: int, text: str) -> Answer:
    headers = {"Retry-After": "0"} if status in (429, 503) else {}
    return Answer(status, {"error": text}, headers)


class Host(Protocol):
    """What the control plane needs of its server (tavus_mock.app.TavusMock)."""

    @property
    def spec(self) -> Spec: ...

    @property
    def store(self) -> Store: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def faults(self) -> Faults: ...

    @property
    def families(self) -> dict[str, Family]: ...

    @property
    def api(self) -> Api: ...

    @property
    def callback_log(self) -> deque[dict[str, Any]]: ...

    @property
    def control_token(self) -> str | None: ...

    def reset(self) -> None: ...

    def send_callback_soon(self, tag: str, rid: str) -> None: ...

    async def _read_rest(self, receive: Receive, message: Message) -> bytes: ...


class ControlPlane:
    """`/_mock/...` of one server, and the same as methods for tests that hold the server in-process."""

    def __init__(self, mock: Host) -> None:
        self._mock = mock

    async def answer(self, scope: Scope, receive: Receive) -> Answer:
        """The control plane, for tests: the inspector page, the journal, the state, the callbacks sent,
        export, reset, seed, the clock, planned faults and the families' control actions. Loopback
        clients only, or, with `control_token` set, any client that sends it as `x-mock-token`."""
        mock = self._mock
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        closed = control_closed(scope, headers, mock.control_token)
        if closed is not None:
            return closed
        route = (scope["method"], scope["path"].rstrip("/"))
        if route == ("GET", "/_mock"):
            return Answer(200, PAGE.encode(), {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
        if route == ("GET", "/_mock/requests"):
            return self._requests(scope)
        if route == ("GET", "/_mock/state"):
            return Answer(200, {"records": self.state()})
        if route == ("GET", "/_mock/callbacks"):
            return Answer(200, {"callbacks": list(mock.callback_log)})
        if route == ("GET", "/_mock/export"):
            key = headers.get("x-api-key", "")
            if not key:
                return Answer(400, {"error": "Invalid request: send the key whose resources to export as x-api-key"})
            return Answer(200, {"tenants": {key: mock.store.export(tenant_of(key))}})
        if scope["method"] == "POST" and route[1] != "/_mock/reset":
            raw = await mock._read_rest(receive, await receive())
            try:
                body = orjson.loads(raw) if raw.strip() else {}
            except orjson.JSONDecodeError:
                return Answer(400, {"error": "Invalid request: the body is not JSON"})
            if not isinstance(body, dict):
                return Answer(400, {"error": "Invalid request: the body is a JSON object"})
            if route[1] == "/_mock/seed":
                try:
                    count = mock.store.load_seed_data(body)
                except ValueError as exc:  # a seed the spec refuses: nothing of it is loaded
                    return Answer(400, {"error": short(str(exc), 400)})
                return Answer(200, {"loaded": count})
            if route[1] == "/_mock/clock":
                return self.advance(body.get("seconds"))
            if route[1] == "/_mock/faults":
                return self.fail_next(body.get("operation_id"), body.get("status"), body.get("times", 1))
            parts = route[1].split("/")  # ["", "_mock", tag, id, action]
            if len(parts) == 5:
                return self.control(parts[2], parts[3], parts[4], body)
        if route == ("POST", "/_mock/reset"):
            while (await receive()).get("more_body"):  # the body, if any, means nothing
                pass
            try:
                mock.reset()
            except RuntimeError as exc:  # a --db store is shared: it is never emptied
                return Answer(409, {"error": str(exc)})
            return Answer(204)
        return Answer(404, {"error": f"No such control endpoint: {scope['method']} {short(scope['path'])}"})

    def _requests(self, scope: Scope) -> Answer:
        given = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            status = int(given["status"]) if "status" in given else None
            since = float(given["since"]) if "since" in given else None
            limit = int(given["limit"]) if "limit" in given else None
        except ValueError:
            return Answer(400, {"error": "Invalid request: status and limit are integers, since is a number"})
        found = self._mock.journal.select(
            operation_id=given.get("operation"),
            tenant=given.get("tenant"),
            status=status,
            method=given.get("method"),
            since=since,
        )
        if limit is not None and limit >= 0:
            found = found[-limit:] if limit else []
        return Answer(200, {"requests": found, "total": len(found)})

    def state(self, at_most: int = 500) -> list[dict[str, Any]]:
        """The newest records of every key, then the stock ones, as the inspector lists them."""
        out: list[dict[str, Any]] = []
        store = self._mock.store
        with store.lock:
            groups = sorted(store.order.items(), key=lambda item: item[0][1] is None)
            for (tag, owner), ordered in groups:
                for record in reversed(ordered):
                    if len(out) >= at_most:
                        return out
                    data = record.data
                    name = next((v for k, v in data.items() if k.endswith("name") and isinstance(v, str)), None)
                    out.append(
                        {
                            "tenant": owner[:12] if owner else "stock",
                            "kind": tag,
                            "id": record.id,
                            "status": data.get("status"),
                            "name": name,
                            "created_at": data.get("created_at"),
                        }
                    )
        return out

    def control(self, tag: str, rid: str, action: str, body: dict[str, Any]) -> Answer:
        """A family's control action on one record (its module's `@FAMILY.control`), as one write."""
        mock = self._mock
        family = mock.families.get(tag)
        act = family.controls.get(action) if family is not None else None
        if act is None:
            return Answer(404, {"error": f"No such control action: {short(tag)}/{{id}}/{short(action)}"})
        try:
            with mock.store.transaction(write=True):
                return act(mock.api, rid, body)
        except ApiError as err:
            return Answer(err.status, err.body, err.headers)

    def advance(self, seconds: Any) -> Answer:
        """Move the server's clock on by `seconds`: every background job due by then is done, and the
        callbacks they owe are sent now, in the order they fell due."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 10**9:
            return Answer(400, {"error": "Invalid request: seconds is a number from 0 to 1e9"})
        store = self._mock.store
        with store.lock:
            store.offset += float(seconds)
            due = store.due_callbacks()
        for record in due:
            self._mock.send_callback_soon(record.kind, record.id)
        return Answer(200, {"offset": store.offset, "callbacks": len(due)})

    def fail_next(self, operation_id: Any, status: Any, times: Any = 1) -> Answer:
        """The next `times` calls of `operation_id` (any key) answer `status` with an error body."""
        known = operation_id in self._mock.spec.by_id
        if not known or not isinstance(status, int) or not 400 <= status <= 599:
            return Answer(400, {"error": _FAULTS_USAGE})
        if not isinstance(times, int) or times < 1:
            return Answer(400, {"error": _FAULTS_USAGE})
        self._mock.faults.plan(operation_id, status, times)
        return Answer(200, {"operation_id": operation_id, "status": status, "times": times})

    def requests(self, operation_id: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries (oldest first) of `operation_id`, with every other field given equal."""
        return [e for e in self._mock.journal.select(operation_id=operation_id) if matches(e, filters)]

    def assert_called(self, operation_id: str, times: int | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Raise AssertionError unless `operation_id` was called (exactly `times` times, when given) with
        every field given (e.g. `status=200`, `body={"name": "x"}`); answers the matching
        entries. The message lists what was called instead."""
        found = self.requests(operation_id, **fields)
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = ", ".join([operation_id, *(f"{k}={v!r}" for k, v in fields.items())])
        count = f"{times} time(s)" if times is not None else "at least once"
        raise AssertionError(
            f"expected {wanted} {count}, found {len(found)}; the server was called with:\n"
            + describe(self._mock.journal.select())
        )


def control_closed(scope: Scope, headers: Mapping[str, str], token: str | None) -> Answer | None:
    """The 403 of a client the control plane (/_mock/...) is closed to: any client but a loopback one,
    or, with a token set, any client that does not send it as `x-mock-token`. None: it is open."""
    client = scope.get("client") or ("", 0)
    allowed = headers.get("x-mock-token") == token if token is not None else is_loopback(str(client[0]))
    if allowed:
        return None
    why = "x-mock-token is missing or wrong" if token is not None else "only loopback clients may use it"
    return Answer(403, {"error": f"The control plane is closed to this client: {why}"})


def is_loopback(host: str) -> bool:
    """Whether a host (as written: nothing is resolved) is this machine: `localhost` or a loopback IP."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
