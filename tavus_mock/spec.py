"""openapi/tavus.yaml as the reference server needs it: operations, parameters and compiled schemas.

Nothing here knows about Tavus resources: routing, validation and response checks are all read
from the spec when the server starts, so the spec and the server cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs

from tavus_spec.specfile import SpecError, default_spec_path, load_document

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class SchemaValidator:
    """A compiled JSON Schema; `errors()` gives readable 'where: why' lines."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._validator = jsonschema_rs.validator_for({"$schema": DIALECT, **self.schema})
        # `is_valid(instance) -> bool` is the compiled validator's own method: no Python frame per call.
        self.is_valid: Callable[[Any], bool] = self._validator.is_valid

    def errors(self, instance: Any, limit: int = 5) -> list[str]:
        """Readable 'where: why' lines. A value that fits none of the shapes an `anyOf`/`oneOf` allows is
        explained by the shape it comes closest to (its own errors, which name the fields), and no
        message quotes a whole object or array."""
        out: list[str] = []
        for error in self._validator.iter_errors(instance):
            out.extend(_explain(error))
            if len(out) >= limit:
                break
        return out[:limit]


def _explain(error: Any) -> list[str]:
    context = getattr(error.kind, "context", None)
    if context:  # anyOf / oneOf: the branch with the fewest and deepest errors
        best = min(context, key=lambda errs: (len(errs), -max((len(e.instance_path) for e in errs), default=0)))
        if best:
            return [line for sub in best for line in _explain(sub)]
    where = "/".join(str(p) for p in error.instance_path) or "(root)"
    return [f"{where}: {_message(error)}"]


def _message(error: Any) -> str:
    """The error's message without a quoted object or array (which could be a whole record)."""
    message: str = error.message
    if message[:1] in ("{", "["):
        for marker in (" is not valid under any", " is not of type", " is not one of", " has ", " is ", " does "):
            at = message.find(marker)
            if at > 0:
                message = ("the object" if message[0] == "{" else "the array") + message[at:]
                break
    return message if len(message) <= 200 else message[:200] + "..."


@dataclass
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: SchemaValidator

    @cached_property
    def kind(self) -> str:
        types = self.schema.get("type", "string")
        return types if isinstance(types, str) else next(t for t in types if t != "null")

    @cached_property
    def length_bounds(self) -> tuple[int, float] | None:
        """(min, max) length when the schema is a plain string with length bounds only: checked without the
        validator (which then only runs to word the error)."""
        if self.schema.get("type") != "string" or set(self.schema) - {
            "type",
            "minLength",
            "maxLength",
            "description",
            "example",
        }:
            return None
        return int(self.schema.get("minLength", 0)), float(self.schema.get("maxLength", float("inf")))


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    parameters: list[Parameter]
    body_required: bool
    body_media_type: str | None
    body_validator: SchemaValidator | None
    responses: dict[str, dict[str, Any]]
    response_validators: dict[str, SchemaValidator] = field(default_factory=dict)
    public: bool = False  # `security: []`: no API key needed (deployment init)

    @cached_property
    def path_regex(self) -> re.Pattern[str]:
        pattern = re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", self.path)
        return re.compile(f"^{pattern}/?$")

    @cached_property
    def success_statuses(self) -> list[int]:
        return sorted(int(code) for code in self.responses if code.startswith("2"))

    def query_params(self) -> list[Parameter]:
        return list(self.query_parameters)

    @cached_property
    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    @cached_property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")


ROUTE_CACHE = 4096  # templated paths whose match a Router keeps (a few hundred KB at most)


def _route_key(path: str) -> tuple[int, str]:
    parts = path.rstrip("/").split("/")
    return len(parts), parts[2] if len(parts) > 2 else ""


class Router:
    """Which operations serve a path, and the path's parameters: the one routing rule of the server and
    the proxy. Routes are bucketed by (number of segments, resource segment), so a lookup tries one or
    two patterns, never the whole table; literal paths are tried before templated ones of the same shape."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._routes: dict[tuple[int, str], list[tuple[Operation, dict[str, Operation]]]] = {}
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        for path, ops in sorted(by_path.items(), key=lambda item: item[0].count("{")):
            self._routes.setdefault(_route_key(path), []).append((next(iter(ops.values())), ops))
        # Literal paths (no parameter) are one dict lookup, with or without the trailing slash.
        none: dict[str, str] = {}
        self._literal = {p: (ops, none) for path, ops in by_path.items() if "{" not in path for p in (path, path + "/")}
        # Templated paths matched lately (a client polls the same resource), bounded: emptied when full.
        self._resolved: dict[str, tuple[dict[str, Operation], dict[str, str]]] = {}

    def find(self, path: str) -> tuple[dict[str, Operation], dict[str, str]] | None:
        """The operations of a path by method, and its path parameters; None for a path the spec lacks."""
        found = self._literal.get(path) or self._resolved.get(path)
        if found is None:
            for first, candidates in self._routes.get(_route_key(path), ()):
                match = first.path_regex.match(path)
                if match is not None:
                    found = (candidates, match.groupdict())
                    break
            else:
                return None
            if len(self._resolved) >= ROUTE_CACHE:
                self._resolved.clear()
            self._resolved[path] = found
        return found


class Spec:
    """The parsed spec with every `$ref` resolved and every schema compiled once."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_spec_path()
        self.raw: dict[str, Any] = load_document(self.path)
        try:
            self.operations: list[Operation] = list(self._operations())
        except (KeyError, TypeError, ValueError) as exc:  # a shape the server cannot read: one line, no traceback
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"{self.path}: cannot read an operation: {type(exc).__name__}: {str(exc)[:300]}") from None
        self.by_id = {op.operation_id: op for op in self.operations}

    # -- references ---------------------------------------------------------------------------
    def resolve_pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: Any = self.raw
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        """A copy of `node` with every `$ref` inlined (siblings of a `$ref` win over the target)."""
        if isinstance(node, list):
            return [self.deref(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"recursive reference {ref} is not supported")
            target = self.deref(self.resolve_pointer(ref), (*seen, ref))
            siblings = {k: self.deref(v, seen) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings} if isinstance(target, dict) else target
        return {k: self.deref(v, seen) for k, v in node.items()}

    def schema(self, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.deref({"$ref": f"#/components/schemas/{name}"})
        return schema

    def validator(self, schema: Mapping[str, Any]) -> SchemaValidator:
        return SchemaValidator(self.deref(dict(schema)))

    # -- operations ---------------------------------------------------------------------------
    def _operations(self) -> Iterator[Operation]:
        for path, item in (self.raw.get("paths") or {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                op = item.get(method)
                if not op:
                    continue
                params = []
                for raw in [*shared, *op.get("parameters", [])]:
                    p = self.deref(raw)
                    schema = p.get("schema", {})
                    params.append(
                        Parameter(p["name"], p["in"], bool(p.get("required")), schema, SchemaValidator(schema))
                    )
                body = self.deref(op.get("requestBody") or {})
                media_type = next(iter(body.get("content", {})), None)
                body_schema = body.get("content", {}).get(media_type, {}).get("schema") if media_type else None
                responses = {str(code): self.deref(resp) for code, resp in op.get("responses", {}).items()}
                validators = {}
                for code, resp in responses.items():
                    content = resp.get("content", {}).get("application/json")
                    if content and "schema" in content:
                        validators[code] = SchemaValidator(content["schema"])
                yield Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=(op.get("tags") or ["default"])[0],
                    parameters=params,
                    body_required=bool(body.get("required")),
                    body_media_type=media_type,
                    body_validator=SchemaValidator(body_schema) if body_schema else None,
                    responses=responses,
                    response_validators=validators,
                    public=op.get("security") == [],
                )

    def examples(self) -> Iterator[tuple[str, dict[str, Any], Any]]:
        """(where, schema, example) for every example in the spec, for the spec's own tests."""
        for op in self.raw.get("paths", {}).values():
            for method in METHODS:
                if method not in op:
                    continue
                operation = op[method]
                oid = operation["operationId"]
                for raw in operation.get("parameters", []):
                    p = self.deref(raw)
                    if "example" in p:
                        yield f"{oid} parameter {p['name']}", p["schema"], p["example"]
                body = self.deref(operation.get("requestBody") or {})
                for media in body.get("content", {}).values():
                    yield from self._media_examples(f"{oid} request", media)
                for code, resp in operation.get("responses", {}).items():
                    for media in self.deref(resp).get("content", {}).values():
                        yield from self._media_examples(f"{oid} {code}", media)
        for name, schema in self.raw.get("components", {}).get("schemas", {}).items():
            if "example" in schema:
                yield f"schema {name}", self.schema(name), schema["example"]
        for name, resp in self.raw.get("components", {}).get("responses", {}).items():
            for media in resp.get("content", {}).values():
                yield from self._media_examples(f"response {name}", self.deref(media))
        for name, hook in self.raw.get("webhooks", {}).items():
            for media in self.deref(hook["post"]["requestBody"]).get("content", {}).values():
                yield from self._media_examples(f"webhook {name}", media)

    @staticmethod
    def _media_examples(where: str, media: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
        schema = media.get("schema", {})
        if "example" in media:
            yield where, schema, media["example"]
        for key, ex in media.get("examples", {}).items():
            yield f"{where} example {key}", schema, ex["value"]
