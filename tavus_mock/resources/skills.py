"""Skills: Tavus's registry at /v2/skills and the skills attached to a PAL (/v2/pals/{pal_id}/skills).

Evidence: live-surface inventory 2.3 (docs pal-skills pages and skills overview; tavus-cli 0.11.0
sdk/client/http.py:455-477, sdk/recipes/capabilities.py:30-82 for the four known ids). A PAL's skills
are a map keyed by skill id, kept on the PAL's record (one record for PALs and personas) beside the
fields a GET shows. An unknown PAL is answered 400 `{"error": "PAL not found"}`, as the docs show.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, Record, register, short
from ..store import STOCK_CREATED, ApiError, id_maker, iso_now

SKILLS_KEY = "_skills"  # on the persona record; not a field of the PAL, so no read shows it
SLIDES_TRIGGERS = ("on_demand", "walk_the_deck")  # docs attach-skill-to-pal (presentation)

# The registry's ids are Tavus's (CLI capabilities.py); the names and texts are ours.
REGISTRY = (
    (
        "internet_search",
        "Internet search",
        "Search the web during a call and answer from the results.",
        ["internet_search"],
    ),
    (
        "presentation",
        "Presentation",
        "Present slides made from documents, on request or as a walk-through.",
        ["show_slide"],
    ),
    (
        "magic_canvas",
        "Magic canvas",
        "Show cards, forms and scheduling links on screen during a call.",
        ["show_component"],
    ),
    ("memory", "Memory", "Remember facts about a participant across conversations.", ["remember", "recall"]),
)


def _registry() -> list[dict[str, Any]]:
    return [
        {
            "skill_id": skill_id,
            "display_name": name,
            "description": text,
            "tool_names": tools,
            "created_at": STOCK_CREATED,
            "updated_at": STOCK_CREATED,
        }
        for skill_id, name, text, tools in REGISTRY
    ]


FAMILY = register(Family("skills", "skill_id", id_maker("skill_", 8), stock=_registry))


@FAMILY.handles("listSkills")
def list_skills(api: Api, ctx: Ctx) -> Answer:
    records = api.visible("skills", ctx.tenant)
    return Answer(200, {"data": [api.view(r, listing=True) for r in records], "total_count": len(records)})


@FAMILY.handles("getSkill")
def get_skill(api: Api, ctx: Ctx) -> Answer:
    return Answer(200, api.view(api.find("skills", ctx.tenant, ctx.path["skill_id"])))


# -- the skills of one PAL ---------------------------------------------------------------------
def _pal(api: Api, ctx: Ctx, *, writable: bool = False) -> Record:
    if not api.exists("personas", ctx.tenant, ctx.path["pal_id"]):
        raise ApiError(400, "PAL not found")
    return api.find("personas", ctx.tenant, ctx.path["pal_id"], writable=writable)


def _skills(pal: Record) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = pal.data.setdefault(SKILLS_KEY, {})
    return found


def _check_config(api: Api, ctx: Ctx, skill_id: str, config: dict[str, Any]) -> None:
    if not api.exists("skills", ctx.tenant, skill_id):
        raise ApiError(404, f"No skill {short(skill_id)} in the registry (see GET /v2/skills)", key="message")
    if skill_id != "presentation":
        return
    ids = config.get("document_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "Invalid request: presentation needs config.document_ids, a list of document ids")
    unknown = [i for i in ids if not api.exists("documents", ctx.tenant, i)]
    if unknown:
        raise ApiError(400, f"Invalid request: config.document_ids names no document: {short(', '.join(unknown))}")
    trigger = config.get("slides_trigger")
    if trigger is not None and trigger not in SLIDES_TRIGGERS:
        raise ApiError(400, f"Invalid request: config.slides_trigger must be one of {', '.join(SLIDES_TRIGGERS)}")


def _attachment(skills: dict[str, dict[str, Any]], skill_id: str) -> dict[str, Any]:
    found = skills.get(skill_id)
    if found is None:
        raise ApiError(404, f"Skill {short(skill_id)} is not attached to this PAL", key="message")
    return found


@FAMILY.handles("listPalSkills")
def list_pal_skills(api: Api, ctx: Ctx) -> Answer:
    pal = _pal(api, ctx)
    return Answer(200, {"data": dict(pal.data.get(SKILLS_KEY) or {})})


@FAMILY.handles("getPalSkill")
def get_pal_skill(api: Api, ctx: Ctx) -> Answer:
    pal = _pal(api, ctx)
    return Answer(200, _attachment(pal.data.get(SKILLS_KEY) or {}, ctx.path["skill_id"]))


@FAMILY.handles("attachSkillToPal")
def attach_skill(api: Api, ctx: Ctx) -> Answer:
    config = dict((ctx.body or {}).get("config") or {})
    skill_id = ctx.path["skill_id"]
    pal = _pal(api, ctx, writable=True)
    _check_config(api, ctx, skill_id, config)
    skills = _skills(pal)
    now = iso_now()
    attached_at = skills[skill_id]["attached_at"] if skill_id in skills else now
    skills[skill_id] = {"skill_id": skill_id, "config": config, "attached_at": attached_at, "updated_at": now}
    return Answer(200, skills[skill_id])


@FAMILY.handles("updatePalSkill")
def update_pal_skill(api: Api, ctx: Ctx) -> Answer:
    changes = dict(ctx.body.get("config") or {})
    skill_id = ctx.path["skill_id"]
    pal = _pal(api, ctx, writable=True)
    skills = _skills(pal)
    current = _attachment(skills, skill_id)
    config = {**current["config"], **changes}  # a merge: given keys replace, null removes
    config = {k: v for k, v in config.items() if v is not None}
    _check_config(api, ctx, skill_id, config)
    skills[skill_id] = {**current, "config": config, "updated_at": iso_now()}
    return Answer(200, skills[skill_id])


@FAMILY.handles("detachSkillFromPal")
def detach_skill(api: Api, ctx: Ctx) -> Answer:
    pal = _pal(api, ctx, writable=True)
    skills = _skills(pal)
    _attachment(skills, ctx.path["skill_id"])
    del skills[ctx.path["skill_id"]]
    return Answer(204)


@FAMILY.handles("replacePalSkills")
def replace_pal_skills(api: Api, ctx: Ctx) -> Answer:
    wanted = ctx.body["skills"]
    pal = _pal(api, ctx, writable=True)
    configs = {skill_id: dict((entry or {}).get("config") or {}) for skill_id, entry in wanted.items()}
    for skill_id, config in configs.items():
        _check_config(api, ctx, skill_id, config)  # all checked before anything changes
    old, now = _skills(pal), iso_now()
    pal.data[SKILLS_KEY] = {
        skill_id: {
            "skill_id": skill_id,
            "config": config,
            "attached_at": old[skill_id]["attached_at"] if skill_id in old else now,
            "updated_at": now,
        }
        for skill_id, config in configs.items()
    }
    return Answer(200, {"data": dict(pal.data[SKILLS_KEY])})
