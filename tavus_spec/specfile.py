"""Reading openapi/tavus.yaml with errors a person can act on: `FILE:LINE: problem`, never a traceback.

Used by the reference server (`tavus-mock --spec`), the contract runner and `make generate`, so a
broken spec reads the same everywhere. It checks what every consumer needs before anything else
runs: the file parses as YAML, the top level is a mapping, and every local `$ref` points at
something. Schema-level validation (openapi-spec-validator) is a maintainer tool and stays in
scripts/generate.py, which maps its JSON paths to lines with `line_of`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the spec loads in about a tenth of
# the pure-Python parser's time, which every server start and test pays.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The spec shipped inside the package (written there by `make generate`, next to the client it built).
PACKAGED_SPEC = "openapi.yaml"


class SpecError(ValueError):
    """The spec cannot be used; the message is one short line per problem, naming file and line."""


def default_spec_path() -> Path:
    """`TAVUS_SPEC` when set, else the spec packaged with tavus_client (the one the client was made from)."""
    env = os.environ.get("TAVUS_SPEC")
    if env:
        return Path(env)
    return Path(str(resources.files("tavus_client").joinpath(PACKAGED_SPEC)))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_document(path: Path) -> dict[str, Any]:
    """The parsed spec, or SpecError with `FILE:LINE: problem` lines (at most 10)."""
    name = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{name}: cannot read the spec: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{name}: the spec is not UTF-8 text") from None
    try:
        loader = _LOADER(text)
        try:  # parsed once: the nodes keep their lines (for the $ref check), the document is built from them
            node = loader.get_single_node()
            document = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise SpecError(f"{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{name}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict) or node is None:
        raise SpecError(f"{name}:1: the spec must be a mapping (openapi, info, paths, ...)")
    problems = [f"{name}:{line}: {problem}" for line, problem in broken_refs(node, document)]
    if problems:
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise SpecError("\n".join(problems[:10]) + more)
    return document


def _walk_refs(node: yaml.Node) -> Iterator[tuple[int, str]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "$ref":
                    yield value.start_mark.line + 1, str(value.value) if isinstance(value, yaml.ScalarNode) else ""
                else:
                    stack.append(value)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)


def resolve(document: Any, ref: str) -> Any:
    """The target of a local `$ref` (`#/a/b`); KeyError when there is none."""
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def broken_refs(node: yaml.Node, document: Any) -> list[tuple[int, str]]:
    """(line, problem) for every `$ref` that is not a local pointer to something that exists."""
    out = []
    for line, ref in sorted(_walk_refs(node)):
        if not ref.startswith("#/"):
            out.append((line, f"$ref {ref!r}: only local references (#/...) are supported"))
            continue
        try:
            resolve(document, ref)
        except KeyError:
            out.append((line, f"$ref {ref!r} points at nothing"))
    return out


def line_of(path: Path, where: Sequence[str | int]) -> int | None:
    """The line of the node at `where` (keys and indexes from the top; a key's own line), or of its nearest parent."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for step in where:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(step)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line
