"""Secret-safe request logging for the Tavus client (`TAVUS_LOG=debug` or `info`).

Patches: nothing generated; the generated client has no logging at all.
Why: debug logs of the big SDKs leak `x-api-key` and third-party keys inside bodies (persona
`layers.llm.api_key`, `layers.tts.api_key`). Here header values and body fields whose names look
secret are replaced before anything is formatted.
Delete when: never; this is an extension, not a workaround.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import httpx

logger = logging.getLogger("tavus_client")

REDACTED = "<redacted>"
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_WORDS = ("api_key", "apikey", "token", "secret", "password", "authorization")
# Inside an auth object (a tool's `delivery.api.auth`, a `ToolAuth`) the secret of the api_key type is
# called `value`: a word too common to hide everywhere (a JSON Patch operation has one), so it is
# hidden there, whatever auth type the object declares.
_AUTH_SECRETS = frozenset({"value", "token", "password", "secret", "client_secret", "key"})


def is_secret_key(name: str, *, in_auth: bool = False) -> bool:
    """The one redaction rule: a field is secret by its name (and, inside an auth object, `value`)."""
    lowered = name.lower().replace("-", "_")
    return (in_auth and lowered in _AUTH_SECRETS) or any(word in lowered for word in _SECRET_WORDS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_request(request: httpx.Request) -> httpx.Request:
    """A copy of a sent request with secret headers replaced: what errors and answers expose.

    httpx hides only `Authorization` in reprs; `x-api-key` would show in `err.request.headers`.
    """
    if not any(name.lower() in SECRET_HEADERS for name in request.headers):
        return request
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None
    copy = httpx.Request(request.method, request.url, headers=redact_headers(request.headers), content=content)
    copy.extensions = request.extensions
    return copy


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact_url(text: str) -> str:
    """A text with the user:password part of any URL in it replaced (`https://<redacted>@host/...`)."""
    return _URL_CREDENTIALS.sub(rf"\g<1>{REDACTED}@", text) if "@" in text else text


def redact_body(value: Any, *, in_auth: bool = False) -> Any:
    """A copy of a JSON value with every secret-looking field, and credentials inside URLs, replaced."""
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED if is_secret_key(str(k), in_auth=in_auth) else redact_body(v, in_auth=str(k).lower() == "auth")
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_body(v) for v in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def redact_text(content: bytes, limit: int = 2000) -> str:
    """A JSON body (request or response) as redacted text, cut to `limit` characters."""
    if not content:
        return ""
    try:
        text = json.dumps(redact_body(json.loads(content)), ensure_ascii=False)
    except ValueError:
        text = f"<{len(content)} bytes, not JSON>"
    return text if len(text) <= limit else text[:limit] + "..."


def setup_from_env() -> None:
    """Attach a stderr handler when TAVUS_LOG is `debug` or `info` (once per process)."""
    level = os.environ.get("TAVUS_LOG", "").strip().lower()
    if level not in ("debug", "info") or getattr(logger, "_tavus_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    logger._tavus_configured = True  # type: ignore[attr-defined]
