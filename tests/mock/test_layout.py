"""The house: a resource family is one module (tavus_mock/resources/<family>.py) and the core names no
family. Fails when the core mentions a family's tag, id field, field names or operation ids."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from tavus_mock.app import TavusMock
from tavus_mock.resources import registry as families
from tavus_mock.spec import Spec

CORE = (
    "app.py",
    "store.py",
    "db.py",
    "core.py",
    "service.py",
    "spec.py",
    "server.py",
    "cli.py",
    "aliases.py",
    "journal.py",
    "inspector.py",
    "proxy.py",
    "drift.py",
    "pg.py",
    "persist.py",
)
HERE = Path(__file__).resolve().parents[2] / "tavus_mock"


def _family_words(spec: Spec) -> dict[str, str]:
    """Each word that belongs to one family (-> its tag): its tag, ids, operation ids and the snake_case
    fields of its reads that no more than two families share (created_at, callback_url... are everyone's;
    one-word fields such as `text` read as plain English and are not judged)."""
    mock = TavusMock(spec)
    fields = {tag: mock.shape(tag).field_set | mock.shape(tag).list_field_set for tag in families()}
    shared = Counter(name for names in fields.values() for name in names)
    words: dict[str, str] = {}
    for tag, family in families().items():
        own = {name for name in fields[tag] if shared[name] <= 2 and "_" in name}
        own |= {tag, family.id_field, *family.operations, *family.alias_operations}
        if family.type_field:
            own.add(family.type_field)
        if family.alias is not None:
            own |= {family.alias.tag, *(new for _, new in family.alias.renames)}
        words.update(dict.fromkeys(own, tag))
    return words


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# In prose (docstrings, comments) only what reads as a name of the API: snake_case or camelCase.
API_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+(?:[A-Z][a-z0-9]*)+\b")


def _mentions(source: str) -> set[str]:
    """What a module names: each string constant used as a value (a key, an id, a tag), each identifier,
    and the API names (field names, operation ids) its prose mentions."""
    tree = ast.parse(source)
    found: set[str] = set()
    prose: list[str] = [comment for comment in re.findall(r"#[^\n]*", source)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            prose.append(node.value.value)  # a docstring
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if NAME.fullmatch(node.value):
                found.add(node.value)
            else:
                prose.append(node.value)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    for text in prose:
        found |= set(API_NAME.findall(text))
    return found


def test_the_core_names_no_family(spec: Spec) -> None:
    words = _family_words(spec)
    offences = []
    for name in CORE:
        mentioned = _mentions((HERE / name).read_text(encoding="utf-8"))
        offences += [f"{name}: {word} ({words[word]})" for word in sorted(mentioned & words.keys())]
    assert offences == [], "the core names a family: move the rule into its module\n" + "\n".join(offences)


def test_each_family_lives_in_one_module_of_resources() -> None:
    """A family's declaration, its create and its handlers are in one module (shared helpers, such as a
    named set's create, may come from another family's module)."""
    modules = {p.stem for p in (HERE / "resources").glob("*.py") if p.name != "__init__.py"}
    homes: dict[str, set[str]] = {}
    for family in families().values():
        functions = [family.create, *(h for h in family.operations.values() if callable(h))]
        for function in functions:
            if function is not None:
                homes.setdefault(family.tag, set()).add(function.__module__.rsplit(".", 1)[-1])
    for tag, found in homes.items():
        assert len(found) == 1 and found <= modules, (tag, found)
