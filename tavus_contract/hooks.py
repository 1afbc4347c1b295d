"""Schemathesis extensions loaded by the contract suite (SCHEMATHESIS_HOOKS=tavus_contract.hooks).

Four checks the built-in ones cannot make, because they need to know what a Tavus list and a JSON
Patch promise, and one hook that keeps runs against the real API from starting billable calls.
`list_filter_applied` and `create_reads_back` came from the mutation benchmark (bench/mutation.py):
a server that ignored a list's `status` filter, or dropped a field it was given on create, passed
every other check.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import jsonpointer
import schemathesis

DEFAULT_LIMIT = 10  # the documented server default of every list's `limit`


@schemathesis.check
def list_total_count(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list's `total_count` counts every match: never fewer than the page holds, and exactly the
    page when the first page is not full."""
    if case.method != "GET" or response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("data"), list)
        or not isinstance(body.get("total_count"), int)
    ):
        return None
    data, total = body["data"], body["total_count"]
    if total < len(data):
        raise AssertionError(f"total_count is {total} but this page alone holds {len(data)} items")
    query = case.query or {}
    limit = query.get("limit", DEFAULT_LIMIT)
    if "page" not in query and isinstance(limit, int) and len(data) < limit and total != len(data):
        raise AssertionError(f"the first page is not full ({len(data)} of {limit}) but total_count says {total}")
    return None


# Query parameters of a list that do not filter items by equality.
NOT_FILTERS = frozenset({"limit", "page", "sort", "verbose", "legacy", "include_thumbnails"})


@schemathesis.check
def list_filter_applied(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list filtered by a field (`status=ended`, `persona_type=user`, `model_name=...`) holds only
    items whose field has that value (items that do not show the field are not judged)."""
    if case.method != "GET" or response.status_code != 200 or not case.query:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    for name, wanted in case.query.items():
        if name in NOT_FILTERS or isinstance(wanted, (list, dict)):
            continue
        for item in body["data"]:
            value = item.get(name) if isinstance(item, dict) else None
            if value is None or isinstance(value, (list, dict)):  # absent, or not an equality filter (tags)
                continue
            if str(value).lower() != str(wanted).lower():
                raise AssertionError(
                    f"the list was filtered by {name}={wanted!r} but holds an item with {name}={item[name]!r}"
                )
    return None


def _expectations(operations: list[Any]) -> dict[str, Any]:
    """Pointer -> value that must hold after the patch: the last add/replace of a path that no later
    operation touches (RFC 6902 post-conditions; appends with `-` are skipped)."""
    expected: dict[str, Any] = {}
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            return {}
        touched = [op["path"]] + ([op["from"]] if op.get("op") == "move" and isinstance(op.get("from"), str) else [])
        for path in touched:
            for known in list(expected):
                if known == path or known.startswith(path + "/") or path.startswith(known + "/"):
                    del expected[known]
        if op.get("op") in ("add", "replace") and not op["path"].endswith("/-") and op["path"]:
            expected[op["path"]] = op.get("value")
    return expected


@schemathesis.check
def json_patch_applied(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a successful JSON Patch, reading the resource shows every value the patch set."""
    if case.method != "PATCH" or not 200 <= response.status_code < 300 or not isinstance(case.body, list):
        return None
    expected = _expectations(case.body)
    if not expected:
        return None
    schema = case.operation.schema
    get_raw = schema.raw_schema["paths"].get(case.operation.path, {}).get("get")
    if get_raw is None:
        return None
    url = urlsplit(response.request.url)
    probe = schema.find_operation_by_id(get_raw["operationId"]).Case(path_parameters=dict(case.path_parameters or {}))
    key = response.request.headers.get("x-api-key")
    after = probe.call(base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None)
    if after.status_code != 200:
        raise AssertionError(f"the patched resource could not be read back ({after.status_code})")
    document = after.json()
    for pointer, value in expected.items():
        try:
            actual = jsonpointer.resolve_pointer(document, pointer)
        except jsonpointer.JsonPointerException:
            raise AssertionError(f"the patch set {pointer} but the resource has no such member") from None
        if actual != value:
            raise AssertionError(f"the patch set {pointer} to {value!r} but the resource holds {actual!r}")
    return None


@schemathesis.check
def create_reads_back(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a successful create, the new resource reads back, showing every plain value the request
    set on a field the resource has (a server that drops or rewrites a field fails)."""
    if case.method != "POST" or not 200 <= response.status_code < 300 or not isinstance(case.body, dict):
        return None
    schema = case.operation.schema
    collection = case.operation.path.rstrip("/")
    item_path = next(
        (
            p
            for p in schema.raw_schema["paths"]
            if p.startswith(collection + "/{") and p.count("/") == collection.count("/") + 1
        ),
        None,
    )
    get_raw = schema.raw_schema["paths"].get(item_path, {}).get("get") if item_path else None
    if get_raw is None:
        return None
    param = item_path.rsplit("{", 1)[1].rstrip("}")  # type: ignore[union-attr]
    try:
        created = response.json()
    except ValueError:
        return None
    rid = created.get(param) if isinstance(created, dict) else None
    if not isinstance(rid, str):
        return None
    url = urlsplit(response.request.url)
    probe = schema.find_operation_by_id(get_raw["operationId"]).Case(path_parameters={param: rid})
    key = response.request.headers.get("x-api-key")
    after = probe.call(base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None)
    if after.status_code != 200:
        raise AssertionError(f"the created resource {rid} could not be read back ({after.status_code})")
    document = after.json()
    if not isinstance(document, dict):
        return None
    for name, sent in case.body.items():
        if isinstance(sent, (str, int, float, bool)) and name in document and document[name] != sent:
            raise AssertionError(f"the request set {name}={sent!r} but the created resource shows {document[name]!r}")
    return None


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """With TAVUS_CONTRACT_TEST_MODE=1, every created conversation asks for `test_mode` (no cost)."""
    if (
        os.environ.get("TAVUS_CONTRACT_TEST_MODE") == "1"
        and case.operation.path == "/v2/conversations"
        and case.method.upper() == "POST"
        and isinstance(case.body, dict)
    ):
        case.body["test_mode"] = True
