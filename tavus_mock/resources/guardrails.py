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
import weakref
from typing import TYPE_CHECKING, Any

from ..core import Answer, Ctx, creates, handles, tag_page
from ..store import KINDS, ApiError, Kind, Record, iso_now, matches_any_tag
from .objectives import create_named_set

if TYPE_CHECKING:
    from ..app import TavusMock

ITEMS = "guardrail_items"
SET_ID = "guardrails_set_id"
ITEM_FIELDS = ("guardrail_name", "guardrail_prompt", "modality", "callback_url", "tool_call", "tags", "app_message")
# What the CLI sends back from a read as `add` operations; they change nothing (inventory 2.7).
PERSISTED = frozenset({"/uuid", "/owner_id", "/created_at", "/updated_at"})

KINDS[ITEMS] = Kind(
    ITEMS,
    "uuid",
    lambda: str(uuid.uuid4()),  # docs: individual guardrails are addressed by uuid
    read_only=frozenset({"uuid", SET_ID, "guardrail_type", "persona_refs"}),
    schema="IndividualGuardrail",  # served under the guardrails tag, beside the sets
)
_CHECKS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # per spec: a patched guardrail's check


def _check_fields(mock: TavusMock, fields: dict[str, Any]) -> list[str]:
    validator = _CHECKS.get(mock.spec)
    if validator is None:
        validator = _CHECKS[mock.spec] = mock.spec.validator(mock.spec.schema("IndividualGuardrailCreate"))
    errors: list[str] = validator.errors({k: v for k, v in fields.items() if v is not None})
    return errors


def _is_set(mock: TavusMock, ctx: Ctx) -> bool:
    """Whether the path's id names a set (else it must name an individual guardrail)."""
    return mock.store.exists("guardrails", ctx.tenant, ctx.path["guardrails_id"])


def _item(mock: TavusMock, ctx: Ctx, *, writable: bool = False) -> Record:
    try:
        return mock.store.find(ITEMS, ctx.tenant, ctx.path["guardrails_id"], writable=writable)
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


def _mirrors(mock: TavusMock, tenant: str, set_id: str) -> dict[str, Record]:
    return {r.id: r for r in mock.store.visible(ITEMS, tenant) if r.data.get(SET_ID) == set_id}


def _sync_set(mock: TavusMock, tenant: str, group: Record) -> None:
    """Make the set's guardrails and their mirrors agree, after the set was created or patched."""
    mirrors = _mirrors(mock, tenant, group.id)
    now = iso_now()
    kept = set()
    for item in group.data.get("data") or ():
        mirror = mirrors.get(item.get("uuid", ""))
        if mirror is None or mirror.id in kept:  # new, or a uuid the set does not own: a new guardrail
            mirror = mock.store.create(ITEMS, tenant, _item_data(item, group.id, now))
            item["uuid"] = mirror.id
        else:
            fresh = _item_data(item, group.id, now)
            fresh.update(created_at=mirror.data["created_at"], tool_call=mirror.data.get("tool_call"))
            fresh["app_message"] = mirror.data.get("app_message", True)
            if any(fresh[k] != mirror.data.get(k) for k in ITEM_FIELDS):
                mirror.data.update(fresh)
        kept.add(mirror.id)
    for gone in mirrors.keys() - kept:
        mock.store.delete(mirrors[gone], hard=False)
        _forget(mock, tenant, guardrail_ids={gone})


def _forget(
    mock: TavusMock, tenant: str, *, set_id: str | None = None, guardrail_ids: frozenset[str] | set[str] = frozenset()
) -> None:
    """PALs and personas stop using a deleted set or guardrails."""
    for persona in mock.store.visible("personas", tenant):
        data = persona.data
        if set_id is not None and data.get("guardrails_id") == set_id:
            data["guardrails_id"] = None
        ids = data.get("guardrail_ids")
        if ids and guardrail_ids & set(ids):
            data["guardrail_ids"] = [g for g in ids if g not in guardrail_ids]


def _refs(mock: TavusMock, tenant: str, record: Record) -> list[str]:
    set_id = record.data.get(SET_ID)
    return [
        p.id
        for p in mock.store.visible("personas", tenant)
        if record.id in (p.data.get("guardrail_ids") or ()) or (set_id and p.data.get("guardrails_id") == set_id)
    ]


def _show(mock: TavusMock, ctx: Ctx, record: Record, *, verbose: bool) -> dict[str, Any]:
    view = mock.view(record)
    if verbose:
        view.update(guardrail_type="user", persona_refs=_refs(mock, ctx.tenant, record))
    return view


@creates("guardrails")
def create_set(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    return create_named_set(mock, ctx, body, now, "guardrails_name")


@handles("createGuardrails")
def create(mock: TavusMock, ctx: Ctx) -> Answer:
    body = ctx.body
    individual = "guardrail_name" in body
    if individual and "data" in body:
        raise ApiError(400, "Invalid request: send a set (name, data) or one guardrail (guardrail_name, ...), not both")
    if not individual and "data" not in body:
        raise ApiError(
            400, "Invalid request: a set needs data; one guardrail needs guardrail_name and guardrail_prompt"
        )
    with mock.store.lock:
        if individual:
            if "guardrail_prompt" not in body:
                raise ApiError(400, "Invalid request: guardrail_prompt is required")
            record = mock.store.create(ITEMS, ctx.tenant, _item_data(body, None, iso_now()))
            return Answer(mock.success(ctx.op), mock.view(record))
        answer = mock.generic_create(ctx)
        group = mock.store.records["guardrails"][answer.body["guardrails_id"]]
        for item in group.data["data"]:
            item.pop("uuid", None)  # the server gives the uuids
        _sync_set(mock, ctx.tenant, group)
        return answer


@handles("getGuardrails")
def get(mock: TavusMock, ctx: Ctx) -> Answer:
    with mock.store.lock:
        if _is_set(mock, ctx):
            return mock.generic_get(ctx)
        return Answer(200, _show(mock, ctx, _item(mock, ctx), verbose=True))


@handles("listGuardrails")
def list_guardrails(mock: TavusMock, ctx: Ctx) -> Answer:
    q = ctx.query
    if q.get("legacy", True):
        return mock.generic_list(ctx)
    limit, page, offset, descending = mock.paging(ctx)
    scope = q.get("type", "user")
    with mock.store.lock:
        if scope == "system":  # Tavus's own guardrails: tavus-mock has none
            chunk, total = [], 0
        elif "name_or_uuid" in q or "tags" in q:  # filters: a scan of the key's guardrails
            needle = q.get("name_or_uuid", "")
            records = [
                r
                for r in mock.store.visible(ITEMS, ctx.tenant)
                if (r.id == needle or needle.lower() in r.data["guardrail_name"].lower())
                and ("tags" not in q or matches_any_tag(r.data.get("tags") or (), q["tags"]))
            ]
            records.sort(key=lambda r: r.seq, reverse=descending)
            chunk, total = records[offset : offset + limit], len(records)
        else:
            order = "desc" if descending else "asc"
            chunk, total = mock.store.page(ITEMS, ctx.tenant, offset=offset, limit=limit, order=order)
        verbose = bool(q.get("verbose"))
        items = [_show(mock, ctx, r, verbose=verbose) for r in chunk]
    return Answer(200, {"data": items, "total_count": total, "page": page, "limit": limit})


@handles("patchGuardrails")
def patch(mock: TavusMock, ctx: Ctx) -> Answer:
    with mock.store.lock:
        if _is_set(mock, ctx):
            answer = mock.generic_patch(ctx)
            _sync_set(mock, ctx.tenant, mock.store.records["guardrails"][ctx.path["guardrails_id"]])
            return answer
        record = _item(mock, ctx, writable=True)
        operations = [op for op in ctx.body if op.get("path") not in PERSISTED]
        view = mock.view(record)
        patched = mock.store.json_patch(record, operations, view) if operations else view
        unknown = sorted(set(patched) - set(KINDS[ITEMS].fields))
        if unknown:
            raise ApiError(422, f"Invalid JSON patch format: {', '.join(unknown)} is not a field", key="message")
        fields = {k: patched.get(k) for k in ITEM_FIELDS if k in patched}
        errors = _check_fields(mock, fields)
        if errors:
            raise ApiError(
                422, "Invalid JSON patch format: the result breaks the schema: " + "; ".join(errors), key="message"
            )
        if patched != view:
            record.data.update(fields, updated_at=iso_now())
            set_id = record.data.get(SET_ID)
            if set_id and mock.store.exists("guardrails", ctx.tenant, set_id):  # the set's item follows
                group = mock.store.records["guardrails"][set_id]
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
        return Answer(200, mock.view(record))


@handles("deleteGuardrails")
def delete(mock: TavusMock, ctx: Ctx) -> Answer:
    with mock.store.lock:
        if _is_set(mock, ctx):
            set_id = ctx.path["guardrails_id"]
            answer = mock.generic_delete(ctx)
            mirrors = _mirrors(mock, ctx.tenant, set_id)
            for record in mirrors.values():
                mock.store.delete(record, hard=False)
            _forget(mock, ctx.tenant, set_id=set_id, guardrail_ids=set(mirrors))
            return answer
        record = _item(mock, ctx, writable=True)
        mock.store.delete(record, hard=False)
        owner_set = record.data.get(SET_ID)
        if owner_set and mock.store.exists("guardrails", ctx.tenant, owner_set):  # leaves its set
            group = mock.store.records["guardrails"][owner_set]
            group.data["data"] = [i for i in group.data["data"] if i.get("uuid") != record.id]
            group.data["updated_at"] = iso_now()
        _forget(mock, ctx.tenant, guardrail_ids={record.id})
        return Answer(204)


@handles("listGuardrailTags")
def tags(mock: TavusMock, ctx: Ctx) -> Answer:
    """Tags in use on the key's guardrails (a set's guardrails included), with how many carry each."""
    with mock.store.lock:
        return tag_page(ctx, (r.data.get("tags") or () for r in mock.store.visible(ITEMS, ctx.tenant)))
