"""Deployments: a PAL published as a widget, an embed or a landing page (/v2/deployments).

Evidence: live-surface inventory 2.6 (docs deployments pages, tavus-cli 0.11.0 sdk/schemas/deployment.py
and sdk/recipes/deployments.py). What is particular here: the list has its own envelope
(`{deployments, total, page, limit}`, pages from 0, newest first); reads carry a weak `ETag` and a
patch with a stale `If-Match` is 412; a password is stored but only `has_password` is answered; and
`/init` is public: it needs no key and shows only what a visitor's page needs.
"""

from __future__ import annotations

from dataclasses import replace

from ..core import Answer, Api, Ctx, Family, Record, Reference, register, short
from ..store import ApiError, id_maker, iso_now

PASSWORD = "_password"  # stored beside the fields; never answered
REVISION = "_revision"  # counts changes, for the ETag
CHANNEL_LABELS = {"landing-page": "Link", "embed": "Embed", "widget": "Widget"}  # CLI deployments.py:20-24
THUMBNAILS = ("thumbnail_video_url", "thumbnail_image_url")

FAMILY = register(
    Family(
        "deployments",
        "deployment_id",
        id_maker("dp", 12),  # [OURS] the real id format is not documented
        read_only=frozenset({"has_password", "usage_total", "usage_today", *THUMBNAILS}),
        # A deployment publishes one of the key's own PALs (or a stock one), on every write path.
        references=(Reference("pal_id", "personas", label="PAL"),),
    )
)


def etag(record: Record) -> str:
    return f'W/"{record.id}-{record.data.get(REVISION, 0)}"'


def _changed(record: Record) -> None:
    record.data[REVISION] = record.data.get(REVISION, 0) + 1
    record.data["updated_at"] = iso_now()


@FAMILY.handles("createDeployment")
def create_deployment(api: Api, ctx: Ctx) -> Answer:
    body = ctx.body
    now = iso_now()
    pal = api.lookup("personas", ctx.tenant, body["pal_id"])
    if pal is None:
        raise ApiError(400, FAMILY.references[0].error([str(body["pal_id"])]))
    face = api.lookup("replicas", ctx.tenant, pal.data.get("default_replica_id"))
    thumbnail = face.data.get("thumbnail_video_url") if face is not None else None
    name = body.get("name")
    if name is None:  # as the PAL Maker names them (CLI deployments.py:50-60); a name given is kept, even ""
        name = f"{pal.data.get('persona_name') or 'Untitled'} {CHANNEL_LABELS[body['channel']]}"
    data = {
        "pal_id": pal.id,
        "channel": body["channel"],
        "status": body.get("status", "active"),
        "name": name,
        "has_password": bool(body.get("password")),
        PASSWORD: body.get("password") or None,
        "customization": body.get("customization") or {},
        "limits": body.get("limits") or {},
        "allowed_origins": body.get("allowed_origins"),
        "thumbnail_video_url": thumbnail,
        "thumbnail_image_url": None,
        "usage_total": 0,
        "usage_today": 0,
        REVISION: 1,
        "created_at": now,
        "updated_at": now,
    }
    record = api.create("deployments", ctx.tenant, data)
    return Answer(api.success(ctx.op), api.view(record), {"ETag": etag(record)})


@FAMILY.handles("getDeployment")
def get_deployment(api: Api, ctx: Ctx) -> Answer:
    record = api.find("deployments", ctx.tenant, ctx.path["deployment_id"])
    return Answer(200, api.view(record), {"ETag": etag(record)})


@FAMILY.handles("listDeployments")
def list_deployments(api: Api, ctx: Ctx) -> Answer:
    q = ctx.query
    limit, page, offset, descending = api.paging(ctx)  # 20 and newest first unless asked (the spec's defaults)
    if {"pal_id", "search", "status", "channel"} & q.keys():  # filters: a scan of the key's deployments
        statuses = {s.strip() for s in q.get("status", "").split(",") if s.strip()}
        channels = {c.strip() for c in q.get("channel", "").split(",") if c.strip()}
        needle = q.get("search", "").lower()
        records = [
            r
            for r in api.visible("deployments", ctx.tenant)
            if ("pal_id" not in q or r.data["pal_id"] == q["pal_id"])
            and (not statuses or r.data["status"] in statuses)
            and (not channels or r.data["channel"] in channels)
            and needle in str(r.data.get("name") or "").lower()
        ]
        records.sort(key=lambda r: r.seq, reverse=descending)
        chunk, total = records[offset : offset + limit], len(records)
    else:
        order = "desc" if descending else "asc"
        chunk, total = api.page("deployments", ctx.tenant, offset=offset, limit=limit, order=order)
    items = [api.view(r, listing=True) for r in chunk]
    if q.get("include_thumbnails") is False:
        items = [{k: v for k, v in item.items() if k not in THUMBNAILS} for item in items]
    else:  # every deployment has them (null until known; a seeded record may leave them out)
        for item in items:
            for name in THUMBNAILS:
                item.setdefault(name, None)
    return Answer(200, {"deployments": items, "total": total, "page": page, "limit": limit})


@FAMILY.handles("patchDeployment")
def patch_deployment(api: Api, ctx: Ctx) -> Answer:
    record = api.find("deployments", ctx.tenant, ctx.path["deployment_id"], writable=True)
    wanted = ctx.headers.get("if-match")
    if wanted is not None and wanted.strip() not in ("*", etag(record)):
        raise ApiError(412, "The deployment changed since that ETag (If-Match): read it again and redo the change")
    # `/password` is not in the answered document: set or remove it here, the rest is a JSON Patch.
    password_ops = [op for op in ctx.body if op.get("path") == "/password"]
    others = [op for op in ctx.body if op.get("path") != "/password"]
    status = 304
    if others:  # the new pal_id, however it got there (replace, copy, move), is checked as on create
        status = api.generic("patch", replace(ctx, body=others)).status
    before = record.data.get(PASSWORD)
    for op in password_ops:
        if op.get("op") in ("add", "replace"):
            value = op.get("value")
            if value is not None and not isinstance(value, str):
                raise ApiError(422, "Invalid JSON patch format: /password must be a string or null", key="message")
            record.data[PASSWORD] = value or None
        elif op.get("op") == "remove":
            record.data[PASSWORD] = None
        else:
            raise ApiError(422, f"Invalid JSON patch format: {short(str(op.get('op')))} on /password", key="message")
    record.data["has_password"] = bool(record.data.get(PASSWORD))
    if status == 304 and record.data.get(PASSWORD) == before:
        return Answer(304, None, {"ETag": etag(record)})
    _changed(record)
    return Answer(200, api.view(record), {"ETag": etag(record)})


@FAMILY.handles("deleteDeployment")
def delete_deployment(api: Api, ctx: Ctx) -> Answer:
    record = api.find("deployments", ctx.tenant, ctx.path["deployment_id"], writable=True)
    api.delete(record)
    return Answer(204)


@FAMILY.handles("getDeploymentInit")
def deployment_init(api: Api, ctx: Ctx) -> Answer:
    """Public: any caller, with or without a key, may read it, so it answers only what a visitor sees."""
    record = api.lookup_any("deployments", ctx.path["deployment_id"])
    if record is None:
        raise ApiError(404, "Deployment not found", key="message")
    data = record.data
    # The PAL as its owner sees it: another key's PAL is never one a deployment can show.
    pal = api.lookup("personas", record.tenant or "", data["pal_id"])
    reason = None
    if pal is None:
        reason = "pal_deleted"
    elif data["status"] != "active":
        reason = f"deployment_{data['status']}"
    limits = data.get("limits") or {}
    customization = {k: v for k, v in (data.get("customization") or {}).items() if k != "conversation"}
    out = {
        "deployment_id": record.id,
        "channel": data["channel"],
        "customization": customization,
        "has_password": bool(data.get(PASSWORD)),
        "thumbnail_video_url": data.get("thumbnail_video_url"),
        "thumbnail_image_url": data.get("thumbnail_image_url"),
        "show_tavus_branding": True,
        "limits": {
            "max_call_duration": limits.get("max_call_duration"),
            "daily_call_limit_per_user": limits.get("daily_call_limit_per_user"),
        },
        "captcha": None,
        "is_available": reason is None,
        "unavailable_reason": reason,
    }
    return Answer(200, out)
