"""Retries against the reference server's fault injection (20 % of requests answered 429/500/503)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
from tavus_client import APIStatusError, Tavus

from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tests.conftest import TEST_KEY

RATE = 0.2


@pytest.fixture(scope="module")
def faulty(spec: Spec) -> Iterator[MockServer]:
    config = MockConfig(delays=Delays.instant(), fault_rate=RATE, fault_seed=20261124, access_log=False)
    with MockServer(TavusMock(spec, config)) as server:
        yield server


def run_gets(server: MockServer, max_retries: int, calls: int = 1000) -> int:
    failures = 0
    with Tavus(api_key=TEST_KEY, base_url=server.url, max_retries=max_retries, initial_retry_delay=0.001) as client:
        for _ in range(calls):
            try:
                client.personas.get("pdced222244b")
            except APIStatusError:
                failures += 1
    return failures


def test_five_retries_make_every_get_succeed(faulty: MockServer) -> None:
    assert run_gets(faulty, max_retries=5) == 0


def test_default_retries_lose_about_rate_cubed(faulty: MockServer) -> None:
    failures = run_gets(faulty, max_retries=2)
    # Three faults in a row: 0.2 ** 3 = 0.8 % of 1000 = 8 expected; allow for chance.
    assert failures <= 25, failures
    assert run_gets(faulty, max_retries=0, calls=300) > 30  # and without retries many fail


def test_no_post_is_processed_twice(faulty: MockServer) -> None:
    attempts: dict[str, list[int]] = defaultdict(list)

    def record(response: httpx.Response) -> None:
        if response.request.method == "POST":
            name = json.loads(response.request.content)["persona_name"]
            attempts[name].append(response.status_code)

    http = httpx.Client(base_url=faulty.url, event_hooks={"response": [record]})
    outcome: dict[str, bool] = {}
    with Tavus(
        api_key=TEST_KEY, base_url=faulty.url, http_client=http, max_retries=3, initial_retry_delay=0.001
    ) as client:
        for i in range(300):
            name = f"once-{i}"
            try:
                client.personas.create(persona_name=name)
                outcome[name] = True
            except APIStatusError:
                outcome[name] = False
        stored = [p.persona_name for p in client.personas.list_all(persona_type="user", max_retries=10)]
    http.close()
    assert len(stored) == len(set(stored)), "a POST was processed twice"
    assert set(stored) == {name for name, ok in outcome.items() if ok}
    for statuses in attempts.values():
        # Every attempt but the last was answered 429 or 503: the server said it did nothing.
        assert all(code in (429, 503) for code in statuses[:-1]), statuses
    assert any(500 in s for s in attempts.values()), "the fault mix should include 500s"
    assert any(len(s) > 1 for s in attempts.values()), "some POSTs should have been retried"
