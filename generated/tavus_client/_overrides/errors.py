# Applied from overrides/errors.py by `make generate`. DO NOT EDIT this copy; edit overrides/errors.py.
"""Exceptions raised by the Tavus client, one class per status family.

Patches: the generated endpoint functions return `Error` models (or `None` for an undocumented
status) instead of raising (openapi-python-client issue #491); the resource client raises these.
Why: a failure must never look like a result, and every error should carry the status, the parsed
error body, the response headers and the request.
Delete when: never, as long as the generator returns errors instead of raising; the canary
`tests/overrides/test_errors.py::test_canary_generated_returns_errors` tells when that changes.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._logs import redact_request, redact_url

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseTooLargeError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "TavusError",
    "UnprocessableEntityError",
]


class TavusError(Exception):
    """Base class of every error this package raises."""


class APIError(TavusError):
    """A request failed. `request` is the request that was sent (its repr holds no headers)."""

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = redact_request(request)  # never the x-api-key, whatever prints it


class APIConnectionError(APIError):
    """No answer came: the connection failed or broke."""

    def __init__(self, *, request: httpx.Request, message: str = "Connection error") -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request took longer than its timeout."""

    def __init__(self, *, request: httpx.Request, message: str = "Request timed out") -> None:
        super().__init__(request=request, message=message)


class APIResponseValidationError(APIError):
    """A successful answer could not be read as the spec describes it."""

    def __init__(self, *, response: httpx.Response, detail: str) -> None:
        super().__init__(
            f"{response.status_code} answer to {response.request.method} {response.request.url.path} "
            f"does not match the spec: {redact_url(detail)}",
            request=response.request,
        )
        response.request = self.request  # the redacted copy: `err.response.request` holds no key either
        self.response = response
        self.status_code = response.status_code


class APIResponseTooLargeError(APIError):
    """The answer was larger (once decompressed) than the client's `max_response_bytes`; reading it
    stopped there, so a hostile or broken server cannot exhaust memory."""

    def __init__(self, *, request: httpx.Request, limit: int) -> None:
        super().__init__(
            f"the answer to {request.method} {request.url.path} is larger than max_response_bytes={limit} "
            "(decompressed); raise the limit if such answers are expected",
            request=request,
        )
        self.limit = limit


class APIStatusError(APIError):
    """The server answered with an error status (4xx or 5xx, or an undocumented one)."""

    status_code: int

    def __init__(self, *, response: httpx.Response, body: Any) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.body = body
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("error") or body.get("message") or "")
        elif isinstance(body, str):
            detail = body[:200]
        reason = response.reason_phrase or ""
        request = response.request
        text = f"{response.status_code} {reason}: {request.method} {request.url.path}"
        # A server's message may quote a URL with credentials in it: never into str(err).
        detail = redact_url(detail)
        super().__init__(f"{text}: {detail}" if detail else text, request=request)
        response.request = self.request  # the redacted copy
        self.response = response

    @property
    def error_message(self) -> str | None:
        """The `error` or `message` field of the error body, when there is one."""
        if isinstance(self.body, dict):
            value = self.body.get("error") or self.body.get("message")
            return str(value) if value is not None else None
        return None


class BadRequestError(APIStatusError):
    """400: the request breaks the schema; the body names the field."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource for this key."""


class ConflictError(APIStatusError):
    """409: the resource is not in a state that allows this."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but not applicable, e.g. a JSON Patch whose `test` fails."""


class RateLimitError(APIStatusError):
    """429: too many requests or a usage limit; see `headers['retry-after']`."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error answer, with its JSON body parsed when it has one."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text or None
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    return cls(response=response, body=body)
