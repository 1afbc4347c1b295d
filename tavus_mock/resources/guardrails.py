"""Guardrails: sets of guardrails ([S1]) and individual guardrails (mid-2026) on the same paths.

Evidence: live-surface inventory 2.7 (docs api-reference/guardrails/legacy-guardrail-sets and
create-guardrails, tavus-cli 0.11.0 sdk/schemas/guardrail.py). The server tells them apart: a POST by
its body (`guardrail_name` at the top level: one guardrail; `data`: a set), a read or write of one by
the id (a set's `g...` id or a guardrail's uuid), a list by `legacy`. Every guardrail of a set is also
an individual guardrail (a "mirror" with its own uuid, which the set's item carries as `uuid`); the two
stay in step whichever is changed, and deleting a set deletes its guardrails. PALs and personas that
use a deleted set or guardrail stop using it.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..core import Answer, Api, Ctx, Family, Record, register, tag_page
from ..store import ApiError, id_maker, iso_now, matches_any_tag
from .objectives import create_named_set

ITEMS = "guardrail_items"
SET_ID = "guardrails_set_id"
ITEM_FIELDS = ("guardrail_name", "guardrail_prompt", "modality", "callback_url", "tool_call", "tags", "app_message")
# What the CLI sends back from a read as `add` operations; they change nothing (inventory 2.7).
PERSISTED = frozenset({"/uuid", "/owner_id", "/created_at", "/updated_at"})


def _name_or_uuid(record: Record, value: str) -> bool:
    return record.id == value or value.lower() in str(record.data.get("guardrails_name", "")).lower()


SETS = register(
    Family(
        "guardrails",
        "guardrails_id",
        id_maker("g", 12),
        filters={
            "name_or_uuid": _name_or_uuid,
            "tags": lambda record, value: matches_any_tag(record.data.get("tags") or (), value),
        },
    )
)
GUARDRAILS = register(
    Family(
        ITEMS,
        "uuid",
        lambda: str(uuid.uuid4()),  # docs: individual guardrails are addressed by uuid
        read_only=frozenset({"uuid", SET_ID, "guardrail_type", "persona_refs"}),
        schema="IndividualGuardrail",  # served under the guardrails tag, beside the sets
    )
)


def _check_fields(api: Api, fields: dict[str, Any]) -> list[str]:
    """A patched guardrail's fields against the create schema (a field may not become null)."""
    errors: list[str] = api.validator("IndividualGuardrailCreate").errors(
        {k: v for k, v in fields.items() if v is not None or k not in NULLABLE}
    )
    return errors


NULLABLE = frozenset({"callback_url", "tool_call"})  # stored as null when not given


def _is_set(api: Api, ctx: Ctx) -> bool:
    """Whether the path's id names a set (else it must name an individual guardrail)."""
    return api.exists("guardrails", ctx.tenant, ctx.path["guardrails_id"])


def _item(api: Api, ctx: Ctx, *, writable: bool = False) -> Record:
    try:
        return api.find(ITEMS, ctx.tenant, ctx.path["guardrails_id"], writable=writable)
    except ApiError:
        raise ApiError(404, "Guardrail not found", key="message") from None


def _item_data(fields: dict[str, Any], set_id: str | None, now: str) -> dict[str, Any]:
    return {
        "guardrail_name": fields["guardrail_name"],
        "guardrail_prompt": fields["guardrail_prompt"],
        "modality": fields.get("modality") or "verbal",
        "callback_url": fields.get("callback_url") or None,
        "tool_call": fields.get("tool_call"),
        "tags": list(fields.get("tags") or ()),
        "app_message": fields.get("app_message", True),
        SET_ID: set_id,
        "created_at": now,
        "updated_at": now,
    }


def _mirrors(api: Api, tenant: str, set_id: str) -> dict[str, Record]:
    return {r.id: r for r in api.visible(ITEMS, tenant) if r.data.get(SET_ID) == set_id}


def _sync_set(api: Api, tenant: str, group: Record) -> None:
    """Make the set's guardrails and their mirrors agree, after the set was created or patched."""
    api.change(group)
    mirrors = _mirrors(api, tenant, group.id)
    now = iso_now()
    kept = set()
    for item in group.data.get("data") or ():
        mirror = mirrors.get(item.get("uuid", ""))
        if mirror is None or mirror.id in kept:  # new, or a uuid the set does not own: a new guardrail
            mirror = api.create(ITEMS, tenant, _item_data(item, group.id, now))
            item["uuid"] = mirror.id
        else:
            fresh = _item_data(item, group.id, now)
            fresh.update(created_at=mirror.data["created_at"], tool_call=mirror.data.get("tool_call"))
            fresh["app_message"] = mirror.data.get("app_message", True)
            if any(fresh[k] != mirror.data.get(k) for k in ITEM_FIELDS):
                api.change(mirror).update(fresh)
        kept.add(mirror.id)
    for gone in mirrors.keys() - kept:
        api.delete(mirrors[gone])
        _forget(api, tenant, guardrail_ids={gone})


def _forget(
    api: Api, tenant: str, *, set_id: str | None = None, guardrail_ids: frozenset[str] | set[str] = frozenset()
) -> None:
    """PALs and personas stop using a deleted set or guardrails."""
    for persona in api.visible("personas", tenant):
        data = persona.data
        if persona.tenant is None:
            continue
        if set_id is not None and data.get("guardrails_id") == set_id:
            api.change(persona)["guardrails_id"] = None
        ids = data.get("guardrail_ids")
        if ids and guardrail_ids & set(ids):
            api.change(persona)["guardrail_ids"] = [g for g in ids if g not in guardrail_ids]


def _refs(api: Api, tenant: str, record: Record) -> list[str]:
    set_id = record.data.get(SET_ID)
    return [
        p.id
        for p in api.visible("personas", tenant)
        if record.id in (p.data.get("guardrail_ids") or ()) or (set_id and p.data.get("guardrails_id") == set_id)
    ]


def _show(api: Api, ctx: Ctx, record: Record, *, verbose: bool) -> dict[str, Any]:
    view = api.view(record)
    if verbose:
        view.update(guardrail_type="user", persona_refs=_refs(api, ctx.tenant, record))
    return view


@SETS.creates
def create_set(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    return create_named_set(api, ctx, body, now, SETS, "guardrails_name")


@SETS.handles("createGuardrails")
def create(api: Api, ctx: Ctx) -> Answer:
    body = ctx.body
    individual = "guardrail_name" in body
    if individual and "data" in body:
        raise ApiError(400, "Invalid request: send a set (name, data) or one guardrail (guardrail_name, ...), not both")
    if not individual and "data" not in body:
        raise ApiError(
            400, "Invalid request: a set needs data; one guardrail needs guardrail_name and guardrail_prompt"
        )
    if individual:
        if "guardrail_prompt" not in body:
            raise ApiError(400, "Invalid request: guardrail_prompt is required")
        record = api.create(ITEMS, ctx.tenant, _item_data(body, None, iso_now()))
        return Answer(api.success(ctx.op), api.view(record))
    answer = api.generic("create", ctx)
    group = api.find("guardrails", ctx.tenant, answer.body["guardrails_id"], writable=True)
    for item in group.data["data"]:
        item.pop("uuid", None)  # the server gives the uuids
    _sync_set(api, ctx.tenant, group)
    return answer


@SETS.handles("getGuardrails")
def get(api: Api, ctx: Ctx) -> Answer:
    if _is_set(api, ctx):
        return api.generic("get", ctx)
    return Answer(200, _show(api, ctx, _item(api, ctx), verbose=True))


@SETS.handles("listGuardrails")
def list_guardrails(api: Api, ctx: Ctx) -> Answer:
    q = ctx.query
    if q.get("legacy", True):
        return api.generic("list", ctx)
    limit, page, offset, descending = api.paging(ctx)
    scope = q.get("type", "user")
    if scope == "system":  # Tavus's own guardrails: tavus-mock has none
        chunk, total = [], 0
    elif "name_or_uuid" in q or "tags" in q:  # filters: a scan of the key's guardrails
        needle = q.get("name_or_uuid", "")
        records = [
            r
            for r in api.visible(ITEMS, ctx.tenant)
            if (r.id == needle or needle.lower() in r.data["guardrail_name"].lower())
            and ("tags" not in q or matches_any_tag(r.data.get("tags") or (), q["tags"]))
        ]
        records.sort(key=lambda r: r.seq, reverse=descending)
        chunk, total = records[offset : offset + limit], len(records)
    else:
        order = "desc" if descending else "asc"
        chunk, total = api.page(ITEMS, ctx.tenant, offset=offset, limit=limit, order=order)
    verbose = bool(q.get("verbose"))
    items = [_show(api, ctx, r, verbose=verbose) for r in chunk]
    return Answer(200, {"data": items, "total_count": total, "page": page, "limit": limit})


@SETS.handles("patchGuardrails")
def patch(api: Api, ctx: Ctx) -> Answer:
    if _is_set(api, ctx):
        answer = api.generic("patch", ctx)
        _sync_set(api, ctx.tenant, api.find("guardrails", ctx.tenant, ctx.path["guardrails_id"], writable=True))
        return answer
    record = _item(api, ctx, writable=True)
    operations = [op for op in ctx.body if op.get("path") not in PERSISTED]
    view = api.view(record)
    patched = api.json_patch(record, operations) if operations else view
    unknown = sorted(set(patched) - api.fields(ITEMS))
    if unknown:
        raise ApiError(422, f"Invalid JSON patch format: /{unknown[0]} is not a field", key="message")
    fields = {k: patched.get(k) for k in ITEM_FIELDS if k in patched}
    errors = _check_fields(api, fields)
    if errors:
        raise ApiError(
            422, "Invalid JSON patch format: the result breaks the schema: " + "; ".join(errors), key="message"
        )
    if patched != view:
        record.data.update(fields, updated_at=iso_now())
        set_id = record.data.get(SET_ID)
        group = api.lookup("guardrails", ctx.tenant, set_id) if set_id else None
        if group is not None:  # the set's item follows
            api.change(group)
            for item in group.data["data"]:
                if item.get("uuid") == record.id:
                    item.update(
                        {k: fields[k] for k in ("guardrail_name", "guardrail_prompt", "modality") if k in fields}
                    )
                    if fields.get("callback_url"):
                        item["callback_url"] = fields["callback_url"]
                    else:  # none: a set's item leaves the key out (its schema has no null)
                        item.pop("callback_url", None)
                    item["tags"] = fields.get("tags", item.get("tags", []))
            group.data["updated_at"] = iso_now()
    return Answer(200, api.view(record))


@SETS.handles("deleteGuardrails")
def delete(api: Api, ctx: Ctx) -> Answer:
    if _is_set(api, ctx):
        set_id = ctx.path["guardrails_id"]
        answer = api.generic("delete", ctx)
        mirrors = _mirrors(api, ctx.tenant, set_id)
        for record in mirrors.values():
            api.delete(record)
        _forget(api, ctx.tenant, set_id=set_id, guardrail_ids=set(mirrors))
        return answer
    record = _item(api, ctx, writable=True)
    api.delete(record)
    owner_set = record.data.get(SET_ID)
    group = api.lookup("guardrails", ctx.tenant, owner_set) if owner_set else None
    if group is not None:  # leaves its set
        api.change(group)
        group.data["data"] = [i for i in group.data["data"] if i.get("uuid") != record.id]
        group.data["updated_at"] = iso_now()
    _forget(api, ctx.tenant, guardrail_ids={record.id})
    return Answer(204)


@SETS.handles("listGuardrailTags")
def tags(api: Api, ctx: Ctx) -> Answer:
    """Tags in use on the key's guardrails (a set's guardrails included), with how many carry each."""
    return tag_page(ctx, (r.data.get("tags") or () for r in api.visible(ITEMS, ctx.tenant)))
