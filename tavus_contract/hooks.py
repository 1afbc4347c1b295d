"""Schemathesis extensions loaded by the contract suite (SCHEMATHESIS_HOOKS=tavus_contract.hooks).

Checks the built-in ones cannot make, because they need to know what a Tavus list, a JSON Patch, a
flat update, ending a conversation, detaching, a tool's name and a deployment's ETag promise, and one
hook that keeps runs against the real API from starting billable calls. `list_filter_applied` and `create_reads_back`
came from the mutation benchmark (bench/mutation.py): a server that ignored a list's `status`
filter, or dropped a field it was given on create, passed every other check. Lists are judged in
both envelopes Tavus uses: `{data, total_count}` and the deployments' `{deployments, total}`.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import jsonpointer
import schemathesis

DEFAULT_LIMIT = 10  # the documented server default of every list's `limit` (deployments: 20)
ENVELOPES = (("data", "total_count", 10), ("deployments", "total", 20))  # items, total, default limit
SECRET = "*" * 8  # how Tavus answers a stored secret (tools' delivery.api.auth)


def _list_parts(body: Any) -> tuple[list[Any], int, int] | None:
    """(items, total, default limit) of a list answer in either envelope, or None."""
    if not isinstance(body, dict):
        return None
    for items, total, default in ENVELOPES:
        if isinstance(body.get(items), list) and isinstance(body.get(total), int):
            return body[items], body[total], default
    return None


def _list_of(case: Any, response: Any) -> tuple[list[Any], int, int] | None:
    """(items, total, default limit) of a list read answered 200, or None for any other answer."""
    if case.method != "GET" or response.status_code != 200:
        return None
    try:
        return _list_parts(response.json())
    except ValueError:
        return None


def _read(case: Any, response: Any, operation_id: str, path_parameters: dict[str, Any]) -> Any:
    """GET another operation of the spec on the same server with the same key."""
    url = urlsplit(response.request.url)
    probe = case.operation.schema.find_operation_by_id(operation_id).Case(path_parameters=path_parameters)
    key = response.request.headers.get("x-api-key")
    return probe.call(base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None)


def _header(response: Any, name: str) -> str | None:
    """One header of an answer (schemathesis keeps each header's values as a list)."""
    value = response.headers.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _get_of(case: Any, path: str) -> str | None:
    """operationId of the GET at `path`, if the spec has one."""
    get_raw = case.operation.schema.raw_schema["paths"].get(path, {}).get("get")
    return get_raw["operationId"] if get_raw else None


@schemathesis.check
def list_total_count(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list's `total_count` counts every match: never fewer than the page holds, and exactly the
    page when the first page is not full."""
    parts = _list_of(case, response)
    if parts is None:
        return None
    data, total, default = parts
    if total < len(data):
        raise AssertionError(f"the total is {total} but this page alone holds {len(data)} items")
    query = case.query or {}
    limit = query.get("limit", default)
    if "page" not in query and isinstance(limit, int) and len(data) < limit and total != len(data):
        raise AssertionError(f"the first page is not full ({len(data)} of {limit}) but the total says {total}")
    return None


# Query parameters of a list that do not filter items by equality.
NOT_FILTERS = frozenset({"limit", "page", "sort", "verbose", "legacy", "include_thumbnails"})


@schemathesis.check
def list_filter_applied(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list filtered by a field (`status=ended`, `persona_type=user`, `model_name=...`) holds only
    items whose field has that value, or one of the values of a comma list (deployments'
    `status=active,draft`); items that do not show the field are not judged."""
    parts = _list_of(case, response) if case.query else None
    if parts is None:
        return None
    for name, wanted in case.query.items():
        if name in NOT_FILTERS or isinstance(wanted, (list, dict)) or str(wanted).strip(" ,") == "":
            continue  # not a filter, or an empty one (read as no filter)
        allowed = {w.strip().lower() for w in str(wanted).split(",")} if "," in str(wanted) else {str(wanted).lower()}
        for item in parts[0]:
            value = item.get(name) if isinstance(item, dict) else None
            if value is None or isinstance(value, (list, dict)):  # absent, or not an equality filter (tags)
                continue
            if str(value).lower() not in allowed:
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
    declared = _body_properties(schema.raw_schema, case.operation.path, case.method)
    for name, sent in case.body.items():
        if name not in declared:  # a key the request schema does not name (say `created_at`) may be ignored
            continue
        if isinstance(sent, (str, int, float, bool)) and name in document and document[name] != sent:
            raise AssertionError(f"the request set {name}={sent!r} but the created resource shows {document[name]!r}")
    return None


def _body_properties(raw_schema: dict[str, Any], path: str, method: str) -> set[str]:
    """The property names the request body schema of an operation declares (through $ref and allOf/anyOf/oneOf)."""
    operation = raw_schema["paths"].get(path, {}).get(method.lower(), {})
    body = _resolved(raw_schema, operation.get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {}) if isinstance(body, dict) else {}
    names: set[str] = set()
    pending = [media.get("schema", {})]
    while pending:
        node = _resolved(raw_schema, pending.pop())
        if not isinstance(node, dict):
            continue
        names.update(node.get("properties", {}))
        for combined in ("allOf", "anyOf", "oneOf"):
            pending.extend(node.get(combined, []))
    return names


@schemathesis.check
def create_is_listed(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a successful create, the collection's own list (same path, same key, no filters) counts
    it and, when the whole list fits one page, shows it (newest first when the list can sort)."""
    if case.method != "POST" or not 200 <= response.status_code < 300:
        return None
    list_id = _get_of(case, case.operation.path)
    id_field = _id_field(case)
    try:
        created = response.json()
    except ValueError:
        return None
    rid = created.get(id_field) if id_field and isinstance(created, dict) else None
    if list_id is None or not isinstance(rid, str):
        return None
    lister = case.operation.schema.find_operation_by_id(list_id)
    names = {p.name for p in lister.query}
    query = {"sort": "desc"} if "sort" in names else {}
    url = urlsplit(response.request.url)
    key = response.request.headers.get("x-api-key")
    answer = lister.Case(query=query).call(
        base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None
    )
    try:
        parts = _list_parts(answer.json()) if answer.status_code == 200 else None
    except ValueError:
        return None
    if parts is None:
        return None
    items, total, _ = parts
    if total < 1:
        raise AssertionError(f"{rid} was created but the list at {case.operation.path} counts {total}")
    ids = [item.get(id_field) for item in items if isinstance(item, dict)]
    if (len(items) == total or query) and rid not in ids:
        raise AssertionError(f"{rid} was created but the first page of {case.operation.path} does not show it")
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


@schemathesis.check
def flat_update_applied(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a successful update with a plain object (a tool's PATCH, a replica's or video's rename),
    reading the resource shows every plain value sent (secrets excepted: they read `********`)."""
    if case.method != "PATCH" or not 200 <= response.status_code < 300 or not isinstance(case.body, dict):
        return None
    path = case.operation.path
    operation_id = _get_of(case, path) or _get_of(case, path.rsplit("/", 1)[0])  # .../name -> the resource
    if operation_id is None:
        return None
    after = _read(case, response, operation_id, dict(case.path_parameters or {}))
    if after.status_code != 200:
        raise AssertionError(f"the updated resource could not be read back ({after.status_code})")
    document = after.json()
    if not isinstance(document, dict):
        return None
    for name, sent in case.body.items():
        if isinstance(sent, (str, int, float, bool)) and name in document and document[name] != sent:
            raise AssertionError(f"the update set {name}={sent!r} but the resource shows {document[name]!r}")
    return None


@schemathesis.check
def end_is_final(ctx: Any, response: Any, case: Any) -> bool | None:
    """After `POST .../end` succeeds, the conversation reads `ended` (and stays so: it is final)."""
    path = case.operation.path
    if case.method != "POST" or not path.endswith("/end") or not 200 <= response.status_code < 300:
        return None
    operation_id = _get_of(case, path.rsplit("/", 1)[0])
    if operation_id is None:
        return None
    after = _read(case, response, operation_id, dict(case.path_parameters or {}))
    if after.status_code == 200 and isinstance(after.json(), dict) and after.json().get("status") != "ended":
        raise AssertionError(f"the conversation was ended but reads status={after.json().get('status')!r}")
    return None


@schemathesis.check
def etag_guards_patches(ctx: Any, response: Any, case: Any) -> bool | None:
    """A read that answers an `ETag` promises optimistic locking: a JSON Patch sent with an `If-Match`
    that is not the current ETag must be refused with 412 and change nothing (a `test` operation that
    holds is sent, so a server that ignores `If-Match` answers 2xx and is caught)."""
    etag = _header(response, "etag") if case.method == "GET" and response.status_code == 200 else None
    if not etag:
        return None
    patch_raw = case.operation.schema.raw_schema["paths"].get(case.operation.path, {}).get("patch")
    document = response.json()
    if patch_raw is None or not isinstance(document, dict) or not document:
        return None
    name, value = next(iter(document.items()))
    url = urlsplit(response.request.url)
    probe = case.operation.schema.find_operation_by_id(patch_raw["operationId"]).Case(
        path_parameters=dict(case.path_parameters or {}),
        headers={"If-Match": 'W/"not-the-current-version"'},
        body=[{"op": "test", "path": _pointer(name), "value": value}],
        media_type="application/json",
    )
    key = response.request.headers.get("x-api-key")
    headers = {"If-Match": 'W/"not-the-current-version"', **({"x-api-key": key} if key else {})}
    answer = probe.call(base_url=f"{url.scheme}://{url.netloc}", headers=headers)
    if answer.status_code != 412:
        raise AssertionError(f"a patch with a stale If-Match was answered {answer.status_code}, not 412")
    if os.environ.get("TAVUS_CONTRACT_READ_ONLY") != "1":
        _etag_follows_changes(case, response, patch_raw["operationId"], document, etag)
    return None


def _pointer(name: str) -> str:
    """The JSON Pointer of a top-level member."""
    return "/" + name.replace("~", "~0").replace("/", "~1")


def _patcher(case: Any, response: Any, patch_id: str) -> Any:
    """A function sending a JSON Patch (and an optional If-Match) to the resource `case` read, on the same
    server with the same key."""
    url = urlsplit(response.request.url)
    key = response.request.headers.get("x-api-key")
    operation = case.operation.schema.find_operation_by_id(patch_id)
    params = dict(case.path_parameters or {})

    def patch(body: list[dict[str, Any]], if_match: str | None = None) -> Any:
        headers = {**({"If-Match": if_match} if if_match else {}), **({"x-api-key": key} if key else {})}
        probe = operation.Case(path_parameters=params, headers=headers, body=body, media_type="application/json")
        return probe.call(base_url=f"{url.scheme}://{url.netloc}", headers=headers or None)

    return patch


def _etag_follows_changes(case: Any, response: Any, patch_id: str, document: dict[str, Any], etag: str) -> None:
    """The ETag names a version: after a real change (a name field set to another text, then back),
    a patch sent with the ETag from before the change is refused with 412 (a server whose ETag stays
    the same would let a stale writer overwrite the change, which `If-Match` exists to prevent)."""
    name = next((k for k, v in document.items() if k.endswith("name") and isinstance(v, str)), None)
    if name is None:
        return
    pointer = _pointer(name)
    patch = _patcher(case, response, patch_id)
    changed_to = document[name] + " (contract)"
    changed = patch([{"op": "replace", "path": pointer, "value": changed_to}], etag)
    if changed.status_code != 200:
        return  # the change itself was refused (a length rule, say): nothing to judge
    current = _header(changed, "etag") or "*"
    try:
        stale = patch([{"op": "test", "path": pointer, "value": changed_to}], etag)
        if stale.status_code != 412:
            raise AssertionError(
                f"after {name} changed, a patch with the ETag from before the change was answered"
                f" {stale.status_code}, not 412: the ETag did not follow the change"
            )
    finally:
        patch([{"op": "replace", "path": pointer, "value": document[name]}], current)


# Resources whose name patch_round_trip has changed and put back in this run (base URL, path, ids).
_ROUND_TRIPS: set[tuple[str, str, str]] = set()


def _takes_json_patch(raw_schema: dict[str, Any], operation: dict[str, Any] | None) -> bool:
    body = _resolved(raw_schema, (operation or {}).get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {}) if isinstance(body, dict) else {}
    schema = _resolved(raw_schema, media.get("schema", {}))
    return isinstance(schema, dict) and schema.get("type") == "array"


@schemathesis.check
def patch_round_trip(ctx: Any, response: Any, case: Any) -> bool | None:
    """A resource read back can be changed with JSON Patch: its first name field set to its own
    characters rotated by one (same length, same characters, so no rule of the field is broken) is
    answered 2xx and reads back changed; the name is then put back. Once per resource and run; a
    refusal other than 400/422 (a stock resource, a taken name) is not judged; never in read-only
    runs against the real API."""
    if case.method != "GET" or response.status_code != 200 or os.environ.get("TAVUS_CONTRACT_READ_ONLY") == "1":
        return None
    raw_schema = case.operation.schema.raw_schema
    patch_raw = raw_schema["paths"].get(case.operation.path, {}).get("patch")
    if not _takes_json_patch(raw_schema, patch_raw):
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    name = next((k for k, v in document.items() if k.endswith("name") and isinstance(v, str) and len(set(v)) > 1), None)
    url = urlsplit(response.request.url)
    base_url = f"{url.scheme}://{url.netloc}"
    resource = (base_url, case.operation.path, json.dumps(case.path_parameters or {}, sort_keys=True))
    if name is None or resource in _ROUND_TRIPS:
        return None
    _ROUND_TRIPS.add(resource)
    key = response.request.headers.get("x-api-key")
    headers = {"x-api-key": key} if key else None
    params = dict(case.path_parameters or {})
    send = _patcher(case, response, patch_raw["operationId"])
    original = document[name]
    rotated = original[1:] + original[:1]

    def patch(value: str) -> Any:
        return send([{"op": "replace", "path": _pointer(name), "value": value}])

    changed = patch(rotated)
    if changed.status_code not in (400, 422) and not 200 <= changed.status_code < 300:
        return None
    try:
        if changed.status_code in (400, 422):
            raise AssertionError(
                f"a patch setting {name} to {rotated!r} (its own characters) was refused {changed.status_code}"
            )
        after = case.operation.Case(path_parameters=params).call(base_url=base_url, headers=headers)
        shown = after.json().get(name) if after.status_code == 200 and isinstance(after.json(), dict) else None
        if shown != rotated:
            raise AssertionError(
                f"a patch setting {name} to {rotated!r} was answered {changed.status_code}, but it reads {shown!r}"
            )
    finally:
        if 200 <= changed.status_code < 300:
            patch(original)
    return None


@schemathesis.check
def delete_leaves_the_list(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a DELETE of `.../{id}` succeeds where the spec has no GET of the item but a list at `...`
    (detaching a tool from a PAL), that list no longer shows the id."""
    if case.method != "DELETE" or not 200 <= response.status_code < 300:
        return None
    path = case.operation.path
    parent, _, last = path.rpartition("/")
    if not (last.startswith("{") and last.endswith("}")) or _get_of(case, path) is not None:
        return None  # not an item, or the built-in use_after_free reads it back
    list_id = _get_of(case, parent)
    if list_id is None:
        return None
    name = last[1:-1]
    params = dict(case.path_parameters or {})
    gone = params.pop(name, None)
    after = _read(case, response, list_id, params)
    if after.status_code != 200:
        return None
    body = after.json()
    items = body.get("data") if isinstance(body, dict) else None
    if isinstance(items, list) and any(isinstance(i, dict) and i.get(name) == gone for i in items):
        raise AssertionError(f"{name}={gone!r} was deleted but {parent} still lists it")
    return None


@schemathesis.check
def tool_names_unique(ctx: Any, response: Any, case: Any) -> bool | None:
    """Tool names are unique per account (docs create-tool): creating the same tool again is refused."""
    if case.method != "POST" or case.operation.path != "/v2/tools" or not 200 <= response.status_code < 300:
        return None
    if not isinstance(case.body, dict):
        return None
    url = urlsplit(response.request.url)
    key = response.request.headers.get("x-api-key")
    again = case.operation.Case(body=case.body, media_type="application/json").call(
        base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None
    )
    if 200 <= again.status_code < 300:
        raise AssertionError(f"a second tool named {case.body.get('name')!r} was created ({again.status_code})")
    return None


@schemathesis.check
def key_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """401 means the key is missing or unknown (Tavus' own wording: "Invalid access token"), nothing
    else: a request that carried the run's key must not be answered 401 (a validation error, or a
    resource of another key, has its own status)."""
    if response.status_code != 401:
        return None
    key = os.environ.get("TAVUS_API_KEY")
    if key and response.request.headers.get("x-api-key") == key:
        raise AssertionError("answered 401 although the request carried the run's valid API key")
    return None


# Operations whose documented refusals this run has sent, per server (each set once per run).
_REFUSALS_SENT: set[tuple[str, str]] = set()


def probe_body(entry: dict[str, Any], suffix: str = "") -> Any:
    """The body of an `x-tavus-refused` or `x-tavus-accepted` entry as it is sent: each `pad` pointer's
    string made that many "x" (a 10,001-character description is not written into the spec), and with
    `suffix` added to a `name` (an accepted body creates something, and names may have to be unique)."""
    body = json.loads(json.dumps(entry["body"]))
    for pointer, length in (entry.get("pad") or {}).items():
        jsonpointer.set_pointer(body, pointer, "x" * int(length))
    if suffix and isinstance(body, dict) and isinstance(body.get("name"), str):
        body["name"] += suffix
    return body


@schemathesis.check
def documented_refusals(ctx: Any, response: Any, case: Any) -> bool | None:
    """Bodies the spec lists under `x-tavus-refused` (valid for the schema, but breaking a rule across
    fields, such as a tool with both delivery channels) are answered 400, and those under
    `x-tavus-accepted` (at a documented limit) 2xx; what an accepted one created is deleted again.
    Sent once per operation and server, after a case of that operation succeeded (so its path
    parameters name real resources). Entries of `confidence: H` (the docs state the rule) are always
    judged; `M` ones (the official CLI enforces them itself) only with TAVUS_CONTRACT_REFUSALS=all
    (`tavus-contract --refusals all`)."""
    level = os.environ.get("TAVUS_CONTRACT_REFUSALS", "documented")
    if level == "none" or not 200 <= response.status_code < 300:
        return None
    raw = case.operation.schema.raw_schema["paths"].get(case.operation.path, {}).get(case.method.lower(), {})

    def wanted(key: str) -> list[dict[str, Any]]:
        return [e for e in raw.get(key, ()) if level == "all" or e.get("confidence") == "H"]

    refused, accepted = wanted("x-tavus-refused"), wanted("x-tavus-accepted")
    url = urlsplit(response.request.url)
    base_url = f"{url.scheme}://{url.netloc}"
    if not (refused or accepted) or (base_url, case.operation.label) in _REFUSALS_SENT:
        return None
    _REFUSALS_SENT.add((base_url, case.operation.label))
    key = response.request.headers.get("x-api-key")
    headers = {"x-api-key": key} if key else None
    wrong = []

    def send(body: Any) -> Any:
        probe = case.operation.Case(body=body, path_parameters=case.path_parameters, media_type="application/json")
        return probe.call(base_url=base_url, headers=headers)

    for entry in refused:
        status = send(probe_body(entry)).status_code
        if status != 400:
            wrong.append(f"refused: {entry['why']} (answered {status})")
    for entry in accepted:
        answer = send(probe_body(entry, suffix="_" + os.urandom(3).hex()))
        if not 200 <= answer.status_code < 300:
            wrong.append(f"accepted: {entry['why']} (answered {answer.status_code})")
        else:
            _delete_created(case, answer, base_url, headers)
    if wrong:
        raise AssertionError("documented rules not kept: " + "; ".join(wrong))
    return None


def _delete_created(case: Any, answer: Any, base_url: str, headers: dict[str, str] | None) -> None:
    """Delete what a create answered, through the DELETE of the collection's `/{id}` path (if any)."""
    id_field = _id_field(case)
    try:
        created = answer.json()
    except ValueError:
        return
    rid = created.get(id_field) if id_field and isinstance(created, dict) else None
    item_path = f"{case.operation.path.rstrip('/')}/{{{id_field}}}"
    delete_raw = case.operation.schema.raw_schema["paths"].get(item_path, {}).get("delete")
    if isinstance(rid, str) and delete_raw is not None:
        operation = case.operation.schema.find_operation_by_id(delete_raw["operationId"])
        operation.Case(path_parameters={id_field: rid}).call(base_url=base_url, headers=headers)


def _page_base(case: Any) -> int | None:
    """First page number of a list operation (`x-page-base` of its `page` parameter), None if it has none."""
    raw_schema = case.operation.schema.raw_schema
    item = raw_schema["paths"].get(case.operation.path, {})
    for param in [*item.get("parameters", []), *item.get(case.method.lower(), {}).get("parameters", [])]:
        param = _resolved(raw_schema, param)
        if param.get("name") == "page" and param.get("in") == "query":
            return int(param.get("x-page-base", 1))
    return None


def _list_call(case: Any, response: Any, query: dict[str, Any]) -> tuple[list[Any], int, int] | None:
    url = urlsplit(response.request.url)
    key = response.request.headers.get("x-api-key")
    answer = case.operation.Case(query=query, path_parameters=case.path_parameters).call(
        base_url=f"{url.scheme}://{url.netloc}", headers={"x-api-key": key} if key else None
    )
    try:
        return _list_parts(answer.json()) if answer.status_code == 200 else None
    except ValueError:
        return None


def _id_field(case: Any) -> str | None:
    """The id an item of this list is fetched by: the parameter of the list path's `/{...}` sibling."""
    prefix = case.operation.path.rstrip("/") + "/{"
    for path in case.operation.schema.raw_schema["paths"]:
        if path.startswith(prefix) and path.endswith("}") and path.count("{") == 1:
            return str(path[len(prefix) : -1])
    return None


def _id_key(items: list[Any], id_field: str | None) -> str | None:
    """The key that names an item of this list: the list's own id field, else `uuid` or `id`."""
    first = items[0] if items and isinstance(items[0], dict) else {}
    return next((k for k in (id_field, "uuid", "id") if k and k in first), None)


def _identities(items: list[Any], id_field: str | None) -> list[str]:
    """What names each item: its id (see _id_key), else the whole item.
    Ids, not whole items: a replica in training changes its progress between two reads."""
    key = _id_key(items, id_field)
    return [
        json.dumps(item.get(key) if key and isinstance(item, dict) else item, sort_keys=True, default=str)
        for item in items
    ]


@schemathesis.check
def pages_are_consecutive(ctx: Any, response: Any, case: Any) -> bool | None:
    """The page after a full first page holds the next items: none of the first page again, the same
    items as the second half of a page twice as long, and as many as the total leaves (at most a page).
    Judged only when the first page reads the same again afterwards (nothing changed underneath)."""
    query = dict(case.query or {})
    parts = _list_of(case, response) if "page" not in query else None
    base = _page_base(case)
    if parts is None or base is None:
        return None
    first, total, default = parts
    limit = query.get("limit", default)
    if not isinstance(limit, int) or limit < 1 or len(first) != limit or total <= limit:
        return None
    second = _list_call(case, response, {**query, "page": base + 1})
    double = _list_call(case, response, {**query, "limit": 2 * limit})
    again = _list_call(case, response, query)
    id_field = _id_field(case)
    names = _identities(first, id_field)
    if second is None or again is None or _identities(again[0], id_field) != names or again[1] != total:
        return None  # the list changed underneath (or a page could not be read): nothing to judge
    following = _identities(second[0], id_field)
    repeated = sum(1 for name in following if name in set(names))
    if repeated:
        raise AssertionError(f"page {base + 1} repeats {repeated} item(s) of the first page (limit {limit})")
    if double is not None and len(double[0]) > limit and following != _identities(double[0], id_field)[limit:]:
        raise AssertionError(
            f"page {base + 1} of {limit} is not what items {limit + 1}-{2 * limit} of a page of {2 * limit} are"
        )
    wanted = min(limit, total - limit)
    if len(second[0]) != wanted:
        raise AssertionError(
            f"page {base + 1} holds {len(second[0])} items; the total of {total} with {limit} a page leaves {wanted}"
        )
    return None


def _resolved(raw_schema: dict[str, Any], node: Any) -> Any:
    """`node` with a local `$ref` followed (shared request bodies, parameters)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        return jsonpointer.resolve_pointer(raw_schema, node["$ref"][1:])
    return node


def _documented_examples(raw_schema: dict[str, Any], raw_operation: dict[str, Any]) -> list[Any]:
    body = _resolved(raw_schema, raw_operation.get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {}) if isinstance(body, dict) else {}
    found = [media["example"]] if "example" in media else []
    return found + [e["value"] for e in media.get("examples", {}).values() if isinstance(e, dict) and "value" in e]


@schemathesis.check
def documented_example_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """The spec's own example body is a request the API takes: never answered 413 (it is small), and
    never 400 on an operation whose 400s are the documented rules across fields (`x-tavus-refused`),
    which its example keeps. (Other 400s may depend on state, such as ids that no longer exist.)"""
    if response.status_code not in (400, 413) or case.body is None:
        return None
    if not response.request.headers.get("content-type", "").startswith("application/json"):
        return None  # the example sent as another media type (the coverage phase does): rightly refused
    raw_schema = case.operation.schema.raw_schema
    raw = raw_schema["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    if not any(case.body == example for example in _documented_examples(raw_schema, raw)):
        return None
    if response.status_code == 413 or "x-tavus-refused" in raw:
        raise AssertionError(f"the spec's example body was refused with {response.status_code}")
    return None


SORTABLE = {"asc": False, "ascending": False, "desc": True, "descending": True}


@schemathesis.check
def list_follows_sort(ctx: Any, response: Any, case: Any) -> bool | None:
    """`sort=asc` (or `ascending`) lists oldest first, `desc` (`descending`) newest first, by
    `created_at` (items that do not show it, or show a time that is not ISO 8601, are not judged)."""
    descending = SORTABLE.get(str((case.query or {}).get("sort", "")).lower())
    parts = _list_of(case, response) if descending is not None else None
    if parts is None or descending is None:
        return None
    found = [item.get("created_at") for item in parts[0] if isinstance(item, dict)]
    times = [t for t in found if isinstance(t, str) and t[:4].isdigit() and "T" in t]
    if len(times) < 2 or len(times) != len(found):
        return None
    stamps = [t.rstrip("Z").replace("+00:00", "") for t in times]  # ISO 8601 in UTC sorts as text
    if stamps != sorted(stamps, reverse=descending):
        raise AssertionError(f"sort={case.query['sort']} but created_at reads {', '.join(times[:5])}...")
    items, total, _ = parts
    if len(items) != total or "page" in (case.query or {}):
        return None
    # The whole list on one page: the other order lists the same items the other way round.
    flipped = "asc" if descending else "desc"
    other = _list_call(case, response, {**case.query, "sort": flipped})
    id_field = _id_field(case)
    if other is None or other[1] != total or _id_key(items, id_field) is None:
        return None
    if _identities(other[0], id_field) != _identities(items, id_field)[::-1]:
        raise AssertionError(f"sort={flipped} does not list the items of sort={case.query['sort']} in reverse")
    return None


@schemathesis.check
def list_items_distinct(ctx: Any, response: Any, case: Any) -> bool | None:
    """One page of a list names each resource once (judged by the list's id field)."""
    parts = _list_of(case, response)
    if parts is None or len(parts[0]) < 2:
        return None
    id_field = _id_field(case)
    if _id_key(parts[0], id_field) is None:
        return None
    names = _identities(parts[0], id_field)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AssertionError(f"one page lists {', '.join(repeated[:3])} more than once")
    return None
