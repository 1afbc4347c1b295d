# Applied from overrides/__init__.py by `make generate`. DO NOT EDIT this copy; edit overrides/__init__.py.
"""The hand-written layer of tavus_client, exported lazily from the package top level.

Patches: the generated package `__init__` (through generator-templates/package_init.py.jinja),
which would otherwise export only `Client` and `AuthenticatedClient`.
Why: `from tavus_client import Tavus` must work without paying for every endpoint module and
model at import time; names resolve on first use.
Delete when: never; this is the public surface.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import RawResponse, RequestOptions
    from .callbacks import parse_callback
    from .client import AsyncTavus, Tavus, authenticated_client
    from .errors import (
        APIConnectionError,
        APIError,
        APIResponseTooLargeError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        TavusError,
        UnprocessableEntityError,
    )
    from .models import json_default
    from .patch import Patch
    from .timestamps import parse_timestamp

_EXPORTS = {
    "Tavus": "client",
    "AsyncTavus": "client",
    "authenticated_client": "client",
    "RawResponse": "_base",
    "RequestOptions": "_base",
    "Patch": "patch",
    "parse_timestamp": "timestamps",
    "parse_callback": "callbacks",
    "json_default": "models",
    "TavusError": "errors",
    "APIError": "errors",
    "APIStatusError": "errors",
    "APIConnectionError": "errors",
    "APITimeoutError": "errors",
    "APIResponseValidationError": "errors",
    "APIResponseTooLargeError": "errors",
    "BadRequestError": "errors",
    "AuthenticationError": "errors",
    "PermissionDeniedError": "errors",
    "NotFoundError": "errors",
    "ConflictError": "errors",
    "UnprocessableEntityError": "errors",
    "RateLimitError": "errors",
    "InternalServerError": "errors",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseTooLargeError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncTavus",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "Patch",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RequestOptions",
    "Tavus",
    "TavusError",
    "UnprocessableEntityError",
    "authenticated_client",
    "json_default",
    "parse_callback",
    "parse_timestamp",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tavus_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
