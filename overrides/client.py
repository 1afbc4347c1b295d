"""`Tavus` and `AsyncTavus`, the clients people import, plus a factory for the generated client.

Patches: the generated `AuthenticatedClient` defaults to `Authorization: Bearer <key>`, no base URL
and no timeout (openapi-python-client has no apiKey support, issues #600 and #645); and the
generated functional style (`create_persona.sync(client=..., body=...)`).
Why: Tavus wants the key in `x-api-key`; users expect `client.personas.create(...)`, env-var
configuration, a finite timeout, retries and raised errors.
Delete when: `authenticated_client` when the generator sends apiKey schemes itself (canary:
tests/overrides/test_client.py::test_canary_generated_client_defaults); the classes never.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import httpx

from .._resources import AsyncResources, Resources
from . import errors
from ._base import DEFAULT_BASE_URL, DEFAULT_TIMEOUT

if TYPE_CHECKING:  # imported when first asked for: `from tavus_client import Tavus` does without attrs
    from ..client import AuthenticatedClient

__all__ = ["AsyncTavus", "Tavus", "authenticated_client"]


class Tavus(Resources):
    """Blocking Tavus client: `Tavus(api_key=...)` or `TAVUS_API_KEY`; one attribute per resource.

    Settings: `base_url` (or `TAVUS_BASE_URL`, default https://tavusapi.com), `timeout` (60 s read,
    5 s connect), `max_retries` (2), `deadline` (180 s for a whole call: connecting, every attempt,
    the answer's head and body, whatever the server does), `max_response_bytes` (32 MiB of answer
    once decompressed; `APIResponseTooLargeError` past it), `default_headers`. Use it as a context
    manager, or call `close()`, to release pooled connections.
    """


class AsyncTavus(AsyncResources):
    """Asyncio Tavus client with the same surface as `Tavus`; use `async with` or `await close()`."""


def authenticated_client(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
) -> AuthenticatedClient:
    """A generated `AuthenticatedClient` set up for Tavus, for the functional `api.*` modules."""
    key = api_key if api_key is not None else os.environ.get("TAVUS_API_KEY")
    if not key:
        raise errors.TavusError("No Tavus API key: pass api_key=... or set the TAVUS_API_KEY environment variable.")
    from ..client import AuthenticatedClient

    return AuthenticatedClient(
        base_url=(base_url or os.environ.get("TAVUS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        token=key,
        prefix="",
        auth_header_name="x-api-key",
        timeout=timeout if isinstance(timeout, httpx.Timeout) or timeout is None else httpx.Timeout(timeout),
        raise_on_unexpected_status=True,
    )
