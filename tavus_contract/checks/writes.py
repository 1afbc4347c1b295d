"""What a write promises: what a create, a JSON Patch or a flat update sent reads back; a refused
patch changes nothing; a new resource is listed and a deleted one leaves its lists; identifiers are
never handed out twice; an ended conversation stays ended; tool names are unique.

"Reads back" is judged on the fields both the request schema and the read's answer schema declare
(the spec says nothing of the others: a conversation's `custom_greeting` is never shown again);
such a field that is absent from the read-back counts as dropped."""

from __future__ import annotations

import email.utils
import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import jsonpointer

from tavus_contract.checks._probe import LEDGER, Probe, contract_check, header, identity, json_of, list_parts, pointer
from tavus_spec.facts import lists, request_schema, resolve

SECRET = "*" * 8  # how Tavus shows a stored secret (tools' delivery.api.auth)
# Identifiers handed out by creates in this run, per server: (base URL, id) -> where.
_HANDED_OUT: dict[tuple[str, str], str] = {}
# Stock records a read showed in this run, per server: (base URL, id).
_STOCK: set[tuple[str, str]] = set()
_STOCK_READ: set[tuple[str, str]] = set()  # (base URL, list path) read for stock records
# Resources whose name patch_round_trip or patch_is_atomic changed and put back in this run.
_PROBED: set[tuple[str, str, str, str]] = set()


Declared = Callable[[tuple[str | int, ...]], frozenset[str] | None]


def _mismatch(
    sent: Any,
    shown: Any,
    where: str,
    given: frozenset[str] = frozenset(),
    declared: Declared | None = None,
    at: tuple[str | int, ...] = (),
) -> str | None:
    """Where `shown` does not hold what `sent` set: objects need every member sent that the read's
    schema declares at that place (`declared`; unknown members are the server's to ignore, as the spec
    says, and others may be added by the server; `given`, the spec's readOnly names, are the server's
    to set), arrays the same items in the same order, everything else must be equal; a secret may read
    as SECRET."""
    if isinstance(sent, dict):
        if not isinstance(shown, dict):
            return f"{where} is {json.dumps(shown, default=str)[:80]}, not an object"
        kept = declared(at) if declared is not None else None
        for name, value in sent.items():
            if value is None or name in given or (kept is not None and name not in kept):
                continue
            if name not in shown:
                return f"{where}/{name} was dropped"
            found = _mismatch(value, shown[name], f"{where}/{name}", given, declared, (*at, name))
            if found:
                return found
        return None
    if isinstance(sent, list) and isinstance(shown, list) and len(sent) == len(shown):
        for index, (one, other) in enumerate(zip(sent, shown, strict=True)):
            found = _mismatch(one, other, f"{where}/{index}", given, declared, (*at, index))
            if found:
                return found
        return None
    if isinstance(sent, str) and shown == SECRET:
        return None
    if sent != shown or (type(sent) is not type(shown) and not isinstance(sent, (int, float))):
        return (
            f"{where} was sent as {json.dumps(sent, default=str)[:80]} but reads {json.dumps(shown, default=str)[:80]}"
        )
    return None


def _compare(
    probe: Probe,
    sent: dict[str, Any],
    document: dict[str, Any],
    comparable: frozenset[str],
    what: str,
    item: str | None = None,
) -> None:
    """Every comparable field the request set reads back as set; inside a field, what the read of `item`
    declares (when given)."""
    facts = probe.facts
    declared: Declared | None = (lambda at: facts.read_members(item, at)) if item is not None else None
    for name, value in sent.items():
        if name not in comparable or value is None:
            continue
        if name not in document:
            probe.fail(f"the {what} set {name} but the resource read back does not have it (dropped)")
        problem = _mismatch(value, document[name], name, probe.facts.read_only, declared, (name,))
        if problem:
            probe.fail(f"after the {what}, {problem}")


def _created(probe: Probe) -> tuple[str, str, str] | None:
    """(item path, id field, id) of what a successful collection POST created, else None."""
    if probe.method != "POST" or not probe.succeeded:
        return None
    item = probe.facts.item_path(probe.path)
    if item is None or probe.facts.operation_id(item, "get") is None:
        return None
    field = item.rsplit("{", 1)[1].rstrip("}")
    body = probe.body()
    rid = body.get(field) if isinstance(body, dict) else None
    return (item, field, rid) if isinstance(rid, str) else None


@contract_check
def create_reads_back(probe: Probe) -> None:
    """After a successful create the new resource reads back showing every value the request set, on
    every field both the request schema and the read's answer declare (absent counts as dropped), and
    what it left out that the spec gives a server default shows that default if shown at all."""
    created = _created(probe)
    if created is None or not isinstance(probe.case.body, dict):
        return
    item, field, rid = created
    get_id = probe.facts.operation_id(item, "get")
    after = probe.ask(str(get_id), path_parameters={field: rid})
    if after.status_code != 200:
        probe.fail(f"the created resource {rid} could not be read back ({after.status_code})")
    document = json_of(after)
    if not isinstance(document, dict):
        return
    comparable = probe.facts.request_fields(probe.path, "post") & probe.facts.response_fields(item, "get")
    _compare(probe, probe.case.body, document, comparable - {field}, "create", item)
    _defaults_shown(probe, document, item)


_ABSENT = object()


def _member(document: Any, where: tuple[str | int, ...]) -> Any:
    """The value at `where` in a JSON document, or _ABSENT."""
    for part in where:
        listed = isinstance(part, int) and isinstance(document, list) and part < len(document)
        if not (listed or (isinstance(part, str) and isinstance(document, dict) and part in document)):
            return _ABSENT
        document = document[part]
    return document


def _defaults_shown(probe: Probe, document: dict[str, Any], item: str) -> None:
    """A member the create left out, whose value the spec documents (`x-server-default`), reads as that
    value when the read shows it at all (the spec says what the server uses, not that a read repeats it:
    absent or null is not judged; nor is a member the read's schema does not declare there)."""
    for where, value in probe.facts.omitted_defaults(probe.path, "post", probe.case.body):
        declared = probe.facts.read_members(item, where[:-1])
        if declared is not None and where[-1] not in declared:
            continue
        shown = _member(document, where)
        if shown is not _ABSENT and shown is not None and shown != value:
            place = "/".join(map(str, where))
            probe.fail(
                f"the create left out {place}; the spec says the server then uses {value!r}, but it reads {shown!r}"
            )


def _moment(text: str) -> datetime | None:
    """A `Timestamp` as the spec lists its forms (ISO 8601 with or without a zone, or an HTTP date), in UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@contract_check
def created_at_is_now(probe: Probe) -> None:
    """A create's `created_at` (in its answer) is a point in time, the time of the create: within five
    minutes of the answer's own `Date` header (a server's clock and its records' agree)."""
    if probe.method != "POST" or not probe.succeeded:
        return
    body = probe.body()
    stamp = body.get("created_at") if isinstance(body, dict) else None
    date = header(probe.response, "date")
    if not isinstance(stamp, str) or not date:
        return
    moment, answered = _moment(stamp), _moment(date)
    if moment is None:
        probe.fail(f"created_at {stamp!r} is not a point in time (ISO 8601 or an HTTP date)")
    if answered is not None and abs((moment - answered).total_seconds()) > 300:
        probe.fail(f"the create answered created_at {stamp}, but its Date header says {date}")


@contract_check
def created_stays_available(probe: Probe) -> None:
    """An operation on records this run created and never deleted is not answered 404, and a plain read
    of them (no query, no body) is not refused at all. Replaces
    schemathesis' `ensure_resource_availability`, which knows one path per record: a PAL is also a
    persona (the spec's `x-tavus-same-record`), listed and deletable as one, and a delete through the
    other path made it report a record that was rightly gone."""
    parameters = dict(probe.case.path_parameters or {})
    LEDGER.note(probe.method, parameters, probe.response.status_code)
    created = _created(probe)
    if created is not None:
        LEDGER.created.add(created[2])
        return
    status = probe.response.status_code
    if not 400 <= status < 500 or status == 429 or not parameters or not all(map(LEDGER.alive, parameters.values())):
        return
    request = probe.response.request
    declared = str(probe.case.operation.method).upper()
    if request.method != declared or request.headers.get("x-api-key") != probe.settings.key:
        return  # schemathesis' own probes (no key, another method) are other checks' business
    named = ", ".join(f"{name}={value}" for name, value in parameters.items())
    if status != 404:
        # a plain read (no query, no body) of records this run made has nothing else to refuse
        if probe.method == "GET" and not probe.case.query:
            probe.fail(f"{status} for a plain read of {named}, created in this run and never deleted")
        return
    item = _item_read(probe)
    # a 404 may be about something the body names (a skill not in the registry): the record decides
    own = probe.facts.operation_id(probe.path, probe.method)
    if item is not None and item != own and probe.ask(item, path_parameters=parameters).status_code != 404:
        return
    probe.fail(f"404 for {named}, created in this run and never deleted")


def _item_read(probe: Probe) -> str | None:
    """The read of the record the case's path ends in (its own path, or the nearest shorter one ending
    in a parameter), or None."""
    segments = probe.path.split("/")
    while segments:
        if segments[-1].startswith("{"):
            found = probe.facts.operation_id("/".join(segments), "get")
            if found is not None:
                return found
        segments.pop()
    return None


@contract_check
def secrets_answered_masked(probe: Probe) -> None:
    """A secret a create or update sent (a field the spec marks `x-answered-as`: a tool's auth `token`,
    `password`, `value`, `secret`, `client_secret`) is never answered back in clear: not by the write's
    answer, not by a read of the resource afterwards."""
    if probe.method not in ("POST", "PATCH") or not probe.succeeded or not isinstance(probe.case.body, dict):
        return
    holders, names = probe.facts.masked
    sent = {value for name, value in _members(probe.case.body, holders) if name in names and len(value) >= 4}
    sent -= set(names.values())
    if not sent:
        return
    answers = [("the answer", probe.body())]
    created = _created(probe)
    target = created[0] if created else (probe.path if probe.facts.operation_id(probe.path, "get") else None)
    read = probe.facts.operation_id(target, "get") if target else None
    if read is not None:
        params = {created[1]: created[2]} if created else dict(probe.case.path_parameters or {})
        answers.append(("a read afterwards", json_of(probe.ask(read, path_parameters=params))))
    for what, body in answers:
        leaked = [name for name, value in _members(body, holders) if name in names and value in sent]
        if leaked:
            probe.fail(f"{what} shows the secret sent as {leaked[0]} in clear (the spec: {names[leaked[0]]})")


def _members(value: Any, holders: frozenset[str], inside: bool = False) -> Iterator[tuple[str, str]]:
    """(member name, text) of the string members of every object held under a `holders` name (`auth`),
    at any depth of a JSON value."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if isinstance(inner, str):
                if inside:
                    yield str(name), inner
            else:
                yield from _members(inner, holders, name in holders)
    elif isinstance(value, list):
        for inner in value:
            yield from _members(inner, holders, False)


@contract_check
def alias_reads_same_record(probe: Probe) -> None:
    """A record created under one vocabulary reads back under the other (a PAL as a persona, a face as
    a replica) with the same id: the answer's `x-tavus-same-record` in the spec says which read."""
    if probe.method != "POST" or not probe.succeeded:
        return
    same = probe.facts.same_record(probe.path, probe.method, str(probe.response.status_code))
    body = probe.body()
    if same is None or not isinstance(body, dict):
        return
    operation, pointers = same
    values = {name: body.get(pointer.rpartition("#/")[2]) for name, pointer in pointers.items()}
    if not all(isinstance(value, str) for value in values.values()):
        return
    after = probe.ask(operation, path_parameters=values)
    if after.status_code != 200:
        probe.fail(f"the record just created is not readable with {operation} ({after.status_code})")
    document = json_of(after)
    for name, value in values.items():
        if isinstance(document, dict) and document.get(name) != value:
            probe.fail(f"{operation} of {value} answers {name}={document.get(name)!r}, not the record just created")


@contract_check
def ids_never_reused(probe: Probe) -> None:
    """A create never answers an identifier the server already handed out in this run (for a resource
    since deleted, too): the spec says identifiers are never reused."""
    created = _created(probe)
    if created is None:
        return
    _, _, rid = created
    where = _HANDED_OUT.get((probe.base_url, rid))
    if where is not None:
        probe.fail(f"the create answered {rid}, an identifier this server already handed out (by POST {where})")
    _HANDED_OUT[(probe.base_url, rid)] = probe.path


@contract_check
def create_is_listed(probe: Probe) -> None:
    """After a successful create, the collection's own list (no filters) counts it and, when the whole
    list fits one page, shows it (newest first when the list can sort)."""
    created = _created(probe)
    found = probe.facts.list_at(probe.path)
    if created is None or found is None:
        return
    _, field, rid = created
    query = {"sort": "desc"} if "sort" in found.query else {}
    answer = probe.ask(found.operation_id, path_parameters=dict(probe.case.path_parameters or {}), query=query)
    parts = list_parts(json_of(answer), found) if answer.status_code == 200 else None
    if parts is None:
        return
    items, total = parts
    if total < 1:
        probe.fail(f"{rid} was created but the list at {probe.path} counts {total}")
    ids = [item.get(field) for item in items if isinstance(item, dict)]
    if (len(items) == total or query) and rid not in ids:
        probe.fail(f"{rid} was created but the first page of {probe.path} does not show it")


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


@contract_check
def json_patch_applied(probe: Probe) -> None:
    """After a successful JSON Patch, reading the resource shows every value the patch set."""
    if probe.method != "PATCH" or not probe.succeeded or not isinstance(probe.case.body, list):
        return
    expected = _expectations(probe.case.body)
    get_id = probe.facts.operation_id(probe.path, "get")
    if not expected or get_id is None:
        return
    after = probe.ask(get_id, path_parameters=dict(probe.case.path_parameters or {}))
    if after.status_code != 200:
        probe.fail(f"the patched resource could not be read back ({after.status_code})")
    document = json_of(after)
    for where, value in expected.items():
        try:
            actual = jsonpointer.resolve_pointer(document, where)
        except jsonpointer.JsonPointerException:
            probe.fail(f"the patch set {where} but the resource has no such member")
        if actual != value:
            probe.fail(f"the patch set {where} to {value!r} but the resource holds {actual!r}")


def _takes_json_patch(probe: Probe) -> str | None:
    """operationId of the JSON Patch of the resource this GET read, if it has one."""
    if _body_kind(probe, probe.path, "patch") != "array":
        return None
    return probe.facts.operation_id(probe.path, "patch")


def _name_field(document: dict[str, Any]) -> str | None:
    return next((k for k, v in document.items() if k.endswith("name") and isinstance(v, str) and len(set(v)) > 1), None)


def _once(probe: Probe, what: str) -> bool:
    """True the first time `what` is probed on this resource in this run."""
    resource = (what, probe.base_url, probe.path, json.dumps(probe.case.path_parameters or {}, sort_keys=True))
    if resource in _PROBED:
        return False
    _PROBED.add(resource)
    return True


def _name_to_patch(probe: Probe, what: str) -> tuple[str, str, str, dict[str, Any]] | None:
    """(JSON Patch operationId, name field, its value, path parameters) of a resource this GET read, the
    first time `what` probes it; None in read-only runs, for other answers, or without a name field."""
    if probe.method != "GET" or probe.response.status_code != 200 or probe.settings.read_only:
        return None
    patch_id = _takes_json_patch(probe)
    document = probe.body()
    if patch_id is None or not isinstance(document, dict):
        return None
    name = _name_field(document)
    if name is None or not _once(probe, what):
        return None
    return patch_id, name, document[name], dict(probe.case.path_parameters or {})


@contract_check
def patch_round_trip(probe: Probe) -> None:
    """A resource read back can be changed with JSON Patch: its first name field set to its own
    characters rotated by one (no rule of the field is broken) is answered 2xx and reads back changed;
    then put back. Once per resource; a refusal other than 400/422 (a stock resource, a taken name) is
    not judged, but a 404 for what this run created is, and so is a 304 (nothing changed); never in
    read-only runs."""
    target = _name_to_patch(probe, "round trip")
    if target is None:
        return
    patch_id, name, original, params = target
    rotated = original[1:] + original[:1]
    changed = probe.ask(
        patch_id, path_parameters=params, body=[{"op": "replace", "path": pointer(name), "value": rotated}]
    )
    if changed.status_code == 404 and params and all(map(LEDGER.alive, params.values())):
        probe.fail(f"a patch of {name} was answered 404 for a resource this run created and just read")
    if changed.status_code == 304:  # "not modified": but the patch changes a value
        probe.fail(f"a patch setting {name} to {rotated!r} (from {original!r}) was answered 304: nothing changed")
    if changed.status_code not in (400, 422) and not 200 <= changed.status_code < 300:
        return
    try:
        if changed.status_code in (400, 422):
            probe.fail(f"a patch setting {name} to {rotated!r} (its own characters) was refused {changed.status_code}")
        after = json_of(probe.again(query={}))
        shown = after.get(name) if isinstance(after, dict) else None
        if shown != rotated:
            probe.fail(
                f"a patch setting {name} to {rotated!r} was answered {changed.status_code}, but it reads {shown!r}"
            )
    finally:
        if 200 <= changed.status_code < 300:
            probe.ask(
                patch_id, path_parameters=params, body=[{"op": "replace", "path": pointer(name), "value": original}]
            )


@contract_check
def patch_is_atomic(probe: Probe) -> None:
    """A JSON Patch is applied as a whole or not at all (RFC 6902, and the spec): a patch that sets the
    name and then `test`s a value that does not hold is refused, and the name reads as before. Once
    per resource; never in read-only runs."""
    target = _name_to_patch(probe, "atomic")
    if target is None:
        return
    patch_id, name, original, params = target
    body = [
        {"op": "replace", "path": pointer(name), "value": original + " (half-applied)"},
        {"op": "test", "path": pointer(name), "value": original + " (never this)"},
    ]
    answer = probe.ask(patch_id, path_parameters=params, body=body)
    after = json_of(probe.again(query={}))
    shown = after.get(name) if isinstance(after, dict) else original
    if shown != original:
        probe.ask(patch_id, path_parameters=params, body=[{"op": "replace", "path": pointer(name), "value": original}])
    if 200 <= answer.status_code < 300:
        probe.fail(f"a patch whose `test` does not hold was answered {answer.status_code}")
    if shown != original:
        probe.fail(f"a refused patch ({answer.status_code}) still changed {name} to {shown!r}: it was half applied")


@contract_check
def patch_keeps_schema(probe: Probe) -> None:
    """A JSON Patch whose result breaks the resource's schema (its name field made a number) is refused
    with a 4xx the operation documents (400 or 422), never taken and never a 5xx, and the name reads
    as before. Once per resource; never in read-only runs."""
    target = _name_to_patch(probe, "schema")
    if target is None:
        return
    patch_id, name, original, params = target
    answer = probe.ask(
        patch_id, path_parameters=params, body=[{"op": "replace", "path": pointer(name), "value": 12345}]
    )
    after = json_of(probe.again(query={}))
    shown = after.get(name) if isinstance(after, dict) else original
    if shown != original:
        probe.ask(patch_id, path_parameters=params, body=[{"op": "replace", "path": pointer(name), "value": original}])
    if 200 <= answer.status_code < 300 or answer.status_code >= 500:
        probe.fail(f"a patch making {name} a number (the schema says a string) was answered {answer.status_code}")
    if shown != original:
        probe.fail(f"a refused patch ({answer.status_code}) still changed {name} to {shown!r}")


@contract_check
def patch_unknown_member_answered(probe: Probe) -> None:
    """A JSON Patch adding a member the resource does not declare (RFC 6902 lets `add` name a new
    member) is answered as any request is, refused or taken, never with a 5xx, and the resource still
    reads 200 with its name as before (a taken member is removed again). The spec says nothing of
    whether such a member is kept, so neither answer is judged. Once per resource; never in
    read-only runs."""
    target = _name_to_patch(probe, "unknown member")
    if target is None:
        return
    patch_id, name, original, params = target
    member = "x_tavus_contract_" + secrets.token_hex(3)
    answer = probe.ask(patch_id, path_parameters=params, body=[{"op": "add", "path": pointer(member), "value": 1}])
    after = probe.again(query={})
    document = json_of(after)
    if 200 <= answer.status_code < 300 and isinstance(document, dict) and member in document:
        probe.ask(patch_id, path_parameters=params, body=[{"op": "remove", "path": pointer(member)}])
    if after.status_code != 200:
        probe.fail(
            f"after a patch adding an undeclared member ({answer.status_code}) the resource reads {after.status_code}"
        )
    shown = document.get(name) if isinstance(document, dict) else None
    if shown != original:
        probe.fail(f"a patch adding only an undeclared member ({answer.status_code}) changed {name} to {shown!r}")


def _body_kind(probe: Probe, path: str, method: str) -> str | None:
    """`array` (a JSON Patch), `object` (a flat update) or None: the JSON request body an operation takes."""
    schema = resolve(probe.raw, request_schema(probe.raw, path, method))
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind if kind in ("array", "object") else None


def _learn_stock(probe: Probe) -> None:
    """At the first case of each collection, before its first write is judged: the stock records the
    first page of its list shows (the run's own cases may write to one before any read of it). Only
    the case's own collection: the run reads nothing outside what it was asked to test."""
    found = next(
        (f for f in lists(probe.raw) if "{" not in f.path and f.id_field and probe.path.startswith(f.path + "/")),
        probe.facts.list_at(probe.path) if "{" not in probe.path else None,
    )
    if found is None or found.id_field is None or (probe.base_url, found.path) in _STOCK_READ:
        return
    _STOCK_READ.add((probe.base_url, found.path))
    markers = probe.facts.stock_markers
    parts = list_parts(json_of(probe.ask(found.operation_id)), found)
    for item in parts[0] if parts else ():
        if isinstance(item, dict) and any(item.get(m) == v for m, v in markers.items()):
            _STOCK.add((probe.base_url, str(item.get(found.id_field))))


@contract_check
def stock_stays_unchanged(probe: Probe) -> None:
    """Tavus's stock records (a member the spec marks `x-tavus-stock` holds its marking value: a
    `persona_type` of `system`, a tool's `is_system_tool`) are read by every key and changed by none
    (the spec's 404: "a stock resource that cannot be changed"; any 4xx is taken): a case of the run
    that writes to a record its collection's list showed as stock must not succeed; and the first stock item of a list
    is renamed (JSON Patch or flat update) and deleted, each must be refused, and it still reads with
    its name (once per list; never in read-only runs)."""
    markers = probe.facts.stock_markers
    params_in = dict(probe.case.path_parameters or {})
    if not probe.settings.read_only:
        _learn_stock(probe)
    if probe.method in ("PATCH", "DELETE", "PUT") and params_in and probe.succeeded:
        # The record a path is about is its first parameter's (a PAL's, not the tool it detaches); an
        # action (POST: publish) is not judged, as the spec does not say it changes the record.
        first = str(params_in.get(probe.path.split("{", 1)[1].split("}", 1)[0])) if "{" in probe.path else ""
        if (probe.base_url, first) in _STOCK:  # the run's own case wrote to a record a read showed as stock
            probe.fail(f"stock {first} was changed by a key: {probe.method} answered {probe.response.status_code}")
        return
    if probe.method != "GET" or probe.response.status_code != 200:
        return
    document = probe.body()
    if isinstance(document, dict) and params_in and any(document.get(m) == v for m, v in markers.items()):
        _STOCK.add((probe.base_url, str(list(params_in.values())[-1])))
    found = probe.list_here()
    parts = list_parts(document, found)
    if found is None or parts is None or found.id_field is None:
        return
    stocked = [i for i in parts[0] if isinstance(i, dict) and any(i.get(m) == v for m, v in markers.items())]
    _STOCK.update((probe.base_url, str(i.get(found.id_field))) for i in stocked)
    stock = stocked[0] if stocked else None
    if probe.settings.read_only:
        return
    item = probe.facts.item_path(probe.path)
    rid = stock.get(found.id_field) if stock is not None else None
    if item is None or not isinstance(rid, str) or not _once(probe, "stock"):
        return
    params = {**dict(probe.case.path_parameters or {}), found.id_field: rid}
    get_id = probe.facts.operation_id(item, "get")
    before = json_of(probe.ask(str(get_id), path_parameters=params)) if get_id else None
    name = _name_field(before) if isinstance(before, dict) else None
    patch_id, kind = probe.facts.operation_id(item, "patch"), _body_kind(probe, item, "patch")
    if get_id is None or not isinstance(before, dict) or name is None:
        return
    original = before[name]
    rotated = original[1:] + original[:1]
    if patch_id is not None and kind is not None:
        body: Any = [{"op": "replace", "path": pointer(name), "value": rotated}] if kind == "array" else {name: rotated}
        answer = probe.ask(patch_id, path_parameters=params, body=body)
        if 200 <= answer.status_code < 300:
            undo: Any = (
                [{"op": "replace", "path": pointer(name), "value": original}] if kind == "array" else {name: original}
            )
            probe.ask(patch_id, path_parameters=params, body=undo)
            probe.fail(f"stock {rid} was renamed by a key ({answer.status_code}); stock records belong to no key")
    delete_id = probe.facts.operation_id(item, "delete")
    if delete_id is not None:
        answer = probe.ask(delete_id, path_parameters=params)
        if 200 <= answer.status_code < 300:
            probe.fail(f"stock {rid} was deleted by a key ({answer.status_code}); stock records belong to no key")
    after = probe.ask(str(get_id), path_parameters=params)
    shown = json_of(after)
    if after.status_code != 200 or not isinstance(shown, dict) or shown.get(name) != original:
        probe.fail(f"stock {rid} reads {after.status_code} {str(shown)[:80]} after a refused rename and delete")


@contract_check
def flat_update_applied(probe: Probe) -> None:
    """After a successful update with a plain object (a tool's PATCH, a replica's rename), reading the
    resource shows every value sent on the fields its answer declares (absent counts as dropped)."""
    if probe.method != "PATCH" or not probe.succeeded or not isinstance(probe.case.body, dict):
        return
    target = probe.path if probe.facts.operation_id(probe.path, "get") else probe.path.rsplit("/", 1)[0]
    get_id = probe.facts.operation_id(target, "get")
    if get_id is None:
        return
    after = probe.ask(get_id, path_parameters=dict(probe.case.path_parameters or {}))
    if after.status_code != 200:
        probe.fail(f"the updated resource could not be read back ({after.status_code})")
    document = json_of(after)
    if isinstance(document, dict):
        comparable = probe.facts.request_fields(probe.path, "patch") & probe.facts.response_fields(target, "get")
        _compare(probe, probe.case.body, document, comparable, "update", target)


@contract_check
def recrawl_once_an_hour(probe: Probe) -> None:
    """One recrawl per document per hour (the spec, [S1]): right after a recrawl was taken, the same
    recrawl again is refused (409 while it runs, 429 in the cooldown), never started twice; a 429's
    `Retry-After`, when given, is the rest of that hour in seconds (1 to 3600), not "retry now"."""
    if probe.method != "POST" or not probe.path.endswith("/recrawl") or not probe.succeeded:
        return
    if probe.settings.read_only:
        return
    again = probe.again(body=probe.case.body) if probe.case.body is not None else probe.again()
    if 200 <= again.status_code < 300:
        probe.fail(f"a second recrawl right after the first was taken ({again.status_code}): one per hour")
    wait = header(again, "retry-after")
    if again.status_code == 429 and wait is not None and not (wait.isdigit() and 1 <= int(wait) <= 3600):
        probe.fail(f"the recrawl cooldown (an hour, just begun) is answered Retry-After: {wait}")


@contract_check
def end_is_final(probe: Probe) -> None:
    """After `POST .../end` succeeds, the conversation reads `ended`."""
    if probe.method != "POST" or not probe.path.endswith("/end") or not probe.succeeded:
        return
    get_id = probe.facts.operation_id(probe.path.rsplit("/", 1)[0], "get")
    if get_id is None:
        return
    after = json_of(probe.ask(get_id, path_parameters=dict(probe.case.path_parameters or {})))
    if isinstance(after, dict) and after.get("status") != "ended":
        probe.fail(f"the conversation was ended but reads status={after.get('status')!r}")


@contract_check
def deleted_leave_lists(probe: Probe) -> None:
    """After a DELETE of `.../{id}` succeeds, the list at `...` (same key, no filters) neither shows the
    id nor counts it: every page read from the first holds as many items as the total says."""
    if probe.method != "DELETE" or not probe.succeeded:
        return
    parent, _, last = probe.path.rpartition("/")
    if not (last.startswith("{") and last.endswith("}")):
        return
    found = probe.facts.list_at(parent)
    name = last[1:-1]
    params = dict(probe.case.path_parameters or {})
    gone = params.pop(name, None)
    lister = probe.facts.operation_id(parent, "get")
    if found is None and lister is not None:  # a list without a total (a PAL's tools): its `data` only
        body = json_of(probe.ask(lister, path_parameters=params))
        items = body.get("data") if isinstance(body, dict) else None
        if isinstance(items, list) and any(isinstance(i, dict) and i.get(name) == gone for i in items):
            probe.fail(f"{name}={gone!r} was deleted but {parent} still lists it")
        return
    if found is None:
        return
    field = found.id_field or name
    shown: list[Any] = []
    totals: set[int] = set()
    limit = 100
    for items, total in probe.walk(found, path_parameters=params, query={}, limit=limit, pages=10):
        shown += items
        totals.add(total)
    if any(isinstance(i, dict) and i.get(field) == gone for i in shown):
        probe.fail(f"{field}={gone!r} was deleted but {parent} still lists it")
    complete = len(totals) == 1 and (found.page_base is not None or len(shown) == next(iter(totals), 0))
    if complete and len(totals) == 1 and next(iter(totals)) <= 10 * limit:
        (total,) = totals
        if (
            found.page_base is not None
            and len(shown) != total
            and len({identity(i, field) for i in shown}) == len(shown)
        ):
            probe.fail(f"{field}={gone!r} was deleted; {parent} lists {len(shown)} items but counts {total}")


@contract_check
def tool_names_unique(probe: Probe) -> None:
    """Tool names are unique per account (docs create-tool): creating the same tool again is refused, and
    so is renaming another tool of the key to that name (the second tool is deleted again)."""
    if probe.method != "POST" or probe.path != "/v2/tools" or not probe.succeeded:
        return
    if not isinstance(probe.case.body, dict) or probe.settings.read_only:
        return
    name = probe.case.body.get("name")
    again = probe.again(body=probe.case.body)
    if 200 <= again.status_code < 300:
        probe.fail(f"a second tool named {name!r} was created ({again.status_code})")
    if not isinstance(name, str) or not name:
        return
    other = json_of(probe.again(body={**probe.case.body, "name": name[:50] + "_" + secrets.token_hex(3)}))
    other_id = other.get("tool_id") if isinstance(other, dict) else None
    if not isinstance(other_id, str):
        return  # a second tool could not be made: not judged
    try:
        renamed = probe.ask("patchTool", path_parameters={"tool_id": other_id}, body={"name": name})
        if 200 <= renamed.status_code < 300:
            probe.fail(f"another tool of the key was renamed to {name!r}, a name already taken ({renamed.status_code})")
    finally:
        probe.ask("deleteTool", path_parameters={"tool_id": other_id})


@contract_check
def new_tool_attaches(probe: Probe) -> None:
    """A tool the key just registered can be attached to one of the key's PALs, is then listed among
    that PAL's tools, and once detached again is not (docs: attach tools to a PAL; the registry's purpose)."""
    if probe.method != "POST" or probe.path != "/v2/tools" or not probe.succeeded or probe.settings.read_only:
        return
    tool_id = json_of(probe.response).get("tool_id") if isinstance(json_of(probe.response), dict) else None
    if not isinstance(tool_id, str) or not tool_id:
        return
    pal_id = _own_pal(probe)
    if pal_id is None:
        return  # no PAL of the key could be found or made: nothing to judge
    where = {"pal_id": pal_id}
    attached = probe.ask("attachToolsToPal", path_parameters=where, body={"tool_ids": [tool_id]})
    if not 200 <= attached.status_code < 300:
        probe.fail(
            f"attaching the tool just registered ({tool_id}) to the key's PAL {pal_id} was refused "
            f"({attached.status_code})"
        )
    listed = json_of(probe.ask("listPalTools", path_parameters=where))
    items = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(items, list) or tool_id not in {i.get("tool_id") for i in items if isinstance(i, dict)}:
        probe.fail(f"the tool {tool_id} was attached to PAL {pal_id} but its tools do not list it")
    detached = probe.ask("detachToolFromPal", path_parameters={**where, "tool_id": tool_id})
    if 200 <= detached.status_code < 300:
        listed = json_of(probe.ask("listPalTools", path_parameters=where))
        items = listed.get("data") if isinstance(listed, dict) else None
        if isinstance(items, list) and tool_id in {i.get("tool_id") for i in items if isinstance(i, dict)}:
            probe.fail(
                f"the tool {tool_id} was detached from PAL {pal_id} ({detached.status_code}) but is still listed"
            )


@contract_check
def deleted_tool_leaves_pals(probe: Probe) -> None:
    """A deleted tool leaves the PALs it was attached to (once per run, with a tool of its own: it
    registers one, attaches it to a PAL of the key, deletes it, and reads the PAL's tools)."""
    if probe.method != "POST" or probe.path != "/v2/tools" or not probe.succeeded or probe.settings.read_only:
        return
    if _PROBED_ONCE.get("deleted_tool_leaves_pals") == probe.base_url:
        return
    _PROBED_ONCE["deleted_tool_leaves_pals"] = probe.base_url
    pal_id = _own_pal(probe)
    if pal_id is None:
        return
    name = "contract_probe_" + secrets.token_hex(4)
    made = probe.ask("createTool", body={"name": name, "description": "A probe.", "delivery": {"app_message": True}})
    tool_id = json_of(made).get("tool_id") if isinstance(json_of(made), dict) else None
    if not isinstance(tool_id, str) or not 200 <= made.status_code < 300:
        return
    where = {"pal_id": pal_id}
    if not 200 <= probe.ask("attachToolsToPal", path_parameters=where, body={"tool_ids": [tool_id]}).status_code < 300:
        return  # new_tool_attaches judges attaching
    deleted = probe.ask("deleteTool", path_parameters={"tool_id": tool_id})
    if not 200 <= deleted.status_code < 300:
        return
    listed = json_of(probe.ask("listPalTools", path_parameters=where))
    items = listed.get("data") if isinstance(listed, dict) else None
    if isinstance(items, list) and tool_id in {i.get("tool_id") for i in items if isinstance(i, dict)}:
        probe.fail(f"the tool {tool_id} was deleted but PAL {pal_id} still lists it among its tools")
    pal = json_of(probe.ask("getPal", path_parameters=where))
    ids = pal.get("tool_ids") if isinstance(pal, dict) else None
    if isinstance(ids, list) and tool_id in ids:
        probe.fail(f"the tool {tool_id} was deleted but PAL {pal_id} still names it in tool_ids")


_PROBED_ONCE: dict[str, str] = {}  # check -> the base URL it already ran against in this process


def _own_pal(probe: Probe) -> str | None:
    """A PAL of the run's key: the first it lists, else one made on the first stock face."""
    mine = json_of(probe.ask("listPals", query={"pal_type": "user", "limit": 1}))
    data = mine.get("data") if isinstance(mine, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict) and isinstance(data[0].get("pal_id"), str):
        pal_id: str = data[0]["pal_id"]
        return pal_id
    faces = json_of(probe.ask("listFaces", query={"face_type": "system", "limit": 1}))
    face = faces.get("data") if isinstance(faces, dict) else None
    if not isinstance(face, list) or not face or not isinstance(face[0], dict):
        return None
    body = {"pal_name": "contract probe", "system_prompt": "x", "default_face_id": face[0].get("face_id")}
    made = probe.ask("createPal", body=body)
    found = json_of(made).get("pal_id") if isinstance(json_of(made), dict) else None
    return found if isinstance(found, str) and 200 <= made.status_code < 300 else None


def forget() -> None:
    """Forget what this process remembered of earlier runs (tests run several in one process)."""
    _HANDED_OUT.clear()
    _PROBED.clear()
    _PROBED_ONCE.clear()
