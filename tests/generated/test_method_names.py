"""Method names read well: none repeats its resource's name, and `x-method-name` in the spec wins over
the name derived from the operationId."""

from __future__ import annotations

from tavus_client import Tavus

from tavus_mock.spec import Spec
from tavus_spec.facts import method_names


def test_no_method_name_repeats_its_resource(spec: Spec) -> None:
    client = Tavus(api_key="k", base_url="http://127.0.0.1:9")
    checked = 0
    nested = {"pal_tools": "pals.tools", "pal_skills": "pals.skills"}  # x-client-attribute
    for tag in sorted({op.tag for op in spec.operations}):
        parent, _, attribute = nested.get(tag, tag).partition(".")
        resource = getattr(getattr(client, parent), attribute) if attribute else getattr(client, parent)
        words = set(tag.split("_")) | {w.rstrip("s") for w in tag.split("_")} | {tag.removesuffix("ies") + "y"}
        for method in (m for m in dir(resource) if not m.startswith("_") and m != "with_raw_response"):
            checked += 1
            assert not words & set(method.split("_")), f"client.{tag}.{method} repeats the resource's name"
    assert checked >= len(spec.operations)


def test_x_method_name_wins() -> None:
    """tavus_spec.facts names the methods (the generator writes what it says)."""
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/v2/personas/{persona_id}/stats": {
                "get": {"operationId": "getPersonaStats", "tags": ["personas"], "x-method-name": "stats"}
            },
            "/v2/personas/{persona_id}/usage": {"get": {"operationId": "getPersonaUsage", "tags": ["personas"]}},
            "/v2/personas": {"post": {"operationId": "createPersona", "tags": ["personas"]}},
            "/v2/pals/{pal_id}/skills": {"get": {"operationId": "listPalSkills", "tags": ["pal_skills"]}},
            "/v2/a": {"get": {"operationId": "listThings", "tags": ["things"]}},
            "/v2/b": {"get": {"operationId": "listThing", "tags": ["things"]}},
        },
    }
    names = method_names(document)
    assert names["getPersonaStats"] == "stats"
    assert names["getPersonaUsage"] == "get_persona_usage"  # the noun is not at the end: hence the extension
    assert names["createPersona"] == "create"
    assert names["listPalSkills"] == "list"
    assert names["listThings"] == "list_things" and names["listThing"] == "list_thing"  # would share `list`
