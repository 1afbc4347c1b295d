"""Where a live server and the spec disagree, seen from the traffic a proxy passes (tavus_mock/proxy.py).

For every answer that passes, per operation: a status the spec does not list, fields the answer has that
the spec does not describe, required fields missing, type and enum mismatches and other broken
constraints, a body where the spec has none, a request the spec refuses that the server accepted, a
query parameter the spec does not name, and an operation the server does not have. Each difference is
kept once (counted, with one redacted and shortened example), so a report stays small over any traffic.

Extra fields are found by validating answers against a stricter copy of each response schema, where
every object that lists its properties refuses the others (`unevaluatedProperties: false`, which sees
through `allOf`); everything else is the spec's own schema, checked by jsonschema-rs. Nothing here names
a Tavus resource.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
import orjson
from tavus_client._overrides._logs import redact_body

from .spec import DIALECT, Operation, Spec

EXAMPLE_CHARS = 300  # one example per finding, shortened to this
MAX_FINDINGS = 500  # distinct findings kept per operation (a broken server must not fill the memory)
MAX_UNKNOWN = 200  # distinct method + path pairs the spec does not have

# What each kind of finding means, in the order a report lists them.
KINDS = {
    "operation_missing": "the server does not have this operation",
    "undocumented_status": "a status the spec does not list for the operation",
    "undescribed_field": "a field of the answer the spec does not describe",
    "missing_required": "a field the spec requires that the answer lacks",
    "type_mismatch": "a value of another type than the spec's",
    "enum_mismatch": "a value the spec's enum does not list",
    "constraint": "a value that breaks another rule of the spec (format, pattern, bounds)",
    "undescribed_body": "an answer with a body where the spec has none",
    "not_json": "an answer that is not JSON where the spec describes JSON",
    "request_refused_by_spec": "a request the spec refuses that the server accepted",
    "undescribed_parameter": "a query parameter the spec does not name, accepted by the server",
}


@dataclass
class Finding:
    kind: str
    where: str  # "(answer)", a JSON path in the answer (items as *), or a parameter
    detail: str
    example: str
    count: int = 1
    first_seen: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "detail": self.detail,
            "count": self.count,
            "example": self.example,
        }


@dataclass
class OperationDrift:
    method: str
    path: str
    calls: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)


def strict(node: Any, *, merged: bool = False) -> Any:
    """A copy of a (dereferenced) schema where every object that lists its properties refuses others.

    `merged`: the node is a member of an `allOf`, whose parent carries the rule (a member alone would
    refuse its siblings' properties). A schema that already says what other properties may be
    (`additionalProperties`, `unevaluatedProperties`) keeps its own rule."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key == "allOf" and isinstance(value, list):
            out[key] = [strict(member, merged=True) for member in value]
        elif key in ("items", "anyOf", "oneOf", "prefixItems", "additionalProperties", "not"):
            out[key] = strict(value)
        else:
            out[key] = value
    describes = "properties" in node or "allOf" in node
    if describes and not merged and "additionalProperties" not in node and "unevaluatedProperties" not in node:
        out["unevaluatedProperties"] = False
    return out


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def example(value: Any) -> str:
    """A value as one redacted line of JSON, shortened."""
    try:
        text = json.dumps(redact_body(value), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "..."


def _at(body: Any, path: Iterable[str | int]) -> Any:
    node = body
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _where(path: Iterable[str | int], name: str | None = None) -> str:
    parts = ["*" if isinstance(p, int) else str(p) for p in path]
    if name is not None:
        parts.append(name)
    return "/".join(parts) or "(answer)"


def _name(error: Any) -> str:
    return type(error.kind).__name__


def _branch_score(errors: list[Any], at: list[str | int]) -> tuple[int, int, int]:
    """How far a branch of an anyOf/oneOf is from the value: a branch of another type is farthest,
    then fewer and deeper errors win (the branch the value was meant to be)."""
    wrong_type = sum(1 for e in errors if _name(e) == "Type" and list(e.instance_path) == at)
    deepest = max((len(e.instance_path) for e in errors), default=0)
    return wrong_type, len(errors), -deepest


def differences(errors: Iterable[Any], body: Any) -> Iterator[tuple[str, str, str, str]]:
    """(kind, where, detail, example) for each jsonschema-rs error, the closest branch of an anyOf or
    oneOf explained by its own errors."""
    for error in errors:
        name = _name(error)
        path = list(error.instance_path)
        value = _at(body, path)
        context = getattr(error.kind, "context", None) if name in ("AnyOf", "OneOfNotValid") else None
        if context:
            if all(any(_name(e) == "Type" and list(e.instance_path) == path for e in branch) for branch in context):
                wanted = sorted({t for branch in context for e in branch if _name(e) == "Type" for t in e.kind.types})
                detail = f"expected {' or '.join(wanted)}, got {json_type(value)}"
                yield "type_mismatch", _where(path), detail, example(value)
                continue
            best = min(context, key=lambda branch: _branch_score(branch, path))
            yield from differences(best, body)
        elif name in ("UnevaluatedProperties", "AdditionalProperties"):
            for extra in error.kind.unexpected:
                yield "undescribed_field", _where(path, extra), "not in the spec", example(_at(value, [extra]))
        elif name == "Required":
            yield "missing_required", _where(path, error.kind.property), "required, absent", example(value)
        elif name == "Type":
            detail = f"expected {' or '.join(error.kind.types)}, got {json_type(value)}"
            yield "type_mismatch", _where(path), detail, example(value)
        elif name in ("Enum", "Constant"):
            yield "enum_mismatch", _where(path), f"{example(value)} is not in the spec's enum", example(value)
        else:
            yield "constraint", _where(path), error.message[:200], example(value)


class Drift:
    """The drift report of one proxy: fed each exchange (`observe`), read as JSON or Markdown."""

    def __init__(self, spec: Spec, upstream: str) -> None:
        self.spec = spec
        self.upstream = upstream
        self.started = time.time()
        self.exchanges = 0
        self.operations: dict[str, OperationDrift] = {}
        self.unknown: dict[tuple[str, str], dict[str, Any]] = {}
        self.upstream_errors: dict[tuple[str, str], dict[str, Any]] = {}
        self._validators: dict[tuple[str, str], Any] = {}

    # -- what is observed ----------------------------------------------------------------------
    def observe(
        self,
        op: Operation,
        status: int,
        content_type: str,
        content: bytes,
        *,
        request_problem: str | None = None,
        unnamed_parameters: Iterable[str] = (),
    ) -> None:
        """One exchange of a spec operation: its answer's status, type and bytes; what the spec said of
        its request (`request_problem`, the refusal the spec gives; `unnamed_parameters`)."""
        self.exchanges += 1
        entry = self._entry(op)
        entry.calls += 1
        entry.statuses[str(status)] = entry.statuses.get(str(status), 0) + 1
        ok = 200 <= status < 300
        if ok and request_problem is not None:
            self._add(entry, "request_refused_by_spec", "(request)", request_problem, "")
        if ok:
            for name in unnamed_parameters:
                self._add(entry, "undescribed_parameter", f"query {name}", "not a parameter of the operation", "")
        if status == 405 or (status == 404 and not op.path_parameters):
            # A collection path has no resource to miss: a 404 there is the operation's absence.
            detail = f"answered {status} to {op.method} {op.path}"
            self._add(entry, "operation_missing", "(operation)", detail, self._example_of(content))
            return
        code = self._response_code(op, status)
        if code is None:
            listed = ", ".join(sorted(op.responses)) or "nothing"
            detail = f"answered {status}; the spec lists {listed}"
            self._add(entry, "undocumented_status", "(status)", detail, self._example_of(content))
            return
        media = op.responses[code].get("content") or {}
        if not media:
            if content.strip():
                self._add(entry, "undescribed_body", "(answer)", f"{status} has no body in the spec", "")
            return
        schema = (media.get("application/json") or {}).get("schema")
        if schema is None:
            return  # another media type: the spec describes no JSON to compare with
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            shown = content_type or "no content type"
            self._add(entry, "not_json", "(answer)", f"{status} is not JSON ({shown})", "")
            return
        validator = self._validator(op, code, schema)
        if validator.is_valid(body):
            return
        for kind, where, detail, shown in differences(validator.iter_errors(body), body):
            self._add(entry, kind, where, detail, shown)

    def observe_unknown(self, method: str, path: str, status: int) -> None:
        """An exchange on a method and path the spec does not have (not validated)."""
        self.exchanges += 1
        key = (method, path)
        found = self.unknown.get(key)
        if found is None:
            if len(self.unknown) >= MAX_UNKNOWN:
                return
            found = self.unknown[key] = {"method": method, "path": path, "statuses": {}, "count": 0}
        found["count"] += 1
        found["statuses"][str(status)] = found["statuses"].get(str(status), 0) + 1

    def upstream_error(self, operation: str, what: str) -> None:
        """A request the server did not answer (a time-out, a refused connection, an answer too large)."""
        key = (operation, what)
        found = self.upstream_errors.setdefault(key, {"operation": operation, "error": what, "count": 0})
        found["count"] += 1

    # -- reading it ----------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        operations = {
            op_id: {
                "method": entry.method,
                "path": entry.path,
                "calls": entry.calls,
                "statuses": entry.statuses,
                "findings": [f.as_dict() for f in self._ordered(entry.findings.values())],
            }
            for op_id, entry in sorted(self.operations.items())
        }
        total = sum(len(entry.findings) for entry in self.operations.values())
        return {
            "upstream": self.upstream,
            "spec": self.spec.path.name,
            "since": self.started,
            "exchanges": self.exchanges,
            "findings": total,
            "operations": operations,
            "not_in_spec": sorted(self.unknown.values(), key=lambda u: (u["path"], u["method"])),
            "upstream_errors": list(self.upstream_errors.values()),
        }

    def markdown(self) -> str:
        report = self.report()
        lines = [
            "# Drift report",
            "",
            f"Upstream {report['upstream']}, spec `{report['spec']}`: {report['exchanges']} exchanges, "
            f"{report['findings']} findings.",
            "",
        ]
        drifting = {k: v for k, v in report["operations"].items() if v["findings"]}
        if drifting:
            lines += ["| operation | calls | statuses | findings |", "|---|---|---|---|"]
            for op_id, entry in drifting.items():
                statuses = ", ".join(f"{code}: {n}" for code, n in sorted(entry["statuses"].items()))
                lines.append(f"| `{op_id}` | {entry['calls']} | {statuses} | {len(entry['findings'])} |")
            for op_id, entry in drifting.items():
                lines += ["", f"## `{op_id}` ({entry['method']} {entry['path']})", ""]
                for f in entry["findings"]:
                    seen = f" (seen {f['count']} times)" if f["count"] > 1 else ""
                    lines.append(f"- **{f['kind']}** `{f['where']}`: {f['detail']}{seen}")
                    if f["example"]:
                        shown = f["example"].replace("`", "'")
                        lines.append(f"  example: `{shown}`")
        else:
            lines.append("No operation drifts from the spec in the traffic seen.")
        clean = sorted(k for k, v in report["operations"].items() if not v["findings"])
        if clean:
            lines += ["", f"Matching the spec: {', '.join(f'`{c}`' for c in clean)}."]
        if report["not_in_spec"]:
            lines += ["", "## Not in the spec", ""]
            for u in report["not_in_spec"]:
                statuses = ", ".join(f"{code}: {n}" for code, n in sorted(u["statuses"].items()))
                lines.append(f"- `{u['method']} {u['path']}` ({statuses})")
        if report["upstream_errors"]:
            lines += ["", "## Not answered by the upstream", ""]
            for e in report["upstream_errors"]:
                lines.append(f"- `{e['operation']}`: {e['error']} ({e['count']} times)")
        lines += ["", "Kinds: " + "; ".join(f"**{k}**: {v}" for k, v in KINDS.items()) + "."]
        return "\n".join(lines) + "\n"

    # -- inside --------------------------------------------------------------------------------
    def _entry(self, op: Operation) -> OperationDrift:
        entry = self.operations.get(op.operation_id)
        if entry is None:
            entry = self.operations[op.operation_id] = OperationDrift(op.method, op.path)
        return entry

    @staticmethod
    def _add(entry: OperationDrift, kind: str, where: str, detail: str, shown: str) -> None:
        key = (kind, where, detail if kind in ("undocumented_status", "type_mismatch", "constraint") else "")
        found = entry.findings.get(key)
        if found is not None:
            found.count += 1
        elif len(entry.findings) < MAX_FINDINGS:
            entry.findings[key] = Finding(kind, where, detail, shown)

    @staticmethod
    def _ordered(findings: Iterable[Finding]) -> list[Finding]:
        rank = {kind: i for i, kind in enumerate(KINDS)}
        return sorted(findings, key=lambda f: (rank.get(f.kind, len(rank)), f.where, f.detail))

    @staticmethod
    def _response_code(op: Operation, status: int) -> str | None:
        for code in (str(status), f"{str(status)[0]}XX", "default"):
            if code in op.responses:
                return code
        return None

    @staticmethod
    def _example_of(content: bytes) -> str:
        if not content.strip():
            return ""
        try:
            return example(orjson.loads(content))
        except orjson.JSONDecodeError:
            return f"<{len(content)} bytes, not JSON>"

    def _validator(self, op: Operation, code: str, schema: Mapping[str, Any]) -> Any:
        key = (op.operation_id, code)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = jsonschema_rs.validator_for({"$schema": DIALECT, **strict(schema)})
        return found
