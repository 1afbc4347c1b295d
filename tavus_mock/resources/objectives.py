"""Objectives: named sets of objectives, and the check of a set without storing it.

Evidence: research doc (objectives are a named set whose items sit in `data`; `next_required_objective`
singular, `next_conditional_objectives` a map) and live-surface inventory (validate objectives, with
`allow_loops`). Get, list, patch and delete are the generic behaviours.
"""

from __future__ import annotations

from typing import Any

from ..core import Answer, Api, Ctx, Family, register
from ..store import id_maker

FAMILY = register(
    Family(
        "objectives",
        "objectives_id",
        id_maker("o", 11),
        operations={
            "createObjectives": "create",
            "listObjectives": "list",
            "getObjective": "get",
            "patchObjective": "patch",
            "deleteObjective": "delete",
        },
    )
)


def create_named_set(api: Api, ctx: Ctx, body: dict[str, Any], now: str, family: Family, name_field: str) -> Answer:
    """A named set whose items sit in `data` (objectives; guardrail sets, guardrails.py)."""
    data = {name_field: body.get("name"), "data": body["data"], "created_at": now, "updated_at": now}
    record = api.create(family.tag, ctx.tenant, data)
    out = {family.id_field: record.id, name_field: data[name_field], "status": "active", "created_at": now}
    return Answer(api.success(ctx.op), out)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    return create_named_set(api, ctx, body, now, FAMILY, "objective_name")


@FAMILY.handles("validateObjectives")
def validate(api: Api, ctx: Ctx) -> Answer:
    """Check a set of objectives as create would store it; store nothing."""
    return Answer(200, check(ctx.body["data"], bool(ctx.body.get("allow_loops"))))


def check(items: list[dict[str, Any]], allow_loops: bool) -> dict[str, Any]:
    """{valid, errors} of a set: unique names, known references, one first objective, no cycle unless allowed."""
    errors: list[str] = []
    names = [str(item.get("objective_name")) for item in items]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"objective_name {name} is used more than once")
    follows: dict[str, list[str]] = {}
    for item, name in zip(items, names, strict=True):
        nexts = list((item.get("next_conditional_objectives") or {}).keys())
        if item.get("next_required_objective"):
            nexts.append(str(item["next_required_objective"]))
        follows[name] = nexts
        errors += [f"{name} refers to unknown objective {n}" for n in nexts if n not in names]
    referenced = {n for nexts in follows.values() for n in nexts}
    roots = [n for n in dict.fromkeys(names) if n not in referenced]
    if len(roots) != 1 and not (allow_loops and not roots):
        errors.append(f"a set has exactly one first objective (referenced by no other); found {len(roots)}")
    if not allow_loops:
        state: dict[str, int] = {}  # 1 visiting, 2 done
        for start in follows:
            stack = [(start, iter(follows.get(start, ())))]
            state[start] = state.get(start) or 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(child) == 1:
                    errors.append(f"objectives {node} and {child} form a cycle (allow_loops is false)")
                elif child in follows and not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(follows[child])))
    errors = list(dict.fromkeys(errors))
    return {"valid": not errors, "errors": errors}
