"""generator-templates/str_enum.py.jinja: unknown enum values parse instead of failing a response."""

from __future__ import annotations

from pathlib import Path

import openapi_python_client
from tavus_client.models import Video, VideoStatus


def test_unknown_enum_value_is_kept() -> None:
    video = Video.from_dict({"video_id": "v1", "status": "transcoding"})
    assert video.status == "transcoding"
    assert isinstance(video.status, VideoStatus)
    assert video.to_dict()["status"] == "transcoding"


def test_known_values_are_unchanged() -> None:
    assert VideoStatus("ready") is VideoStatus.READY
    assert Video.from_dict({"video_id": "v1", "status": "ready"}).status is VideoStatus.READY


def test_non_string_still_fails() -> None:
    try:
        VideoStatus(3)  # type: ignore[arg-type]
    except ValueError:
        return
    raise AssertionError("a non-string enum value must not be accepted")


def test_canary_upstream_template_still_lacks_missing() -> None:
    """When this fails, openapi-python-client handles unknown values itself: delete our template copy."""
    upstream = Path(openapi_python_client.__file__).parent / "templates" / "str_enum.py.jinja"
    assert "_missing_" not in upstream.read_text()


def test_unset_fields_print_readably() -> None:
    from tavus_client.types import UNSET

    assert repr(UNSET) == "UNSET"  # (model reprs leave unset fields out: tests/overrides/test_models.py)


def test_canary_upstream_unset_repr() -> None:
    """When this fails, upstream's Unset prints readably: delete generator-templates/types.py.jinja."""
    upstream = Path(openapi_python_client.__file__).parent / "templates" / "types.py.jinja"
    assert "__repr__" not in upstream.read_text()
