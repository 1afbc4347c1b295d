"""Shared fixtures: the parsed spec, and a reference server on a free port for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tavus_mock.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "openapi" / "tavus.yaml"
TEST_KEY = "test-key-not-a-secret"
OTHER_KEY = "other-test-key"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec(SPEC_PATH)


@pytest.fixture(scope="session")
def raw_spec(spec: Spec) -> dict:
    return spec.raw


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """A PostgreSQL server of the session's own (tests/postgres.py); skipped, saying how to install it,
    where there is none (failed instead when TAVUS_REQUIRE_POSTGRES is set, as .ci/run does)."""
    import os

    from tests.postgres import HOW, Cluster, binaries

    found = binaries()
    if found is None:
        if os.environ.get("TAVUS_REQUIRE_POSTGRES"):
            pytest.fail("TAVUS_REQUIRE_POSTGRES is set: " + HOW)
        pytest.skip(HOW)
    cluster = Cluster(found)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def iter_operations(raw: dict) -> Iterator[tuple[str, str, dict, list]]:
    for path, item in raw["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            yield path, method, op, shared + op.get("parameters", [])
