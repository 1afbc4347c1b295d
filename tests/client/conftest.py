"""The client against the reference server on a real socket, sync and async alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from tavus_client import AsyncTavus, Tavus

from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tests.conftest import TEST_KEY


@pytest.fixture(scope="session")
def server(spec: Spec) -> Iterator[MockServer]:
    app = TavusMock(
        spec, MockConfig(api_keys=frozenset({TEST_KEY}), delays=Delays.instant(), access_log=False, check_answers=True)
    )
    with MockServer(app) as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> Iterator[Tavus]:
    server.app.reset()
    with Tavus(api_key=TEST_KEY, base_url=server.url) as tavus:
        yield tavus


class Caller:
    """Runs a resource method of either client the same way, so one scenario covers both."""

    def __init__(self, client: Tavus | AsyncTavus) -> None:
        self.client = client

    async def __call__(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if isinstance(result, Awaitable):
            return await result
        return result

    async def collect(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
        items = method(*args, **kwargs)
        if isinstance(items, AsyncIterator):
            return [item async for item in items]
        return list(items)


@pytest.fixture(params=["sync", "async"])
async def caller(request: pytest.FixtureRequest, server: MockServer) -> AsyncIterator[Caller]:
    server.app.reset()
    if request.param == "sync":
        with Tavus(api_key=TEST_KEY, base_url=server.url) as sync_client:
            yield Caller(sync_client)
    else:
        async with AsyncTavus(api_key=TEST_KEY, base_url=server.url) as async_client:
            yield Caller(async_client)
