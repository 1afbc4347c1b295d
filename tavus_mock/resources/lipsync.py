"""Lipsync (deprecated): a video made to say another audio track, in the background, as older clients
still call it. This family is the proof that a new one is a module and its part of the spec: nothing
else in the server changed to serve it.

Evidence: Tavus's docs OpenAPI file (May 2026 copy: the four operations, marked deprecated; the create
answers `lipsync_id`, `status` "started" and `request_id`/`request_name` beside the id and the name;
ids like `wf85407a7ba9d`). [OURS] `completed` once the video is made (after `--video-seconds`, as a
video's rendering), with `video_url` set; the callback carries the record, as a video's does.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, Lifecycle, Stage, register
from ..store import id_maker

FAMILY = register(
    Family(
        "lipsync",
        "lipsync_id",
        id_maker("w", 12),
        lifecycle=Lifecycle(
            delay="video",
            running=frozenset({"started"}),
            stages=(Stage(1.0, {"status": "completed", "video_url": "https://cdn.tavus.example/lipsync/{id}.mp4"}),),
        ),
        operations={"createLipsync": "create", "listLipsyncs": "list", "getLipsync": "get", "deleteLipsync": "delete"},
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    name = body.get("lipsync_name")
    data = {
        "lipsync_name": name,
        "request_name": name,
        "status": "started",
        "original_video_url": body["original_video_url"],
        "source_audio_url": body["source_audio_url"],
        "video_url": None,
        "callback_url": body.get("callback_url") or None,
        "created_at": now,
        "updated_at": now,
    }
    record = api.create("lipsync", ctx.tenant, data)
    data["request_id"] = record.id
    api.schedule(record)
    out = {k: data[k] for k in ("lipsync_name", "status", "callback_url", "request_id", "request_name")}
    return Answer(api.success(ctx.op), {"lipsync_id": record.id, **out})
