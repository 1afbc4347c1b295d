"""tavus-contract against a server it did not grow up with (tests/contract/independent): the correct
one passes every operation it serves, and each single-mistake variant is caught by the check meant
for that mistake."""

from __future__ import annotations

import time

import pytest

from tavus_contract.cli import ContractResult, Selection, run, summary
from tests.contract._ahead import Ahead
from tests.contract.independent.server import MISTAKES, Independent, serve

pytestmark = pytest.mark.contract
KEY, OTHER = "independent-key", "independent-other-key"
TAGS = ("personas", "replicas", "conversations", "pronunciation_dictionaries", "tools", "documents", "objectives")

# The check meant to catch each mistake (a built-in's code, or our check's name); any one of them will do.
EXPECTED: dict[str, set[str]] = {
    "page_from_zero": {"paging_adds_up", "pages_are_consecutive"},
    "limit_ignored": {"page_within_limit", "paging_adds_up"},
    "total_all_tenants": {"paging_adds_up", "list_total_count"},
    "total_ignores_filters": {"paging_adds_up", "list_total_count"},
    "patch_not_atomic": {"patch_is_atomic"},
    "drops_context": {"create_reads_back"},
    "soft_delete_listed": {"deleted_leave_lists"},
    "delete_answers_200": {"ST103"},
    "ids_reused": {"ids_never_reused"},
    "cross_tenant_read": {"other_key_sees_nothing"},
    "end_not_final": {"end_is_final"},
    "rename_not_stored": {"flat_update_applied"},
    "filter_ignored": {"list_filter_applied"},
    "page_overlap": {"pages_are_consecutive", "paging_adds_up"},
    "patch_lost": {"json_patch_applied", "patch_round_trip"},
    "error_shape": {"ST108", "ST103"},
    "verbose_ignored": {"verbose_adds_only"},
    "not_listed_when_new": {"create_is_listed"},
    "filter_too_strict": {"list_filter_complete"},
    "default_order_flipped": {"list_follows_sort"},
    "sort_ignored": {"list_follows_sort"},
    "rules_dropped": {"create_reads_back"},
    "sort_spelling": {"list_follows_sort"},
    "tool_secret_in_clear": {"secrets_answered_masked"},
    "tool_names_repeat": {"tool_names_unique"},
    "tool_rename_unchecked": {"tool_names_unique"},
    "tool_name_filter_ignored": {"text_filter_applied"},
    "tool_update_ignored": {"flat_update_applied"},
    "tool_resolve_default": {"create_reads_back"},
    "stock_writable": {"stock_stays_unchanged"},
    "tool_two_channels": {"documented_refusals"},
    "recrawl_anytime": {"recrawl_once_an_hour"},
    "recrawl_retry_now": {"recrawl_once_an_hour"},
    "tag_count_all_keys": {"tag_counts_add_up"},
    "document_status_ignored": {"list_filter_applied"},
    "chunks_never_end": {"cursor_reaches_end"},
    "document_tags_appended": {"flat_update_applied"},
    "document_found_by_name_only": {"filter_finds_listed"},
    "objective_loops_unseen": {"documented_refusals"},
    "objective_conditions_unread": {"documented_refusals"},
}


def independent(mistake: str | None) -> Independent:
    app = Independent([KEY, OTHER], mistake)
    app.seed(KEY)
    for n in range(3):  # the other account has resources of its own (a total across accounts shows)
        app.handle("POST", "/v2/personas", {"x-api-key": OTHER}, b'{"system_prompt": "theirs %d"}' % n)
    # ... and a document carrying the tag the key's own example document carries (a count across accounts shows)
    app.handle(
        "POST",
        "/v2/documents",
        {"x-api-key": OTHER},
        b'{"document_url": "https://x.example/a.pdf", "tags": ["catalogue"]}',
    )
    return app


FIRST_FAILURE = ("--max-failures", "1")

# Where each mistake lives (the variants' runs are limited to it, to keep CI short).
WHERE = {
    "end_not_final": "conversations",
    "rename_not_stored": "replicas",
    "verbose_ignored": "replicas",
    "filter_too_strict": "conversations",
    "default_order_flipped": "pronunciation_dictionaries",
    "sort_ignored": "pronunciation_dictionaries",
    "rules_dropped": "pronunciation_dictionaries",
    "sort_spelling": "pronunciation_dictionaries",
    **{mistake: "tools" for mistake in MISTAKES if mistake.startswith("tool_")},
    **{m: "documents" for m in ("recrawl_anytime", "recrawl_retry_now", "tag_count_all_keys")},
    **{m: "documents" for m in ("document_status_ignored", "chunks_never_end", "document_tags_appended")},
    "document_found_by_name_only": "documents",
    **{m: "objectives" for m in ("objective_loops_unseen", "objective_conditions_unread")},
}


def contract(base_url: str, tags: tuple[str, ...] = TAGS, **kwargs: object) -> ContractResult:
    """A run over `tags` judging every documented rule (`--refusals all`), as the reference server's run does."""
    selection = Selection(include=tuple(("tag", tag) for tag in tags))
    return run(base_url, KEY, second_key=OTHER, seed=1, selection=selection, refusals="all", **kwargs)  # type: ignore[arg-type]


def test_every_mistake_has_its_check() -> None:
    assert set(EXPECTED) == set(MISTAKES) and len(MISTAKES) >= 15


def test_the_independent_server_honours_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    with serve(independent(None)) as url:
        result = contract(url)
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\ncontract suite against the independent server: {result.cases} cases in {seconds:.1f} s")
    assert result.ok, summary(result) + "\n" + result.output[-3000:]
    assert not result.untested, summary(result)
    assert len([op for op in result.operations if op.passed]) == 40  # 39 operations and the stateful phase


def _mistake_run(mistake: str, first_failure: bool = True) -> ContractResult:
    with serve(independent(mistake)) as url:
        # The run ends at its first failure (schemathesis' --max-failures), a tenth of the time; a test
        # whose first failure is not the mistake's own check asks for the whole run.
        extra = FIRST_FAILURE if first_failure else ()
        return contract(url, (WHERE.get(mistake, "personas"),), max_examples=5, extra_args=extra)


_MISTAKE_RUNS: Ahead[ContractResult] = Ahead("mistake")


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_caught(mistake: str, request: pytest.FixtureRequest) -> None:
    result = _MISTAKE_RUNS.result(request, mistake, _mistake_run)  # type: ignore[arg-type]
    if not EXPECTED[mistake] & result.failing_checks:  # stopped by another failure first
        result = _mistake_run(mistake, first_failure=False)
    report = summary(result)
    assert result.returncode == 1 and not result.ok, f"{mistake} ({MISTAKES[mistake]}) went unnoticed:\n{report}"
    assert EXPECTED[mistake] & result.failing_checks, (mistake, result.failing_checks, report)
    assert "passed" not in report.splitlines()[-1] or "failed" in report.splitlines()[-1]
