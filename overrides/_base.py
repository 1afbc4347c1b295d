"""Shared machinery of `Tavus` and `AsyncTavus`: requests, retries, errors, pagination, raw answers.

Patches: instead of the generated `sync_detailed`/`asyncio_detailed`, the resource methods (written
into _resources/ by `make generate`) call each generated endpoint module's `_get_kwargs` to build
the request and `_parse_response` to read the answer, and send it themselves.
Why: the generated functions have no retries, no per-request options, return `Error` models or
`None` instead of raising, and need an `AuthenticatedClient` that sends `Authorization: Bearer`
unless reconfigured. Reusing the two module functions keeps all per-operation knowledge generated.
Delete when: never as a whole (it is the client); `tests/overrides/test_base.py` has the canary
that fails if the generator stops emitting `_get_kwargs`/`_parse_response`.
"""

from __future__ import annotations

import email.utils
import functools
import importlib
import logging
import math
import os
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, Generic, ParamSpec, Self, TypedDict, TypeVar

import httpx

from ..errors import UnexpectedStatus
from ..types import UNSET
from . import errors
from ._callstate import CALL_DEADLINE, DEADLINE_PASSED, FALLBACKS, RAW_RESPONSE
from ._logs import logger, redact_headers, redact_request, redact_text, setup_from_env
from .patch import as_operations

__all__ = [
    "NOT_GIVEN",
    "AsyncAPIClient",
    "NotGiven",
    "Operation",
    "RawResponse",
    "RequestOptions",
    "SyncAPIClient",
    "request_options",
]

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_BASE_URL = "https://tavusapi.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# The whole of one call (every attempt, every wait between them, and reading the answer) ends within
# this many seconds; `timeout` alone bounds each read, so a server trickling a byte a second never
# trips it.
DEFAULT_DEADLINE = 180.0
# The most one answer may weigh once decompressed (a list of 1,000 verbose personas is a few MB): a
# gzip answer of 300 KB can unpack to 300 MB. Reading stops past it (APIResponseTooLargeError).
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
# Methods that may be sent twice without changing the outcome.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses that are worth another try for idempotent methods...
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# ...and the only ones for POST/PATCH: the server says it did not process the request.
RETRY_STATUSES_UNSAFE = frozenset({429, 503})


class NotGiven:
    """The default of a per-request option that was not given (`None` is a value: no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def request_options(
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
    timeout: float | httpx.Timeout | NotGiven | None,
    max_retries: int | NotGiven,
    deadline: float | NotGiven | None = NOT_GIVEN,
) -> RequestOptions:
    """The options a resource method was given, as the request machinery reads them.

    Resource methods take these as real keyword parameters (not `**options`), so a misspelled keyword
    is a TypeError naming it, raised by Python itself at no cost.
    """
    options: RequestOptions = {}
    if extra_headers is not None:
        options["extra_headers"] = extra_headers
    if extra_query is not None:
        options["extra_query"] = extra_query
    if extra_body is not None:
        options["extra_body"] = extra_body
    if not isinstance(timeout, NotGiven):
        options["timeout"] = timeout
    if not isinstance(max_retries, NotGiven):
        options["max_retries"] = max_retries
    if not isinstance(deadline, NotGiven):
        options["deadline"] = deadline
    return options


class RequestOptions(TypedDict, total=False):
    """Per-request settings accepted by every resource method."""

    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, Any]
    extra_body: Mapping[str, Any]
    timeout: float | httpx.Timeout | None
    max_retries: int
    deadline: float | None


class Operation:
    """One spec operation as the resource layer knows it; the endpoint module is imported on first use."""

    __slots__ = (
        "_module",
        "body",
        "items",
        "max_limit",
        "method",
        "name",
        "page_base",
        "path",
        "path_params",
        "total",
        "unwrap",
    )

    def __init__(
        self,
        name: str,
        method: str,
        path: str,
        *,
        body: str | None,
        unwrap: str | None,
        page_base: int | None,
        max_limit: int | None,
        items: str = "data",
        total: str = "total_count",
    ) -> None:
        self.name = name
        # The list envelope's fields: `data`/`total_count` nearly everywhere; deployments answer
        # `deployments`/`total` (their own envelope, docs api-reference/deployments/list-deployments).
        self.items = items
        self.total = total
        self.method = method
        self.path = path
        self.body = body
        self.unwrap = unwrap
        self.page_base = page_base
        self.max_limit = max_limit
        self.path_params = tuple(re.findall(r"\{(\w+)\}", path))
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(f"..api.{self.name}", __package__)
        return self._module

    def __repr__(self) -> str:
        return f"Operation({self.method} {self.path})"


class RawResponse(Generic[T]):
    """The HTTP answer of a call together with its typed result."""

    __slots__ = ("http_response", "parsed")

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self.parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        return self.http_response.content

    def json(self) -> Any:
        return self.http_response.json()

    def __repr__(self) -> str:
        return f"RawResponse(status_code={self.status_code}, parsed={self.parsed!r})"


def to_raw_response_wrapper(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """The same resource method (same parameters), answering its `RawResponse`: what
    `client.<resource>.with_raw_response.<method>` is. One method, two answers: no copy of it."""

    @functools.wraps(method)
    def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = RAW_RESPONSE.set(True)
        try:
            answer: RawResponse[T] = method(*args, **kwargs)  # type: ignore[assignment]
            return answer
        finally:
            RAW_RESPONSE.reset(token)

    return raw


def async_to_raw_response_wrapper(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`to_raw_response_wrapper` for the async resources (the flag is the awaiting task's)."""

    @functools.wraps(method)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        token = RAW_RESPONSE.set(True)
        try:
            answer: RawResponse[T] = await method(*args, **kwargs)  # type: ignore[assignment]
            return answer
        finally:
            RAW_RESPONSE.reset(token)

    return raw


class _Json:
    """Hands an already built JSON payload to a generated `_get_kwargs`, which calls `.to_dict()`."""

    __slots__ = ("payload",)

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def to_dict(self) -> Any:
        return self.payload


class _Str(str):
    """A plain string that also answers `.value`, as the generated code expects of enum members."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str.__str__(self)


class _ParseContext:
    """Stands in for the generated client in `_parse_response`: undocumented statuses raise."""

    raise_on_unexpected_status = True


_PARSE_CONTEXT = _ParseContext()


def to_json(value: Any) -> Any:
    """Models, mappings and sequences as plain JSON values; unset fields are left out."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items() if v is not UNSET}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None and not isinstance(value, str):
        return to_dict()
    return value


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        ours = version("tavus-client")
    except Exception:  # noqa: BLE001 - running from a checkout that is not installed
        ours = "0"
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return f"tavus-client/{ours} (python {py}; httpx {httpx.__version__})"


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait as the server asks (`retry-after-ms`, `Retry-After` seconds or HTTP date).

    None when absent or unusable (`nan`, `inf`, negative, garbage, a naive or impossible date): the
    caller then falls back to its own backoff instead of failing outside the client's errors.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        seconds = _finite(ms)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
        delay = when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return max(delay, 0.0) if math.isfinite(delay) else None


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


class _DeadlineBody(httpx.SyncByteStream):
    """A response body stream that stops at the call's deadline (checked between chunks)."""

    def __init__(self, inner: Any, deadline: float, request: httpx.Request) -> None:
        self._inner, self._deadline, self._request = inner, deadline, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            yield chunk
            if time.monotonic() >= self._deadline:
                raise httpx.ReadTimeout("the call's deadline passed while reading the answer", request=self._request)

    def close(self) -> None:
        self._inner.close()


class _AsyncDeadlineBody(httpx.AsyncByteStream):
    """The same for the async client."""

    def __init__(self, inner: Any, deadline: float, request: httpx.Request) -> None:
        self._inner, self._deadline, self._request = inner, deadline, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
            if time.monotonic() >= self._deadline:
                raise httpx.ReadTimeout("the call's deadline passed while reading the answer", request=self._request)

    async def aclose(self) -> None:
        await self._inner.aclose()


LIST_ALL_PAGE = 100  # list_all's page size on lists whose `limit` has no documented maximum


# -- the call's deadline on every socket operation ------------------------------------------------
# httpx's timeouts bound each read: a server that sends its answer's head a byte at a time never trips
# them. The client's own connection pool reads and writes through streams (overrides/_deadline.py,
# loaded with the first client: it imports httpcore) that clamp every operation's timeout to the time
# left before the deadline of the call under way (overrides/_callstate.py: per thread, per asyncio
# task), so connecting, the head and the body all end by the deadline.


def _too_large(response: httpx.Response, limit: int) -> errors.APIResponseTooLargeError:
    return errors.APIResponseTooLargeError(request=response.request, limit=limit)


class BaseAPIClient:
    """Settings and the parts of a call that do not depend on sync or async I/O."""

    _http: Any  # each subclass declares its own client type
    _owns_http: bool
    # Whether the pool is ours, built on the deadline-bound transport (overrides/_deadline.py): its
    # streams clamp every connect, read and write to the call's deadline, so a call needs to clamp
    # only the wait for a pooled connection. A client the user passed in gets the whole clamp.
    _bounded: bool = False

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = DEFAULT_DEADLINE,
        default_headers: Mapping[str, str] | None = None,
        initial_retry_delay: float = INITIAL_RETRY_DELAY,
        max_retry_delay: float = MAX_RETRY_DELAY,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("TAVUS_API_KEY")
        if not key:
            raise errors.TavusError("No Tavus API key: pass api_key=... or set the TAVUS_API_KEY environment variable.")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_key = key
        self.base_url = (base_url or os.environ.get("TAVUS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not re.match(r"https?://[^/\s]+", self.base_url):
            raise ValueError(f"base_url must be an http:// or https:// URL, got {self.base_url!r}")
        if deadline is not None and not deadline > 0:
            raise ValueError("deadline must be a positive number of seconds, or None for none")
        if max_response_bytes is not None and not max_response_bytes > 0:
            raise ValueError("max_response_bytes must be a positive number of bytes, or None for no limit")
        self.max_response_bytes = max_response_bytes
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.default_headers = dict(default_headers or {})
        self.initial_retry_delay = initial_retry_delay
        self.max_retry_delay = max_retry_delay
        setup_from_env()

    @property
    def api_key(self) -> str:
        return self._api_key

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self._api_key,
            "user-agent": _user_agent(),
            "accept": "application/json",
            **self.default_headers,
        }

    def _settings(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "deadline": self.deadline,
            "default_headers": self.default_headers,
            "initial_retry_delay": self.initial_retry_delay,
            "max_retry_delay": self.max_retry_delay,
            "max_response_bytes": self.max_response_bytes,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key='<redacted>')"

    def with_options(self, **changes: Any) -> Self:
        """A copy with other settings; it shares the connection pool when `base_url` is unchanged."""
        settings = {**self._settings(), **changes}
        shares_pool = settings["base_url"] == self.base_url and "default_headers" not in changes
        if shares_pool:
            settings["http_client"] = self._http  # set by the sync or async subclass
        copy = type(self)(**settings)
        copy._owns_http = not shares_pool
        if shares_pool:
            copy._bounded = self._bounded
        return copy

    # -- building and reading -------------------------------------------------------------------
    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        op: Operation,
        path: tuple[Any, ...],
        query: Mapping[str, Any],
        body: Any,
        options: RequestOptions,
    ) -> httpx.Request:
        for name, value in zip(op.path_params, path, strict=True):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        args = {k: (_Str(v) if type(v) is str else v) for k, v in query.items()}
        extra_body = options.get("extra_body")
        if op.body == "list":
            args["body"] = [_Json(o) for o in as_operations(body)]
        elif op.body == "object":
            payload = to_json(body)
            if extra_body:
                payload.update(to_json(extra_body))
            args["body"] = _Json(payload)
        kwargs = op.module._get_kwargs(*path, **args)
        if op.body is None and extra_body:
            kwargs["json"] = to_json(extra_body)
        params = kwargs.get("params")
        extra_query = options.get("extra_query")
        if extra_query:
            params = {**(params or {}), **extra_query}
        headers = kwargs.get("headers")
        extra_headers = options.get("extra_headers")
        if extra_headers:
            headers = {**(headers or {}), **extra_headers}
        # The client's own timeout applies even to an http_client the user passed in.
        timeout = options.get("timeout", self.timeout)
        return http.build_request(
            kwargs["method"].upper(),
            kwargs["url"],
            params=params or None,
            json=kwargs.get("json"),
            headers=headers,
            timeout=timeout,
        )

    def _deadline(self, options: RequestOptions) -> float | None:
        seconds = options.get("deadline", self.deadline)
        return None if seconds is None else time.monotonic() + seconds

    def _fit(self, request: httpx.Request, deadline: float | None) -> None:
        """Shrink this attempt's timeouts to the time left; at the deadline, raise APITimeoutError."""
        if deadline is None:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.APITimeoutError(request=request, message="Request timed out: the call's deadline passed")
        timeouts = request.extensions.get("timeout") or {}
        if self._bounded:  # the streams clamp the rest themselves
            pool = timeouts.get("pool")
            if pool is None or pool > left:
                request.extensions["timeout"] = {**timeouts, "pool": left}
            return
        request.extensions["timeout"] = {
            name: left if (v := timeouts.get(name)) is None else min(v, left)
            for name in ("connect", "read", "write", "pool")
        }

    @staticmethod
    def _past(deadline: float | None, wait: float = 0.0) -> bool:
        return deadline is not None and time.monotonic() + wait >= deadline

    def _result(self, op: Operation, response: httpx.Response, raw: bool) -> Any:
        status = response.status_code
        if status >= 400 or (status >= 300 and status != 304):
            response.request = redact_request(response.request)
            raise errors.status_error(response)
        slow_before = FALLBACKS[0]
        try:
            parsed = op.module._parse_response(client=_PARSE_CONTEXT, response=response)
        except UnexpectedStatus:
            raise errors.APIResponseValidationError(response=response, detail="status not in the spec") from None
        except RecursionError:  # a body nested deeper than Python follows: no answer of the spec is
            raise errors.APIResponseValidationError(response=response, detail="the body is nested too deeply") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"{type(exc).__name__}: {str(exc)[:300]}"
            raise errors.APIResponseValidationError(response=response, detail=detail) from exc
        if op.unwrap is not None and type(parsed).__name__ == op.unwrap:
            parsed = parsed.data[0]
        # Every success answer is held to its types. The fast decoder checks as it builds; an answer it
        # left to the generated method (counted by fastparse) is checked here, after the fact.
        if FALLBACKS[0] != slow_before and hasattr(type(parsed), "__attrs_attrs__"):  # attrs.has
            from .models import check_model  # needs attrs, loaded by then with the model

            try:
                check_model(parsed)
            except TypeError as exc:
                raise errors.APIResponseValidationError(response=response, detail=str(exc)) from None
        if raw:
            response.request = redact_request(response.request)
            return RawResponse(response, parsed)
        return parsed

    # -- retry policy ------------------------------------------------------------------------------
    def _should_retry(self, request: httpx.Request, response: httpx.Response, attempt: int, retries: int) -> bool:
        return attempt < retries and self._retry_status(request.method, response.status_code)

    @staticmethod
    def _retry_status(method: str, status: int) -> bool:
        if method in IDEMPOTENT_METHODS:
            return status in RETRY_STATUSES
        return status in RETRY_STATUSES_UNSAFE

    @staticmethod
    def _retry_error(method: str, exc: httpx.TransportError) -> bool:
        # Connect errors and connect/pool timeouts happen before a byte is sent: always safe.
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return True
        return method in IDEMPOTENT_METHODS

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0.0, min(self.max_retry_delay, self.initial_retry_delay * (2**attempt)))

    def _delay(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying an answer, or None when the server asks for longer than
        MAX_RETRY_AFTER: retrying sooner cannot help, so the error goes to the caller at once."""
        asked = parse_retry_after(response.headers)
        if asked is None:
            return self._backoff(attempt)
        if asked > MAX_RETRY_AFTER:
            return None
        return max(asked, 0.0)

    @staticmethod
    def _connection_error(
        request: httpx.Request, exc: httpx.TransportError, deadline: float | None = None
    ) -> errors.APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            # A socket timeout clamped to the call's deadline (the pool's streams) says only "timed out".
            at_deadline = deadline is not None and time.monotonic() >= deadline - 0.05
            detail = DEADLINE_PASSED if at_deadline else (str(exc) if "deadline" in str(exc) else "")
            return errors.APITimeoutError(
                request=request, message=f"Request timed out: {detail}" if detail else "Request timed out"
            )
        return errors.APIConnectionError(request=request, message=f"Connection error: {type(exc).__name__}: {exc}")

    @staticmethod
    def _log_request(request: httpx.Request, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "request %s %s attempt=%d headers=%s body=%s",
                request.method,
                request.url,
                attempt,
                redact_headers(request.headers),
                redact_text(request.content),
            )

    @staticmethod
    def _log_response(request: httpx.Request, response: httpx.Response, started: float) -> None:
        if logger.isEnabledFor(logging.INFO):
            ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s -> %d (%.1f ms)", request.method, request.url.path, response.status_code, ms)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("response headers=%s", redact_headers(response.headers))

    @staticmethod
    def _first_page(op: Operation, query: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        if op.page_base is None:
            raise TypeError(f"{op!r} is not paginated")
        params = dict(query)
        if params.get("limit", UNSET) is UNSET:
            # The largest page the spec allows, or LIST_ALL_PAGE where it documents no maximum: real
            # clients send 200 and 1000, but 100 keeps every page small against any server.
            params["limit"] = op.max_limit or LIST_ALL_PAGE
        return params, op.page_base


class SyncAPIClient(BaseAPIClient):
    """Blocking client over one pooled `httpx.Client`."""

    _http: httpx.Client

    def __init__(self, *, http_client: httpx.Client | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self._owns_http = http_client is None
        if http_client is None:
            from ._deadline import bounded_transport

            http_client = httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=bounded_transport())
            self._bounded = True
        self._http = http_client
        self._http.headers.update(self._headers())

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        op: Operation,
        path: tuple[Any, ...],
        query: Mapping[str, Any],
        body: Any,
        options: RequestOptions,
        *,
        raw: bool = False,
    ) -> Any:
        request = self._build(self._http, op, path, query, body, options)
        retries = options.get("max_retries", self.max_retries)
        deadline = self._deadline(options)
        token = CALL_DEADLINE.set(deadline)
        try:
            return self._attempts(op, request, retries, deadline, raw or RAW_RESPONSE.get())
        finally:
            CALL_DEADLINE.reset(token)

    def _attempts(self, op: Operation, request: httpx.Request, retries: int, deadline: float | None, raw: bool) -> Any:
        attempt = 0
        while True:
            self._log_request(request, attempt)
            started = time.perf_counter()
            self._fit(request, deadline)
            try:
                response = self._read(self._http.send(request, stream=True), deadline)
            except httpx.TransportError as exc:
                wait = self._backoff(attempt)
                if attempt < retries and self._retry_error(request.method, exc) and not self._past(deadline, wait):
                    time.sleep(wait)
                    attempt += 1
                    continue
                raise self._connection_error(request, exc, deadline) from exc
            self._log_response(request, response, started)
            delay = self._delay(attempt, response) if self._should_retry(request, response, attempt, retries) else None
            if delay is not None and not self._past(deadline, delay):
                time.sleep(delay)
                attempt += 1
                continue
            return self._result(op, response, raw)

    def _read(self, response: httpx.Response, deadline: float | None) -> httpx.Response:
        """Read the body, giving up at the deadline (a trickling server cannot hold a call)."""
        if deadline is not None and not self._bounded:  # (a bounded pool's reads end by it already)
            response.stream = _DeadlineBody(response.stream, deadline, response.request)
        limit = self.max_response_bytes
        try:
            if limit is None:
                response.read()
                return response
            parts, size = [], 0
            for chunk in response.iter_bytes():  # decompressed, one network read at a time
                size += len(chunk)
                if size > limit:
                    raise _too_large(response, limit)
                parts.append(chunk)
            response._content = b"".join(parts)  # what httpx's own read() keeps (httpx 0.28, pinned)
        except BaseException:
            response.close()
            raise
        return response

    def _paginate(
        self, op: Operation, path: tuple[Any, ...], query: Mapping[str, Any], options: RequestOptions
    ) -> Iterator[Any]:
        params, page = self._first_page(op, query)
        seen = 0
        while True:
            result = self._request(op, path, {**params, "page": page}, None, options)
            items = getattr(result, op.items)
            yield from items
            seen += len(items)
            if not items or seen >= getattr(result, op.total):
                return
            page += 1


async def _async_sleep(seconds: float) -> None:
    import asyncio  # imported here: importing the package should not pay for asyncio

    await asyncio.sleep(seconds)


class AsyncAPIClient(BaseAPIClient):
    """Asyncio client over one pooled `httpx.AsyncClient`."""

    _http: httpx.AsyncClient

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self._owns_http = http_client is None
        if http_client is None:
            from ._deadline import async_bounded_transport

            http_client = httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, transport=async_bounded_transport()
            )
            self._bounded = True
        self._http = http_client
        self._http.headers.update(self._headers())

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _request(
        self,
        op: Operation,
        path: tuple[Any, ...],
        query: Mapping[str, Any],
        body: Any,
        options: RequestOptions,
        *,
        raw: bool = False,
    ) -> Any:
        request = self._build(self._http, op, path, query, body, options)
        retries = options.get("max_retries", self.max_retries)
        deadline = self._deadline(options)
        token = CALL_DEADLINE.set(deadline)
        try:
            return await self._attempts(op, request, retries, deadline, raw or RAW_RESPONSE.get())
        finally:
            CALL_DEADLINE.reset(token)

    async def _attempts(
        self, op: Operation, request: httpx.Request, retries: int, deadline: float | None, raw: bool
    ) -> Any:
        attempt = 0
        while True:
            self._log_request(request, attempt)
            started = time.perf_counter()
            self._fit(request, deadline)
            try:
                response = await self._read(await self._http.send(request, stream=True), deadline)
            except httpx.TransportError as exc:
                wait = self._backoff(attempt)
                if attempt < retries and self._retry_error(request.method, exc) and not self._past(deadline, wait):
                    await _async_sleep(wait)
                    attempt += 1
                    continue
                raise self._connection_error(request, exc, deadline) from exc
            self._log_response(request, response, started)
            delay = self._delay(attempt, response) if self._should_retry(request, response, attempt, retries) else None
            if delay is not None and not self._past(deadline, delay):
                await _async_sleep(delay)
                attempt += 1
                continue
            return self._result(op, response, raw)

    async def _read(self, response: httpx.Response, deadline: float | None) -> httpx.Response:
        """Read the body, giving up at the deadline (a trickling server cannot hold a call)."""
        if deadline is not None and not self._bounded:  # (a bounded pool's reads end by it already)
            response.stream = _AsyncDeadlineBody(response.stream, deadline, response.request)
        limit = self.max_response_bytes
        try:
            if limit is None:
                await response.aread()
                return response
            parts, size = [], 0
            async for chunk in response.aiter_bytes():  # decompressed, one network read at a time
                size += len(chunk)
                if size > limit:
                    raise _too_large(response, limit)
                parts.append(chunk)
            response._content = b"".join(parts)  # what httpx's own aread() keeps (httpx 0.28, pinned)
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _paginate(
        self, op: Operation, path: tuple[Any, ...], query: Mapping[str, Any], options: RequestOptions
    ) -> AsyncIterator[Any]:
        params, page = self._first_page(op, query)
        seen = 0
        while True:
            result = await self._request(op, path, {**params, "page": page}, None, options)
            items = getattr(result, op.items)
            for item in items:
                yield item
            seen += len(items)
            if not items or seen >= getattr(result, op.total):
                return
            page += 1
