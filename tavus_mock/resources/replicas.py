"""Replicas (faces): stock faces, create starts a training job moved on by its lifecycle and reported by
callback; /v2/faces is the same records under PAL-era names.

Evidence: research doc (create replica answers `replica_id` and `status` "started"; training progress
as "n/100"; the callback carries replica_id, status and error_message). A body without `model_name` gets
"phoenix-4", the spec's example. Stock faces: live-surface inventory (livekit-plugins-tavus default
r4067604db72, docs example r90bbd427f71) and Tavus's docs (stock-personas page r4f5b5ef55c8 and
r3f427f43c9d; quickstarts rf4e9d9790f0 and r5dc7c7d0bcb); their names are ours.
"""

from __future__ import annotations

from typing import Any

from ..aliases import Alias
from ..core import Answer, Api, Ctx, Family, Lifecycle, Stage, register
from ..store import STOCK_CREATED, id_maker

STOCK_REPLICA_ID = "rfe12d8b9597"
STOCK_REPLICAS = (
    (STOCK_REPLICA_ID, "Nathan"),
    ("r4067604db72", "Stock face (LiveKit default)"),
    ("r90bbd427f71", "Stock face (docs example)"),
    # The replicas Tavus's docs pair with stock personas or use in the quickstarts (names are ours).
    ("r4f5b5ef55c8", "Stock face (Sales Coach)"),
    ("r3f427f43c9d", "Stock face (Customer Support)"),
    ("rf4e9d9790f0", "Stock face (quickstart)"),
    ("r5dc7c7d0bcb", "Stock face (full pipeline quickstart)"),
)


def _stock() -> list[dict[str, Any]]:
    return [
        {
            "replica_id": rid,
            "replica_name": name,
            "replica_type": "system",
            "model_name": "phoenix-4",
            "status": "completed",
            "training_progress": "100/100",
            "thumbnail_video_url": f"https://cdn.tavus.example/replicas/{rid}.mp4",
            "error_message": None,
            "created_at": STOCK_CREATED,
            "updated_at": STOCK_CREATED,
        }
        for rid, name in STOCK_REPLICAS
    ]


def _callback(rid: str, data: dict[str, Any]) -> dict[str, Any]:
    """A training callback: the replica's id, its status ("ready" once trained) and any error."""
    status = "ready" if data["status"] == "completed" else data["status"]
    return {"replica_id": rid, "status": status, "error_message": data.get("error_message")}


def _ids_filter(record: Any, value: str) -> bool:
    return bool(record.id in {x.strip() for x in value.split(",")})


FAMILY = register(
    Family(
        "replicas",
        "replica_id",
        id_maker("r", 11),
        type_field="replica_type",
        terse=frozenset({"replica_type"}),
        lists_read_verbose=True,
        stock=_stock,
        lifecycle=Lifecycle(
            delay="replica",
            running=frozenset({"started"}),
            progress="training_progress",
            progress_text=True,
            stages=(
                Stage(
                    1.0,
                    {"status": "completed", "thumbnail_video_url": "https://cdn.tavus.example/replicas/{id}.mp4"},
                ),
            ),
            callback=_callback,
        ),
        filters={
            "replica_ids": _ids_filter,
            "model_name": lambda record, value: record.data.get("model_name") == value,
        },
        operations={
            "createReplica": "create",
            "listReplicas": "list",
            "getReplica": "get",
            "renameReplica": "rename",
            "deleteReplica": "delete",
        },
        alias=Alias(
            "faces",
            "replicas",
            (("replica_id", "face_id"), ("replica_name", "face_name"), ("replica_type", "face_type")),
        ),
        alias_operations={
            "createFace": "createReplica",
            "listFaces": "listReplicas",
            "getFace": "getReplica",
            "renameFace": "renameReplica",
            "deleteFace": "deleteReplica",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
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
    record = api.create("replicas", ctx.tenant, data)
    api.schedule(record)
    return Answer(api.success(ctx.op), {"replica_id": record.id, "status": "started"})
