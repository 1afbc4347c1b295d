"""overrides/timestamps.py: every timestamp format Tavus sends becomes a datetime, or None."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tavus_client import parse_timestamp
from tavus_client.models import VideoCreated


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-10T00:35:24.310570Z", datetime(2025, 9, 10, 0, 35, 24, 310570, UTC)),
        ("2024-01-24T07:14:03.327Z", datetime(2024, 1, 24, 7, 14, 3, 327000, UTC)),
        ("Mon, 14 Jul 2025 09:14:24 GMT", datetime(2025, 7, 14, 9, 14, 24, tzinfo=UTC)),
        ("2024-08-28 15:27:40.824457", datetime(2024, 8, 28, 15, 27, 40, 824457, UTC)),
        ("2026-05-15T10:30:00", datetime(2026, 5, 15, 10, 30, tzinfo=UTC)),
        ("August 28, 2024 3:27 PM", datetime(2024, 8, 28, 15, 27, tzinfo=UTC)),
    ],
)
def test_formats(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_epoch_seconds() -> None:
    assert parse_timestamp(1757464532.5) == datetime(2025, 9, 10, 0, 35, 32, 500000, UTC)


@pytest.mark.parametrize("bad", ["", "not a date", "<string>", None, True, 10**20])
def test_unreadable_gives_none(bad: object) -> None:
    assert parse_timestamp(bad) is None  # type: ignore[arg-type]


def test_canary_models_keep_timestamps_as_text() -> None:
    """If the spec ever promises format: date-time, the models parse it themselves (and may fail)."""
    created = VideoCreated.from_dict({"video_id": "v", "created_at": "Mon, 14 Jul 2025 09:14:24 GMT"})
    assert created.created_at == "Mon, 14 Jul 2025 09:14:24 GMT"
