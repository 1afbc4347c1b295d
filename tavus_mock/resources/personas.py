"""Personas (PALs): create with reference checks, and publishing a PAL.

Evidence: research doc (create persona; `persona_type` "user"; the create answer's three fields) and
live-surface inventory 2.1 (PALs are personas under other names, tavus_mock/aliases.py; publish).
Get, list, patch and delete are the generic behaviours (app.py); a PAL's skills live in skills.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import Answer, Ctx, creates, handles, short
from ..store import KINDS, ApiError

if TYPE_CHECKING:
    from ..app import TavusMock

# Fields that name another resource (checked on create only when one of them is given).
REFERENCES = frozenset({"default_replica_id", "objectives_id", "guardrails_id", "guardrail_ids"})


@creates("personas")
def create(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    if not REFERENCES.isdisjoint(body):
        check_references(mock, ctx.tenant, body)
    fields = KINDS["personas"].field_set
    # The checked body is this request's own (parsed for it): stored as it is when every field is known.
    data = body if fields.issuperset(body) else {k: v for k, v in body.items() if k in fields}
    data.setdefault("document_ids", [])
    data.setdefault("document_tags", [])
    data["persona_type"] = "user"
    data["created_at"] = data["updated_at"] = now
    data.setdefault("persona_name", None)
    record = mock.store.create("personas", ctx.tenant, data)
    out = {"persona_id": record.id, "persona_name": data["persona_name"], "created_at": now}
    return Answer(ctx.op.success_statuses[0], out)


def check_references(mock: TavusMock, tenant: str, body: dict[str, Any]) -> None:
    """Refuse a persona body that names a replica, objectives or guardrails the key does not have."""
    store = mock.store
    if "default_replica_id" in body and not store.exists("replicas", tenant, body["default_replica_id"]):
        # "Invalid replica_uuid" is the real API's text [S1]; the rest names the field.
        raise ApiError(400, "Invalid replica_uuid: default_replica_id names no replica")
    for ref_field, ref_tag in (("objectives_id", "objectives"), ("guardrails_id", "guardrails")):
        if ref_field in body and not store.exists(ref_tag, tenant, body[ref_field]):
            raise ApiError(400, f"Invalid {ref_field}")
    unknown = [g for g in body.get("guardrail_ids") or () if not store.exists("guardrail_items", tenant, g)]
    if unknown:  # individual guardrails (docs create-guardrails: attached by uuid)
        raise ApiError(400, f"Invalid guardrail_ids: no guardrail {short(', '.join(unknown))}")


@handles("publishPal")
def publish(mock: TavusMock, ctx: Ctx) -> Answer:
    """Publish a PAL's PAL Maker draft. tavus-mock has no PAL Maker, so there is never a draft: success."""
    record = mock.store.find("personas", ctx.tenant, ctx.path["pal_id"], writable=True)
    data = record.data
    out = {
        "status": "success",
        "pal_id": record.id,
        "pal_name": data.get("persona_name"),
        "system_prompt": data.get("system_prompt"),
        "updated_at": data.get("updated_at"),
    }
    return Answer(200, out)
