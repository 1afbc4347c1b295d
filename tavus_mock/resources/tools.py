"""Tools: the registry at /v2/tools and the tools attached to a PAL (/v2/pals/{pal_id}/tools).

Evidence: live-surface inventory 2.2 and 2.5 (docs create-tool and get-tools pages, tavus-cli 0.11.0
sdk/schemas/tool.py). The rules the schema cannot say are checked here: exactly one delivery channel,
https URLs, the auth variants and their secrets, origin-dependent fields, reserved parameter names,
the 10,000-character size, unique names per account. Secrets are stored and answered as `********`;
a request that sends `********` back is refused, so a secret is never silently replaced by asterisks.
Which PAL uses which tool is the persona's `tool_ids` (one record for PALs and personas).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ..core import Answer, Api, Ctx, Family, Record, register, short
from ..store import STOCK_CREATED, ApiError, id_maker, iso_now

SCRUBBED = "*" * 8
MAX_TOOL_SIZE = 10_000  # description + JSON of parameters (CLI tool.py:10, docs)
MAX_PAL_TOOLS = 50  # CLI tool.py:11 MAX_PERSONA_TOOLS
SECRET_FIELD = {  # the secret of each auth type (CLI tool.py:84-90)
    "bearer": "token",
    "basic": "password",
    "api_key": "value",
    "hmac": "secret",
    "oauth2_client_credentials": "client_secret",
}
AUTH_FIELDS = {  # the fields each auth type needs (CLI tool.py:27-75)
    "none": (),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("name", "value"),
    "hmac": ("secret",),
    "oauth2_client_credentials": ("token_url", "client_id", "client_secret"),
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
BODYLESS = frozenset({"GET", "HEAD", "DELETE"})
DEFAULTS: dict[str, Any] = {
    "parameters": {},
    "delivery": {"app_message": True},
    "trigger_type": "in_call",
    "origin": "llm",
    "on_call": None,
    "on_resolve": "fire_and_forget",
    "static_filler": None,
    "tags": [],
}


SECRETS = frozenset(SECRET_FIELD.values())  # masked by name, whatever type the auth declares


def _scrub(view: dict[str, Any]) -> dict[str, Any]:
    """The view with every secret of its auth answered as the placeholder: a field is masked by its name
    (token, password, value, secret, client_secret), whichever auth type carries it."""
    auth = ((view.get("delivery") or {}).get("api") or {}).get("auth")
    if not isinstance(auth, dict) or SECRETS.isdisjoint(auth):
        return view
    delivery = view["delivery"]
    masked = {k: (SCRUBBED if k in SECRETS and v is not None else v) for k, v in auth.items()}
    api = {**delivery["api"], "auth": masked}
    return {**view, "delivery": {**delivery, "api": api}}


def _system_tools() -> list[dict[str, Any]]:
    end_call: dict[str, Any] = {
        "tool_id": "end_call",
        "owner_id": None,
        "name": "end_call",
        "description": "End the conversation when the user asks to, or when it has reached its goal.",
        "parameters": {},
        "delivery": {"app_message": True},
        "is_system_tool": True,
        "trigger_type": "in_call",
        "origin": "llm",
        "on_call": None,
        "on_resolve": "fire_and_forget",
        "static_filler": None,
        "tags": [],
        "created_at": STOCK_CREATED,
        "updated_at": STOCK_CREATED,
    }
    return [end_call]


def _name_or_uuid(record: Record, value: str) -> bool:
    return record.id == value or value.lower() in str(record.data.get("name", "")).lower()


FAMILY = register(Family("tools", "tool_id", id_maker("t", 11), present=_scrub, stock=_system_tools))


def _bad(text: str) -> ApiError:
    return ApiError(400, f"Invalid request: {text}")


def _check_delivery(delivery: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The delivery to store: exactly one channel, an https URL, a complete auth (a secret left out is
    kept from `stored`, the current delivery, when the auth type is unchanged)."""
    has_app, api = delivery.get("app_message") is True, delivery.get("api")
    if has_app == (api is not None):
        raise _bad("delivery must enable exactly one channel: app_message true, or api")
    if api is None:
        return {"app_message": True}
    api = {"method": "POST", "timeout": 10, **api}
    if not api["url"].lower().startswith("https://"):
        raise _bad(f"delivery.api.url must be an https:// URL, not {short(api['url'])}")
    if api.get("body_template") is not None and api["method"] in BODYLESS:
        raise _bad(f"delivery.api.body_template cannot be sent with {api['method']}")
    auth = api.get("auth")
    if isinstance(auth, dict):
        kind = auth["type"]
        secret = SECRET_FIELD.get(kind)
        placeholder = sorted(name for name in SECRETS if auth.get(name) == SCRUBBED)
        if placeholder:
            raise _bad(
                f"delivery.api.auth.{placeholder[0]} is the {SCRUBBED} placeholder of an answer; "
                "leave it out to keep the stored secret"
            )
        old_auth = (((stored or {}).get("api") or {}).get("auth")) or {}
        if secret is not None and secret not in auth and old_auth.get("type") == kind and secret in old_auth:
            auth = api["auth"] = {**auth, secret: old_auth[secret]}
        missing = [f for f in AUTH_FIELDS[kind] if not auth.get(f)]
        if missing:
            raise _bad(f"delivery.api.auth of type {kind} needs {', '.join(missing)}")
        if kind == "oauth2_client_credentials" and not auth["token_url"].lower().startswith("https://"):
            raise _bad("delivery.api.auth.token_url must be an https:// URL")
        if kind == "hmac" and (api.get("body_template") or api.get("query_params") or PLACEHOLDER.search(api["url"])):
            raise _bad(
                "auth type hmac sends a fixed body to a fixed URL: no body_template, query_params or URL placeholders"
            )
    kept = {"app_message": False} if delivery.get("app_message") is False else {}  # sent beside api: stored
    return {"api": api, **kept}


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    return set()


def _check_tool(tool: dict[str, Any]) -> None:
    """The rules across fields of a complete tool (after defaults, or after a partial update)."""
    params = tool["parameters"] or {}
    size = len(tool.get("description") or "") + len(orjson.dumps(params, option=orjson.OPT_SORT_KEYS))
    if size > MAX_TOOL_SIZE:
        raise _bad(f"description and parameters serialize to {size} characters; at most {MAX_TOOL_SIZE}")
    found = params.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    reserved = sorted(name for name in props if name.startswith("tavus_"))
    if reserved:
        raise _bad(f"parameter names starting with tavus_ are reserved: {', '.join(reserved)}")
    api = tool["delivery"].get("api")
    if api is not None:
        used = (
            _placeholders(api["url"]) | _placeholders(api.get("body_template")) | _placeholders(api.get("query_params"))
        )
        missing = sorted(n for n in used - set(props) if not n.startswith("tavus_"))
        if missing:
            raise _bad(f"delivery.api uses placeholders not declared in parameters.properties: {', '.join(missing)}")
    if tool["trigger_type"] == "post_call" and api is None:
        raise _bad("a post_call tool is delivered by delivery.api")
    origin = tool["origin"]
    if origin == "llm":
        if tool["on_call"] == "static_filler" and not tool["static_filler"]:
            raise _bad("static_filler is needed when on_call is static_filler")
        return
    if tool["on_call"] is not None:
        raise _bad(f"on_call must be null for {origin} tools")
    if tool["on_resolve"] not in (None, "fire_and_forget"):
        raise _bad(f"on_resolve must be fire_and_forget for {origin} tools")
    if tool["static_filler"] is not None:
        raise _bad(f"static_filler must be null for {origin} tools")


def _name_taken(api: Api, tenant: str, name: str, but: str | None = None) -> None:
    for record in api.visible("tools", tenant):
        if record.data.get("name") == name and record.id != but:
            raise ApiError(409, f"A tool named {short(name)} already exists")


@FAMILY.handles("createTool")
def create_tool(api: Api, ctx: Ctx) -> Answer:
    body = ctx.body
    now = iso_now()
    tool = {**DEFAULTS, **{k: v for k, v in body.items() if k in DEFAULTS or k in ("name", "description")}}
    if tool["origin"] != "llm" and "on_resolve" not in body:
        tool["on_resolve"] = "fire_and_forget"
    tool["delivery"] = _check_delivery(tool["delivery"], None)
    _check_tool(tool)
    _name_taken(api, ctx.tenant, tool["name"])
    tool.update(owner_id=ctx.account, is_system_tool=False, created_at=now, updated_at=now)
    record = api.create("tools", ctx.tenant, tool)
    return Answer(api.success(ctx.op), api.view(record))


@FAMILY.handles("getTool")
def get_tool(api: Api, ctx: Ctx) -> Answer:
    return Answer(200, api.view(api.find("tools", ctx.tenant, ctx.path["tool_id"])))


@FAMILY.handles("listTools")
def list_tools(api: Api, ctx: Ctx) -> Answer:
    q = ctx.query
    limit, _page, offset, descending = api.paging(ctx)
    scope = q.get("type", "user")
    if "name_or_uuid" in q:  # a scan of the key's tools (documented in the spec: a filter)
        needle = q["name_or_uuid"]
        records = [
            r
            for r in api.visible("tools", ctx.tenant)
            if (scope == "all" or (r.tenant is None) == (scope == "system")) and _name_or_uuid(r, needle)
        ]
        records.sort(key=lambda r: r.seq, reverse=descending)
        chunk, total = records[offset : offset + limit], len(records)
    else:
        owner = None if scope == "all" else scope
        order = "desc" if descending else "asc"
        chunk, total = api.page("tools", ctx.tenant, owner=owner, offset=offset, limit=limit, order=order)
    return Answer(200, {"data": [api.view(r, listing=True) for r in chunk], "total_count": total})


@FAMILY.handles("patchTool")
def patch_tool(api: Api, ctx: Ctx) -> Answer:
    body = ctx.body
    record = api.find("tools", ctx.tenant, ctx.path["tool_id"], writable=True)
    tool = {**record.data, **{k: v for k, v in body.items() if k in DEFAULTS or k in ("name", "description")}}
    if "delivery" in body:
        tool["delivery"] = _check_delivery(body["delivery"], record.data["delivery"])
    _check_tool(tool)
    if tool["name"] != record.data["name"]:
        _name_taken(api, ctx.tenant, tool["name"], but=record.id)
    tool["updated_at"] = iso_now()
    record.data.update(tool)
    return Answer(200, api.view(record))


@FAMILY.handles("deleteTool")
def delete_tool(api: Api, ctx: Ctx) -> Answer:
    record = api.find("tools", ctx.tenant, ctx.path["tool_id"], writable=True)
    api.delete(record)
    for persona in api.visible("personas", ctx.tenant):  # PALs stop using it
        ids = persona.data.get("tool_ids")
        if ids and record.id in ids and persona.tenant is not None:
            api.change(persona)["tool_ids"] = [i for i in ids if i != record.id]
    return Answer(204)


# -- the tools of one PAL ----------------------------------------------------------------------
def _pal(api: Api, ctx: Ctx, *, writable: bool = False) -> Record:
    return api.find("personas", ctx.tenant, ctx.path["pal_id"], writable=writable)


def _attached(api: Api, ctx: Ctx, pal: Record) -> Answer:
    tools = []
    for tool_id in pal.data.get("tool_ids") or ():
        tool = api.lookup("tools", ctx.tenant, tool_id)
        if tool is not None and tool.tenant is not None:  # registry tools only; system tools are not listed
            tools.append(api.view(tool, listing=True))
    return Answer(200, {"data": tools})


@FAMILY.handles("listPalTools")
def list_pal_tools(api: Api, ctx: Ctx) -> Answer:
    return _attached(api, ctx, _pal(api, ctx))


@FAMILY.handles("attachToolsToPal")
def attach_tools(api: Api, ctx: Ctx) -> Answer:
    wanted = list(dict.fromkeys(ctx.body["tool_ids"]))
    pal = _pal(api, ctx, writable=True)
    for tool_id in wanted:
        tool = api.lookup("tools", ctx.tenant, tool_id)
        if tool is None:
            raise _bad(f"no tool {short(tool_id)}")
        if tool.tenant is None:
            raise _bad(f"{short(tool_id)} is a system tool; only registry tools are attached")
    current = list(pal.data.get("tool_ids") or ())
    merged = current + [t for t in wanted if t not in current]
    if len(merged) > MAX_PAL_TOOLS:
        raise _bad(f"a PAL holds at most {MAX_PAL_TOOLS} tools; this would make {len(merged)}")
    if merged != current:
        pal.data.update(tool_ids=merged, updated_at=iso_now())
    return _attached(api, ctx, pal)


@FAMILY.handles("detachToolFromPal")
def detach_tool(api: Api, ctx: Ctx) -> Answer:
    pal = _pal(api, ctx, writable=True)
    current = list(pal.data.get("tool_ids") or ())
    tool_id = ctx.path["tool_id"]
    if tool_id not in current:
        raise ApiError(404, f"Tool {short(tool_id)} is not attached to this PAL", key="message")
    pal.data.update(tool_ids=[t for t in current if t != tool_id], updated_at=iso_now())
    return Answer(204)
