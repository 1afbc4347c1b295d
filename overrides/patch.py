"""A typed builder for RFC 6902 JSON Patch bodies (personas, objectives, guardrails).

Patches: nothing generated; it extends. The generated `JsonPatchOperation` model accepts any
combination of fields, so a `replace` without `value` would only fail on the server.
Why: check each operation's shape before sending (add/replace/test need `value`, copy/move need
`from`, paths are JSON Pointers) and offer a short way to turn keyword changes into a patch.
Delete when: never; this is an extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["Patch", "as_operations", "pointer"]

_OPS = ("add", "remove", "replace", "copy", "move", "test")
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"copy", "move"})


def pointer(*segments: str | int) -> str:
    """A JSON Pointer from raw segments: pointer("layers", "llm", "model") == "/layers/llm/model"."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def _check_pointer(name: str, value: object) -> str:
    if not isinstance(value, str) or (value and not value.startswith("/")):
        raise ValueError(f"JSON Patch {name} must be a JSON Pointer such as '/persona_name', got {value!r}")
    return value


def validate_operation(op: Mapping[str, Any]) -> dict[str, Any]:
    """One operation as a plain dict, after checking its shape; ValueError says what is wrong."""
    kind = op.get("op")
    if kind not in _OPS:
        raise ValueError(f"JSON Patch op must be one of {', '.join(_OPS)}, got {kind!r}")
    _check_pointer("path", op.get("path"))
    if kind in _NEEDS_VALUE and "value" not in op:
        raise ValueError(f"JSON Patch '{kind}' needs a 'value'")
    if kind in _NEEDS_FROM:
        _check_pointer("from", op.get("from"))
    return dict(op)


class Patch:
    """An ordered list of JSON Patch operations, built fluently and checked as it grows.

    >>> Patch().replace("/persona_name", "Coach").remove("/context").to_list()
    [{'op': 'replace', 'path': '/persona_name', 'value': 'Coach'}, {'op': 'remove', 'path': '/context'}]
    """

    __slots__ = ("_ops",)

    def __init__(self, operations: Iterable[Mapping[str, Any]] = ()) -> None:
        self._ops: list[dict[str, Any]] = [validate_operation(op) for op in operations]

    @classmethod
    def from_changes(cls, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Patch:
        """`add` (set or create) one operation per change; keys are field names or pointers.

        Patch.from_changes(persona_name="Coach") sets `/persona_name`;
        Patch.from_changes({"/layers/llm/model": "tavus-gpt-oss"}) sets a nested field.
        """
        patch = cls()
        for key, value in {**(changes or {}), **fields}.items():
            patch.add(key if key.startswith("/") else pointer(key), value)
        return patch

    def _append(self, op: dict[str, Any]) -> Patch:
        self._ops.append(validate_operation(op))
        return self

    def add(self, path: str, value: Any) -> Patch:
        return self._append({"op": "add", "path": path, "value": value})

    def remove(self, path: str) -> Patch:
        return self._append({"op": "remove", "path": path})

    def replace(self, path: str, value: Any) -> Patch:
        return self._append({"op": "replace", "path": path, "value": value})

    def copy(self, from_: str, path: str) -> Patch:
        return self._append({"op": "copy", "from": from_, "path": path})

    def move(self, from_: str, path: str) -> Patch:
        return self._append({"op": "move", "from": from_, "path": path})

    def test(self, path: str, value: Any) -> Patch:
        return self._append({"op": "test", "path": path, "value": value})

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(op) for op in self._ops]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.to_list())

    def __len__(self) -> int:
        return len(self._ops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Patch) and other._ops == self._ops

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Patch({self._ops!r})"


def as_operations(operations: Any) -> list[dict[str, Any]]:
    """A Patch, or a sequence of dicts or JsonPatchOperation models, as checked plain dicts."""
    if isinstance(operations, Patch):
        ops = operations.to_list()
    elif isinstance(operations, (str, bytes, Mapping)) or not isinstance(operations, Iterable):
        raise TypeError("a JSON Patch is a Patch or a list of operations")
    else:
        ops = []
        for op in operations:
            to_dict = getattr(op, "to_dict", None)
            item = to_dict() if to_dict is not None else op
            if not isinstance(item, Mapping):
                raise TypeError(f"a JSON Patch operation is a mapping, got {type(item).__name__}")
            ops.append(validate_operation(item))
    if not ops:
        raise ValueError("a JSON Patch needs at least one operation")
    return ops
