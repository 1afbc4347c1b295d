"""Transcriptions: a file URL transcribed in the background, reported to the callback URL.

Evidence: research doc (transcriptions in the 2025 surface; create answers the id, status "started" and
the callback URL). Get, list and delete are the generic behaviours; the job is its lifecycle.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, Lifecycle, Stage, register
from ..store import id_maker

FAMILY = register(
    Family(
        "transcriptions",
        "transcription_id",
        id_maker("t", 12),
        lifecycle=Lifecycle(
            delay="transcription",
            running=frozenset({"started"}),
            stages=(Stage(1.0, {"status": "completed", "text": "Transcript of {file_url}."}, stamp=False),),
        ),
        operations={
            "createTranscription": "create",
            "listTranscriptions": "list",
            "getTranscription": "get",
            "deleteTranscription": "delete",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    data = {"file_url": body["file_url"], "callback_url": body["callback_url"], "text": None, "status": "started"}
    data["created_at"] = now
    record = api.create("transcriptions", ctx.tenant, data)
    api.schedule(record)
    out = {"transcription_id": record.id, "status": "started", "callback_url": data["callback_url"]}
    return Answer(api.success(ctx.op), out)
