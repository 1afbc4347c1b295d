"""Videos: a script (or audio) rendered by a replica in the background.

Evidence: research doc (create answers id, name, status "queued", hosted URL; its `created_at` is an
HTTP date, unlike every other timestamp; a video of an unknown replica is refused). Get, list, rename
and delete are the generic behaviours (app.py); rendering is Store.advance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import Answer, Ctx, creates
from ..store import ApiError, http_date_now

if TYPE_CHECKING:
    from ..app import TavusMock


@creates("videos")
def create(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    replica_id = body["replica_id"]
    if not mock.store.exists("replicas", ctx.tenant, replica_id):
        raise ApiError(400, "Invalid replica_id")
    data = {
        "video_name": body.get("video_name"),
        "replica_id": replica_id,
        "status": "queued",
        "status_details": "Queued for rendering.",
        "generation_progress": "0/100",
        "data": {"script": body.get("script")},
        "download_url": None,
        "stream_url": None,
        "hosted_url": None,
        "background_url": body.get("background_url"),
        "background_source_url": body.get("background_source_url"),
        "callback_url": body.get("callback_url"),
        "error_details": None,
        "created_at": now,
        "updated_at": now,
    }
    record = mock.store.create("videos", ctx.tenant, data)
    data["hosted_url"] = f"https://tavus.video/{record.id}"
    if data["video_name"] is None:
        data["video_name"] = f"replica_id: {replica_id} - video: {record.id}"
    mock.store.schedule_callback(record)
    out = {
        "video_id": record.id,
        "video_name": data["video_name"],
        "status": "queued",
        "hosted_url": data["hosted_url"],
        "created_at": http_date_now(),  # the real create answer carries an HTTP date
    }
    return Answer(mock.success(ctx.op), out)
