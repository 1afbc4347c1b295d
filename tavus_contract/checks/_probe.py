"""What every check shares: the case under judgement, a way to ask the same server again, and failing
with a reproduction.

`contract_check` registers a function of one `Probe` as a schemathesis check. The probe holds the
case, the answer and the run's settings, and sends follow-up requests (`ask`) to the same server with
the run's key (or, `as_second=True`, with the second tenant's key). Each follow-up is remembered as
a curl line, so a failure shows every request needed to see it again, runnable as pasted with the
key taken from the environment.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

import schemathesis
from schemathesis import Case, CheckContext, Response

from tavus_contract.settings import REPRODUCE, Settings, current
from tavus_spec.facts import Facts, ListFacts, facts

KEY_HEADER = "x-api-key"


def curl(request: Any, settings: Settings) -> str:
    """A curl line for a prepared request, with the keys replaced by environment variables."""
    parts = ["curl", "-X", str(request.method)]
    for name, value in request.headers.items():
        if name.lower() == KEY_HEADER:
            variable = (
                "TAVUS_SECOND_API_KEY" if settings.second_key and value == settings.second_key else "TAVUS_API_KEY"
            )
            parts.append(f'-H "{name}: ${variable}"')
        elif name.lower() in ("content-type", "if-match"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.body
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        parts += ["-d", shlex.quote(text)]
    parts.append(shlex.quote(str(request.url)))
    return " ".join(parts)


def header(response: Any, name: str) -> str | None:
    """One header of an answer (schemathesis keeps each header's values as a list)."""
    value = response.headers.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


@dataclass
class Ledger:
    """The ids this run saw created (answers of creates with the run's key) and deleted (a 2xx DELETE of
    an item path, through any vocabulary): an id is one record whatever path names it."""

    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    def alive(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.created and value not in self.deleted

    def note(self, method: str, path_parameters: dict[str, Any], status: int) -> None:
        """A DELETE's success removes the item its last path parameter names."""
        if method.upper() == "DELETE" and 200 <= status < 300 and path_parameters:
            last = list(path_parameters.values())[-1]
            if isinstance(last, str):
                self.deleted.add(last)


LEDGER = Ledger()  # one per schemathesis process, which is one run


@dataclass
class Probe:
    """One check's view of a case: the case, its answer, the settings, and follow-up requests."""

    ctx: CheckContext | None
    response: Response
    case: Case[Any]
    settings: Settings
    asked: list[str] = field(default_factory=list)  # curl lines of the follow-ups sent so far

    @property
    def facts(self) -> Facts:
        return facts(self.case.operation.schema.raw_schema)

    @property
    def raw(self) -> dict[str, Any]:
        return self.case.operation.schema.raw_schema  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return str(self.case.operation.path)

    @property
    def method(self) -> str:
        return str(self.case.method).upper()

    @property
    def base_url(self) -> str:
        url = urlsplit(str(self.response.request.url))
        return f"{url.scheme}://{url.netloc}"

    @property
    def succeeded(self) -> bool:
        return 200 <= self.response.status_code < 300

    def body(self) -> Any:
        """The answer's JSON, or None when it is not JSON."""
        return json_of(self.response)

    def list_here(self) -> ListFacts | None:
        return self.facts.list_at(self.path) if self.method == "GET" else None

    def ask(
        self,
        operation_id: str,
        *,
        path_parameters: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        as_second: bool = False,
    ) -> Response:
        """Send another operation of the spec to the same server, with the run's key (or the second one).
        A 5xx answer fails the check at once (the rule schemathesis' not_a_server_error keeps for cases)."""
        key = self.settings.second_key if as_second else self.settings.key
        sent = {**(headers or {}), **({KEY_HEADER: key} if key else {})}
        operation = self.case.operation.schema.find_operation_by_id(operation_id)
        extra: dict[str, Any] = {"body": body, "media_type": "application/json"} if body is not None else {}
        probe = operation.Case(path_parameters=path_parameters or {}, query=query or {}, headers=sent, **extra)
        answer: Response = probe.call(base_url=self.base_url, headers=sent)
        self.asked.append(curl(answer.request, self.settings))
        LEDGER.note(str(operation.method), path_parameters or {}, answer.status_code)
        if answer.status_code >= 500:  # a well-formed follow-up is never a server error (not_a_server_error's rule)
            self.fail(f"{operation_id}, sent to check this answer, was answered {answer.status_code}: a server error")
        return answer

    def again(self, **changes: Any) -> Response:
        """This case's own operation again, with the same path parameters and the given changes."""
        params = changes.pop("path_parameters", dict(self.case.path_parameters or {}))
        return self.ask(str(self.facts.operation_id(self.path, self.method)), path_parameters=params, **changes)

    def fail(self, message: str) -> NoReturn:
        """Fail the check; the message, then the follow-up requests that show it."""
        steps = "\n".join(self.asked)
        raise AssertionError(message + (REPRODUCE + steps if steps else ""))

    def walk(
        self, found: ListFacts, *, path_parameters: dict[str, Any], query: dict[str, Any], limit: int, pages: int = 20
    ) -> Iterator[tuple[list[Any], int]]:
        """The pages of a list from its first one, as (items, total), until one comes back short or
        `pages` were read; stops at an answer that is not a 200 list."""
        base = found.page_base if found.page_base is not None else 0
        for number in range(pages):
            wanted = {**query, "limit": limit} if "limit" in found.query else dict(query)
            if found.page_base is not None:
                wanted["page"] = base + number
            answer = self.ask(found.operation_id, path_parameters=path_parameters, query=wanted)
            parts = list_parts(json_of(answer), found) if answer.status_code == 200 else None
            if parts is None:
                return
            yield parts
            if found.page_base is None or len(parts[0]) < limit:
                return


def json_of(response: Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def list_parts(body: Any, found: ListFacts | None) -> tuple[list[Any], int] | None:
    """(items, total) of a list answer in the envelope the spec gives it, or None."""
    if found is None or not isinstance(body, dict):
        return None
    items, total = body.get(found.items), body.get(found.total)
    if isinstance(items, list) and isinstance(total, int) and not isinstance(total, bool):
        return items, total
    return None


def identity(item: Any, id_field: str | None) -> str:
    """What names a listed item: its id field, else `uuid` or `id`, else the whole item."""
    if isinstance(item, dict):
        for name in (id_field, "uuid", "id"):
            if name and name in item:
                return json.dumps(item[name], default=str)
    return json.dumps(item, sort_keys=True, default=str)


def has_ids(items: list[Any], id_field: str | None) -> bool:
    first = items[0] if items else None
    return isinstance(first, dict) and any(n and n in first for n in (id_field, "uuid", "id"))


def pointer(name: str) -> str:
    """The JSON Pointer of a top-level member."""
    return "/" + name.replace("~", "~0").replace("/", "~1")


CheckBody = Callable[[Probe], None]


def contract_check(function: CheckBody) -> CheckBody:
    """Register `function(probe)` as a schemathesis check named after it; it fails by raising."""

    def check(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        function(Probe(ctx, response, case, current()))
        return None

    check.__name__ = check.__qualname__ = function.__name__
    check.__doc__ = function.__doc__
    schemathesis.check(check)
    return function
