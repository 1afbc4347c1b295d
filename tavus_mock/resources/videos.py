"""Videos: a script (or audio) rendered by a replica in the background.

Evidence: research doc (create answers id, name, status "queued", hosted URL; its `created_at` is an
HTTP date, unlike every other timestamp; a video of an unknown replica is refused). Get, list, rename
and delete are the generic behaviours; rendering is its lifecycle.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, Lifecycle, Reference, Stage, register
from ..store import http_date_now, id_maker

BASE = "https://cdn.tavus.example/videos/{id}"
FAMILY = register(
    Family(
        "videos",
        "video_id",
        id_maker("", 10),
        terse=frozenset({"still_image_thumbnail_url", "gif_thumbnail_url"}),
        lifecycle=Lifecycle(
            delay="video",
            running=frozenset({"queued", "generating"}),
            progress="generation_progress",
            progress_text=True,
            stages=(
                Stage(0.5, {"status": "generating", "status_details": "Rendering."}, after=frozenset({"queued"})),
                Stage(
                    1.0,
                    {
                        "status": "ready",
                        "status_details": "Your request has processed successfully!",
                        "download_url": BASE + ".mp4",
                        "stream_url": BASE + ".m3u8",
                        "still_image_thumbnail_url": BASE + ".jpg",
                        "gif_thumbnail_url": BASE + ".gif",
                    },
                ),
            ),
        ),
        references=(Reference("replica_id", "replicas", message="Invalid replica_id"),),
        operations={
            "generateVideo": "create",
            "listVideos": "list",
            "getVideo": "get",
            "renameVideo": "rename",
            "deleteVideo": "delete",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    replica_id = body["replica_id"]  # a replica of the key's, or stock (FAMILY.references)
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
        # verbose reads carry the thumbnails before they exist, empty like the other URLs (Tavus's docs
        # file lists both on every video, example ""; tavus-contract's verbose_adds_only wants them)
        "still_image_thumbnail_url": None,
        "gif_thumbnail_url": None,
        "background_url": body.get("background_url"),
        "background_source_url": body.get("background_source_url"),
        "callback_url": body.get("callback_url"),
        "error_details": None,
        "created_at": now,
        "updated_at": now,
    }
    record = api.create("videos", ctx.tenant, data)
    data["hosted_url"] = f"https://tavus.video/{record.id}"
    if data["video_name"] is None:
        data["video_name"] = f"replica_id: {replica_id} - video: {record.id}"
    api.schedule(record)
    out = {
        "video_id": record.id,
        "video_name": data["video_name"],
        "status": "queued",
        "hosted_url": data["hosted_url"],
        "created_at": http_date_now(),  # the real create answer carries an HTTP date
    }
    return Answer(api.success(ctx.op), out)
