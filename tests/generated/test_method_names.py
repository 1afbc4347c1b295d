"""Method names read well: none repeats its resource's name, and `x-method-name` in the spec wins over
the name derived from the operationId."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from tavus_client import Tavus

from tavus_mock.spec import Spec

ROOT = Path(__file__).resolve().parents[2]


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


def test_x_method_name_wins(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import resources_gen
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    spec = {
        "openapi": "3.1.0",
        "paths": {
            "/v2/personas/{persona_id}/stats": {
                "get": {"operationId": "getPersonaStats", "x-method-name": "stats", "description": "Usage."}
            }
        },
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    facts = resources_gen._spec_facts(path)
    assert facts[("GET", "/v2/personas/{persona_id}/stats")]["method_name"] == "stats"
    assert resources_gen._method_name("personas", "get_persona_stats") == "get_persona_stats"  # hence the extension
