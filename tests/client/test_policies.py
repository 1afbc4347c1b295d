"""Client policies on a scripted transport: retries, timeouts, errors, options, logs, forward compatibility."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from tavus_client import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTavus,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    Patch,
    PermissionDeniedError,
    RateLimitError,
    Tavus,
    TavusError,
    UnprocessableEntityError,
)
from tavus_client._overrides._base import DEFAULT_TIMEOUT, parse_retry_after

KEY = "sk-test-key-123456"
PERSONA = {"persona_id": "p1", "persona_name": "Coach"}

Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, **settings: object) -> tuple[Tavus, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    settings.setdefault("initial_retry_delay", 0.0)
    http = httpx.Client(base_url="https://tavus.test", transport=httpx.MockTransport(record))
    return Tavus(api_key=KEY, base_url="https://tavus.test", http_client=http, **settings), seen  # type: ignore[arg-type]


def script(*answers: httpx.Response | Exception) -> Handler:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


# -- retries -------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(status: int) -> None:
    client, seen = make(script(httpx.Response(status, json={"error": "x"}), httpx.Response(200, json=PERSONA)))
    assert client.personas.get("p1").persona_id == "p1"
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("status", "retried"), [(429, True), (503, True), (500, False), (502, False), (504, False), (408, False)]
)
def test_post_is_retried_only_when_not_processed(status: int, retried: bool) -> None:
    client, seen = make(script(httpx.Response(status, json={"error": "x"}), httpx.Response(200, json=PERSONA)))
    if retried:
        assert client.personas.create(persona_name="x").persona_id == "p1"
    else:
        with pytest.raises(APIStatusError):
            client.personas.create(persona_name="x")
    assert len(seen) == (2 if retried else 1)


def test_retries_stop_after_max_retries() -> None:
    client, seen = make(script(httpx.Response(503, json={"error": "down"})))
    with pytest.raises(InternalServerError) as caught:
        client.personas.get("p1")
    assert len(seen) == 3 and caught.value.status_code == 503
    seen.clear()
    with pytest.raises(InternalServerError):
        client.personas.get("p1", max_retries=0)
    assert len(seen) == 1


def test_connection_refused_is_retried_even_for_post() -> None:
    refused = httpx.ConnectError("Connection refused")
    client, seen = make(script(refused, refused, httpx.Response(200, json=PERSONA)))
    assert client.personas.create(persona_name="x").persona_id == "p1"
    assert len(seen) == 3


def test_a_read_timeout_retries_get_but_never_post() -> None:
    client, seen = make(script(httpx.ReadTimeout("slow"), httpx.Response(200, json=PERSONA)))
    assert client.personas.get("p1").persona_id == "p1"
    assert len(seen) == 2
    client, seen = make(script(httpx.ReadTimeout("slow"), httpx.Response(200, json=PERSONA)))
    with pytest.raises(APITimeoutError):
        client.personas.create(persona_name="x")
    assert len(seen) == 1
    client, seen = make(script(httpx.RemoteProtocolError("reset")), max_retries=1)
    with pytest.raises(APIConnectionError, match="RemoteProtocolError"):
        client.videos.generate(replica_id="r", script="s")
    assert len(seen) == 1


def test_retry_after_is_honoured_within_a_cap() -> None:
    def headers(**values: str) -> httpx.Headers:
        return httpx.Headers(values)

    assert parse_retry_after(headers(**{"retry-after": "3"})) == 3.0
    assert parse_retry_after(headers(**{"retry-after-ms": "250"})) == 0.25
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (parse_retry_after(headers(**{"retry-after": future})) or 0) <= 30
    assert parse_retry_after(headers(**{"retry-after": "soon"})) is None
    for bad in ("nan", "inf", "-inf", "-5", "1e999", "Mon, 99 Foo 9999 99:99:99 GMT", "Thu, 01 Jan 10000 00:00:00 GMT"):
        assert parse_retry_after(headers(**{"retry-after": bad})) is None, bad
        assert parse_retry_after(headers(**{"retry-after-ms": bad})) is None, bad
    client, _ = make(script(httpx.Response(200)), initial_retry_delay=0.5, max_retry_delay=8.0)
    assert client._delay(0, httpx.Response(429, headers={"retry-after": "2"})) == 2.0
    assert client._delay(0, httpx.Response(429, headers={"retry-after": "3600"})) is None  # beyond the cap
    assert 0 <= (client._delay(1, httpx.Response(503)) or -1) <= 1.0  # no header: back off
    assert (
        0 <= (client._delay(1, httpx.Response(503, headers={"retry-after": "nan"})) or -1) <= 1.0
    )  # unusable: back off


def test_a_wait_beyond_the_cap_is_not_retried() -> None:
    client, seen = make(script(httpx.Response(429, headers={"retry-after": "3600"}), httpx.Response(200, json=PERSONA)))
    with pytest.raises(RateLimitError) as caught:
        client.personas.get("p1")
    assert len(seen) == 1 and caught.value.headers["retry-after"] == "3600"


def test_backoff_is_exponential_with_full_jitter() -> None:
    client, _ = make(script(httpx.Response(200)), initial_retry_delay=0.5, max_retry_delay=8.0)
    for attempt, ceiling in ((0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 8.0)):
        samples = [client._backoff(attempt) for _ in range(300)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8 and min(samples) < ceiling * 0.2


def test_the_retry_after_wait_really_happens() -> None:
    client, seen = make(script(httpx.Response(429, headers={"retry-after": "0.2"}), httpx.Response(200, json=PERSONA)))
    started = time.monotonic()
    client.personas.get("p1")
    assert time.monotonic() - started >= 0.2 and len(seen) == 2


# -- timeouts ------------------------------------------------------------------------------------
def test_timeouts_are_finite_by_default_and_per_request() -> None:
    assert DEFAULT_TIMEOUT.read == 60.0 and DEFAULT_TIMEOUT.connect == 5.0
    client, seen = make(script(httpx.Response(200, json=PERSONA)))
    client.personas.get("p1")
    client.personas.get("p1", timeout=1.5)
    assert seen[0].extensions["timeout"]["read"] == 60.0
    assert seen[1].extensions["timeout"]["read"] == 1.5
    real = Tavus(api_key=KEY)
    assert real._http.timeout.read == 60.0 and real._http.timeout.connect == 5.0


def test_timeout_raises_a_timeout_error() -> None:
    client, _ = make(script(httpx.ReadTimeout("slow")), max_retries=0)
    with pytest.raises(APITimeoutError):
        client.personas.get("p1")


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_one_exception_class_per_status(status: int, cls: type[APIStatusError]) -> None:
    answer = httpx.Response(status, json={"error": "Nope"}, headers={"x-request-id": "abc"})
    client, _ = make(script(answer), max_retries=0)
    with pytest.raises(cls) as caught:
        client.personas.get("p1")
    err = caught.value
    assert type(err) is cls and err.status_code == status
    assert err.body == {"error": "Nope"} and err.error_message == "Nope"
    assert err.headers["x-request-id"] == "abc"
    assert err.request.method == "GET" and err.request.url.path == "/v2/personas/p1"
    assert str(err) == f"{status} {answer.reason_phrase}: GET /v2/personas/p1: Nope"


def test_error_without_json_body() -> None:
    client, _ = make(script(httpx.Response(502, text="<html>bad gateway</html>")), max_retries=0)
    with pytest.raises(InternalServerError) as caught:
        client.personas.get("p1")
    assert caught.value.body == "<html>bad gateway</html>"


def test_a_malformed_success_is_a_clear_error_not_a_crash() -> None:
    client, _ = make(script(httpx.Response(200, json={"video_name": "no id"})))
    with pytest.raises(APIResponseValidationError, match="video_id"):
        client.videos.get("v1")
    client, _ = make(script(httpx.Response(202, json={})))
    with pytest.raises(APIResponseValidationError, match="not in the spec"):
        client.personas.get("p1")


@pytest.mark.parametrize("url", ["tavusapi.com", "ftp://tavusapi.com", "https://", "not a url"])
def test_a_malformed_base_url_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be"):
        Tavus(api_key=KEY, base_url=url)


def test_no_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    with pytest.raises(TavusError, match="TAVUS_API_KEY"):
        Tavus()
    with pytest.raises(TavusError):
        AsyncTavus()


# -- options -------------------------------------------------------------------------------------
def test_environment_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVUS_API_KEY", "env-key")
    monkeypatch.setenv("TAVUS_BASE_URL", "http://127.0.0.1:5555/")
    client = Tavus()
    assert client.api_key == "env-key" and client.base_url == "http://127.0.0.1:5555"
    monkeypatch.delenv("TAVUS_BASE_URL")
    assert Tavus().base_url == "https://tavusapi.com"


def test_headers_user_agent_and_extras_reach_the_wire() -> None:
    client, seen = make(script(httpx.Response(200, json=PERSONA)))
    client.personas.create(
        persona_name="x",
        extra_headers={"x-trace": "t1"},
        extra_query={"dry_run": "1"},
        extra_body={"context": "added"},
    )
    request = seen[0]
    assert request.headers["x-api-key"] == KEY and "authorization" not in request.headers
    assert request.headers["user-agent"].startswith("tavus-client/")
    assert request.headers["x-trace"] == "t1" and request.url.params["dry_run"] == "1"
    assert json.loads(request.content) == {"persona_name": "x", "context": "added"}
    assert request.headers["content-type"] == "application/json"


def test_unset_fields_are_not_sent_and_enums_accept_strings() -> None:
    client, seen = make(script(httpx.Response(200, json={"data": [], "total_count": 0})))
    client.personas.list(persona_type="system")
    client.conversations.list()
    assert str(seen[0].url) == "https://tavus.test/v2/personas?persona_type=system"
    assert str(seen[1].url) == "https://tavus.test/v2/conversations"


def test_with_options_copies_and_shares_the_pool() -> None:
    client, seen = make(script(httpx.Response(503)), max_retries=4)
    other = client.with_options(max_retries=0, timeout=2.0)
    assert other is not client and other._http is client._http and other.max_retries == 0
    with pytest.raises(InternalServerError):
        other.personas.get("p1")
    assert len(seen) == 1 and client.max_retries == 4
    other.close()
    assert not client._http.is_closed  # the copy does not close a pool it does not own


def test_context_managers_close_the_pool() -> None:
    with Tavus(api_key=KEY) as client:
        pass
    assert client._http.is_closed


@pytest.mark.anyio
async def test_async_context_manager_closes_the_pool() -> None:
    async with AsyncTavus(api_key=KEY) as client:
        pass
    assert client._http.is_closed


# -- patch builder ---------------------------------------------------------------------------------
def test_patch_builder_checks_shapes() -> None:
    patch = Patch().add("/a", 1).remove("/b").replace("/c", None).copy("/a", "/d").move("/d", "/e").test("/a", 1)
    assert [op["op"] for op in patch] == ["add", "remove", "replace", "copy", "move", "test"]
    assert patch.to_list()[3] == {"op": "copy", "from": "/a", "path": "/d"}
    with pytest.raises(ValueError, match="JSON Pointer"):
        Patch().replace("persona_name", "x")
    with pytest.raises(ValueError, match="'value'"):
        Patch([{"op": "replace", "path": "/a"}])
    with pytest.raises(ValueError, match="op must be"):
        Patch([{"op": "merge", "path": "/a"}])
    assert Patch.from_changes(persona_name="x", **{"a/b": 1}).to_list() == [
        {"op": "add", "path": "/persona_name", "value": "x"},
        {"op": "add", "path": "/a~1b", "value": 1},
    ]


def test_bad_patch_is_refused_before_sending() -> None:
    client, seen = make(script(httpx.Response(200)))
    with pytest.raises(ValueError):
        client.personas.patch("p1", [{"op": "add", "path": "/x"}])
    with pytest.raises(ValueError):
        client.personas.patch("p1", [])
    with pytest.raises(TypeError):
        client.personas.patch("p1", {"op": "add"})  # type: ignore[arg-type]
    assert seen == []


# -- logging and secrets -----------------------------------------------------------------------------
def test_debug_logs_redact_the_key_and_secret_fields(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "tavus_client")
    secret = "sk-llm-provider-secret"
    client, _ = make(script(httpx.Response(200, json={**PERSONA, "layers": {"tts": {"api_key": secret}}})))
    client.personas.create(
        persona_name="x", layers={"llm": {"api_key": secret, "model": "m"}, "tts": {"api_key": secret}}
    )
    assert "POST" in caplog.text and "<redacted>" in caplog.text and '"model": "m"' in caplog.text
    assert KEY not in caplog.text and secret not in caplog.text


def test_tavus_log_env_turns_logging_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from tavus_client._overrides import _logs

    monkeypatch.setenv("TAVUS_LOG", "debug")
    logger = logging.getLogger("tavus_client")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "_tavus_configured", False, raising=False)
    _logs.setup_from_env()
    assert logger.level == logging.DEBUG and len(logger.handlers) == 1


def test_the_key_never_shows_in_reprs_or_errors() -> None:
    client, _ = make(script(httpx.Response(401, json={"message": "Invalid access token"})))
    assert KEY not in repr(client) and KEY not in str(client)
    with pytest.raises(AuthenticationError) as caught:
        client.personas.get("p1")
    err = caught.value
    assert KEY not in str(err) and KEY not in repr(err) and KEY not in repr(err.request)
    refused, _ = make(script(httpx.ConnectError("refused")), max_retries=0)
    with pytest.raises(APIConnectionError) as conn:
        refused.personas.get("p1")
    assert KEY not in str(conn.value)


# -- forward compatibility ---------------------------------------------------------------------------
def test_unknown_values_fields_and_odd_timestamps_never_fail() -> None:
    body = {
        "video_id": "v1",
        "status": "transcoding",
        "created_at": "Mon, 14 Jul 2025 09:14:24 GMT",
        "updated_at": "yesterday-ish",
        "hologram_url": "https://example.com/h",
    }
    client, _ = make(script(httpx.Response(200, json=body)))
    video = client.videos.get("v1")
    assert video.status == "transcoding" and video["hologram_url"] == "https://example.com/h"
    assert video.updated_at == "yesterday-ish"


def test_documented_persona_wrapper_is_unwrapped() -> None:
    client, _ = make(script(httpx.Response(200, json={"data": [PERSONA]})))
    persona = client.personas.get("p1")
    assert persona.persona_id == "p1" and type(persona).__name__ == "Persona"


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_bad_ids_are_refused_before_sending(bad: object) -> None:
    client, seen = make(script(httpx.Response(200, json=PERSONA)))
    with pytest.raises(ValueError, match="persona_id must be a non-empty string"):
        client.personas.get(bad)  # type: ignore[arg-type]
    assert seen == []
