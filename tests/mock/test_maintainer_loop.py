"""The maintainer loop tells the truth: spec errors are short and located, unknown operations are 501,
and check-generated compares files, not git."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tavus_mock.core import FAMILIES
from tavus_mock.resources import registry as families
from tavus_spec.specfile import SpecError, line_of, load_document
from tests.conftest import ROOT, SPEC_PATH, TEST_KEY


def _served() -> list[str]:
    families()
    return [op for f in FAMILIES.values() for op in (*f.operations, *f.alias_operations)]


def test_every_operation_of_the_spec_has_a_behaviour(spec: Spec) -> None:
    ids = {op.operation_id for op in spec.operations}
    served = _served()
    assert ids - set(served) == set(), "operations the server would answer 501"
    assert set(served) - ids == set(), "behaviours for operations the spec no longer has"
    assert len(served) == len(set(served)), "an operation served twice"


def test_every_generic_create_has_its_familys_create_in_its_module(spec: Spec) -> None:
    """A create served by the generic behaviour needs its family's create, else it is a 501; each
    family's create and handlers live in its own module."""
    import tavus_mock.resources as modules

    for family in families().values():
        generic = [op for op, how in family.operations.items() if how == "create"]
        assert not generic or family.create is not None, f"{family.tag}: created generically without a create"
        for how in (family.create, *family.operations.values()):
            if callable(how):
                assert how.__module__.startswith(modules.__name__ + "."), (family.tag, how.__module__)


def spec_with_stats(raw: dict[str, Any]) -> dict[str, Any]:
    """The spec plus `GET /v2/personas/{persona_id}/stats`, an operation the server has no behaviour for."""
    out = copy.deepcopy(raw)
    out["paths"]["/v2/personas/{persona_id}/stats"] = {
        "get": {
            "operationId": "getPersonaStats",
            "tags": ["personas"],
            "summary": "Usage of a persona",
            "security": [{"apiKey": []}],
            "parameters": [{"$ref": "#/components/parameters/PersonaId"}],
            "responses": {
                "200": {
                    "description": "Stats",
                    "content": {"application/json": {"schema": {"type": "object", "required": ["calls"]}}},
                }
            },
        }
    }
    return out


def test_an_operation_without_behaviour_is_501_naming_it(spec: Spec, tmp_path: Path) -> None:
    path = tmp_path / "tavus.yaml"
    path.write_text(yaml.safe_dump(spec_with_stats(spec.raw)), encoding="utf-8")
    config = MockConfig(api_keys=frozenset({TEST_KEY}), delays=Delays.instant(), check_answers=True)
    with MockServer(TavusMock(Spec(path), config)) as server:
        headers = {"x-api-key": TEST_KEY}
        answer = httpx.get(f"{server.url}/v2/personas/pdced222244b/stats", headers=headers)
        assert answer.status_code == 501
        assert "getPersonaStats" in answer.json()["error"]
        assert httpx.get(f"{server.url}/v2/personas/pdced222244b", headers=headers).status_code == 200


def test_an_answer_that_breaks_the_spec_is_caught(spec: Spec) -> None:
    class Broken(TavusMock):
        def _list(self, ctx: Any) -> Any:
            answer = super()._list(ctx)
            answer.body["data"][0]["persona_name"] = 5
            return answer

    config = MockConfig(api_keys=frozenset({TEST_KEY}), delays=Delays.instant(), check_answers=True)
    with MockServer(Broken(spec, config)) as server:
        answer = httpx.get(f"{server.url}/v2/personas", headers={"x-api-key": TEST_KEY})
    assert answer.status_code == 500
    assert "listPersonas" in answer.json()["error"] and "data/0/persona_name" in answer.json()["error"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tavus.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_ref_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    text = SPEC_PATH.read_text(encoding="utf-8").replace(
        "#/components/schemas/ConversationCreate", "#/components/schemas/ConversationCreat", 1
    )
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        Spec(path)
    message = str(caught.value)
    assert message.count("\n") == 0 and len(message) < 200
    line = next(i for i, row in enumerate(text.splitlines(), 1) if 'ConversationCreat"' in row)
    assert f"tavus.yaml:{line}:" in message and "ConversationCreat" in message


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "openapi: 3.1.0\ninfo: {title: x\npaths: {}\n")
    with pytest.raises(SpecError, match=r"tavus\.yaml:\d+: not valid YAML"):
        load_document(path)
    with pytest.raises(SpecError, match="must be a mapping"):
        load_document(write(tmp_path, "- a list\n"))
    with pytest.raises(SpecError, match="cannot read"):
        load_document(tmp_path / "missing.yaml")


def test_tavus_mock_with_a_broken_spec_says_one_line_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "openapi: 3.1.0\npaths:\n  /a: {$ref: '#/nowhere'}\n")
    done = subprocess.run(
        [sys.executable, "-c", "from tavus_spec.extras import mock; raise SystemExit(mock())", "--spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "tavus.yaml:3:" in done.stderr and "#/nowhere" in done.stderr


def test_generate_reports_an_invalid_spec_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    text = SPEC_PATH.read_text(encoding="utf-8").replace("operationId: createConversation", "operationId: [1, 2]", 1)
    path = write(tmp_path, text)
    monkeypatch.setattr(generate, "SPEC", path)
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    with pytest.raises(SystemExit) as caught:
        generate.validate_spec()
    message = str(caught.value)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "operationId: [1, 2]" in row)
    assert message.startswith(f"tavus.yaml:{line}:") and message.count("\n") == 0, message


def test_line_of_finds_nested_nodes() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8").splitlines()
    line = line_of(SPEC_PATH, ["components", "schemas", "Error"])
    assert line is not None and text[line - 1].strip() == "Error:"


def test_check_generated_compares_files_not_git(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    new, old = tmp_path / "new", tmp_path / "old"
    for root in (new, old):
        (root / "api").mkdir(parents=True)
        (root / "api" / "a.py").write_text("x = 1\n")
    assert generate.compare(new, old) == []
    (old / "api" / "a.py").write_text("x = 2\n")
    (new / "b.py").write_text("")
    (old / "__pycache__").mkdir()
    (old / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert generate.compare(new, old) == ["api/a.py", "b.py"]


def test_the_spec_is_parsed_by_libyaml_when_pyyaml_has_it(tmp_path: Path) -> None:
    """The C parser makes a server start (and so every test that starts one) about 0.7 s shorter."""
    from tavus_spec import specfile

    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml")
    assert specfile._LOADER is yaml.CSafeLoader
    # Anchors, aliases and plain scalars read the same as with the pure-Python parser.
    text = "openapi: 3.1.0\npaths: {}\nx: &a {b: [1, 2.5, true, null, '0x10']}\ny: *a\n"
    assert load_document(write(tmp_path, text)) == yaml.safe_load(text)
