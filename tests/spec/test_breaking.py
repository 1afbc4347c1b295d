"""`make breaking` on scratch copies of the project: each breaking edit of the spec fails the gate naming
the change (its line in openapi/tavus.yaml and the Python name), an additive edit passes and lands in the
drafted changelog, and a breaking edit passes once the version or the changelog says so."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIED = (
    "openapi",
    "scripts",
    "generator-templates",
    "overrides",
    "generated",
    "generator-config.yaml",
    "pyproject.toml",
)


def scratch(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    """A copy of the project with its spec edited and the client generated from it."""
    work = tmp_path / "work"
    work.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", ".scratch"))
        else:
            shutil.copy2(source, work / name)
    if (ROOT / "CHANGELOG.md").exists():
        shutil.copy2(ROOT / "CHANGELOG.md", work / "CHANGELOG.md")
    spec = work / "openapi" / "tavus.yaml"
    before = spec.read_text(encoding="utf-8")
    after = edit(before)
    assert after != before, "the edit changed nothing"
    spec.write_text(after, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "scripts/generate.py"], cwd=work, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return work


def gate(work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/breaking.py", "--base-dir", str(ROOT), *extra],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def after_anchor(text: str, anchor: str, old: str, new: str) -> str:
    at = text.index(anchor)
    found = text.index(old, at)
    return text[:found] + new + text[found + len(old) :]


def drop_operation(text: str, operation_id: str) -> str:
    """The spec without one operation (its method block, cut at the next key of the same depth)."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == f"operationId: {operation_id}")
    start = at - 1  # the `    get:` line
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > 4):
        end += 1
    return "".join(lines[:start] + lines[end:])


def line_of(work: Path, needle: str, after: str = "") -> int:
    text = (work / "openapi" / "tavus.yaml").read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


REMOVE_FIELD = ("    Persona:\n", '        greeting: {type: [string, "null"]}\n', "")
REQUIRE_PARAM = ("operationId: listPersonas", "          required: false\n", "          required: true\n")
NARROW_ENUM = ("    PipelineMode:\n", "enum: [full, echo, speech-to-speech]", "enum: [full, echo]")


@pytest.mark.parametrize(
    ("edit", "spec_words", "python_words"),
    [
        pytest.param(
            lambda t: after_anchor(t, *REMOVE_FIELD),
            "schema Persona: field Persona.greeting removed",
            "tavus_client.models.persona.Persona.greeting: public object was removed",
            id="response-field-removed",
        ),
        pytest.param(
            lambda t: after_anchor(t, *REQUIRE_PARAM),
            "GET /v2/personas listPersonas: query parameter persona_type became required",
            "Tavus().personas.list: parameter is now required: persona_type",
            id="parameter-became-required",
        ),
        pytest.param(
            lambda t: after_anchor(t, *NARROW_ENUM),
            "schema PipelineMode: PipelineMode: enum value(s) removed: ['speech-to-speech']",
            "PipelineMode.SPEECH_TO_SPEECH: public object was removed",
            id="enum-narrowed",
        ),
        pytest.param(
            lambda t: drop_operation(t, "listObjectives"),
            "GET /v2/objectives listObjectives: operation removed [tavus_client.api.objectives.list_objectives]",
            "Tavus().objectives.list: public object was removed",
            id="operation-removed",
        ),
    ],
)
def test_a_breaking_edit_fails_the_gate_naming_it(
    tmp_path: Path, edit: Callable[[str], str], spec_words: str, python_words: str
) -> None:
    work = scratch(tmp_path, edit)
    done = gate(work)
    assert done.returncode == 1, done.stdout + done.stderr
    spec_lines = [line for line in done.stdout.splitlines() if line.startswith("  spec ")]
    python_lines = [line for line in done.stdout.splitlines() if line.startswith("  python ")]
    assert any(spec_words in line for line in spec_lines), done.stdout
    assert any(python_words in line for line in python_lines), done.stdout
    # Each spec line says where: openapi/tavus.yaml:LINE (the base's line for what is gone).
    assert all(re.search(r"openapi/tavus\.yaml:\d+", line) for line in spec_lines), done.stdout
    assert all(re.search(r"generated/tavus_client/\S+\.py:\d+", line) for line in python_lines), done.stdout
    assert "neither allowed by the version" in done.stderr


def test_the_line_given_is_the_line_of_the_change(tmp_path: Path) -> None:
    work = scratch(tmp_path, lambda t: after_anchor(t, *REQUIRE_PARAM))
    done = gate(work)
    expected = line_of(work, "- name: persona_type", after="operationId: listPersonas")
    assert f"openapi/tavus.yaml:{expected}: GET /v2/personas listPersonas" in done.stdout, done.stdout


def test_an_additive_edit_passes_and_lands_in_the_draft(tmp_path: Path) -> None:
    def add(text: str) -> str:
        text = after_anchor(
            text, "    Persona:\n", "        memories:\n", '        mood: {type: [string, "null"]}\n        memories:\n'
        )
        new_path = (
            "  /v2/moods:\n"
            "    get:\n"
            "      operationId: listMoods\n"
            "      tags: [personas]\n"
            "      summary: List moods\n"
            "      description: The moods a persona may take.\n"
            "      responses:\n"
            '        "200":\n'
            "          description: The moods.\n"
            "          content:\n"
            "            application/json:\n"
            "              schema: {type: array, items: {type: string}}\n"
            '        "401": {$ref: "#/components/responses/Unauthorized"}\n'
        )
        return text.replace("\n  /v2/personas:\n", "\n" + new_path + "  /v2/personas:\n", 1)

    work = scratch(tmp_path, add)
    done = gate(work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 breaking" in done.stdout and "0 breaking changes of the client's API" in done.stdout
    draft = gate(work, "--changelog")
    assert draft.returncode == 0
    assert "### Added" in draft.stdout and "### Breaking" not in draft.stdout
    assert "GET /v2/moods listMoods: operation added" in draft.stdout
    assert "field Persona.mood added" in draft.stdout


def test_a_breaking_edit_passes_when_the_release_says_so(tmp_path: Path) -> None:
    work = scratch(tmp_path, lambda t: after_anchor(t, *NARROW_ENUM))
    changelog = work / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    listing = "### Breaking\n\n- `PipelineMode` no longer has `speech-to-speech`.\n\n"
    changelog.write_text(text.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n" + listing, 1), encoding="utf-8")
    done = gate(work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "listed under [Unreleased]" in done.stdout
    changelog.write_text(text, encoding="utf-8")
    assert gate(work).returncode == 1
    pyproject = work / "pyproject.toml"
    version = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"', pyproject.read_text(encoding="utf-8"), flags=re.M)
    assert version is not None
    major, minor = int(version.group(1)), int(version.group(2))
    bumped = f'version = "{major}.{minor + 1}.0"' if major == 0 else f'version = "{major + 1}.0.0"'
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(version.group(0), bumped, 1), encoding="utf-8")
    done = gate(work)
    assert done.returncode == 0 and "allowed: the version went from" in done.stdout, done.stdout


def test_an_unknown_base_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/breaking.py", "--base", "no-such-ref-anywhere"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "no such git ref" in done.stderr and "Traceback" not in done.stderr
