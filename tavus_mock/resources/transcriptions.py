"""Transcriptions: a file URL transcribed in the background, reported to the callback URL.

Evidence: research doc (transcriptions in the 2025 surface; create answers the id, status "started" and
the callback URL). Get, list and delete are the generic behaviours (app.py); the job is Store.advance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import Answer, Ctx, creates

if TYPE_CHECKING:
    from ..app import TavusMock


@creates("transcriptions")
def create(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    data = {"file_url": body["file_url"], "callback_url": body["callback_url"], "text": None, "status": "started"}
    data["created_at"] = now
    record = mock.store.create("transcriptions", ctx.tenant, data)
    mock.store.schedule_callback(record)
    out = {"transcription_id": record.id, "status": "started", "callback_url": data["callback_url"]}
    return Answer(mock.success(ctx.op), out)
