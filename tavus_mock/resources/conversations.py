"""Conversations: create (with either vocabulary: persona/replica or PAL/face), end, and their events.

Evidence: research doc (create answers name, URL, status, callback URL and time; `test_mode` makes an
ended conversation that no replica joins; `require_auth` adds a meeting token; end is 200 and posts the
shutdown and transcript events to the callback URL) and live-surface inventory 2.1 (`pal_id`/`face_id`).
Get, list and delete are the generic behaviours.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, Record, register
from ..store import ApiError, id_maker, iso_now

SHUTDOWN = "end_conversation_endpoint_hit"

FAMILY = register(
    Family(
        "conversations",
        "conversation_id",
        id_maker("c", 14),
        terse=frozenset({"events", "shutdown_reason"}),
        filters={"status": lambda record, value: record.data.get("status") == value},
        operations={
            "createConversation": "create",
            "listConversations": "list",
            "getConversation": "get",
            "deleteConversation": "delete",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    # Both vocabularies are accepted (persona_id/replica_id and the PAL-era pal_id/face_id).
    persona_id, persona_field = _one_of(body, "persona_id", "pal_id")
    replica_id, replica_field = _one_of(body, "replica_id", "face_id")
    persona = api.lookup("personas", ctx.tenant, persona_id) if persona_id is not None else None
    if persona_id is not None and persona is None:
        raise ApiError(400, f"Invalid {persona_field}: no such {'PAL' if persona_field == 'pal_id' else 'persona'}")
    if replica_id is None and persona is not None:
        replica_id = persona.data.get("default_replica_id")
        replica_field = "default_face_id" if persona_field == "pal_id" else "default_replica_id"
    if replica_id is None:
        if persona_field == "pal_id":
            raise ApiError(400, "A face_id (or replica_id) is needed: the PAL has no default_face_id")
        raise ApiError(400, "A replica_id (or face_id) is needed: the persona has no default_replica_id")
    if not api.exists("replicas", ctx.tenant, replica_id):
        kind = "face" if "face" in replica_field else "replica"
        raise ApiError(400, f"Invalid {replica_field}: no such {kind}")
    test_mode = bool(body.get("test_mode"))
    private = bool(body.get("require_auth") or (body.get("properties") or {}).get("require_auth"))
    data: dict[str, Any] = {
        "conversation_name": body.get("conversation_name"),
        "status": "ended" if test_mode else "active",
        "callback_url": body.get("callback_url"),
        "replica_id": replica_id,
        "persona_id": persona_id,
        "created_at": now,
        "updated_at": now,
        "events": [],
        "shutdown_reason": None,
    }
    record = api.create("conversations", ctx.tenant, data)
    data["conversation_url"] = f"https://tavus.daily.co/{record.id}"
    out = {k: data[k] for k in ("conversation_name", "conversation_url", "status", "callback_url", "created_at")}
    out["conversation_id"] = record.id
    if private:
        out["meeting_token"] = "mock." + record.id + "." + record.id[::-1]
    if not test_mode:
        _event(api, record, "system.replica_joined", "system", {"replica_id": replica_id})
    return Answer(api.success(ctx.op), out)


@FAMILY.handles("endConversation")
def end(api: Api, ctx: Ctx) -> Answer:
    record = api.find("conversations", ctx.tenant, ctx.path["conversation_id"], writable=True)
    data = record.data
    if data["status"] != "ended":
        data.update(status="ended", updated_at=iso_now(), shutdown_reason=SHUTDOWN)
        replica = {"replica_id": data["replica_id"]}
        _event(api, record, "system.shutdown", "system", {**replica, "shutdown_reason": SHUTDOWN})
        _event(api, record, "application.transcription_ready", "application", {**replica, "transcript": []})
    return Answer(api.success(ctx.op))


# What a test may make a conversation send (the event types the spec documents); each goes to the
# conversation's event log and, as Tavus sends it, to its callback_url.
EVENTS = frozenset(
    {
        "system.replica_joined",
        "system.shutdown",
        "application.transcription_ready",
        "application.perception_analysis",
        "application.recording_ready",
    }
)


@FAMILY.control("events")
def emit(api: Api, conversation_id: str, body: dict[str, Any]) -> Answer:
    """Make a conversation produce an event now (control plane), e.g. a transcript after a call."""
    event = body.get("event_type")
    properties = body.get("properties") or {}
    if event not in EVENTS or not isinstance(properties, dict):
        known = ", ".join(sorted(EVENTS))
        raise ApiError(400, f"Invalid request: event_type must be one of {known}; properties an object")
    record = api.lookup_any("conversations", conversation_id)
    if record is None:
        raise ApiError(404, "Conversation not found", key="message")
    api.change(record)
    properties = {"replica_id": record.data.get("replica_id"), **properties}
    if event == "system.shutdown":
        reason = properties.setdefault("shutdown_reason", SHUTDOWN)
        record.data.update(status="ended", updated_at=iso_now(), shutdown_reason=reason)
    _event(api, record, event, event.partition(".")[0], properties)
    return Answer(200, {"conversation_id": record.id, "event_type": event, "properties": properties})


def _event(api: Api, record: Record, event: str, message_type: str, properties: dict[str, Any]) -> None:
    """Log an event on the conversation and post it to its callback URL, if it has one."""
    stamp = iso_now()
    record.data["events"].append({"event_type": event, "timestamp": stamp, "properties": properties})
    url = record.data.get("callback_url")
    if url:
        payload = {
            "conversation_id": record.id,
            "event_type": event,
            "message_type": message_type,
            "timestamp": stamp,
            "webhook_url": url,
            "properties": properties,
        }
        api.post_soon(url, payload)


def _one_of(body: dict[str, Any], legacy: str, current: str) -> tuple[Any, str]:
    """The value given under either name, and the name used; two different values are a 400."""
    old, new = body.get(legacy), body.get(current)
    if old is not None and new is not None and old != new:
        raise ApiError(400, f"Invalid request: {legacy} and {current} name different resources; give one of them")
    if new is not None:
        return new, current
    return old, legacy
