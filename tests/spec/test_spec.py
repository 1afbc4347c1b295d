"""The hand-written spec itself: valid, complete, consistent with its own examples and links."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tavus_contract.hooks import probe_body
from tavus_mock.spec import SchemaValidator, Spec
from tests.conftest import SPEC_PATH, iter_operations

SHARED_TOOL = SPEC_PATH.parents[2] / "shared" / "tools" / "spec_coverage.py"


# Operations Tavus documents as needing no key (`security: []`): a deployment's public view, which the
# widget, the embed and the landing page read (docs api-reference/deployments/get-deployment-init).
PUBLIC = frozenset({"getDeploymentInit"})


def test_spec_validates_as_openapi_3_1() -> None:
    document, _ = read_from_filename(str(SPEC_PATH))
    validate(document)
    assert document["openapi"].startswith("3.1")


CARD = [
    (method, f"/v2/{resource}{suffix}")
    for resource, item in (
        ("conversations", "{conversation_id}"),
        ("personas", "{persona_id}"),
        ("replicas", "{replica_id}"),
        ("objectives", "{objectives_id}"),
        ("guardrails", "{guardrails_id}"),
        ("documents", "{document_id}"),
        ("videos", "{video_id}"),
    )
    for method, suffix in (("POST", ""), ("GET", ""), ("GET", "/" + item), ("DELETE", "/" + item))
]


def test_the_35_operations_of_the_card_are_there(raw_spec: dict) -> None:
    ops = {(m.upper(), p) for p, m, _, _ in iter_operations(raw_spec)}
    assert set(CARD) <= ops and len(CARD) == 28
    fifth = {
        ("POST", "/v2/conversations/{conversation_id}/end"),
        ("PATCH", "/v2/personas/{persona_id}"),
        ("PATCH", "/v2/replicas/{replica_id}/name"),
        ("PATCH", "/v2/objectives/{objectives_id}"),
        ("PATCH", "/v2/guardrails/{guardrails_id}"),
        ("PATCH", "/v2/documents/{document_id}"),
        ("PATCH", "/v2/videos/{video_id}/name"),
    }
    assert fifth <= ops
    # Beyond the card the spec grows with the API; those operations are checked by what they are (every
    # operation has a behaviour in the server, a method on both clients), not by a list kept here.


def test_every_example_validates_against_its_schema(spec: Spec) -> None:
    checked = 0
    failures = []
    for where, schema, example in spec.examples():
        errors = SchemaValidator(spec.deref(schema)).errors(example)
        checked += 1
        if errors:
            failures.append(f"{where}: {errors}")
    assert not failures, "\n".join(failures)
    assert checked > 80


def test_an_invalid_example_would_be_caught(spec: Spec) -> None:
    validator = SchemaValidator(spec.schema("Persona"))
    assert validator.errors({"persona_name": "no id"})  # persona_id is required
    assert not validator.errors({"persona_id": "p1"})


def test_error_bodies_need_error_or_message(spec: Spec) -> None:
    validator = SchemaValidator(spec.schema("Error"))
    assert not validator.errors({"error": "x"}) and not validator.errors({"message": "x"})
    assert validator.errors({}) and validator.errors({"detail": "x"})


def test_every_operation_has_security_and_the_error_responses(raw_spec: dict) -> None:
    problems = []
    for path, method, op, params in iter_operations(raw_spec):
        name = f"{method.upper()} {path}"
        codes = set(op["responses"])
        public = op["operationId"] in PUBLIC
        if op.get("security") != ([] if public else [{"apiKey": []}]):
            problems.append(f"{name}: operation-level security missing")
        for code in ("408", "500") if public else ("401", "408", "500"):
            if code not in codes:
                problems.append(f"{name}: no {code}")
        if (params or "requestBody" in op) and "400" not in codes:
            problems.append(f"{name}: takes input but documents no 400")
        if "{" in path and "404" not in codes:
            problems.append(f"{name}: single-resource operation without 404")
        if "default" in codes:
            problems.append(f"{name}: has a default response (it would switch off status checks)")
        if not any(c.startswith("2") for c in codes):
            problems.append(f"{name}: no success response")
        for code, resp in op["responses"].items():
            if code in ("204", "304") and "content" in resp:
                problems.append(f"{name}: {code} must have no body")
    assert not problems, "\n".join(problems)


def test_operation_ids_are_unique_and_read_as_function_names(raw_spec: dict) -> None:
    ids = [op["operationId"] for _, _, op, _ in iter_operations(raw_spec)]
    assert len(ids) == len(set(ids))
    for oid in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", oid), oid


def test_no_query_parameter_has_a_default(raw_spec: dict, spec: Spec) -> None:
    for path, method, _, params in iter_operations(raw_spec):
        for p in params:
            p = spec.deref(p)
            assert "default" not in p.get("schema", {}), f"{method} {path} {p['name']}"


def test_server_defaults_are_values_of_their_own_schema(raw_spec: dict, spec: Spec) -> None:
    """Every `x-server-default` (what the server uses for a body member left out) is a value the member
    may take, and a tool body that leaves members out is told each one, nested ones included."""
    from tavus_spec.facts import facts

    found: list[tuple[dict, object]] = []
    pending: list[object] = [raw_spec["components"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "x-server-default" in node:
                found.append((node, node["x-server-default"]))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert len(found) >= 20
    for node, value in found:
        schema = node["schema"] if "in" in node else {k: v for k, v in node.items() if not k.startswith("x-")}
        validator = SchemaValidator({**schema, "components": raw_spec["components"]})
        assert validator.is_valid(value), (value, schema)
    told = facts(raw_spec).omitted_defaults(
        "/v2/tools", "post", {"name": "t", "description": "d", "delivery": {"api": {"url": "https://x.example"}}}
    )
    assert dict(told) == {
        ("parameters",): {},
        ("trigger_type",): "in_call",
        ("origin",): "llm",
        ("on_resolve",): "fire_and_forget",
        ("delivery", "api", "method"): "POST",
        ("delivery", "api", "timeout"): 10,
    }
    sent = {"on_resolve": None, "origin": "vision", "parameters": {}, "trigger_type": "in_call"}
    assert facts(raw_spec).omitted_defaults("/v2/tools", "post", sent) == []  # null is sent, not left out


def test_stock_records_are_marked_on_every_kind_that_has_them(raw_spec: dict) -> None:
    """`x-tavus-stock` (what tavus-contract's stock_stays_unchanged reads) marks each kind with stock records."""
    from tavus_spec.facts import facts

    markers = facts(raw_spec).stock_markers
    kinds = ("persona", "replica", "pal", "face", "guardrail")
    assert markers == {**{f"{kind}_type": "system" for kind in kinds}, "is_system_tool": True}


def test_patch_bodies_have_one_media_type(raw_spec: dict, spec: Spec) -> None:
    for path, method, op, _ in iter_operations(raw_spec):
        if "requestBody" in op:
            body = spec.deref(op["requestBody"])
            assert list(body["content"]) == ["application/json"], f"{method} {path}"
            # Required everywhere but where Tavus documents the body as optional.
            optional = op["operationId"] in ("recrawlDocument", "attachSkillToPal")
            assert body.get("required") is (not optional), op["operationId"]


def test_success_examples_exist_on_every_operation(raw_spec: dict, spec: Spec) -> None:
    missing = []
    for path, method, op, _ in iter_operations(raw_spec):
        has_body = False
        has_example = False
        for code, resp in op["responses"].items():
            if not code.startswith("2"):
                continue
            for media in spec.deref(resp).get("content", {}).values():
                has_body = True
                has_example = has_example or "example" in media or "examples" in media
        body = spec.deref(op.get("requestBody") or {})
        for media in body.get("content", {}).values():
            has_body = True
            has_example = has_example or "example" in media or "examples" in media
        if has_body and not has_example:
            missing.append(f"{method} {path}")
    assert not missing


def test_links_form_a_complete_graph(raw_spec: dict) -> None:
    ids = {op["operationId"]: (p, m) for p, m, op, _ in iter_operations(raw_spec)}
    linked: dict[str, set[str]] = {}
    for _path, _method, op, _ in iter_operations(raw_spec):
        for resp in op["responses"].values():
            for link in resp.get("links", {}).values():
                assert link["operationId"] in ids, link
                target_path = ids[link["operationId"]][0]
                for name in link["parameters"]:
                    assert "{" + name + "}" in target_path, (link, target_path)
                linked.setdefault(op["operationId"], set()).add(link["operationId"])
    creates = 0
    for path, method, op, _ in iter_operations(raw_spec):
        oid = op["operationId"]
        if method == "post" and "{" not in path:  # create -> get, patch and delete of the new resource
            targets = {o for o, (p, _) in ids.items() if re.fullmatch(re.escape(path) + r"/\{[a-z_]+\}", p)}
            # A POST with no item routes below it creates nothing (e.g. /v2/objectives/validate).
            assert targets <= linked.get(oid, set()), (oid, targets - linked.get(oid, set()))
            creates += bool(targets)
        if method in ("delete", "patch") and "{" in path:  # DELETE -> GET and PATCH -> GET
            assert any(ids[t][1] == "get" for t in linked.get(oid, set())), f"{oid} links to no GET"
    assert creates >= 10  # every create of the card and beyond is checked


def test_spec_coverage_of_the_reference_facts() -> None:
    """Optional: only where ../shared (the team's reference material) sits beside the project."""
    if not SHARED_TOOL.exists():
        pytest.skip("reference material (../shared) is not present")
    out = subprocess.run([sys.executable, str(SHARED_TOOL), str(SPEC_PATH)], capture_output=True, text=True, check=True)
    assert "operations present: 35/35" in out.stdout
    pct = float(re.search(r"coverage \(card\): ([\d.]+)%", out.stdout).group(1))  # type: ignore[union-attr]
    assert pct >= 98.0, out.stdout
    lenient = subprocess.run(
        [sys.executable, str(SHARED_TOOL), str(SPEC_PATH), "--lenient"], capture_output=True, text=True, check=True
    )
    assert "100.0%" in lenient.stdout


def test_generated_package_records_the_spec_it_came_from() -> None:
    import hashlib
    import json

    import tavus_client

    manifest = json.loads((Path(tavus_client.__file__).parent / ".codegen.json").read_text())
    assert manifest["generator"] == "openapi-python-client==0.29.1"
    assert manifest["inputs"]["openapi/tavus.yaml"] == hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()


def test_pal_and_face_schemas_are_their_legacy_twins_renamed(spec: Spec) -> None:
    """/v2/pals and /v2/faces serve the same records as personas and replicas (tavus_mock/aliases.py)."""
    from tavus_mock.resources import registry as families

    ALIASES = {f.alias.tag: f.alias for f in families().values() if f.alias is not None}
    ALIAS_OPERATIONS = {a: t for f in families().values() for a, t in f.alias_operations.items()}

    def plain(node: object) -> object:  # descriptions may differ (they say "face" or "replica")
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items() if k != "description"}
        return [plain(v) for v in node] if isinstance(node, list) else node

    def renamed(schema: dict, alias: object) -> dict:
        props = schema.get("properties", {})
        return {alias.to_alias(k): plain(v) for k, v in props.items()}  # type: ignore[attr-defined]

    pairs = {("pals", "Pal", "Persona"), ("pals", "PalCreated", "PersonaCreated"), ("faces", "Face", "Replica")}
    pairs |= {("faces", "FaceCreated", "ReplicaCreated"), ("faces", "FaceCreate", "ReplicaCreate")}
    for tag, new, old in sorted(pairs):
        alias = ALIASES[tag]
        assert plain(spec.schema(new)["properties"]) == renamed(spec.schema(old), alias), new
    pal_create, persona_create = spec.schema("PalCreate"), spec.schema("PersonaCreate")
    assert set(pal_create["properties"]) == set(renamed(persona_create, ALIASES["pals"]))
    for alias_id, legacy_id in ALIAS_OPERATIONS.items():
        new_op, old_op = spec.by_id[alias_id], spec.by_id[legacy_id]
        assert new_op.method == old_op.method and old_op.tag == ALIASES[new_op.tag].target
        assert new_op.path.split("/")[2] == new_op.tag and old_op.path.split("/")[2] == old_op.tag


def test_documented_refusals_break_no_schema_rule(raw_spec: dict, spec: Spec) -> None:
    """Each `x-tavus-refused` body is valid for the operation's schema, so the rule it breaks is one
    across fields that only the server can check; each carries why, evidence and a confidence."""
    seen = 0
    for path, method, operation, _ in iter_operations(raw_spec):
        for entry in [*operation.get("x-tavus-refused", ()), *operation.get("x-tavus-accepted", ())]:
            assert (
                {"why", "evidence", "confidence", "body"}
                <= set(entry)
                <= {"why", "evidence", "confidence", "body", "pad"}
            )
            assert entry["confidence"] in ("H", "M"), entry
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            errors = SchemaValidator(spec.deref(schema)).errors(probe_body(entry, suffix="_x"))
            assert not errors, f"{method} {path}: {entry['why']}: {errors}"
            seen += 1
    assert seen >= 12
