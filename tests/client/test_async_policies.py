"""The async client's own retry loop (separate code from the sync one) on a scripted transport."""

from __future__ import annotations

import httpx
import pytest
from tavus_client import APIConnectionError, APITimeoutError, AsyncTavus, InternalServerError, NotFoundError

pytestmark = pytest.mark.anyio
PERSONA = {"persona_id": "p1", "persona_name": "Coach"}


def make(*answers: httpx.Response | Exception, **settings: object) -> tuple[AsyncTavus, list[httpx.Request]]:
    queue = list(answers)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    settings.setdefault("initial_retry_delay", 0.0)
    http = httpx.AsyncClient(base_url="https://tavus.test", transport=httpx.MockTransport(handler))
    client = AsyncTavus(api_key="k", base_url="https://tavus.test", http_client=http, **settings)  # type: ignore[arg-type]
    return client, seen


async def test_get_is_retried_then_succeeds() -> None:
    client, seen = make(httpx.Response(503), httpx.Response(500), httpx.Response(200, json=PERSONA))
    assert (await client.personas.get("p1")).persona_id == "p1"
    assert len(seen) == 3


async def test_post_is_not_retried_after_a_500_but_is_after_a_429() -> None:
    client, seen = make(httpx.Response(500, json={"error": "x"}), httpx.Response(200, json=PERSONA))
    with pytest.raises(InternalServerError):
        await client.personas.create(persona_name="x")
    assert len(seen) == 1
    client, seen = make(httpx.Response(429, headers={"retry-after": "0"}), httpx.Response(200, json=PERSONA))
    assert (await client.personas.create(persona_name="x")).persona_id == "p1"
    assert len(seen) == 2


async def test_connection_errors_and_timeouts() -> None:
    client, seen = make(httpx.ConnectError("refused"), httpx.Response(200, json=PERSONA))
    assert (await client.personas.create(persona_name="x")).persona_id == "p1"
    assert len(seen) == 2
    client, seen = make(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        await client.personas.create(persona_name="x")
    assert len(seen) == 1
    client, seen = make(httpx.ReadError("reset"), max_retries=1)
    with pytest.raises(APIConnectionError):
        await client.personas.get("p1")
    assert len(seen) == 2


async def test_errors_are_raised_with_their_details() -> None:
    client, _ = make(httpx.Response(404, json={"message": "Persona not found"}))
    with pytest.raises(NotFoundError) as caught:
        await client.personas.get("p1")
    assert caught.value.error_message == "Persona not found" and caught.value.request.method == "GET"


async def test_with_options_and_per_request_retries() -> None:
    client, seen = make(httpx.Response(503))
    with pytest.raises(InternalServerError):
        await client.with_options(max_retries=4).personas.get("p1")
    assert len(seen) == 5
    seen.clear()
    with pytest.raises(InternalServerError):
        await client.personas.get("p1", max_retries=0)
    assert len(seen) == 1
