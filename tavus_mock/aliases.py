"""Aliases: one family's records served under a second vocabulary (other paths, renamed fields).

A family declares its alias and the alias operations (the PAL era's /v2/pals and /v2/faces are two:
tavus_mock/resources). One stored record serves both vocabularies (the same ids), so an alias
operation is its legacy twin with the names translated on the way in (path, query, body, JSON Patch
pointers) and on the way out. tests/spec checks each alias schema against its twin with the renames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Alias:
    tag: str  # the alias tag (pals, faces)
    target: str  # the legacy tag whose records it serves (personas, replicas)
    renames: tuple[tuple[str, str], ...]  # (legacy name, alias name)

    def to_legacy(self, name: str) -> str:
        return next((old for old, new in self.renames if new == name), name)

    def to_alias(self, name: str) -> str:
        return next((new for old, new in self.renames if old == name), name)

    def request_keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return {self.to_legacy(k): v for k, v in values.items()}

    def answer(self, body: Any) -> Any:
        """An answer of the legacy operation in the alias vocabulary (top level and list items)."""
        if not isinstance(body, dict):
            return body
        out = {self.to_alias(k): v for k, v in body.items()}
        if isinstance(out.get("data"), list):
            out["data"] = [self.answer(item) for item in out["data"]]
        return out

    def message(self, text: str) -> str:
        """An error text with legacy field names replaced by the alias names (whole words only)."""
        for old, new in self.renames:
            text = re.sub(rf"\b{old}\b", new, text)
        return text

    def legacy_member(self, pointer: str) -> str | None:
        """The legacy name a pointer starts with, which the alias document does not have."""
        first = pointer[1:].partition("/")[0] if pointer.startswith("/") else ""
        return first if first != self.to_alias(first) else None

    def pointer(self, pointer: str) -> str:
        """A JSON Pointer into the alias document, as a pointer into the legacy one (first segment renamed)."""
        if not pointer.startswith("/"):
            return pointer
        first, sep, rest = pointer[1:].partition("/")
        return "/" + self.to_legacy(first) + sep + rest

    def patch(self, operations: list[Any]) -> list[Any]:
        out = []
        for op in operations:
            op = dict(op)
            for key in ("path", "from"):
                if isinstance(op.get(key), str):
                    op[key] = self.pointer(op[key])
            out.append(op)
        return out
