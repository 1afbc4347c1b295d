"""Replicas (faces): create starts a training job that the store moves on and reports by callback.

Evidence: research doc (create replica answers `replica_id` and `status` "started"; training progress
as "n/100"). A body without `model_name` gets "phoenix-4", the spec's example. Get, list, rename and
delete are the generic behaviours (app.py); the training lifecycle is Store.advance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import Answer, Ctx, creates

if TYPE_CHECKING:
    from ..app import TavusMock


@creates("replicas")
def create(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    data = {
        "replica_name": body.get("replica_name"),
        "replica_type": "user",
        "model_name": body.get("model_name", "phoenix-4"),
        "status": "started",
        "training_progress": "0/100",
        "thumbnail_video_url": None,
        "error_message": None,
        "callback_url": body.get("callback_url"),
        "created_at": now,
        "updated_at": now,
    }
    record = mock.store.create("replicas", ctx.tenant, data)
    mock.store.schedule_callback(record)
    return Answer(mock.success(ctx.op), {"replica_id": record.id, "status": "started"})
