"""A small Tavus-compatible server written from the spec alone, to test tavus-contract with.

It imports nothing of tavus_mock and shares none of its code: the standard library's HTTP server, the
`jsonschema` validator over the spec's own schemas, and `jsonpatch`. It covers personas, replicas,
conversations, pronunciation dictionaries, tools, documents and objectives (39 operations) the way a
team building its own server might: per-key accounts, stock resources every key reads, paged lists
(from 1 and from 0, in a default order), JSON Patch, flat updates, verbose reads, a tool's rules and
masked secrets, tag counts, a cursor, a recrawl cooldown, the check of an objectives graph.

`Independent(mistake=...)` makes one realistic mistake of the kinds teams make (see MISTAKES); the
contract suite must catch each, and pass the server without one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import jsonpatch
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "tavus.yaml"

MISTAKES = {
    "page_from_zero": "pages are counted from 0, though the spec counts these lists from 1",
    "limit_ignored": "lists answer up to 25 items whatever `limit` says",
    "total_all_tenants": "total_count counts every account's records",
    "total_ignores_filters": "total_count counts the records before the filter",
    "patch_not_atomic": "a JSON Patch is applied one operation at a time to the stored record",
    "drops_context": "a persona's optional `context` is not stored",
    "soft_delete_listed": "a deleted persona is hidden from reads but still listed",
    "delete_answers_200": "deleting a persona answers 200 with a message (the spec says 204)",
    "ids_reused": "ids are a counter of live records, so a deleted record's id comes back",
    "cross_tenant_read": "a read by id finds another account's record",
    "end_not_final": "ending a conversation answers 200 but it stays active",
    "rename_not_stored": "renaming a replica answers 200 but keeps the old name",
    "filter_ignored": "the persona list ignores `persona_type`",
    "page_overlap": "a later page starts one item early (repeats the last item of the page before)",
    "patch_lost": "a JSON Patch is answered 200 but applied to a copy",
    "error_shape": "a 404 answers {'detail': ...}, which is neither `error` nor `message`",
    "verbose_ignored": "`verbose=true` does not add `replica_type` to a replica",
    "not_listed_when_new": "lists are served from a snapshot taken before the newest creates",
    "filter_too_strict": "the conversation list filtered by `status` compares with the stored upper-case"
    " value, so it finds nothing",
    "default_order_flipped": "the dictionary list comes oldest first when no `sort` is given (the spec: newest first)",
    "sort_ignored": "the dictionary list ignores `sort` and always comes newest first",
    "rules_dropped": "a dictionary's rules are not stored",
    "sort_spelling": "the dictionary list knows `desc` but not the other spelling the spec allows, `descending`",
    "tool_secret_in_clear": "a tool's bearer token is stored and answered as sent, not as `********`",
    "tool_names_repeat": "tool names are not checked for uniqueness when a tool is created",
    "tool_rename_unchecked": "a tool's PATCH renames it to a name another tool of the key has",
    "tool_name_filter_ignored": "the tool list ignores `name_or_uuid`",
    "tool_update_ignored": "a tool's PATCH answers 200 with the change but stores nothing",
    "stock_writable": "a write checks that no other key owns the record, so any key renames or deletes stock ones",
    "tool_resolve_default": "a tool created without `on_resolve` gets `generate_response` (the spec: fire_and_forget)",
    "tool_two_channels": "a tool may be delivered both as an app message and to an API (the docs: exactly one)",
    "recrawl_anytime": "a document may be recrawled again at once (the docs: one recrawl per document per hour)",
    "recrawl_retry_now": "the recrawl cooldown is answered 429 with Retry-After: 0",
    "tag_count_all_keys": "the document tag list counts every account's documents",
    "document_status_ignored": "the document list ignores `status`",
    "chunks_never_end": "the chunk cursor always offers a next page, also after the last chunk",
    "document_tags_appended": "a document's PATCH adds the tags sent to the stored ones instead of replacing them",
    "document_found_by_name_only": "`name_or_uuid` on the document list looks in names only, never at ids",
    "objective_loops_unseen": "validating objectives finds no cycle (it only looks at each objective's own next)",
    "objective_conditions_unread": "validating objectives reads `next_required_objective` but not the conditional ones",
}

STOCK_PERSONA = "pdced222244b"
STOCK_REPLICA = "rfe12d8b9597"
MAX_BODY = 1024 * 1024


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _load_spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


class Independent:
    """The state and the operations. One instance per server; `mistake` is one key of MISTAKES or None."""

    ROUTES: tuple[tuple[str, str, str], ...] = (
        ("POST", r"/v2/personas", "createPersona"),
        ("GET", r"/v2/personas", "listPersonas"),
        ("GET", r"/v2/personas/(?P<persona_id>[^/]+)", "getPersona"),
        ("PATCH", r"/v2/personas/(?P<persona_id>[^/]+)", "patchPersona"),
        ("DELETE", r"/v2/personas/(?P<persona_id>[^/]+)", "deletePersona"),
        ("POST", r"/v2/replicas", "createReplica"),
        ("GET", r"/v2/replicas", "listReplicas"),
        ("GET", r"/v2/replicas/(?P<replica_id>[^/]+)", "getReplica"),
        ("DELETE", r"/v2/replicas/(?P<replica_id>[^/]+)", "deleteReplica"),
        ("PATCH", r"/v2/replicas/(?P<replica_id>[^/]+)/name", "renameReplica"),
        ("POST", r"/v2/conversations", "createConversation"),
        ("GET", r"/v2/conversations", "listConversations"),
        ("GET", r"/v2/conversations/(?P<conversation_id>[^/]+)", "getConversation"),
        ("DELETE", r"/v2/conversations/(?P<conversation_id>[^/]+)", "deleteConversation"),
        ("POST", r"/v2/conversations/(?P<conversation_id>[^/]+)/end", "endConversation"),
        ("POST", r"/v2/pronunciation-dictionaries", "createPronunciationDictionary"),
        ("GET", r"/v2/pronunciation-dictionaries", "listPronunciationDictionaries"),
        ("GET", r"/v2/pronunciation-dictionaries/(?P<pronunciation_dictionary_id>[^/]+)", "getPronunciationDictionary"),
        (
            "PATCH",
            r"/v2/pronunciation-dictionaries/(?P<pronunciation_dictionary_id>[^/]+)",
            "patchPronunciationDictionary",
        ),
        (
            "DELETE",
            r"/v2/pronunciation-dictionaries/(?P<pronunciation_dictionary_id>[^/]+)",
            "deletePronunciationDictionary",
        ),
        ("POST", r"/v2/tools", "createTool"),
        ("GET", r"/v2/tools", "listTools"),
        ("GET", r"/v2/tools/(?P<tool_id>[^/]+)", "getTool"),
        ("PATCH", r"/v2/tools/(?P<tool_id>[^/]+)", "patchTool"),
        ("DELETE", r"/v2/tools/(?P<tool_id>[^/]+)", "deleteTool"),
        ("POST", r"/v2/documents", "createDocument"),
        ("GET", r"/v2/documents", "listDocuments"),
        ("GET", r"/v2/documents/tags", "listDocumentTags"),
        ("GET", r"/v2/documents/(?P<document_id>[^/]+)/chunks", "listDocumentChunks"),
        ("GET", r"/v2/documents/(?P<document_id>[^/]+)", "getDocument"),
        ("PATCH", r"/v2/documents/(?P<document_id>[^/]+)", "patchDocument"),
        ("DELETE", r"/v2/documents/(?P<document_id>[^/]+)", "deleteDocument"),
        ("POST", r"/v2/documents/(?P<document_id>[^/]+)/recrawl", "recrawlDocument"),
        ("POST", r"/v2/objectives", "createObjectives"),
        ("GET", r"/v2/objectives", "listObjectives"),
        ("POST", r"/v2/objectives/validate", "validateObjectives"),
        ("GET", r"/v2/objectives/(?P<objectives_id>[^/]+)", "getObjective"),
        ("PATCH", r"/v2/objectives/(?P<objectives_id>[^/]+)", "patchObjective"),
        ("DELETE", r"/v2/objectives/(?P<objectives_id>[^/]+)", "deleteObjective"),
    )

    def __init__(self, keys: list[str], mistake: str | None = None) -> None:
        if mistake is not None and mistake not in MISTAKES:
            raise ValueError(f"unknown mistake {mistake!r}")
        self.keys = set(keys)
        self.mistake = mistake
        self.spec = _load_spec()
        self.registry: Registry[Any] = Registry().with_resource("urn:tavus", DRAFT202012.create_resource(self.spec))
        self.lock = threading.Lock()
        # kind -> id -> record; a record is {"owner": key or None (stock), "data": {...}, "deleted": bool}
        self.records: dict[str, dict[str, dict[str, Any]]] = {
            "personas": {},
            "replicas": {},
            "conversations": {},
            "dictionaries": {},
            "tools": {},
            "documents": {},
            "objectives": {},
        }
        self.snapshot: dict[str, list[str]] = {}
        self.operations = {
            oid: self._operation(oid) for _, _, oid in self.ROUTES
        }  # operationId -> (path, method, raw operation)
        stamp = now()
        self.records["personas"][STOCK_PERSONA] = {
            "owner": None,
            "deleted": False,
            "data": {
                "persona_id": STOCK_PERSONA,
                "persona_name": "Sales Coach",
                "persona_type": "system",
                "system_prompt": "You coach sales people.",
                "pipeline_mode": "full",
                "default_replica_id": STOCK_REPLICA,
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["replicas"][STOCK_REPLICA] = {
            "owner": None,
            "deleted": False,
            "data": {
                "replica_id": STOCK_REPLICA,
                "replica_name": "Nathan",
                "replica_type": "system",
                "model_name": "phoenix-4",
                "status": "completed",
                "training_progress": "100/100",
                "created_at": stamp,
                "updated_at": stamp,
            },
        }

    # ------------------------------------------------------------------ plumbing
    def _operation(self, operation_id: str) -> tuple[str, str, dict[str, Any]]:
        for path, item in self.spec["paths"].items():
            for method, raw in item.items():
                if isinstance(raw, dict) and raw.get("operationId") == operation_id:
                    params = [*item.get("parameters", []), *raw.get("parameters", [])]
                    return path, method.upper(), {**raw, "parameters": [self._deref(p) for p in params]}
        raise KeyError(operation_id)

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def _validate(self, schema: Any, value: Any, where: str) -> None:
        validator = Draft202012Validator(
            {"$ref": "urn:tavus#" + schema["$ref"][1:]} if "$ref" in schema else schema, registry=self.registry
        )
        error = next(iter(validator.iter_errors(value)), None)
        if error is not None:
            field = "/".join(str(p) for p in error.absolute_path) or where
            raise Refused(400, {"error": f"Invalid {field}: {error.message[:200]}"})

    def seed(self, key: str, stamp: str | None = None) -> None:
        """The resources of the spec's example ids, for one key (so the examples phase finds them)."""
        stamp = stamp or now()
        self.records["personas"]["p5e1f0d2c3b4"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "persona_id": "p5e1f0d2c3b4",
                "persona_name": "Example",
                "persona_type": "user",
                "system_prompt": "x",
                "context": "y",
                "pipeline_mode": "full",
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["replicas"]["r90bbd427f71"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "replica_id": "r90bbd427f71",
                "replica_name": "Rio",
                "replica_type": "user",
                "model_name": "phoenix-4",
                "status": "completed",
                "training_progress": "100/100",
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["dictionaries"]["pd_abc123def456gh"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "pronunciation_dictionary_id": "pd_abc123def456gh",
                "name": "Brand Terms",
                "rules": [
                    {"text": "Tavus", "pronunciation": "TAH-vus", "type": "alias"}
                    | {"case_sensitive": False, "word_boundaries": True}
                ],
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["documents"]["d8-5c71baca86fc"] = {
            "owner": key,
            "deleted": False,
            "recrawled": None,
            "data": {
                "document_id": "d8-5c71baca86fc",
                "document_name": "Company Knowledge Base",
                "document_url": "https://docs.example.com/",
                "status": "ready",
                "progress": 100,
                "tags": ["catalogue"],
                "crawl_config": {"depth": 2, "max_pages": 10},
                "crawled_urls": ["https://docs.example.com/"],
                "last_crawled_at": stamp,
                "crawl_count": 1,
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["objectives"]["o12345"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "objectives_id": "o12345",
                "objective_name": "intake",
                "data": [{"objective_name": "ask_name", "objective_prompt": "Ask for the name."}],
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["tools"]["t5e1f0d2c3b4"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "tool_id": "t5e1f0d2c3b4",
                "owner_id": hashlib.sha256(key.encode()).hexdigest()[:12],
                "name": "lookup_order",
                "description": "Look up an order by its number.",
                "parameters": {},
                "delivery": {"app_message": True},
                "is_system_tool": False,
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.records["conversations"]["c0eaa60a267274af"] = {
            "owner": key,
            "deleted": False,
            "data": {
                "conversation_id": "c0eaa60a267274af",
                "conversation_name": "Example",
                "conversation_url": "https://tavus.daily.co/c0eaa60a267274af",
                "status": "active",
                "callback_url": None,
                "replica_id": STOCK_REPLICA,
                "persona_id": STOCK_PERSONA,
                "created_at": stamp,
                "updated_at": stamp,
            },
        }

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body or None, headers) for one request."""
        try:
            return self._handle(method, target, headers, raw)
        except Refused as refused:
            return refused.status, refused.body, refused.headers

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        matched = [(m, oid, found) for m, pattern, oid in self.ROUTES if (found := re.fullmatch(pattern, url.path))]
        if not matched:
            raise Refused(404, self._not_found())
        if any(not found.groupdict() for _, _, found in matched):  # a literal path beats a template it fits
            matched = [m for m in matched if not m[2].groupdict()]
        route = next(((oid, found) for m, oid, found in matched if m == method), None)
        if route is None:
            allowed = ", ".join(sorted({m for m, _, _ in matched}))
            raise Refused(405, {"error": f"Method {method} not allowed"}, {"Allow": allowed})
        key = headers.get("x-api-key", "")
        if key not in self.keys:
            raise Refused(401, {"message": "Invalid access token"})
        operation_id, found = route
        _, _, operation = self.operations[operation_id]
        path = {name: unquote(value) for name, value in found.groupdict().items()}  # ids as sent, %-decoded
        query = self._query(operation, parse_qs(url.query, keep_blank_values=True))
        for param in operation["parameters"]:
            if param["in"] == "path":
                self._validate(param["schema"], path[param["name"]], param["name"])
        body = self._body(operation, headers, raw)
        handler: Callable[..., tuple[int, Any, dict[str, str]]] = getattr(self, "op_" + operation_id)
        with self.lock:
            return handler(key, path, query, body)

    def _query(self, operation: dict[str, Any], raw: dict[str, list[str]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for param in operation["parameters"]:
            if param["in"] != "query" or param["name"] not in raw:
                continue
            text = raw[param["name"]][-1]
            schema = self._deref(param["schema"])
            kind = schema.get("type")
            value: Any = text
            try:
                if kind == "integer":
                    value = int(text)
                elif kind == "boolean":
                    value = {"true": True, "false": False}[text.lower()]
            except (ValueError, KeyError):
                raise Refused(400, {"error": f"Invalid {param['name']}: {text[:40]!r} is not a {kind}"}) from None
            self._validate(param["schema"], value, param["name"])
            out[param["name"]] = value
        return out

    def _body(self, operation: dict[str, Any], headers: dict[str, str], raw: bytes) -> Any:
        request = self._deref(operation.get("requestBody"))
        if request is None:
            return None
        if len(raw) > MAX_BODY:
            raise Refused(413, {"error": "Request body too large"})
        kind = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if kind != "application/json":
            raise Refused(400, {"error": f"Expected application/json, got {kind}"})
        if not raw:
            raise Refused(400, {"error": "A JSON body is required"})
        try:
            body = json.loads(raw)
        except ValueError:
            raise Refused(400, {"error": "The body is not valid JSON"}) from None
        self._validate(request["content"]["application/json"]["schema"], body, "body")
        return body

    def _not_found(self) -> dict[str, Any]:
        return {"detail": "Not Found"} if self.mistake == "error_shape" else {"message": "Not found"}

    def _new_id(self, kind: str, prefix: str) -> str:
        if self.mistake == "ids_reused":
            live = sum(1 for r in self.records[kind].values() if not r["deleted"])
            return f"{prefix}{live + 1:011x}"
        return prefix + secrets.token_hex(6)

    def _find(self, kind: str, key: str, rid: str, *, write: bool = False) -> dict[str, Any]:
        record = self.records[kind].get(rid)
        visible = record is not None and not record["deleted"]
        if (
            visible
            and record is not None
            and record["owner"] not in (key, None)
            and self.mistake != "cross_tenant_read"
        ):
            visible = False
        stock_kept = self.mistake != "stock_writable"
        if not visible or record is None or (write and record["owner"] is None and stock_kept):
            raise Refused(404, self._not_found())
        return record

    def _page(
        self,
        kind: str,
        key: str,
        query: dict[str, Any],
        keep: Callable[[dict[str, Any]], bool],
        base: int = 1,
        newest_first: bool = False,
    ) -> dict[str, Any]:
        everyone = [
            r
            for rid, r in self.records[kind].items()
            if not r["deleted"] or (self.mistake == "soft_delete_listed" and kind == "personas")
        ]
        if self.mistake == "not_listed_when_new":
            known = set(self.snapshot.get(kind, []))
            everyone = [r for r in everyone if next(iter(r["data"].values())) in known or r["owner"] is None]
        mine = [r for r in everyone if r["owner"] in (key, None)]
        matching = [r for r in mine if keep(r["data"])]
        if newest_first:  # records are kept in the order they were made
            matching.reverse()
        total = len(matching)
        if self.mistake == "total_all_tenants":
            total = len([r for r in everyone if keep(r["data"])])
        if self.mistake == "total_ignores_filters":
            total = len(mine)
        limit = query.get("limit", 10)
        page = query.get("page", base)
        index = max(page - base, 0) if self.mistake != "page_from_zero" else page
        start = index * limit
        if self.mistake == "page_overlap" and start > 0:
            start -= 1
        size = 25 if self.mistake == "limit_ignored" else limit
        return {"data": [r["data"] for r in matching[start : start + size]], "total_count": total}

    def note_snapshot(self) -> None:
        """For the not_listed_when_new mistake: lists show only what existed at the last list of that kind."""
        for kind, records in self.records.items():
            self.snapshot[kind] = [next(iter(r["data"].values())) for r in records.values()]

    # ------------------------------------------------------------------ personas
    PERSONA_FIELDS = (
        "persona_name",
        "system_prompt",
        "context",
        "pipeline_mode",
        "default_replica_id",
        "document_ids",
        "document_tags",
        "objectives_id",
        "guardrails_id",
        "greeting",
        "memories",
        "guardrail_ids",
        "guardrail_tags",
        "tool_ids",
        "is_template",
        "layers",
    )

    def op_createPersona(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if body.get("pipeline_mode") != "echo" and not body.get("system_prompt"):
            raise Refused(400, {"error": "system_prompt is required unless pipeline_mode is echo"})
        replica = body.get("default_replica_id")
        if replica is not None:  # the spec's x-tavus-refused: it must name a replica the key sees
            try:
                self._find("replicas", key, replica)
            except Refused:
                raise Refused(400, {"error": "Invalid replica_uuid"}) from None
        pid = self._new_id("personas", "p")
        stamp = now()
        data = {name: body[name] for name in self.PERSONA_FIELDS if name in body}
        if self.mistake == "drops_context":
            data.pop("context", None)
        data.update(persona_id=pid, persona_type="user", created_at=stamp, updated_at=stamp)
        data.setdefault("pipeline_mode", "full")
        data = {"persona_id": pid, **{k: v for k, v in data.items() if k != "persona_id"}}
        self.records["personas"][pid] = {"owner": key, "deleted": False, "data": data}
        return 200, {"persona_id": pid, "persona_name": data.get("persona_name"), "created_at": stamp}, {}

    def op_listPersonas(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        wanted = query.get("persona_type") if self.mistake != "filter_ignored" else None
        answer = self._page("personas", key, query, lambda d: wanted is None or d.get("persona_type") == wanted)
        self.note_snapshot()
        return 200, answer, {}

    def op_getPersona(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._find("personas", key, path["persona_id"])["data"], {}

    def op_patchPersona(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("personas", key, path["persona_id"], write=True)
        if self.mistake == "patch_not_atomic":
            for op in body:
                try:
                    record["data"] = jsonpatch.apply_patch(record["data"], [op])
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                    raise Refused(422, {"message": "Invalid JSON patch format"}) from None
            return 200, None, {}
        try:
            result = jsonpatch.apply_patch(copy.deepcopy(record["data"]), body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError):
            raise Refused(422, {"message": "Invalid JSON patch format"}) from None
        if not isinstance(result, dict):
            raise Refused(422, {"message": "The patched persona is not an object"})
        for fixed in ("persona_id", "persona_type", "created_at", "updated_at"):
            if result.get(fixed) != record["data"].get(fixed):
                raise Refused(422, {"message": f"{fixed} cannot be changed"})
        schema = self.spec["components"]["schemas"]["Persona"]
        try:
            self._validate({"$ref": "#/components/schemas/Persona"} if schema else schema, result, "persona")
        except Refused as refused:
            raise Refused(422, {"message": str((refused.body or {}).get("error"))}) from None
        if self.mistake != "patch_lost":
            result["updated_at"] = now()
            record["data"] = result
        return 200, None, {}

    def op_deletePersona(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("personas", key, path["persona_id"], write=True)
        record["deleted"] = True
        if self.mistake == "ids_reused":
            del self.records["personas"][path["persona_id"]]
        if self.mistake == "delete_answers_200":
            return 200, {"message": "Persona deleted"}, {}
        return 204, None, {}

    # ------------------------------------------------------------------ replicas
    def _replica(self, data: dict[str, Any], verbose: bool) -> dict[str, Any]:
        shown = dict(data)
        if not verbose or self.mistake == "verbose_ignored":
            shown.pop("replica_type", None)
        return shown

    def op_createReplica(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        rid = self._new_id("replicas", "r")
        stamp = now()
        data = {
            "replica_id": rid,
            "replica_name": body.get("replica_name"),
            "replica_type": "user",
            "model_name": body.get("model_name", "phoenix-4"),
            "status": "started",
            "training_progress": "0/100",
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.records["replicas"][rid] = {"owner": key, "deleted": False, "data": data}
        return 200, {"replica_id": rid, "status": "started"}, {}

    def op_listReplicas(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ids = {i.strip() for i in str(query.get("replica_ids", "")).split(",") if i.strip()}

        def keep(d: dict[str, Any]) -> bool:
            return (
                ("replica_type" not in query or d.get("replica_type") == query["replica_type"])
                and (not ids or d["replica_id"] in ids)
                and ("model_name" not in query or d.get("model_name") == query["model_name"])
            )

        answer = self._page("replicas", key, query, keep)
        answer["data"] = [self._replica(d, bool(query.get("verbose"))) for d in answer["data"]]
        self.note_snapshot()
        return 200, answer, {}

    def op_getReplica(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("replicas", key, path["replica_id"])
        return 200, self._replica(record["data"], bool(query.get("verbose"))), {}

    def op_deleteReplica(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("replicas", key, path["replica_id"], write=True)["deleted"] = True
        return 200, None, {}

    def op_renameReplica(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("replicas", key, path["replica_id"], write=True)
        if self.mistake != "rename_not_stored":
            record["data"] = {**record["data"], "replica_name": body["replica_name"], "updated_at": now()}
        return 200, None, {}

    # ------------------------------------------------------------------ conversations
    def op_createConversation(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for legacy, pal_era in (("persona_id", "pal_id"), ("replica_id", "face_id")):
            if legacy in body and pal_era in body and body[legacy] != body[pal_era]:
                raise Refused(400, {"error": f"{legacy} and {pal_era} name different resources"})
        persona_id = body.get("persona_id", body.get("pal_id"))
        replica_id = body.get("replica_id", body.get("face_id"))
        persona = None
        if persona_id is not None:
            try:
                persona = self._find("personas", key, persona_id)
            except Refused:
                raise Refused(400, {"error": "Invalid persona_id"}) from None
        if replica_id is None and persona is not None:
            replica_id = persona["data"].get("default_replica_id")
        if replica_id is None:
            raise Refused(400, {"error": "replica_id is required (or a persona with a default replica)"})
        try:
            self._find("replicas", key, replica_id)
        except Refused:
            raise Refused(400, {"error": "Invalid replica_id"}) from None
        cid = self._new_id("conversations", "c")
        stamp = now()
        data = {
            "conversation_id": cid,
            "conversation_name": body.get("conversation_name"),
            "conversation_url": f"https://tavus.daily.co/{cid}",
            "callback_url": body.get("callback_url"),
            "status": "ended" if body.get("test_mode") else "active",
            "replica_id": replica_id,
            "persona_id": persona_id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.records["conversations"][cid] = {"owner": key, "deleted": False, "data": data}
        created = {
            k: data[k]
            for k in (
                "conversation_id",
                "conversation_name",
                "conversation_url",
                "status",
                "callback_url",
                "created_at",
            )
        }
        return 200, created, {}

    def op_listConversations(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        wanted = query.get("status")
        if wanted is not None and self.mistake == "filter_too_strict":
            wanted = str(wanted).upper()  # stored lower-case: nothing matches
        answer = self._page("conversations", key, query, lambda d: wanted is None or d["status"] == wanted)
        self.note_snapshot()
        return 200, answer, {}

    def op_getConversation(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        data = dict(self._find("conversations", key, path["conversation_id"])["data"])
        if query.get("verbose"):
            ended = data["status"] == "ended"
            data["shutdown_reason"] = "end_conversation_endpoint_hit" if ended else None
            data["events"] = [{"event_type": "system.shutdown", "timestamp": data["updated_at"]}] if ended else []
        return 200, data, {}

    def op_deleteConversation(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("conversations", key, path["conversation_id"], write=True)["deleted"] = True
        return 204, None, {}

    def op_endConversation(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("conversations", key, path["conversation_id"], write=True)
        if self.mistake != "end_not_final":
            record["data"] = {**record["data"], "status": "ended", "updated_at": now()}
        return 200, None, {}

    # ------------------------------------------------------------------ pronunciation dictionaries
    @staticmethod
    def _rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each rule with the documented defaults filled in; 400 when two rules share a text."""
        texts = [rule["text"] for rule in rules]
        if len(set(texts)) != len(texts):
            raise Refused(400, {"error": "duplicate text values in rules"})
        return [{"case_sensitive": False, "word_boundaries": True, **rule} for rule in rules]

    def _dictionary(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "rules_count": len(data["rules"])}

    def op_createPronunciationDictionary(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        rules = self._rules(body.get("rules") or [])
        did = self._new_id("dictionaries", "pd_")
        stamp = now()
        data = {"pronunciation_dictionary_id": did, "name": body["name"], "rules": rules}
        data.update(created_at=stamp, updated_at=stamp)
        if self.mistake == "rules_dropped":
            data["rules"] = []
        self.records["dictionaries"][did] = {"owner": key, "deleted": False, "data": data}
        return 201, self._dictionary(data), {}

    def op_listPronunciationDictionaries(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        order = query.get("sort", "asc" if self.mistake == "default_order_flipped" else "desc")
        if self.mistake == "sort_ignored":
            order = "desc"
        newest_first = order in (("desc",) if self.mistake == "sort_spelling" else ("desc", "descending"))
        answer = self._page("dictionaries", key, query, lambda d: True, base=0, newest_first=newest_first)
        answer["data"] = [{k: v for k, v in self._dictionary(d).items() if k != "rules"} for d in answer["data"]]
        answer.update(page=query.get("page", 0), limit=query.get("limit", 10))
        self.note_snapshot()
        return 200, answer, {}

    def op_getPronunciationDictionary(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        data = self._find("dictionaries", key, path["pronunciation_dictionary_id"])["data"]
        return 200, self._dictionary(data), {}

    def op_patchPronunciationDictionary(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("dictionaries", key, path["pronunciation_dictionary_id"], write=True)
        for op in body:
            for pointer in (op.get("path"), op.get("from")):
                if isinstance(pointer, str) and pointer.split("/")[1:2] not in (["name"], ["rules"]):
                    raise Refused(422, {"message": f"Invalid JSON patch format: {pointer} cannot be changed"})
        try:
            result = jsonpatch.apply_patch(copy.deepcopy(record["data"]), body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError):
            raise Refused(422, {"message": "Invalid JSON patch format"}) from None
        rules = result.get("rules")
        if not isinstance(result.get("name"), str) or not result["name"] or not isinstance(rules, list):
            raise Refused(422, {"message": "A dictionary needs a name and a list of rules"})
        try:
            self._validate({"$ref": "#/components/schemas/PronunciationDictionaryCreate"}, result, "dictionary")
            result["rules"] = self._rules(rules)
        except Refused as refused:
            raise Refused(422, {"message": str((refused.body or {}).get("error"))}) from None
        result["updated_at"] = now()
        record["data"] = result
        return 200, self._dictionary(result), {}

    def op_deletePronunciationDictionary(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("dictionaries", key, path["pronunciation_dictionary_id"], write=True)["deleted"] = True
        return 204, None, {}

    # ------------------------------------------------------------------ tools
    SECRETS = ("token", "password", "value", "secret", "client_secret")
    AUTH_NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "bearer": ("token",),
        "basic": ("username", "password"),
        "api_key": ("name", "value"),
        "hmac": ("secret",),
        "oauth2_client_credentials": ("token_url", "client_id", "client_secret"),
    }

    def _tool_rules(self, tool: dict[str, Any]) -> None:
        """The rules of the create-tool docs that a schema cannot say (400 for each)."""
        delivery = tool.get("delivery") or {}
        api = delivery.get("api")
        if delivery.get("app_message") and api is not None and self.mistake != "tool_two_channels":
            raise Refused(400, {"error": "delivery: app_message and api cannot both be set"})
        auth = (api or {}).get("auth") or {}
        missing = [f for f in self.AUTH_NEEDS.get(auth.get("type", "none"), ()) if not auth.get(f)]
        if missing:
            raise Refused(400, {"error": f"delivery.api.auth: {auth['type']} needs {', '.join(missing)}"})
        if auth.get("type") == "oauth2_client_credentials" and not auth["token_url"].lower().startswith("https://"):
            raise Refused(400, {"error": "delivery.api.auth.token_url must be https"})
        if any(auth.get(f) == "********" for f in self.SECRETS):
            raise Refused(400, {"error": "send a secret, not the ******** placeholder"})
        method = (api or {}).get("method", "POST")
        if (api or {}).get("body_template") and method in ("GET", "HEAD", "DELETE"):
            raise Refused(400, {"error": f"delivery.api.body_template is not allowed with {method}"})
        if (api or {}).get("body_template") and auth.get("type") == "hmac":
            raise Refused(400, {"error": "hmac auth sends a fixed body: no body_template"})
        if tool.get("origin") == "audio" and tool.get("on_resolve") not in (None, "fire_and_forget"):
            raise Refused(400, {"error": "audio tools resolve fire_and_forget"})
        if tool.get("trigger_type") == "post_call" and api is None:
            raise Refused(400, {"error": "post_call tools are delivered to an API (delivery.api)"})
        parameters = tool.get("parameters") or {}
        properties = parameters.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        placeholders = re.findall(r"\{(\w+)\}", str((api or {}).get("url", "")))
        unknown = [name for name in placeholders if name not in properties]
        if unknown:
            raise Refused(400, {"error": f"delivery.api.url names {unknown[0]}, which parameters do not declare"})
        if any(str(name).startswith("tavus_") for name in properties):
            raise Refused(400, {"error": "parameter names may not start with tavus_"})
        if tool.get("on_call") == "static_filler" and not tool.get("static_filler"):
            raise Refused(400, {"error": "on_call static_filler needs static_filler"})
        if tool.get("origin") in ("vision", "audio") and tool.get("on_call") is not None:
            raise Refused(400, {"error": "on_call must be null for vision and audio tools"})
        size = len(tool.get("description") or "") + len(json.dumps(parameters, separators=(",", ":")))
        if size > 10_000:
            raise Refused(400, {"error": f"description and parameters are {size} characters (at most 10000)"})

    def _tool_name_free(self, key: str, name: str, but: str | None = None) -> None:
        for tid, record in self.records["tools"].items():
            if record["owner"] == key and not record["deleted"] and tid != but and record["data"]["name"] == name:
                raise Refused(409, {"error": f"a tool named {name} exists"})

    def _tool_shown(self, data: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(data)
        auth = ((shown.get("delivery") or {}).get("api") or {}).get("auth")
        if isinstance(auth, dict) and self.mistake != "tool_secret_in_clear":
            for name in self.SECRETS:
                if name in auth:
                    auth[name] = "********"
        return shown

    def op_createTool(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._tool_rules(body)
        if self.mistake != "tool_names_repeat":
            self._tool_name_free(key, body["name"])
        tid = self._new_id("tools", "t")
        stamp = now()
        owner = hashlib.sha256(key.encode()).hexdigest()[:12]  # an account's id, never its key
        data: dict[str, Any] = {"tool_id": tid, "owner_id": owner, "is_system_tool": False}
        data.update({f: body[f] for f in sorted(ToolFields) if f in body})
        data.setdefault("parameters", {})
        data.setdefault("delivery", {"app_message": True})
        # What the spec says a server uses for what a create leaves out (x-server-default).
        resolve = "generate_response" if self.mistake == "tool_resolve_default" else "fire_and_forget"
        data.update({"trigger_type": "in_call", "origin": "llm", "on_resolve": resolve} | data)
        data.update(created_at=stamp, updated_at=stamp)
        self.records["tools"][tid] = {"owner": key, "deleted": False, "data": data}
        return 200, self._tool_shown(data), {}

    def op_listTools(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        scope = query.get("type", "user")
        text = query.get("name_or_uuid") if self.mistake != "tool_name_filter_ignored" else None

        def keep(d: dict[str, Any]) -> bool:
            system = bool(d.get("is_system_tool"))
            if (scope == "user" and system) or (scope == "system" and not system):
                return False
            return text is None or d["tool_id"] == text or str(text).lower() in d["name"].lower()

        newest_first = query.get("sort") in ("desc", "descending")
        answer = self._page("tools", key, query, keep, newest_first=newest_first)
        answer["data"] = [self._tool_shown(d) for d in answer["data"]]
        self.note_snapshot()
        return 200, answer, {}

    def op_getTool(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._tool_shown(self._find("tools", key, path["tool_id"])["data"]), {}

    def op_patchTool(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("tools", key, path["tool_id"], write=True)
        merged = {**record["data"], **{k: v for k, v in body.items() if k in ToolFields}}
        self._tool_rules(merged)
        if "name" in body and self.mistake != "tool_rename_unchecked":
            self._tool_name_free(key, body["name"], but=path["tool_id"])
        merged["updated_at"] = now()
        if self.mistake != "tool_update_ignored":
            record["data"] = merged
        return 200, self._tool_shown(merged), {}

    def op_deleteTool(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("tools", key, path["tool_id"], write=True)["deleted"] = True
        return 204, None, {}

    # ------------------------------------------------------------------ documents
    COOLDOWN = 3600.0  # one recrawl per document per hour (the recrawl docs)

    def op_createDocument(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        did = "d" + secrets.token_hex(1) + "-" + secrets.token_hex(6)
        stamp = now()
        url = body["document_url"]
        crawl = body.get("crawl")
        data = {
            "document_id": did,
            "document_name": body["document_name"] if "document_name" in body else url.rsplit("/", 1)[-1],
            "document_url": url,
            "status": "ready",  # processed at once: a read never sees it half done
            "progress": 100,
            "error_message": None,
            "tags": list(body.get("tags") or []),
            "callback_url": body.get("callback_url"),
            "crawl_config": crawl,
            "crawled_urls": [url] if crawl else None,
            "last_crawled_at": stamp if crawl else None,
            "crawl_count": 1 if crawl else None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.records["documents"][did] = {"owner": key, "deleted": False, "recrawled": None, "data": data}
        return 200, {**data, "status": "started", "progress": 0}, {}

    def op_listDocuments(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        status = query.get("status") if self.mistake != "document_status_ignored" else None
        text = query.get("name_or_uuid")
        by_id = text if self.mistake != "document_found_by_name_only" else None
        tags = {t.strip() for t in str(query.get("tags", "")).split(",") if t.strip()}

        def keep(d: dict[str, Any]) -> bool:
            return (
                (status is None or d["status"] == status)
                and (text is None or d["document_id"] == by_id or str(text).lower() in d["document_name"].lower())
                and (not tags or bool(tags & set(d.get("tags") or [])))
            )

        newest_first = query.get("sort") in ("desc", "descending")
        answer = self._page("documents", key, query, keep, base=0, newest_first=newest_first)
        answer.update(page=query.get("page", 0), limit=query.get("limit", 10))
        self.note_snapshot()
        return 200, answer, {}

    def op_listDocumentTags(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        counts: dict[str, int] = {}
        for record in self.records["documents"].values():
            if record["deleted"] or (record["owner"] != key and self.mistake != "tag_count_all_keys"):
                continue
            for tag in set(record["data"].get("tags") or []):
                counts[tag] = counts.get(tag, 0) + 1
        search = str(query.get("search", "")).lower()
        rows = [{"tag": t, "document_count": n} for t, n in sorted(counts.items()) if search in t.lower()]
        limit, page = query.get("limit", 10), query.get("page", 1)
        start = max(page - 1, 0) * limit
        return 200, {"tags": rows[start : start + limit], "total_count": len(rows)}, {}

    def op_listDocumentChunks(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        data = self._find("documents", key, path["document_id"])["data"]
        chunks = [
            {"chunk_id": f"{data['document_id']}-{i}", "index": i, "text": f"Part {i + 1} of {data['document_name']}"}
            for i in range(3)
        ]
        offset = str(query.get("offset", "0"))
        if not offset.isdigit():
            raise Refused(400, {"error": "offset must be a next_offset this list gave"})
        start, limit = int(offset), query.get("limit", 100)
        end = start + limit
        more = end < len(chunks) or self.mistake == "chunks_never_end"
        return 200, {"data": chunks[start:end], "next_offset": str(end) if more else None}, {}

    def op_getDocument(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._find("documents", key, path["document_id"])["data"], {}

    def op_patchDocument(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("documents", key, path["document_id"], write=True)
        data = dict(record["data"])
        if "document_name" in body:
            data["document_name"] = body["document_name"]
        if "tags" in body:
            kept = [t for t in data.get("tags") or [] if t not in body["tags"]]
            data["tags"] = kept + body["tags"] if self.mistake == "document_tags_appended" else list(body["tags"])
        data["updated_at"] = now()
        record["data"] = data
        return 200, data, {}

    def op_deleteDocument(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("documents", key, path["document_id"], write=True)["deleted"] = True
        return 204, None, {}

    def op_recrawlDocument(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("documents", key, path["document_id"], write=True)
        data = record["data"]
        if not data.get("crawl_config") or data["status"] not in ("ready", "error"):
            raise Refused(409, {"error": "only a crawled website that is ready or in error can be recrawled"})
        last = record.get("recrawled")
        clock = time.monotonic()
        if last is not None and clock - last < self.COOLDOWN and self.mistake != "recrawl_anytime":
            wait = "0" if self.mistake == "recrawl_retry_now" else str(max(1, int(self.COOLDOWN - (clock - last))))
            raise Refused(429, {"error": "one recrawl per document per hour"}, {"Retry-After": wait})
        record["recrawled"] = clock
        stamp = now()
        crawl = (body or {}).get("crawl") or data["crawl_config"]  # for this crawl only
        data = {**data, "last_crawled_at": stamp, "crawl_count": (data.get("crawl_count") or 0) + 1}
        data.update(updated_at=stamp, crawled_urls=[data["document_url"]][: crawl.get("max_pages", 100)])
        record["data"] = data
        return 202, {**data, "status": "recrawling", "progress": 0}, {}

    # ------------------------------------------------------------------ objectives
    def op_createObjectives(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        oid = self._new_id("objectives", "o")
        stamp = now()
        data = {"objectives_id": oid, "objective_name": body.get("name"), "data": body["data"]}
        data.update(created_at=stamp, updated_at=stamp)
        self.records["objectives"][oid] = {"owner": key, "deleted": False, "data": data}
        created = {"objectives_id": oid, "objective_name": data["objective_name"], "status": "active"}
        return 200, {**created, "created_at": stamp}, {}

    def op_listObjectives(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        answer = self._page("objectives", key, query, lambda d: True)
        self.note_snapshot()
        return 200, answer, {}

    def op_getObjective(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._find("objectives", key, path["objectives_id"])["data"], {}

    def op_patchObjective(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        record = self._find("objectives", key, path["objectives_id"], write=True)
        try:
            result = jsonpatch.apply_patch(copy.deepcopy(record["data"]), body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError):
            raise Refused(422, {"message": "Invalid JSON patch format"}) from None
        if not isinstance(result, dict):
            raise Refused(422, {"message": "The patched set is not an object"})
        for fixed in ("objectives_id", "created_at", "updated_at"):
            if result.get(fixed) != record["data"].get(fixed):
                raise Refused(422, {"message": f"{fixed} cannot be changed"})
        try:
            self._validate({"$ref": "#/components/schemas/ObjectivesSet"}, result, "objectives")
        except Refused as refused:
            raise Refused(422, {"message": str((refused.body or {}).get("error"))}) from None
        result["updated_at"] = now()
        record["data"] = result
        return 200, {"message": "Objectives updated"}, {}

    def op_deleteObjective(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._find("objectives", key, path["objectives_id"], write=True)["deleted"] = True
        return 204, None, {}

    def op_validateObjectives(
        self, key: str, path: dict[str, str], query: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        items = body["data"]
        names = [item["objective_name"] for item in items]
        errors = [f"{n} is the name of more than one objective" for n in sorted(set(names)) if names.count(n) > 1]
        edges: dict[str, set[str]] = {n: set() for n in names}
        for item in items:
            following = set()
            if item.get("next_required_objective"):
                following.add(item["next_required_objective"])
            if self.mistake != "objective_conditions_unread":
                following |= set(item.get("next_conditional_objectives") or {})
            edges[item["objective_name"]] |= following
            errors += [f"{item['objective_name']} leads to {n}, not in the set" for n in sorted(following - set(names))]
        firsts = [n for n in edges if not any(n in after for after in edges.values())]
        if len(firsts) != 1 and not (body.get("allow_loops") and not firsts):
            errors.append(f"{len(firsts)} objectives come first; a set has exactly one")
        if not body.get("allow_loops") and self.mistake != "objective_loops_unseen" and self._has_cycle(edges):
            errors.append("the objectives form a loop (allow_loops is false)")
        return 200, {"valid": not errors, "errors": errors}, {}

    @staticmethod
    def _has_cycle(edges: dict[str, set[str]]) -> bool:
        """Kahn's algorithm: a graph has a cycle when some node never loses all its incoming edges."""
        incoming = {n: 0 for n in edges}
        for after in edges.values():
            for n in after:
                if n in incoming:
                    incoming[n] += 1
        ready = [n for n, count in incoming.items() if count == 0]
        removed = 0
        while ready:
            node = ready.pop()
            removed += 1
            for n in edges[node]:
                if n in incoming:
                    incoming[n] -= 1
                    if incoming[n] == 0:
                        ready.append(n)
        return removed < len(incoming)


# What a tool's PATCH may change (ToolUpdate's fields).
ToolFields = frozenset(
    {"name", "description", "parameters", "delivery", "trigger_type", "origin"}
    | {"on_call", "on_resolve", "static_filler", "tags"}
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app: Independent

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls

    def _serve(self) -> None:
        length = self.headers.get("content-length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0 or size > MAX_BODY:
            status, body, headers = (413 if size > MAX_BODY else 400), {"error": "Bad Content-Length"}, {}
            self.close_connection = True
        else:
            raw = self.rfile.read(size) if size else b""
            headers_in = {k.lower(): v for k, v in self.headers.items()}
            status, body, headers = self.app.handle(self.command, self.path, headers_in, raw)
        payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method reaches the router, which answers 405 for those it lacks
            return self._serve
        raise AttributeError(name)


@contextmanager
def serve(app: Independent) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields the base URL."""
    handler = type("Handler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
