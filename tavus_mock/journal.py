"""What the server was asked: a bounded journal of every request it answered, for tests to read and
assert on (`GET /_mock/requests`, the pytest fixture's `.requests()` and `.assert_called()`).

An entry is kept as a plain tuple (a request pays for one tuple and a deque append); it becomes a
dict only when read. Keys are never kept: an entry holds the key's digest (the tenant). A body is kept
up to BODY_BYTES and shown with secrets redacted by the client's one rule (tavus_client's
`redact_body`), whatever field of whatever shape holds them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from .core import short

BODY_BYTES = 4096  # [OURS] the most of a request body an entry keeps
DEFAULT_SIZE = 1000  # entries kept (--journal-size); the oldest go first
FIELDS = ("at", "tenant", "operation_id", "method", "path", "query", "status", "ms", "body_size", "problem")

# at, tenant, operation_id, method, path, query, status, ms, body (bytes, cut), body_size, problem
Entry = tuple[float, str, str | None, str, str, bytes, int, float, bytes, int, str | None]


class Journal:
    """The last `size` requests a server answered, oldest first."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.entries: deque[Entry] = deque(maxlen=size)

    def clear(self) -> None:
        self.entries.clear()

    def select(
        self,
        *,
        operation_id: str | None = None,
        tenant: str | None = None,
        status: int | None = None,
        method: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """The entries that match every filter given, oldest first, as dicts (bodies redacted)."""
        out = []
        for entry in list(self.entries):
            if operation_id is not None and entry[2] != operation_id:
                continue
            if tenant is not None and entry[1] != tenant:
                continue
            if status is not None and entry[6] != status:
                continue
            if method is not None and entry[3] != method.upper():
                continue
            if since is not None and entry[0] < since:
                continue
            out.append(as_dict(entry))
        return out


def as_dict(entry: Entry) -> dict[str, Any]:
    at, tenant, operation_id, method, path, query, status, ms, body, size, problem = entry
    return {
        "at": at,
        "tenant": tenant,
        "operation_id": operation_id,
        "method": method,
        "path": path,
        "query": query.decode("latin-1"),
        "status": status,
        "ms": round(ms, 3),
        "body": shown_body(body, size),
        "body_size": size,
        "problem": problem,
    }


def shown_body(body: bytes, size: int) -> Any:
    """A kept body as JSON with secrets redacted; text when it is not JSON or was cut."""
    if not body:
        return None
    from tavus_client._overrides._logs import redact_body, redact_url

    if size <= len(body):
        try:
            return redact_body(json.loads(body))
        except ValueError:
            pass
    text = body.decode("utf-8", "replace")
    return redact_url(short(text, 200)) if size <= len(body) else f"<{size} bytes, the first {len(body)} kept>"


def problem_of(status: int, answer_body: Any) -> str | None:
    """What went wrong, for an answer of 400 or more: the error text the server gave."""
    if status < 400 or not isinstance(answer_body, Mapping):
        return None
    text = answer_body.get("error") or answer_body.get("message")
    return short(str(text), 300) if text is not None else None


def describe(entries: Iterable[Mapping[str, Any]]) -> str:
    """One line per entry, for a failure message: `METHOD path (operationId) -> status: problem`."""
    lines = []
    for e in entries:
        why = f": {e['problem']}" if e.get("problem") else ""
        lines.append(f"  {e['method']} {e['path']} ({e['operation_id'] or 'no operation'}) -> {e['status']}{why}")
    return "\n".join(lines) or "  (nothing)"


def matches(entry: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether a journal entry has every field given (`body` is matched as a subset of a JSON body)."""
    for name, wanted in fields.items():
        if name == "body" and isinstance(wanted, Mapping):
            body = entry.get("body")
            if not isinstance(body, Mapping) or any(body.get(k) != v for k, v in wanted.items()):
                return False
        elif entry.get(name) != wanted:
            return False
    return True
