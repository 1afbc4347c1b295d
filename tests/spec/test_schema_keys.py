"""Every key inside a schema is a JSON Schema / OpenAPI keyword or an `x-` extension.

The trap this catches: in a YAML flow mapping, an unquoted comma ends the value, so
`{type: string, description: Letters, digits and underscores.}` silently becomes a description of
"Letters" plus two stray keys. Validators ignore unknown keywords, so nothing else notices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tavus_mock.spec import Spec

# JSON Schema 2020-12 (core, applicator, validation, meta-data, format, content, unevaluated) and the
# OpenAPI 3.1 schema object's own additions.
SCHEMA_KEYWORDS = frozenset(
    """
    $schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs
    allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties
    patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties
    type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength
    pattern maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required
    dependentRequired title description default deprecated readOnly writeOnly examples format
    contentEncoding contentMediaType contentSchema
    discriminator xml externalDocs example
    """.split()  # noqa: SIM905 (a word list reads better than 60 quoted strings)
)
# Keywords whose value is a map of names to schemas (the names are free).
NAMED_SCHEMAS = {"properties", "patternProperties", "$defs", "dependentSchemas"}
SUBSCHEMA = {"items", "contains", "not", "if", "then", "else", "additionalProperties", "propertyNames"}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
VALUE_KEYWORDS = {"enum", "const", "default", "example", "examples", "required", "discriminator", "xml"}


def stray_keys(schema: Any, where: str) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        if key not in SCHEMA_KEYWORDS:
            yield f"{where}: {key!r}"
            continue
        if key in VALUE_KEYWORDS:
            continue
        if key in NAMED_SCHEMAS and isinstance(value, dict):
            for name, sub in value.items():
                yield from stray_keys(sub, f"{where}/{key}/{name}")
        elif key in SUBSCHEMA:
            yield from stray_keys(value, f"{where}/{key}")
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from stray_keys(sub, f"{where}/{key}/{i}")


def all_schemas(raw: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every schema of the spec in place (no $ref resolved): components, parameters, bodies, responses."""
    components = raw.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        yield f"#/components/schemas/{name}", schema
    for name, param in components.get("parameters", {}).items():
        yield f"#/components/parameters/{name}/schema", param.get("schema")
    for group in ("requestBodies", "responses"):
        for name, item in components.get(group, {}).items():
            for media, content in item.get("content", {}).items():
                yield f"#/components/{group}/{name}/{media}", content.get("schema")
    containers = [("paths", raw.get("paths", {})), ("webhooks", raw.get("webhooks", {}))]
    for top, items in containers:
        for path, item in items.items():
            for method, op in item.items():
                if not isinstance(op, dict) or method == "parameters":
                    continue
                for i, param in enumerate(op.get("parameters", [])):
                    yield f"{top} {path} {method} parameter {i}", param.get("schema")
                for media, content in op.get("requestBody", {}).get("content", {}).items():
                    yield f"{top} {path} {method} body {media}", content.get("schema")
                for code, response in op.get("responses", {}).items():
                    for media, content in response.get("content", {}).items():
                        yield f"{top} {path} {method} {code} {media}", content.get("schema")


def test_no_schema_has_a_key_that_is_not_a_keyword(spec: Spec) -> None:
    stray = [hit for where, schema in all_schemas(spec.raw) for hit in stray_keys(schema, where)]
    assert not stray, "keys that are no JSON Schema keyword (an unquoted comma in a flow mapping?):\n" + "\n".join(
        stray
    )


def test_the_check_catches_the_flow_mapping_trap() -> None:
    import yaml

    cut = yaml.safe_load("{type: string, description: Letters, digits and underscores.}")
    assert list(stray_keys(cut, "x")) == ["x: 'digits and underscores.'"]
    assert not list(stray_keys({"type": "string", "description": "Letters, digits."}, "x"))
