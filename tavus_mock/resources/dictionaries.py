"""Pronunciation dictionaries: named lists of rules a persona's TTS layer can use.

Evidence: research doc status matrix (create answers 201, the only create that does; a patch that
changes nothing 304) and the rules the spec writes down for these operations (rule defaults:
`case_sensitive` off, `word_boundaries` on; a rule's `text` unique in its dictionary; a JSON Patch may
change only `/name` and `/rules`; lists newest first). Deleting a dictionary makes the personas that
used it stop using it. Get and list are the generic behaviours (app.py).
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, register
from ..store import ApiError, id_maker

TAG = "pronunciation_dictionaries"


def checked_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dictionary rules with their defaults filled in; the same `text` twice is refused."""
    seen: set[str] = set()
    out = []
    for rule in rules:
        if rule["text"] in seen:
            raise ApiError(400, "Invalid request: duplicate text values in rules")
        seen.add(rule["text"])
        out.append({"case_sensitive": False, "word_boundaries": True, **rule})
    return out


def only_name_and_rules(operations: list[dict[str, Any]]) -> None:
    for op in operations:
        for pointer in (op.get("path"), op.get("from")):
            if pointer is not None and not (pointer in ("/name", "/rules") or pointer.startswith("/rules/")):
                message = f"Invalid JSON patch format: only /name and /rules can be changed, not {pointer}"
                raise ApiError(422, message, key="message")


def _normalize(patched: dict[str, Any]) -> None:
    patched["rules"] = checked_rules(patched.get("rules", []))
    patched["rules_count"] = len(patched["rules"])


FAMILY = register(
    Family(
        TAG,
        "pronunciation_dictionary_id",
        id_maker("pd_", 14),
        check_patch=only_name_and_rules,
        normalize=_normalize,
        operations={
            "createPronunciationDictionary": "create",
            "listPronunciationDictionaries": "list",
            "getPronunciationDictionary": "get",
            "patchPronunciationDictionary": "patch",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    rules = checked_rules(body.get("rules", []))
    data = {"name": body["name"], "rules": rules, "rules_count": len(rules), "created_at": now, "updated_at": now}
    record = api.create(TAG, ctx.tenant, data)
    return Answer(api.success(ctx.op), api.view(record))


@FAMILY.handles("deletePronunciationDictionary")
def delete(api: Api, ctx: Ctx) -> Answer:
    answer = api.generic("delete", ctx)
    gone = ctx.path[FAMILY.id_field]
    for persona in api.visible("personas", ctx.tenant):  # personas that used it stop using it
        tts = (persona.data.get("layers") or {}).get("tts") or {}
        if tts.get("pronunciation_dictionary_id") == gone and persona.tenant is not None:
            api.change(persona)
            del tts["pronunciation_dictionary_id"]
    return answer
