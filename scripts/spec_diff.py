"""What changed between two versions of openapi/tavus.yaml, each change classified for the people who
use the client (and the servers the contract suite judges), with the line it is on.

Classes: `breaking` (code written against the old spec may fail against the new one), `added`,
`deprecated`, `changed` (worth a changelog line, breaks nobody). The direction matters: a request
may not demand more than before (a parameter or body field that became required, a type or enum
value it no longer takes), a response may not promise less (a field removed or no longer required,
a status removed, a type it may now also be); an enum that loses a value breaks either way (the
generated client's enum class loses a member).

Written here because no maintained OpenAPI 3.1 diff could be installed from the registries this
project may use (the evidence is in the README's "Releasing" section); griffe checks the Python side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "patch")
SPEC_NAME = "openapi/tavus.yaml"


@dataclass(frozen=True)
class Change:
    kind: str  # breaking | added | deprecated | changed
    line: int  # in the new file; for what the new file no longer has, the base file's line (base=True)
    base: bool
    subject: str  # an operation ("GET /v2/personas listPersonas") or a schema ("schema Persona")
    what: str
    python: str  # the Python name it shows as in tavus_client

    def where(self) -> str:
        return f"{SPEC_NAME}:{self.line}" + (" (base)" if self.base else "")

    def one_line(self) -> str:
        python = f" [{self.python}]" if self.python else ""
        return f"{self.where()}: {self.subject}: {self.what}{python}"


class Document:
    """A parsed spec and the line of each node (by JSON Pointer)."""

    def __init__(self, text: str) -> None:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self.lines: dict[str, int] = {}
        self._index(node, "")
        self.raw: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}

    @classmethod
    def read(cls, path: Path) -> Document:
        return cls(path.read_text(encoding="utf-8"))

    def _index(self, node: Any, pointer: str) -> None:
        self.lines[pointer] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._index(value, f"{pointer}/{_escape(str(key.value))}")
                self.lines.setdefault(f"{pointer}/{_escape(str(key.value))}#key", key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, f"{pointer}/{i}")

    def line(self, pointer: str) -> int:
        """The line of a pointer, or of its nearest ancestor the document has."""
        while pointer:
            found = self.lines.get(pointer + "#key") or self.lines.get(pointer)
            if found:
                return found
            pointer = pointer.rsplit("/", 1)[0]
        return 1

    def resolve(self, node: Any) -> tuple[Any, str | None]:
        """A node with its `$ref` followed, and the component pointer it came from (None: inline)."""
        ref = None
        for _ in range(50):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            ref = node["$ref"][1:]
            node = self.raw
            for part in ref[1:].split("/"):
                node = node.get(_unescape(part), {}) if isinstance(node, dict) else {}
        return node, ref


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    found = schema.get("type")
    if isinstance(found, str):
        return frozenset({found})
    if isinstance(found, list):
        return frozenset(str(t) for t in found)
    return frozenset()


class Differ:
    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self._seen: set[tuple[str, str, str]] = set()

    # -- what is recorded ----------------------------------------------------------------------
    def add(self, kind: str, pointer: str, subject: str, what: str, python: str = "", *, base: bool = False) -> None:
        key = (subject, what, kind)
        if key in self._seen:
            return
        self._seen.add(key)
        line = (self.old if base else self.new).line(pointer)
        self.changes.append(Change(kind, line, base, subject, what, python))

    # -- the walk ------------------------------------------------------------------------------
    def run(self) -> list[Change]:
        old_paths = self.old.raw.get("paths") or {}
        new_paths = self.new.raw.get("paths") or {}
        for path in sorted(set(old_paths) | set(new_paths)):
            for method in METHODS:
                before = (old_paths.get(path) or {}).get(method)
                after = (new_paths.get(path) or {}).get(method)
                if before is None and after is None:
                    continue
                either: dict[str, Any] = after or before or {}
                op_id = either.get("operationId", "")
                subject = f"{method.upper()} {path} {op_id}".strip()
                pointer = f"/paths/{_escape(path)}/{method}"
                python = f"tavus_client.api.{snake(self._tag(either))}.{snake(op_id)}" if op_id else ""
                if after is None:
                    self.add("breaking", pointer, subject, "operation removed", python, base=True)
                elif before is None:
                    self.add("added", pointer, subject, "operation added", python)
                else:
                    self._operation(before, after, pointer, subject, python, path, method)
        self._components()
        order = {"breaking": 0, "deprecated": 1, "added": 2, "changed": 3}
        return sorted(self.changes, key=lambda c: (order[c.kind], c.base, c.line))

    @staticmethod
    def _tag(op: Mapping[str, Any]) -> str:
        tags = op.get("tags") or ["default"]
        return str(tags[0])

    def _params(self, doc: Document, path: str, method: str) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        item = (doc.raw.get("paths") or {}).get(path) or {}
        out = {}
        for where, params in (
            ("", item.get("parameters") or []),
            (f"/{method}", item.get(method, {}).get("parameters") or []),
        ):
            for i, raw in enumerate(params):
                param, _ = doc.resolve(raw)
                if isinstance(param, dict) and "name" in param:
                    out[(param["name"], param.get("in", ""))] = (param, f"/paths/{_escape(path)}{where}/parameters/{i}")
        return out

    def _operation(
        self,
        before: dict[str, Any],
        after: dict[str, Any],
        pointer: str,
        subject: str,
        python: str,
        path: str,
        method: str,
    ) -> None:
        if after.get("deprecated") and not before.get("deprecated"):
            self.add("deprecated", pointer, subject, "operation deprecated", python)
        old_params, new_params = self._params(self.old, path, method), self._params(self.new, path, method)
        for key in sorted(set(old_params) | set(new_params)):
            name = f"{key[1]} parameter {key[0]}"
            if key not in new_params:
                self.add("breaking", old_params[key][1], subject, f"{name} removed", python, base=True)
                continue
            param, at = new_params[key]
            if key not in old_params:
                kind = "breaking" if param.get("required") else "added"
                self.add(kind, at, subject, f"{name} added" + (" (required)" if param.get("required") else ""), python)
                continue
            old_param = old_params[key][0]
            if param.get("required") and not old_param.get("required"):
                self.add("breaking", at, subject, f"{name} became required", python)
            self._schema(
                old_param.get("schema") or {},
                param.get("schema") or {},
                f"{at}/schema",
                subject,
                name,
                "request",
                python,
            )
        self._body(before, after, pointer, subject, python)
        old_responses, new_responses = before.get("responses") or {}, after.get("responses") or {}
        for code in sorted(set(old_responses) | set(new_responses)):
            at = f"{pointer}/responses/{code}"
            if code not in new_responses:
                if str(code).startswith("2"):
                    self.add("breaking", at, subject, f"response {code} removed", python, base=True)
                continue
            if code not in old_responses:
                self.add("changed", at, subject, f"response {code} documented", python)
                continue
            old_schema = self._json_schema(self.old, old_responses[code])
            new_schema = self._json_schema(self.new, new_responses[code])
            if old_schema is not None and new_schema is not None:
                self._schema(old_schema, new_schema, at, subject, f"response {code}", "response", python)

    def _body(self, before: dict[str, Any], after: dict[str, Any], pointer: str, subject: str, python: str) -> None:
        old_body, _ = self.old.resolve(before.get("requestBody") or {})
        new_body, _ = self.new.resolve(after.get("requestBody") or {})
        at = f"{pointer}/requestBody"
        if old_body and not new_body:
            self.add("breaking", at, subject, "request body removed", python, base=True)
            return
        if new_body and not old_body:
            kind = "breaking" if new_body.get("required") else "added"
            self.add(kind, at, subject, "request body added", python)
            return
        if new_body.get("required") and not old_body.get("required"):
            self.add("breaking", at, subject, "request body became required", python)
        old_schema, new_schema = self._json_schema(self.old, old_body), self._json_schema(self.new, new_body)
        if old_schema is not None and new_schema is not None:
            self._schema(old_schema, new_schema, at, subject, "request body", "request", python)

    @staticmethod
    def _json_schema(doc: Document, holder: Any) -> Any:
        holder, _ = doc.resolve(holder)
        media = (holder or {}).get("content", {}).get("application/json") if isinstance(holder, dict) else None
        return media.get("schema") if isinstance(media, dict) else None

    # -- schemas -------------------------------------------------------------------------------
    def _schema(
        self, old: Any, new: Any, at: str, subject: str, name: str, side: str, python: str, depth: int = 0
    ) -> None:
        """Compare two schemas of one place; a shared component is compared once, in _components."""
        if depth > 20 or not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref or new_ref:
            if old_ref != new_ref:
                old_name, new_name = str(old_ref).rsplit("/", 1)[-1], str(new_ref).rsplit("/", 1)[-1]
                self.add("breaking", at, subject, f"{name}: schema {old_name} became {new_name}", python)
            return
        self._compare(old, new, at, subject, name, side, python, depth)

    def _compare(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        at: str,
        subject: str,
        name: str,
        side: str,
        python: str,
        depth: int,
    ) -> None:
        old_types, new_types = _types(old), _types(new)
        if old_types and new_types and old_types != new_types:
            lost, gained = old_types - new_types, new_types - old_types
            breaks = (side == "request" and lost) or (side == "response" and gained) or side == "both"
            shown = f"{name}: type {'/'.join(sorted(old_types))} became {'/'.join(sorted(new_types))}"
            self.add("breaking" if breaks else "changed", at, subject, shown, python)
        if isinstance(old.get("enum"), list) and isinstance(new.get("enum"), list):
            removed = [v for v in old["enum"] if v not in new["enum"]]
            added = [v for v in new["enum"] if v not in old["enum"]]
            if removed:
                self.add("breaking", f"{at}/enum", subject, f"{name}: enum value(s) removed: {removed}", python)
            if added:
                self.add("added", f"{at}/enum", subject, f"{name}: enum value(s) added: {added}", python)
        elif isinstance(new.get("enum"), list) and "enum" not in old:
            self.add("breaking", f"{at}/enum", subject, f"{name}: now limited to {new['enum']}", python)
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_req, new_req = set(old.get("required") or []), set(new.get("required") or [])
        for prop in sorted(set(old_props) | set(new_props)):
            field = f"{name}.{prop}"
            prop_at = f"{at}/properties/{_escape(prop)}"
            if prop not in new_props:
                self.add("breaking", prop_at, subject, f"field {field} removed", python, base=True)
            elif prop not in old_props:
                required = prop in new_req
                kind = "breaking" if required and side in ("request", "both") else "added"
                self.add(kind, prop_at, subject, f"field {field} added" + (" (required)" if required else ""), python)
            else:
                if prop in new_req and prop not in old_req and side in ("request", "both"):
                    self.add("breaking", prop_at, subject, f"field {field} became required", python)
                if prop in old_req and prop not in new_req and side in ("response", "both"):
                    self.add("breaking", prop_at, subject, f"field {field} is no longer always there", python)
                self._schema(old_props[prop], new_props[prop], prop_at, subject, field, side, python, depth + 1)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self._schema(old["items"], new["items"], f"{at}/items", subject, f"{name}[]", side, python, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            old_list, new_list = old.get(key) or [], new.get(key) or []
            if len(old_list) == len(new_list):
                for i, (a, b) in enumerate(zip(old_list, new_list, strict=True)):
                    self._schema(a, b, f"{at}/{key}/{i}", subject, name, side, python, depth + 1)
            else:
                self.add(
                    "changed",
                    f"{at}/{key}",
                    subject,
                    f"{name}: {key} has {len(new_list)} shapes, was {len(old_list)}",
                    python,
                )

    def _components(self) -> None:
        old_schemas = (self.old.raw.get("components") or {}).get("schemas") or {}
        new_schemas = (self.new.raw.get("components") or {}).get("schemas") or {}
        sides = _usage(self.new) | {k: v for k, v in _usage(self.old).items() if k not in new_schemas}
        for name in sorted(set(old_schemas) | set(new_schemas)):
            at = f"/components/schemas/{_escape(name)}"
            python = f"tavus_client.models.{name}"
            side = sides.get(name, "")
            if name not in new_schemas:
                if side:
                    self.add("breaking", at, f"schema {name}", "schema removed", python, base=True)
                continue
            if name not in old_schemas:
                self.add("added", at, f"schema {name}", "schema added", python)
                continue
            if side:
                self._compare(old_schemas[name], new_schemas[name], at, f"schema {name}", name, side, python, 0)


def _usage(doc: Document) -> dict[str, str]:
    """Each component schema an operation reaches: "request", "response" or "both"."""
    found: dict[str, set[str]] = {}

    def walk(node: Any, side: str, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = _unescape(ref.rsplit("/", 1)[-1])
                found.setdefault(name, set()).add(side)
                if name not in seen:
                    target = ((doc.raw.get("components") or {}).get("schemas") or {}).get(name)
                    walk(target, side, seen | {name})
                return
            for value in node.values():
                walk(value, side, seen)
        elif isinstance(node, list):
            for value in node:
                walk(value, side, seen)

    for item in (doc.raw.get("paths") or {}).values():
        for method in METHODS:
            op = (item or {}).get(method)
            if not op:
                continue
            params = [doc.resolve(p)[0] for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]]
            walk(params, "request", frozenset())
            walk(doc.resolve(op.get("requestBody") or {})[0], "request", frozenset())
            walk([doc.resolve(r)[0] for r in (op.get("responses") or {}).values()], "response", frozenset())
    return {name: ("both" if len(sides) > 1 else next(iter(sides))) for name, sides in found.items()}


def diff(old_text: str, new_text: str) -> list[Change]:
    return Differ(Document(old_text), Document(new_text)).run()


def changes_of(changes: list[Change], kind: str) -> Iterator[Change]:
    return (c for c in changes if c.kind == kind)
