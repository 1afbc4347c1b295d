"""Lenient timestamp parsing for Tavus answers.

Patches: nothing generated. The spec types every timestamp as a plain string (Tavus sends ISO 8601,
HTTP dates such as "Mon, 14 Jul 2025 09:14:24 GMT", naive "2024-08-28 15:27:40.824457" and epoch
seconds), so the generated models keep the text and never fail on it; this turns it into a
datetime when asked.
Why: a `format: date-time` in the spec would make the generated `fromisoformat` raise on the HTTP date.
Delete when: Tavus sends one format everywhere and the spec can say `format: date-time`; the canary
in tests/overrides/test_timestamps.py checks that the generated models still keep strings.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

__all__ = ["parse_timestamp"]

_WEEKDAYS = frozenset({"mon,", "tue,", "wed,", "thu,", "fri,", "sat,", "sun,"})


def _http_date(text: str) -> datetime | None:
    """RFC 1123 dates ("Mon, 14 Jul 2025 09:14:24 GMT"); email.utils is too lenient for anything else."""
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def parse_timestamp(value: str | float | int | None) -> datetime | None:
    """A timezone-aware datetime (UTC when the text has no zone), or None when it cannot be read."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        parsed = _http_date(text) if text[:4].lower() in _WEEKDAYS else None
        if parsed is None:
            from dateutil import parser as dateutil_parser

            try:
                parsed = dateutil_parser.parse(text)
            except (ValueError, OverflowError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
