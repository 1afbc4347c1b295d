"""API facts derived from the spec once: list envelopes, page bases, default page sizes, id fields,
item and list operations, and what `verbose` adds.

The generator, the reference server and the contract tool each used to work these out on their own;
this module is the one place that reads them off the spec document (a parsed `openapi/tavus.yaml`,
or the `raw_schema` schemathesis loaded from it). Standard library only, and no state beyond a cache
keyed by the document's identity.

Where the facts come from in the spec:
- a list is a GET whose 200 answer is an object with one array property and one integer property
  named `total_count` or `total` (the deployments' `{deployments, total}` envelope);
- its first page is the `x-page-base` of its `page` parameter; its default page size is the
  `x-server-default` of its `limit` parameter (a `default:` would make the generator send it);
- the id of a collection's items is the parameter of its `/{...}` sibling path;
- what `verbose=true` adds is the `x-verbose-adds` list of the `verbose` parameter;
- the order of a list that names none is the `x-server-default` of its `sort` parameter;
- the value the server uses for a body member left out is that member's `x-server-default` (on the
  property, or on the schema it refers to), never `default:`, which the generator would send.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TOTAL_FIELDS = ("total_count", "total")


@dataclass(frozen=True, slots=True)
class ListFacts:
    """One list operation: where its items and total are, how it pages, what names an item."""

    operation_id: str
    path: str
    items: str  # the array property of the envelope (`data`, `deployments`)
    total: str  # the integer property counting every match (`total_count`, `total`)
    page_base: int | None  # None: the list has no `page` parameter
    default_limit: int | None  # None: no `limit` parameter, or no documented default
    id_field: str | None  # the item path's parameter (`persona_id`), None without an item path
    query: frozenset[str]  # every query parameter the list takes
    verbose_adds: frozenset[str] | None  # None: the list has no `verbose` parameter
    default_sort: str | None = None  # the `x-server-default` of its `sort` parameter (`asc`, `desc`)
    max_limit: int | None = None  # the `maximum` of its `limit` parameter


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """`node` with local `$ref`s followed (to the end of a chain)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        if seen > 50:
            raise ValueError(f"a $ref chain loops at {node!r:.80}")
    return node


def parameters(document: Mapping[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """The parameters of an operation, the path item's own ones included, with `$ref`s followed."""
    item = document.get("paths", {}).get(path, {})
    found = [*item.get("parameters", []), *item.get(method.lower(), {}).get("parameters", [])]
    return [p for p in (resolve(document, p) for p in found) if isinstance(p, dict)]


def schema_properties(document: Mapping[str, Any], schema: Any) -> set[str]:
    """Every property name a schema declares, through `$ref`, `allOf`, `anyOf` and `oneOf`."""
    return {name for node in _concrete(document, [schema]) for name in node.get("properties", {})}


def _json_schema(document: Mapping[str, Any], holder: Any) -> Any:
    """The application/json schema of a request body or a response, or None."""
    holder = resolve(document, holder)
    if not isinstance(holder, dict):
        return None
    media = holder.get("content", {}).get("application/json")
    return media.get("schema") if isinstance(media, dict) else None


def _concrete(document: Mapping[str, Any], nodes: list[Any]) -> list[dict[str, Any]]:
    """The object shapes a list of schemas stands for, through `$ref`, `allOf`, `anyOf` and `oneOf`."""
    out: list[dict[str, Any]] = []
    pending = list(nodes)
    seen: set[int] = set()
    while pending:
        node = resolve(document, pending.pop())
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                pending.extend(node[key])
        out.append(node)
    return out


def declared_members(document: Mapping[str, Any], schema: Any, path: Sequence[str | int]) -> frozenset[str] | None:
    """The member names the schema declares for the object at `path` (property names, and list
    indexes as ints), or None when it may hold any member (a map, a free-form object): what a check may
    expect a server to keep there. A place the schema does not declare at all declares nothing."""
    nodes: list[Any] = [schema]
    for part in path:
        following: list[Any] = []
        for node in _concrete(document, nodes):
            if isinstance(part, int):
                if isinstance(node.get("items"), dict):
                    following.append(node["items"])
                continue
            found = (node.get("properties") or {}).get(part)
            if found is not None:
                following.append(found)
            elif isinstance(node.get("additionalProperties"), dict):
                following.append(node["additionalProperties"])
        if not following:
            return frozenset()
        nodes = following
    names: set[str] = set()
    for node in _concrete(document, nodes):
        kinds = node.get("type")
        objectish = kinds == "object" or (isinstance(kinds, list) and "object" in kinds) or "properties" in node
        if not objectish:
            continue
        if not node.get("properties") or node.get("additionalProperties") not in (None, False):
            return None  # any member may be kept here
        names.update(node["properties"])
    return frozenset(names)


def request_properties(document: Mapping[str, Any], path: str, method: str) -> set[str]:
    """The property names the JSON request body of an operation declares."""
    operation = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    schema = _json_schema(document, operation.get("requestBody", {}))
    return schema_properties(document, schema) if schema is not None else set()


def response_properties(document: Mapping[str, Any], path: str, method: str, status: str = "200") -> set[str]:
    """The property names the JSON answer of an operation declares for `status`."""
    operation = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    schema = _json_schema(document, operation.get("responses", {}).get(status, {}))
    return schema_properties(document, schema) if schema is not None else set()


def operation_id(document: Mapping[str, Any], path: str, method: str) -> str | None:
    raw = document.get("paths", {}).get(path, {}).get(method.lower())
    return str(raw["operationId"]) if isinstance(raw, dict) and "operationId" in raw else None


def item_path(document: Mapping[str, Any], collection: str) -> str | None:
    """`/v2/personas` -> `/v2/personas/{persona_id}`: the collection's one-parameter child path."""
    prefix = collection.rstrip("/") + "/{"
    for path in document.get("paths", {}):
        one_more = path.count("{") == collection.count("{") + 1
        if path.startswith(prefix) and path.endswith("}") and one_more and "/" not in path[len(prefix) :]:
            return str(path)
    return None


def id_field(document: Mapping[str, Any], collection: str) -> str | None:
    """The parameter that names one item of a collection (`persona_id`), if the collection has item paths."""
    found = item_path(document, collection)
    return found.rsplit("{", 1)[1].rstrip("}") if found else None


def envelope(document: Mapping[str, Any], path: str) -> tuple[str, str] | None:
    """(items, total) of the list at `path`, or None when its GET does not answer a list envelope
    (an `anyOf`/`oneOf` of envelopes counts when every branch has the same one)."""
    operation = document.get("paths", {}).get(path, {}).get("get", {})
    return _envelope_of(document, _json_schema(document, operation.get("responses", {}).get("200", {})))


def _envelope_of(document: Mapping[str, Any], schema: Any) -> tuple[str, str] | None:
    schema = resolve(document, schema)
    if not isinstance(schema, dict):
        return None
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        found = {_envelope_of(document, branch) for branch in branches}
        return found.pop() if len(found) == 1 else None
    props = {name: resolve(document, value) for name, value in schema.get("properties", {}).items()}
    arrays = [n for n, v in props.items() if isinstance(v, dict) and _is(v, "array")]
    totals = [n for n in TOTAL_FIELDS if n in props and _is(props[n], "integer")]
    if len(arrays) == 1 and totals:
        return arrays[0], totals[0]
    return None


def _is(schema: Mapping[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    return declared == kind or (isinstance(declared, list) and kind in declared)


def list_facts(document: Mapping[str, Any], path: str) -> ListFacts | None:
    """Facts of the list at `path` (its GET), or None when `path` is not a list."""
    found = envelope(document, path)
    oid = operation_id(document, path, "get")
    if found is None or oid is None:
        return None
    params = [p for p in parameters(document, path, "get") if p.get("in") == "query"]
    by_name = {str(p.get("name")): p for p in params}
    page = by_name.get("page")
    limit = by_name.get("limit")
    verbose = by_name.get("verbose")
    sort = by_name.get("sort")
    default = limit.get("x-server-default") if limit else None
    default_sort = sort.get("x-server-default") if sort else None
    adds = verbose.get("x-verbose-adds") if verbose else None
    most = resolve(document, limit.get("schema")).get("maximum") if limit else None
    return ListFacts(
        operation_id=oid,
        path=path,
        items=found[0],
        total=found[1],
        page_base=int(page.get("x-page-base", 1)) if page else None,
        default_limit=int(default) if isinstance(default, int) else None,
        id_field=id_field(document, path),
        query=frozenset(by_name),
        verbose_adds=frozenset(str(a) for a in adds) if isinstance(adds, list) else None,
        default_sort=default_sort if isinstance(default_sort, str) else None,
        max_limit=most if isinstance(most, int) else None,
    )


def snake(name: str) -> str:
    """`createPersona` -> `create_persona`, `pal_tools` unchanged."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def _verb(operation: str, tag: str) -> str:
    """The operation's name without its tag's noun, plural or singular (`create_persona`, personas ->
    `create`); the whole name when it does not end in the noun."""
    words, tag_words = operation.split("_"), tag.split("_")
    for form in (tag_words, [*tag_words[:-1], _singular(tag_words[-1])]):
        if len(words) > len(form) and words[-len(form) :] == form:
            return "_".join(words[: -len(form)])
    return operation


def method_names(document: Mapping[str, Any]) -> dict[str, str]:
    """operationId -> the client's method on the resource of its (first) tag: `x-method-name` when the
    spec gives one, else the operationId without the tag's noun (createPersona -> personas.create);
    two operations of a tag that would share a name both keep their whole snake_case name."""
    named: dict[str, tuple[str, str]] = {}  # operationId -> (tag, name)
    for item in document.get("paths", {}).values():
        for method, raw in item.items():
            if method == "parameters" or not isinstance(raw, dict) or "operationId" not in raw:
                continue
            oid, tag = str(raw["operationId"]), snake(str((raw.get("tags") or [""])[0]))
            named[oid] = (tag, str(raw.get("x-method-name") or _verb(snake(oid), tag)))
    taken: dict[tuple[str, str], int] = {}
    for tag, name in named.values():
        taken[(tag, name)] = taken.get((tag, name), 0) + 1
    return {oid: (name if taken[(tag, name)] == 1 else snake(oid)) for oid, (tag, name) in named.items()}


def _described(document: Mapping[str, Any], node: Any) -> str:
    """A node's description: its own (beside a `$ref`, OpenAPI 3.1), else the one it refers to."""
    own = node.get("description") if isinstance(node, dict) else None
    if own:
        return str(own)
    target = resolve(document, node)
    return str(target.get("description") or "") if isinstance(target, dict) and target is not node else ""


def descriptions(document: Mapping[str, Any], path: str, method: str) -> tuple[str, dict[str, str]]:
    """An operation's description, and the description of each of its parameters and JSON body fields
    by their spec names (a body of several shapes: the first shape that describes the field)."""
    operation = resolve(document, document.get("paths", {}).get(path, {})).get(method.lower(), {})
    texts: dict[str, str] = {}
    item = document.get("paths", {}).get(path, {})
    for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
        texts[str(resolve(document, param).get("name"))] = str(_described(document, param)).strip()
    schema = resolve(document, _json_schema(document, operation.get("requestBody")))
    shapes = [schema] if isinstance(schema, dict) else []
    for branch in (schema or {}).get("anyOf", []) + (schema or {}).get("oneOf", []) if shapes else []:
        shapes.append(resolve(document, branch))
    for shape in shapes:
        for name, prop in (shape.get("properties") or {}).items() if isinstance(shape, dict) else ():
            text = str(_described(document, prop)).strip()
            if text and not texts.get(name):
                texts[name] = text
    return str(operation.get("description") or "").strip(), texts


@dataclass(frozen=True, slots=True)
class CursorFacts:
    """A list that pages by cursor: its answer holds `items` and a `cursor` to send back as `offset`,
    null at the end (the document chunks)."""

    operation_id: str
    items: str
    cursor: str
    offset: str  # the query parameter the cursor goes back in


def cursor_list(document: Mapping[str, Any], path: str) -> CursorFacts | None:
    """Cursor facts of the GET at `path`: its 200 answer has one array and a `next_*` string-or-null
    property, and the operation takes an `offset` query parameter; None otherwise."""
    oid = operation_id(document, path, "get")
    operation = document.get("paths", {}).get(path, {}).get("get", {})
    schema = resolve(document, _json_schema(document, operation.get("responses", {}).get("200", {})))
    queries = {str(p.get("name")) for p in parameters(document, path, "get") if p.get("in") == "query"}
    if oid is None or not isinstance(schema, dict) or "offset" not in queries:
        return None
    props = {name: resolve(document, value) for name, value in (schema.get("properties") or {}).items()}
    arrays = [n for n, v in props.items() if isinstance(v, dict) and _is(v, "array")]
    cursors = [n for n, v in props.items() if n.startswith("next_") and isinstance(v, dict) and _is(v, "null")]
    if len(arrays) != 1 or len(cursors) != 1:
        return None
    return CursorFacts(oid, arrays[0], cursors[0], "offset")


def masked(document: Mapping[str, Any]) -> tuple[frozenset[str], dict[str, str]]:
    """Where answers hide secrets (`x-answered-as`: the tool auth secrets, `********`): the names of the
    properties that hold such an object (`auth`), and its secret member names -> what is shown instead."""
    schemas = document.get("components", {}).get("schemas") or {}
    secrets: dict[str, str] = {}
    holding: set[int] = set()
    for schema in schemas.values():
        for name, prop in ((schema.get("properties") or {}) if isinstance(schema, dict) else {}).items():
            if isinstance(prop, dict) and isinstance(prop.get("x-answered-as"), str):
                secrets[str(name)] = prop["x-answered-as"]
                holding.add(id(schema))
    holders = {
        str(name)
        for schema in schemas.values()
        for name, prop in ((schema.get("properties") or {}) if isinstance(schema, dict) else {}).items()
        if any(id(node) in holding for node in _concrete(document, [prop]))
    }
    return frozenset(holders), secrets


def verbose_adds(document: Mapping[str, Any], path: str, method: str = "get") -> frozenset[str] | None:
    """What `verbose=true` adds to the answer of an operation, None when it has no documented `verbose`."""
    return flag_adds(document, path, method).get("verbose")


def flag_adds(document: Mapping[str, Any], path: str, method: str = "get") -> dict[str, frozenset[str]]:
    """What each boolean query flag of an operation adds to its answer when true rather than false (its
    `x-verbose-adds`: `verbose`, a deployment list's `include_thumbnails`), by flag name."""
    out: dict[str, frozenset[str]] = {}
    for param in parameters(document, path, method):
        adds = param.get("x-verbose-adds")
        if param.get("in") == "query" and isinstance(adds, list):
            out[str(param.get("name"))] = frozenset(str(a) for a in adds)
    return out


def _server_default(document: Mapping[str, Any], node: Any) -> tuple[bool, Any]:
    """(True, value) when a property's schema, or a schema it names, declares `x-server-default`."""
    for shape in _concrete(document, [node]):
        if "x-server-default" in shape:
            return True, shape["x-server-default"]
    return False, None


def omitted_defaults(
    document: Mapping[str, Any], schema: Any, sent: Any, at: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(where, value) for each member a request body left out whose value the server documents
    (`x-server-default`), in every object the body sent (nested ones included)."""
    if isinstance(sent, list):
        for shape in _concrete(document, [schema]):
            if isinstance(shape.get("items"), dict):
                for index, one in enumerate(sent):
                    yield from omitted_defaults(document, shape["items"], one, (*at, index))
                return
        return
    if not isinstance(sent, dict):
        return
    members: dict[str, list[Any]] = {}
    for shape in _concrete(document, [schema]):
        for name, node in (shape.get("properties") or {}).items():
            members.setdefault(str(name), []).append(node)
    for name, nodes in members.items():
        if name in sent:
            for node in nodes:
                yield from omitted_defaults(document, node, sent[name], (*at, name))
            continue
        for node in nodes:
            has, value = _server_default(document, node)
            if has:
                yield (*at, name), value
                break


def stock_markers(document: Mapping[str, Any]) -> dict[str, Any]:
    """Members that mark a stock record (read by every key, changed by none), and the value that does:
    every property whose schema, or the schema it names, declares `x-tavus-stock`."""
    found: dict[str, Any] = {}
    pending: list[Any] = [document.get("components", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            for name, value in properties.items() if isinstance(properties, dict) else ():
                has = [shape["x-tavus-stock"] for shape in _concrete(document, [value]) if "x-tavus-stock" in shape]
                if has:
                    found[str(name)] = has[0]
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def request_schema(document: Mapping[str, Any], path: str, method: str) -> Any:
    """The JSON request body schema of an operation, or None."""
    operation = document.get("paths", {}).get(path, {}).get(method.lower(), {})
    return _json_schema(document, operation.get("requestBody", {}))


def lists(document: Mapping[str, Any]) -> Iterator[ListFacts]:
    """Every list operation of the spec."""
    for path in document.get("paths", {}):
        found = list_facts(document, path)
        if found is not None:
            yield found


def read_only_properties(document: Mapping[str, Any]) -> frozenset[str]:
    """Names of the properties declared `readOnly` anywhere in the spec (given by the server)."""
    found: set[str] = set()
    pending: list[Any] = [document.get("components", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for name, value in (
                (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ()
            ):
                if isinstance(value, dict) and value.get("readOnly") is True:
                    found.add(str(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return frozenset(found)


class Facts:
    """The facts of one spec document, computed on first use and kept (the document must not change)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._lists: dict[str, ListFacts | None] = {}
        self._request: dict[tuple[str, str], frozenset[str]] = {}
        self._response: dict[tuple[str, str, str], frozenset[str]] = {}
        self._read_only: frozenset[str] | None = None
        self._stock: dict[str, Any] | None = None

    def list_at(self, path: str) -> ListFacts | None:
        if path not in self._lists:
            self._lists[path] = list_facts(self.document, path)
        return self._lists[path]

    def request_fields(self, path: str, method: str) -> frozenset[str]:
        key = (path, method.lower())
        if key not in self._request:
            self._request[key] = frozenset(request_properties(self.document, path, method))
        return self._request[key]

    def response_fields(self, path: str, method: str, status: str = "200") -> frozenset[str]:
        key = (path, method.lower(), status)
        if key not in self._response:
            self._response[key] = frozenset(response_properties(self.document, path, method, status))
        return self._response[key]

    def path_of(self, operation_id: str) -> str | None:
        """The path of an operation, by its operationId."""
        for path, item in self.document.get("paths", {}).items():
            if any(isinstance(op, dict) and op.get("operationId") == operation_id for op in item.values()):
                return str(path)
        return None

    def operation_id(self, path: str, method: str) -> str | None:
        return operation_id(self.document, path, method)

    def same_record(self, path: str, method: str, status: str) -> tuple[str, dict[str, str]] | None:
        """The `x-tavus-same-record` of an answer: the operation that reads the record just created under
        the other vocabulary (a PAL as a persona), and its parameters as `$response.body#/...` pointers."""
        operation = resolve(self.document, self.document.get("paths", {}).get(path, {})).get(method.lower())
        answer = resolve(self.document, ((operation or {}).get("responses") or {}).get(status))
        found = answer.get("x-tavus-same-record") if isinstance(answer, dict) else None
        if not isinstance(found, dict) or not isinstance(found.get("operationId"), str):
            return None
        return found["operationId"], {str(k): str(v) for k, v in (found.get("parameters") or {}).items()}

    def read_members(self, path: str, where: Sequence[str | int]) -> frozenset[str] | None:
        """`declared_members` of the 200 answer of GET `path` (what a read of the resource can show)."""
        item = resolve(self.document, self.document.get("paths", {}).get(path, {}))
        get = item.get("get") if isinstance(item, dict) else None
        answer = (get or {}).get("responses", {}).get("200")
        schema = _json_schema(self.document, answer)
        return None if schema is None else declared_members(self.document, schema, where)

    @property
    def read_only(self) -> frozenset[str]:
        if self._read_only is None:
            self._read_only = read_only_properties(self.document)
        return self._read_only

    def verbose_adds(self, path: str, method: str = "get") -> frozenset[str] | None:
        return verbose_adds(self.document, path, method)

    def omitted_defaults(self, path: str, method: str, sent: Any) -> list[tuple[tuple[str | int, ...], Any]]:
        """`omitted_defaults` of the request body `sent` to an operation."""
        schema = request_schema(self.document, path, method)
        return [] if schema is None else list(omitted_defaults(self.document, schema, sent))

    def flag_adds(self, path: str, method: str = "get") -> dict[str, frozenset[str]]:
        return flag_adds(self.document, path, method)

    def parameters(self, path: str, method: str) -> list[dict[str, Any]]:
        return parameters(self.document, path, method)

    def item_path(self, collection: str) -> str | None:
        return item_path(self.document, collection)

    def cursor_at(self, path: str) -> CursorFacts | None:
        return cursor_list(self.document, path)

    @property
    def masked(self) -> tuple[frozenset[str], dict[str, str]]:
        return masked(self.document)

    @property
    def stock_markers(self) -> dict[str, Any]:
        if self._stock is None:
            self._stock = stock_markers(self.document)
        return self._stock


_CACHE: dict[int, Facts] = {}


def facts(document: Mapping[str, Any]) -> Facts:
    """The Facts of a document, shared by everyone holding the same document object."""
    found = _CACHE.get(id(document))
    if found is None or found.document is not document:
        if len(_CACHE) >= 8:  # a few specs at a time (tests load several); never an unbounded cache
            _CACHE.clear()
        found = _CACHE[id(document)] = Facts(document)
    return found
