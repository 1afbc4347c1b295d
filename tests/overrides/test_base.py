"""overrides/_base.py: the seam it relies on, and request building details."""

from __future__ import annotations

import inspect

from tavus_client._overrides._base import Operation, to_json
from tavus_client._resources import OPERATIONS
from tavus_client.models import LlmLayer, PersonaLayers
from tavus_client.types import UNSET


def test_canary_endpoint_functions() -> None:
    """The resource layer calls `_get_kwargs` and `_parse_response` of every generated endpoint module.
    When the generator renames or reshapes them, this fails before any user does."""
    for op in OPERATIONS:
        module = op.module
        kwargs = inspect.signature(module._get_kwargs).parameters
        assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in kwargs.values()), op
        assert list(inspect.signature(module._parse_response).parameters) == ["client", "response"], op
        assert (op.body is not None) == ("body" in kwargs), op


def test_operations_import_their_module_lazily() -> None:
    op = Operation(
        "videos.get_video", "GET", "/v2/videos/{video_id}", body=None, unwrap=None, page_base=None, max_limit=None
    )
    assert op._module is None
    assert op.module.__name__ == "tavus_client.api.videos.get_video"
    assert repr(op) == "Operation(GET /v2/videos/{video_id})"


def test_to_json_handles_models_mappings_and_unset() -> None:
    layers = PersonaLayers(llm=LlmLayer(model="m"))
    payload = {"layers": layers, "tags": ("a", "b"), "gone": UNSET, "nested": {"x": UNSET, "y": 1}}
    assert to_json(payload) == {"layers": {"llm": {"model": "m"}}, "tags": ["a", "b"], "nested": {"y": 1}}
