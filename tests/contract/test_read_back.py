"""create_reads_back expects back what the read's schema declares, inside fields too: an unknown member
inside a declared object is the server's to ignore (the spec: unknown request fields are accepted and
ignored), a declared one must read back, and a free-form object keeps whatever was sent."""

from __future__ import annotations

from tavus_contract.checks.writes import _mismatch
from tavus_mock.spec import Spec
from tavus_spec.facts import facts


def test_the_members_a_read_declares_at_each_place(spec: Spec) -> None:
    found = facts(spec.raw)
    assert found.read_members("/v2/tools/{tool_id}", ("delivery",)) == frozenset({"app_message", "api"})
    api = found.read_members("/v2/tools/{tool_id}", ("delivery", "api"))
    assert api is not None and {"url", "method", "auth"} <= api
    assert found.read_members("/v2/tools/{tool_id}", ("delivery", "nowhere")) == frozenset()
    assert found.read_members("/v2/tools/{tool_id}", ("parameters",)) is None  # a JSON Schema: anything goes
    layers = found.read_members("/v2/personas/{persona_id}", ("layers",))
    assert layers is not None and {"llm", "tts"} <= layers


def test_unknown_nested_members_are_not_expected_back_and_declared_ones_are(spec: Spec) -> None:
    found = facts(spec.raw)

    def declared(at: tuple[str | int, ...]) -> frozenset[str] | None:
        return found.read_members("/v2/tools/{tool_id}", at)

    sent = {"api": {"url": "https://example.com/x", "unknown": 1}, "odd": {"a": 1}}
    kept = {"api": {"url": "https://example.com/x"}}
    assert _mismatch(sent, kept, "delivery", declared=declared, at=("delivery",)) is None
    lost = {"api": {}}
    assert _mismatch(sent, lost, "delivery", declared=declared, at=("delivery",)) == "delivery/api/url was dropped"
    # without the schema (the old rule) the unknown member would have been demanded
    assert _mismatch(sent, kept, "delivery") == "delivery/api/unknown was dropped"
