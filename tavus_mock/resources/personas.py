"""Personas (PALs): stock PALs, create, the references a persona holds, publishing a PAL; /v2/pals is
the same records under PAL-era names (tavus_mock/aliases.py).

Evidence: research doc (create persona; `persona_type` "user"; the create answer's three fields) and
live-surface inventory 2.1 (PALs are personas under other names; publish). Stock ids: inventory
(livekit-plugins-tavus default pb87e71797da, pipecat-ai's "pipecat0") and Tavus's docs (the stock
personas page and its use-case pages: p1af207b8189, paaee96e4f87, pdac61133ac5, pcb7a34da5fe, with
their names).
Get, list, patch and delete are the generic behaviours; a PAL's skills and tools live in skills.py and
tools.py, on this family's records.
"""

from __future__ import annotations

from typing import Any

from ..aliases import Alias
from ..core import Answer, Api, Ctx, Family, Reference, register
from ..store import STOCK_CREATED, id_maker
from .replicas import STOCK_REPLICA_ID

STOCK_PERSONA_ID = "pdced222244b"
STOCK_PERSONAS = (
    # (id, name, default replica, system prompt). Names and default replicas where Tavus's docs give them
    # (docs stock-personas page and the use-case pages: Sales Coach, Customer Support with
    # r3f427f43c9d, Interviewer Template, Tavus SDR); the prompts are ours (the docs' are long texts).
    (STOCK_PERSONA_ID, "Default persona", STOCK_REPLICA_ID, "You coach sales people through realistic practice calls."),
    ("pb87e71797da", "Stock PAL (LiveKit default)", "r4067604db72", "You are a friendly, concise assistant."),
    ("pcb7a34da5fe", "Tavus SDR", "r90bbd427f71", "You are a warm, purposeful sales development rep."),
    ("p1af207b8189", "Sales Coach", "r4f5b5ef55c8", "You teach sales tips and strategies."),
    ("paaee96e4f87", "Customer Support", "r3f427f43c9d", "You help users with product issues, briefly."),
    ("pdac61133ac5", "Interviewer Template", STOCK_REPLICA_ID, "You run structured screening interviews."),
    ("pipecat0", "Pipecat default persona", STOCK_REPLICA_ID, "You are a voice assistant run by Pipecat."),
)


def _stock() -> list[dict[str, Any]]:
    return [
        {
            "persona_id": pid,
            "persona_name": name,
            "persona_type": "system",
            "system_prompt": prompt,
            "pipeline_mode": "full",
            "default_replica_id": replica,
            "document_ids": [],
            "document_tags": [],
            "layers": {"llm": {"model": "tavus-gpt-oss"}, "tts": {"tts_engine": "cartesia"}},
            "created_at": STOCK_CREATED,
            "updated_at": STOCK_CREATED,
        }
        for pid, name, replica, prompt in STOCK_PERSONAS
    ]


FAMILY = register(
    Family(
        "personas",
        "persona_id",
        id_maker("p", 11),
        type_field="persona_type",
        stock=_stock,
        # Each must name the same key's resource, or a stock one [S1: "Invalid replica_uuid"].
        references=(
            Reference(
                "default_replica_id", "replicas", message="Invalid replica_uuid: default_replica_id names no replica"
            ),
            Reference("objectives_id", "objectives", label="objectives"),
            Reference("guardrails_id", "guardrails", label="guardrails set"),
            Reference("guardrail_ids", "guardrail_items", many=True, label="guardrail"),
            Reference("document_ids", "documents", many=True, label="document"),
            Reference("tool_ids", "tools", many=True, label="tool"),
        ),
        operations={
            "createPersona": "create",
            "listPersonas": "list",
            "getPersona": "get",
            "patchPersona": "patch",
            "deletePersona": "delete",
        },
        alias=Alias(
            "pals",
            "personas",
            (
                ("persona_id", "pal_id"),
                ("persona_name", "pal_name"),
                ("persona_type", "pal_type"),
                ("default_replica_id", "default_face_id"),
            ),
        ),
        alias_operations={
            "createPal": "createPersona",
            "listPals": "listPersonas",
            "getPal": "getPersona",
            "patchPal": "patchPersona",
            "deletePal": "deletePersona",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    # The checked body is this request's own (parsed for it); its references are checked when the
    # request ends, as on every write.
    data = dict(body)
    data.setdefault("document_ids", [])
    data.setdefault("document_tags", [])
    data["persona_type"] = "user"
    data["created_at"] = data["updated_at"] = now
    data.setdefault("persona_name", None)
    record = api.create("personas", ctx.tenant, data)
    out = {"persona_id": record.id, "persona_name": data["persona_name"], "created_at": now}
    return Answer(ctx.op.success_statuses[0], out)


@FAMILY.handles("publishPal")
def publish(api: Api, ctx: Ctx) -> Answer:
    """Publish a PAL's PAL Maker draft. tavus-mock has no PAL Maker, so there is never a draft: success."""
    record = api.find("personas", ctx.tenant, ctx.path["pal_id"], writable=True)
    data = record.data
    out = {
        "status": "success",
        "pal_id": record.id,
        "pal_name": data.get("persona_name"),
        "system_prompt": data.get("system_prompt"),
        "updated_at": data.get("updated_at"),
    }
    return Answer(200, out)
