"""The contract suite: green against the reference server, red against each broken variant.

Every run starts a fresh reference server on a free port (fixed seed, no example database), so
runs are reproducible, and goes through the same runner as `tavus-contract`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from tavus_contract.cli import ContractResult, Selection, read_events, run, smoke, summary
from tavus_mock import Delays, MockConfig, MockServer, Spec, TavusMock
from tests.contract._ahead import Ahead
from tests.contract.broken import VARIANTS
from tests.contract.seed import example_resources

pytestmark = pytest.mark.contract
KEY = "contract-test-key"
SECOND = "contract-other-key"  # another account: what KEY creates, it must not see

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
    config = MockConfig(
        api_keys=frozenset({KEY, SECOND}), delays=Delays.instant(), access_log=False, check_answers=honest
    )
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
        result = run(
            server.url, KEY, seed=1, refusals="all", second_key=SECOND
        )  # the reference server keeps the CLI's rules too
    seconds = time.perf_counter() - started
    report = summary(result)
    with capsys.disabled():
        cases = result.cases
        print(f"\ncontract suite against tavus-mock: {cases} cases in {seconds:.1f} s ({cases / seconds:.0f} cases/s)")
    assert result.ok, report + "\n" + result.output[-4000:]
    names = {op.name for op in result.operations}
    assert (
        len(names) == len(spec.operations) + 1 and "Stateful tests" in names
    )  # every operation, and the stateful phase
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.output, phase


_VARIANT_RUNS: Ahead[ContractResult] = Ahead("variant")


def _variant_run(spec: Spec, variant: type[TavusMock], first_failure: bool = True) -> ContractResult:
    tags, _ = VARIANTS[variant]
    selection = Selection(include=tuple(("tag", tag) for tag in tags))
    with serve(spec, variant) as server:
        # Every documented rule (the CLI's too, as for the reference server): the variants keep them all
        # but the one they break. The run ends at its first failure (a variant then costs 2 s, not 15);
        # a test whose first failure is not the variant's own check asks for the whole run.
        return run(
            server.url,
            KEY,
            seed=1,
            max_examples=10,
            selection=selection,
            second_key=SECOND,
            refusals="all",
            extra_args=FIRST_FAILURE if first_failure else (),
        )


FIRST_FAILURE = ("--max-failures", "1")


@pytest.mark.parametrize("variant", list(VARIANTS), ids=lambda cls: cls.__name__)
def test_each_broken_variant_is_caught(spec: Spec, variant: type[TavusMock], request: pytest.FixtureRequest) -> None:
    _, expected = VARIANTS[variant]
    result = _VARIANT_RUNS.result(request, variant, lambda v: _variant_run(spec, v))  # type: ignore[arg-type]
    assert not result.ok, f"{variant.__name__} went unnoticed:\n{summary(result)}"
    wanted = {CODES.get(check, check) for check in expected}
    if not wanted & result.failing_checks:  # stopped by another failure first: the whole run decides
        result = _variant_run(spec, variant, first_failure=False)
    assert wanted & result.failing_checks, (variant.__name__, result.failing_checks)
    assert any(op.curl.startswith("curl ") for op in result.failed), "a failure should come with a reproduction"


def test_event_stream_parsing(tmp_path: object) -> None:
    """The verdict comes from schemathesis' NDJSON events: a failure names our check and its message and
    carries the follow-up requests; an error is never passed; a skipped operation is not tested."""
    import json
    from pathlib import Path

    path = Path(str(tmp_path)) / "events.ndjson"
    message = "the create set context but it was dropped\n--- reproduce ---\ncurl -X GET http://h/v2/b/p1"

    def scenario(label: str, status: str, checks: dict[str, object] | None = None) -> str:
        recorder = {"label": label, "cases": {"c1": {}}, "checks": checks or {}, "interactions": {}}
        return json.dumps({"ScenarioFinished": {"status": status, "recorder": recorder, "skip_reason": "no examples"}})

    failure = {
        "name": "create_reads_back",
        "status": "failure",
        "failure_info": {
            "failure": {
                "code": "ST901",
                "title": "Custom check failed: `create_reads_back`",
                "message": message,
                "case_id": "c1",
            }
        },
    }
    lines = [
        json.dumps({"LoadingFinished": {"statistic": {"operations": {"selected": 4}}}}),
        scenario("GET /v2/a", "success"),
        scenario("POST /v2/b", "failure", {"c1": [failure]}),
        scenario("GET /v2/c", "error"),
        scenario("GET /v2/d", "skip"),
        '{"ScenarioFinished": {"status": "succ',  # a line cut short by a stopped run
    ]
    path.write_text("\n".join(lines))
    events = read_events(path)
    ok, bad, error, skipped = (events.operations[n] for n in ("GET /v2/a", "POST /v2/b", "GET /v2/c", "GET /v2/d"))
    assert ok.passed and events.selected == 4 and not events.finished
    assert bad.status == "failed" and bad.check == "create_reads_back" and bad.checks == ("create_reads_back",)
    assert bad.detail == "the create set context but it was dropped" and bad.steps == ("curl -X GET http://h/v2/b/p1",)
    assert error.status == "error" and not error.passed
    assert skipped.status == "not tested" and "no examples" in skipped.detail


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
