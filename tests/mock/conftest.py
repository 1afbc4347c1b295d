"""Clients for the reference server: over a real socket (uvicorn on a free port) and in-process (ASGI).

Every answer that matches a spec operation is checked against the spec by a response hook: the
status must be documented and a JSON body must validate against its schema.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest

from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tests.conftest import OTHER_KEY, TEST_KEY


def spec_checker(spec: Spec) -> object:
    def check(response: httpx.Response) -> None:
        response.read()
        request = response.request
        if "prefer" in request.headers:  # an injected fault is a test feature, outside the contract
            return
        path = request.url.path
        # The most literal path that matches wins (`/v2/guardrails/tags` before `/v2/guardrails/{id}`), as
        # in the server; a method that path does not have (405) is outside the contract.
        matching = sorted((o for o in spec.operations if o.path_regex.match(path)), key=lambda o: o.path.count("{"))
        best = [o for o in matching if o.path == matching[0].path] if matching else []
        op = next((o for o in best if o.method == request.method), None)
        if op is None:
            return
        status = str(response.status_code)
        assert status in op.responses, f"{request.method} {path}: undocumented status {status}"
        if response.status_code in (204, 304):
            assert not response.content and "content-type" not in response.headers
            return
        if response.content:
            assert response.headers["content-type"] == "application/json"
            validator = op.response_validators.get(status)
            if validator is not None:
                errors = validator.errors(response.json())
                assert not errors, f"{request.method} {path} {status}: {errors}"

    return check


def make_app(spec: Spec, **config: object) -> TavusMock:
    settings: dict[str, object] = {
        "api_keys": frozenset({TEST_KEY, OTHER_KEY}),
        "delays": Delays.instant(),
        "check_answers": True,
    }
    settings.update(config)
    return TavusMock(spec, MockConfig(**settings))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def socket_server(spec: Spec) -> Iterator[MockServer]:
    with MockServer(make_app(spec)) as server:
        yield server


@pytest.fixture(params=["socket", "in-process"])
def api(request: pytest.FixtureRequest, spec: Spec, socket_server: MockServer) -> Iterator[httpx.Client]:
    """An httpx client with the test key, against a fresh state, over either transport."""
    hooks = {"response": [spec_checker(spec)]}
    if request.param == "socket":
        socket_server.app.reset()
        client = httpx.Client(base_url=socket_server.url, headers={"x-api-key": TEST_KEY}, event_hooks=hooks)
    else:
        from starlette.testclient import TestClient

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = TestClient(make_app(spec), base_url="http://mock", headers={"x-api-key": TEST_KEY})
        client.event_hooks = hooks
    with client:
        yield client
