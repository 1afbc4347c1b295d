"""Write tavus_client/_resources/: the typed, resource-style surface of every spec operation.

Called by scripts/generate.py in the same pass as openapi-python-client, with the generator's own
parse of the spec (its `GeneratorData`: endpoints, their parameters, bodies and answers, the models'
fields and the enums, with the very type strings the generated modules declare), never by reading
its output back. What the generator drops comes from tavus_spec.facts, the one module of API facts
shared with tavus-mock and tavus-contract: method names, page bases, list envelopes and limits,
descriptions. One module per tag, imported on first use, so `import tavus_client` stays cheap. For
every tag it writes four classes: the sync and async resource, and their `with_raw_response` twins
(each method wrapped by `to_raw_response_wrapper`, not copied); plus the two `*Resources` mixins that
give a client one attribute per tag. A new operation in the spec therefore appears on `Tavus` and
`AsyncTavus` after `make generate` with no hand edit.

Method names drop the resource noun from the operationId: createPersona -> personas.create,
endConversation -> conversations.end, listVideos -> videos.list. Object bodies become keyword
arguments (one per schema field); array bodies (JSON Patch) one positional argument.
"""

from __future__ import annotations

import keyword
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tavus_spec.facts import descriptions, list_facts, method_names, operation_id

INIT_HEADER = '''"""Typed resources for every operation of openapi/tavus.yaml, written by scripts/resources_gen.py."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .._overrides._base import AsyncAPIClient, Operation, SyncAPIClient
'''

TAG_HEADER = '''"""Typed `{tag}` resources, written by scripts/resources_gen.py from openapi/tavus.yaml."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from .._overrides._base import (
    NOT_GIVEN,
    AsyncAPIClient,
    NotGiven,
    RawResponse,
    SyncAPIClient,
    async_to_raw_response_wrapper,
    request_options,
    to_raw_response_wrapper,
)
from ..types import UNSET, Unset
from . import {consts}

if TYPE_CHECKING:
    import httpx

    from .._overrides.patch import Patch
{model_imports}
'''


@dataclass
class Param:
    name: str
    annotation: str  # as the generated code declares it
    required: bool
    loose: str = ""  # as a resource method takes it (enums also as text, models also as mappings)


@dataclass
class Endpoint:
    tag: str
    func: str
    method: str
    path: str
    summary: str
    path_params: list[Param]
    query_params: list[Param]
    body: str | None  # annotation of the body, e.g. "PersonaCreate" or "list[JsonPatchOperation]"
    success: str  # annotation of the successful result, "None" for no content
    unwrap: str | None = None  # envelope class to unwrap into `success`
    page_base: int | None = None
    page_item: str | None = None
    items_field: str = "data"  # the list envelope's items and total (deployments: deployments/total)
    total_field: str = "total_count"
    max_limit: int | None = None
    method_name: str = ""
    body_fields: list[Param] = field(default_factory=list)
    description: str = ""
    docs: dict[str, str] = field(default_factory=dict)  # parameter and body field descriptions
    class_name: str = ""  # the resource class of its tag (`Personas`; `LipsyncResource` beside a model)


@dataclass(frozen=True)
class Catalog:
    """What the generator parsed besides the endpoints: each model's fields and the string enums."""

    models: dict[str, list[Param]]
    enums: frozenset[str]


def _param(prop: Any) -> Param:
    """A parsed property as the generated code declares it (`name: type` and a default unless required)."""
    return Param(
        str(prop.python_name), prop.get_type_string().as_unembedded_code(), prop.required and prop.default is None
    )


def _split_union(annotation: str) -> list[str]:
    return [part.strip() for part in annotation.split("|")]


def _text(value: Any) -> str:
    """The text of a string the generator parsed from the spec (it wraps them as `UntrustedString`)."""
    return str(value.get_untrusted_value()) if hasattr(value, "get_untrusted_value") else str(value or "")


def _endpoint(tag: str, ep: Any) -> Endpoint:
    """One endpoint as openapi-python-client parsed it: what its generated module declares."""
    body = None
    if ep.bodies:  # one media type per body (openapi/README.md), so one body
        prop = ep.bodies[0].prop
        body = prop.get_type_string().as_unembedded_code()
    parts = list(
        dict.fromkeys(p for p in _split_union(ep.response_type().as_unembedded_code()) if p not in ("Error", "None"))
    )
    success = "None" if parts in ([], ["Any"]) else " | ".join(parts)
    summary = _text(ep.summary).strip() or _text(ep.description).strip().split("\n\n", 1)[0]
    return Endpoint(
        tag,
        str(ep.name),
        ep.method.upper(),
        _text(ep.path),
        summary,
        [Param(str(p.python_name), p.get_type_string().as_unembedded_code(), True) for p in ep.path_parameters],
        [_param(p) for p in [*ep.query_parameters, *ep.header_parameters, *ep.cookie_parameters]],
        body,
        success,
    )


def _python_name(name: str) -> str:
    """The name the generator gives a parameter or field in Python (`If-Match` -> if_match, type -> type_)."""
    snake = name.replace("-", "_").lower()
    return snake + "_" if keyword.iskeyword(snake) or snake == "type" else snake


def _union_fields(branches: list[list[Param]]) -> list[Param]:
    """Keyword arguments of a body that is one of several objects (anyOf: a guardrail set or one
    guardrail): every branch's fields, each required only if every branch requires it; the server
    tells the shapes apart by the fields given."""
    if len(branches) == 1:
        return branches[0]
    merged: dict[str, Param] = {}
    for fields in branches:
        for f in fields:
            if f.name in merged:
                known = merged[f.name]
                parts = dict.fromkeys([*_split_union(known.annotation), *_split_union(f.annotation)])
                merged[f.name] = Param(f.name, " | ".join(parts), known.required and f.required)
            else:
                merged[f.name] = Param(f.name, f.annotation, f.required)
    return [
        Param(f.name, f.annotation if f.annotation.endswith("Unset") else f"{f.annotation} | Unset", False)
        if not all(any(g.name == f.name and g.required for g in fields) for fields in branches)
        else f
        for f in merged.values()
    ]


def collect(openapi: Any, document: dict[str, Any]) -> list[Endpoint]:
    """The endpoints of openapi-python-client's own parse (`GeneratorData`), with what the generator
    drops taken from tavus_spec.facts (method names, page bases and envelopes, descriptions)."""
    models = {
        str(m.class_info.name): [_param(p) for p in [*m.required_properties, *m.optional_properties]]
        for m in openapi.models
    }
    catalog = Catalog(models, frozenset(str(e.class_info.name) for e in openapi.enums if e.value_type is str))
    names = method_names(document)
    endpoints = []
    for tag in sorted(openapi.endpoint_collections_by_tag):
        collection = openapi.endpoint_collections_by_tag[tag]
        for ep in sorted(collection.endpoints, key=lambda e: str(e.name)):
            found = _endpoint(str(tag), ep)
            oid = operation_id(document, found.path, found.method)
            found.method_name = names[str(oid)]
            description, texts = descriptions(document, found.path, found.method)
            found.description = description
            found.docs = {_python_name(name): text for name, text in texts.items()}
            if found.body and not found.body.startswith("list["):
                # An optional body is annotated `Model | Unset`; its fields are keyword arguments either way.
                found.body_fields = _union_fields([models[m] for m in _split_union(found.body) if m != "Unset"])
            # A success union of X and a one-item envelope of X (`data: list[X]`) is unwrapped to X.
            parts = _split_union(found.success)
            if len(parts) == 2:
                for inner, outer in (parts, parts[::-1]):
                    fields = models.get(outer, [])
                    if len(fields) == 1 and fields[0].name == "data" and fields[0].annotation == f"list[{inner}]":
                        found.success, found.unwrap = inner, outer
            listed = list_facts(document, found.path) if found.method == "GET" else None
            if listed is not None and listed.page_base is not None and found.success in models:
                # A paginated answer: its items are the envelope's array (`data`, `deployments`).
                arrays = {x.name: x.annotation for x in models[found.success] if x.annotation.startswith("list[")}
                if listed.items in arrays:
                    found.page_base = listed.page_base
                    found.page_item = arrays[listed.items][5:-1]
                    found.items_field, found.total_field = listed.items, listed.total
                    found.max_limit = listed.max_limit
            for param in [*found.query_params, *found.body_fields]:
                param.loose = _loose_ann(param.annotation, catalog)
            found.class_name = _class_name(found.tag, catalog)
            endpoints.append(found)
    return endpoints


def _ann(annotation: str) -> str:
    # Inside a class that defines a method called `list`, a bare `list[...]` annotation would name the
    # method for type checkers; spell the builtin explicitly.
    return annotation.replace("list[", "builtins.list[")


def _loose_ann(annotation: str, catalog: Catalog) -> str:
    """Enums may also be given as plain strings and nested models as mappings (sent as JSON either way)."""
    out = []
    for part in _split_union(annotation):
        out.append(part)
        if part in catalog.enums:
            out.append("str")
        elif part[:1].isupper() and part not in ("Unset", "Any", "None"):
            out.append("Mapping[str, Any]")
    return _ann(" | ".join(dict.fromkeys(out)))


def _class_name(tag: str, catalog: Catalog) -> str:
    """The resource class of a tag (`pronunciation_dictionaries` -> PronunciationDictionaries); a tag
    whose name is also a model's (`lipsync`: the Lipsync model) gets `Resource` after it, so the
    module that imports the model can define the class."""
    name = "".join(w.capitalize() for w in tag.split("_"))
    return name + "Resource" if name in catalog.models else name


def _op_const(ep: Endpoint) -> str:
    return f"_{ep.func.upper()}"


# Per-request options, as real keyword parameters of every method (no **options catch-all: a typo is a
# TypeError at run time and an error under mypy).
OPTION_PARAMS = {
    "extra_headers": "Mapping[str, str] | None = None",
    "extra_query": "Mapping[str, Any] | None = None",
    "extra_body": "Mapping[str, Any] | None = None",
    "timeout": "float | httpx.Timeout | None | NotGiven = NOT_GIVEN",
    "max_retries": "int | NotGiven = NOT_GIVEN",
    "deadline": "float | NotGiven | None = NOT_GIVEN",
}
OPTIONS_CALL = "request_options(extra_headers, extra_query, extra_body, timeout, max_retries, deadline)"


def _signature(ep: Endpoint, *, paginate: bool = False) -> tuple[str, str, str, str]:
    """(parameter list, path tuple, query dict, body expression) of one method."""
    params = ["self"]
    params += [f"{p.name}: {_ann(p.annotation)}" for p in ep.path_params]
    body_expr = "None"
    if ep.body and ep.body.startswith("list["):
        params.append("operations: Patch | Sequence[JsonPatchOperation | Mapping[str, Any]]")
        body_expr = "operations"
    query = [p for p in ep.query_params if not (paginate and p.name == "page")]
    params.append("*")
    for p in sorted(query, key=lambda p: not p.required):
        params.append(f"{p.name}: {p.loose}" + ("" if p.required else " = UNSET"))
    if ep.body and not ep.body.startswith("list["):
        for f in sorted(ep.body_fields, key=lambda f: not f.required):
            params.append(f"{f.name}: {f.loose}" + ("" if f.required else " = UNSET"))
        body_expr = "{" + ", ".join(f'"{f.name}": {f.name}' for f in ep.body_fields) + "}"
    taken = {p.name for p in ep.path_params + ep.query_params + ep.body_fields} & set(OPTION_PARAMS)
    if taken:
        raise SystemExit(f"{ep.func}: parameters named like request options: {sorted(taken)}; rename in the spec")
    params.extend(f"{name}: {annotation}" for name, annotation in OPTION_PARAMS.items())
    path_tuple = "(" + "".join(f"{p.name}, " for p in ep.path_params) + ")"
    query_dict = "{" + ", ".join(f'"{p.name}": {p.name}' for p in query) + "}"
    return ", ".join(params), path_tuple, query_dict, body_expr


def _clean(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''")


def _docstring(ep: Endpoint, ret: str, *, paginated: bool = False) -> str:
    """A Google-style docstring from the spec: summary and route, description, every argument, the result."""
    indent = "        "
    summary = _clean(ep.summary or ep.func)
    if paginated:
        summary = f"Every item of `{ep.method_name}`, page after page (pages count from {ep.page_base})"
    lines = [f"{summary} (`{ep.method} {ep.path}`)."]
    if ep.description and ep.description != ep.summary:
        lines += ["", *(_clean(line) for line in ep.description.splitlines())]
    names = [p.name for p in ep.path_params]
    names += [p.name for p in ep.query_params if not (paginated and p.name == "page")]
    names += [f.name for f in ep.body_fields]
    args = [f"    {name}: {_clean(' '.join(ep.docs.get(name, '').split())) or '(see the spec)'}" for name in names]
    if ep.body and ep.body.startswith("list["):
        args.append("    operations: the JSON Patch to apply (a `Patch` or a list of operations).")
    args.append("    extra_headers, extra_query, extra_body, timeout, max_retries, deadline: per-request options.")
    lines += ["", "Args:", *args]
    result = f"{ret}."
    if paginated:
        result = f"{ep.page_item}, one at a time."
    lines += ["", "Returns:", f"    {result}", "", "Raises:"]
    lines += ["    TavusError: a subclass for every failure (APIStatusError for error answers)."]
    body = "\n".join((indent + line) if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'


def _methods(ep: Endpoint, *, is_async: bool) -> list[str]:
    params, path_tuple, query, body = _signature(ep)
    ret = ep.success if ep.success != "None" else "None"
    ret_ann = _ann(ret)
    a, aw = ("async ", "await ") if is_async else ("", "")
    lines = [
        f"    {a}def {ep.method_name}({params}) -> {ret_ann}:",
        _docstring(ep, ret),
        f"        result = {aw}self._client._request(",
        f"            {_op_const(ep)}, {path_tuple}, {query}, {body}, {OPTIONS_CALL}",
        "        )",
        f'        return cast("{ret_ann}", result)',
        "",
    ]
    if ep.page_item:
        params, path_tuple, query, body = _signature(ep, paginate=True)
        item = _ann(ep.page_item)
        doc = _docstring(ep, ret, paginated=True)
        if is_async:
            lines += [
                f"    async def {ep.method_name}_all({params}) -> AsyncIterator[{item}]:",
                doc,
                f"        options = {OPTIONS_CALL}",
                f"        async for item in self._client._paginate({_op_const(ep)}, {path_tuple}, {query}, options):",
                "            yield item",
                "",
            ]
        else:
            lines += [
                f"    def {ep.method_name}_all({params}) -> Iterator[{item}]:",
                doc,
                f"        options = {OPTIONS_CALL}",
                f"        yield from self._client._paginate({_op_const(ep)}, {path_tuple}, {query}, options)",
                "",
            ]
    return lines


def _model_imports(endpoints: list[Endpoint]) -> str:
    names: set[str] = set()
    for ep in endpoints:
        params_text = " ".join(p.annotation for p in ep.path_params + ep.query_params + ep.body_fields)
        patch_text = " JsonPatchOperation" if ep.body and ep.body.startswith("list[") else ""
        for ann in [ep.success, ep.body or "", ep.page_item or "", ep.unwrap or ""]:
            text = f"{ann} {params_text}{patch_text}"
            for token in text.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ").split():
                if token[:1].isupper() and token not in ("Unset", "Any", "None"):
                    names.add(token)
    return "\n".join(f"    from ..models import {name}" for name in sorted(names)) or "    pass"


def _child_properties(children: list[tuple[str, str]], prefix: str, names: dict[str, str]) -> list[str]:
    """The attributes that reach nested resources from their parent (`pals.tools`)."""
    out = []
    for attribute, child in children:
        child_cls = f"{prefix}{names[child]}"
        out.append("    @cached_property")
        out.append(f'    def {attribute}(self) -> "{child_cls}":')
        out.append(f'        """{child.replace("_", " ").capitalize()} operations."""')
        out.append(f"        from .{child} import {child_cls}\n")
        out.append(f"        return {child_cls}(self._client)\n")
    return out


def nested_tags(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Tags served under another resource (`x-client-attribute: pals.tools` on the spec's tag):
    tag -> (parent tag, attribute), so `client.pals.tools.attach(...)` reads as the URL does."""
    out: dict[str, tuple[str, str]] = {}
    for tag in document.get("tags", []):
        where = tag.get("x-client-attribute")
        if where:
            parent, _, attribute = where.partition(".")
            out[tag["name"]] = (parent, attribute)
    return out


def _resource_classes(
    tag: str,
    name: str,
    eps: list[Endpoint],
    children: list[tuple[str, str]],
    names: dict[str, str],
    *,
    is_async: bool,
) -> list[str]:
    """A tag's resource class (sync or async) and its raw twin, whose methods wrap the resource's."""
    prefix = "Async" if is_async else ""
    client = "AsyncAPIClient" if is_async else "SyncAPIClient"
    cls = f"{prefix}{name}"
    kind = prefix.lower() or "sync"
    out = [f"\n\nclass {cls}:", f'    """{tag.capitalize()} operations ({kind})."""\n']
    out.append(f"    def __init__(self, client: {client}) -> None:")
    out.append("        self._client = client\n")
    out.append("    @cached_property")
    out.append(f"    def with_raw_response(self) -> {cls}WithRawResponse:")
    out.append('        """The same methods, answering `RawResponse` (status, headers, body)."""')
    out.append(f"        return {cls}WithRawResponse(self)\n")
    out.extend(_child_properties(children, prefix, names))
    for ep in eps:
        out.extend(_methods(ep, is_async=is_async))
    # The raw twin: each method wrapped, not copied (openai-python's `to_raw_response_wrapper`).
    wrap = "async_to_raw_response_wrapper" if is_async else "to_raw_response_wrapper"
    out.append(f"\n\nclass {cls}WithRawResponse:")
    out.append(f'    """Raw answers of {tag} operations ({kind}): `{cls}`\'s methods, answering `RawResponse`."""\n')
    out.append(f"    def __init__(self, resource: {cls}) -> None:")
    out.extend(f"        self.{ep.method_name} = {wrap}(resource.{ep.method_name})" for ep in eps)
    out.append("")
    return out


def render(endpoints: list[Endpoint], nested: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """File name -> source of the `_resources` package: one module per tag, loaded on first use."""
    nested = nested or {}
    tags: dict[str, list[Endpoint]] = {}
    for ep in endpoints:
        tags.setdefault(ep.tag, []).append(ep)
    names = {ep.tag: ep.class_name for ep in endpoints}  # tag -> its resource class
    children: dict[str, list[tuple[str, str]]] = {}  # parent tag -> [(attribute, child tag)]
    for child, (parent, attribute) in nested.items():
        if child in tags:
            if parent not in tags:
                raise SystemExit(f"x-client-attribute of tag {child}: no tag {parent}")
            children.setdefault(parent, []).append((attribute, child))
    init = [INIT_HEADER, ""]
    for ep in endpoints:
        init.append(
            f"{_op_const(ep)} = Operation(\n"
            f'    "{ep.tag}.{ep.func}", "{ep.method}", "{ep.path}",\n'
            f"    body={'None' if not ep.body else repr('list' if ep.body.startswith('list[') else 'object')},"
            f" unwrap={ep.unwrap!r}, page_base={ep.page_base!r}, max_limit={ep.max_limit!r},\n"
            + (
                f"    items={ep.items_field!r}, total={ep.total_field!r},\n"
                if (ep.items_field, ep.total_field) != ("data", "total_count")
                else ""
            )
            + ")"
        )
    init.append(f"\nOPERATIONS: tuple[Operation, ...] = ({', '.join(_op_const(ep) for ep in endpoints)},)\n")
    init.append(f"TAGS: tuple[str, ...] = {tuple(tags)!r}\n")
    init.append("if TYPE_CHECKING:")
    for tag in tags:
        name = names[tag]
        init.append(f"    from .{tag} import Async{name}, {name}")
    for is_async in (False, True):
        prefix = "Async" if is_async else ""
        client = "AsyncAPIClient" if is_async else "SyncAPIClient"
        init.append(f"\n\nclass {prefix}Resources({client}):")
        init.append(
            f'    """One attribute per tag of the spec ({prefix.lower() or "sync"}); each loads on first use."""\n'
        )
        for tag in tags:
            if tag in nested:
                continue  # reached through its parent (e.g. client.pals.tools)
            cls = f"{prefix}{names[tag]}"
            init.append("    @cached_property")
            init.append(f"    def {tag}(self) -> {cls}:")
            init.append(f"        from .{tag} import {cls}\n")
            init.append(f"        return {cls}(self)\n")
    files = {"__init__.py": "\n".join(init)}
    for tag, eps in tags.items():
        consts = ", ".join(_op_const(ep) for ep in eps)
        imports = _model_imports(eps)
        for _attribute, child in children.get(tag, []):
            imports += f"\n    from .{child} import Async{names[child]}, {names[child]}"
        out = [TAG_HEADER.format(tag=tag, consts=consts, model_imports=imports), ""]
        name = names[tag]
        for is_async in (False, True):
            out.extend(_resource_classes(tag, name, eps, children.get(tag, []), names, is_async=is_async))
        files[f"{tag}.py"] = "\n".join(out)
    return files


def write(package: Path, openapi: Any, document: dict[str, Any], *, ruff: str = "ruff") -> Path:
    """Write `package/_resources` from the generator's parse of the spec (`GeneratorData`) and the spec."""
    target = package / "_resources"
    target.mkdir()
    for name, text in render(collect(openapi, document), nested_tags(document)).items():
        (target / name).write_text(text, encoding="utf-8")
    for args in (
        ["check", "--fix-only", "--extend-select=I", "--no-cache", "--quiet"],
        ["format", "--no-cache", "--quiet"],
    ):
        subprocess.run([ruff, *args, str(target)], check=True, cwd=package)
    return target
