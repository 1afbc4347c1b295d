"""The contract suite: green against the reference server, red against each broken variant.

Every run starts a fresh reference server on a free port (fixed seed, no example database), so
runs are reproducible, and goes through the same runner as `tavus-contract`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import pytest

from tavus_contract.cli import parse_junit, run, smoke, summary
from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tests.contract.broken import VARIANTS
from tests.contract.seed import example_resources

pytestmark = pytest.mark.contract
KEY = "contract-test-key"

# Codes of the built-in checks each variant is meant to trip (custom checks report their name).
CODES = {
    "response_schema_conformance": "ST108",
    "ignored_auth": "ST401",
    "missing_required_header": "ST203",
    "status_code_conformance": "ST103",
    "use_after_free": "ST301",
    "not_a_server_error": "ST101",
}


@pytest.fixture(autouse=True)
def quiet_server_logs() -> Iterator[None]:
    logger = logging.getLogger("tavus_mock")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def serve(spec: Spec, cls: type[TavusMock] = TavusMock) -> MockServer:
    # The honest server checks its own answers; a broken variant must not (its wrong answers are the point).
    honest = cls is TavusMock
    config = MockConfig(api_keys=frozenset({KEY}), delays=Delays.instant(), access_log=False, check_answers=honest)
    app = cls(spec, config)
    app.store.load_seed_data(example_resources(spec, KEY))
    return MockServer(app)


def test_smoke_the_key_is_accepted_and_a_wrong_key_is_noticed(spec: Spec) -> None:
    with serve(spec) as server:
        assert smoke(server.url, KEY) is None
        assert "401" in (smoke(server.url, "not-the-key") or "")
        result = run(server.url, "not-the-key", phases=("examples",))
    assert not result.ok and result.returncode == 2
    assert result.failed[0].check == "smoke"


def test_the_reference_server_honours_the_contract(spec: Spec, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    with serve(spec) as server:
        result = run(server.url, KEY, seed=1, refusals="all")  # the reference server keeps the CLI's rules too
    seconds = time.perf_counter() - started
    report = summary(result)
    with capsys.disabled():
        found = re.search(r"(\d+) generated, (\d+) passed", result.output)
        cases = int(found.group(1)) if found else 0
        print(f"\ncontract suite against tavus-mock: {cases} cases in {seconds:.1f} s ({cases / seconds:.0f} cases/s)")
    assert result.ok, report + "\n" + result.output[-4000:]
    names = {op.name for op in result.operations}
    assert (
        len(names) == len(spec.operations) + 1 and "Stateful tests" in names
    )  # every operation, and the stateful phase
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.output, phase


@pytest.mark.parametrize("variant", list(VARIANTS), ids=lambda cls: cls.__name__)
def test_each_broken_variant_is_caught(spec: Spec, variant: type[TavusMock]) -> None:
    tags, expected = VARIANTS[variant]
    extra = tuple(arg for tag in tags for arg in ("--include-tag", tag))
    with serve(spec, variant) as server:
        result = run(server.url, KEY, seed=1, max_examples=10, extra_args=extra)
    assert not result.ok, f"{variant.__name__} went unnoticed:\n{summary(result)}"
    wanted = {CODES.get(check, check) for check in expected}
    assert wanted & result.failing_checks, (variant.__name__, result.failing_checks)
    assert any(op.curl.startswith("curl ") for op in result.failed), "a failure should come with a reproduction"


def test_junit_parsing(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "j.xml"
    path.write_text(
        '<testsuites><testsuite><testcase name="GET /v2/a"/>'
        '<testcase name="POST /v2/b"><failure message="ST101,ST901">1. Test Case ID: x\n\n'
        "- ST101 Server error\n\n- ST901 Custom check failed: `json_patch_applied`\n\n"
        "    curl -X POST http://h/v2/b</failure></testcase></testsuite></testsuites>"
    )
    ok, bad = parse_junit(path)
    assert ok.passed and not bad.passed
    assert bad.checks == ("ST101", "json_patch_applied") and bad.curl == "curl -X POST http://h/v2/b"


def test_every_broken_variant_changes_something_the_server_has() -> None:
    """A variant that overrides a method the server no longer has would run the real server and prove
    nothing (two did, when creates moved into behaviour modules); so would one wrapping an unknown operation."""
    spec = Spec()
    operations = {op.operation_id for op in spec.operations}
    for variant in VARIANTS:
        for name, value in vars(variant).items():
            if name.startswith("__") or name in ("OPERATION", "wrap") or not callable(value):
                continue
            assert any(name in vars(base) for base in TavusMock.__mro__), f"{variant.__name__}.{name} overrides nothing"
        wrapped = getattr(variant, "OPERATION", None)
        assert wrapped is None or wrapped in operations, f"{variant.__name__} wraps {wrapped!r}, not an operation"
