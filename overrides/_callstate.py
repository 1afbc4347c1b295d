"""The deadline of the call under way, shared by the client (overrides/_base.py sets it around each
call) and its connection pool's streams (overrides/_deadline.py clamp every socket operation to it).

Patches: nothing generated. Why: its own module, so the pool's streams (which import httpcore, loaded
with the first client) and the client's calls share it without importing each other.
Delete when: overrides/_deadline.py goes.
"""

from __future__ import annotations

from contextvars import ContextVar

# Per thread and per asyncio task: the monotonic time by which the current call must end, or None.
CALL_DEADLINE: ContextVar[float | None] = ContextVar("tavus_call_deadline", default=None)
DEADLINE_PASSED = "the call's deadline passed"
# Per thread and per asyncio task: whether the call under way answers its RawResponse (set by the
# `with_raw_response` wrappers, overrides/_base.py, around a resource method; read by `_request`).
RAW_RESPONSE: ContextVar[bool] = ContextVar("tavus_raw_response", default=False)
# How many answers the generated `from_dict` had to build (overrides/fastparse.py counts; the client
# compares before and after a parse). Here, not in fastparse, so the client reads it without importing
# attrs, which fastparse needs and which loads with the first model.
FALLBACKS = [0]
