"""Deliberately broken variants of the reference server; the contract suite must catch each one."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from tavus_mock import TavusMock
from tavus_mock.aliases import Alias
from tavus_mock.app import Answer, Ctx
from tavus_mock.resources.deployments import REVISION, etag
from tavus_mock.spec import Operation
from tavus_mock.store import ApiError, iso_at


class WrongType(TavusMock):
    """A response field of the wrong type: a persona read carries `created_at` as a number."""

    def _get(self, ctx: Ctx) -> Answer:
        answer = super()._get(ctx)
        if ctx.op.tag == "personas" and isinstance(answer.body, dict):
            answer.body = {**answer.body, "created_at": 1700000000}
        return answer


class IgnoredKey(TavusMock):
    """The API key is not checked."""

    def authenticate(self, headers: Mapping[str, str]) -> str | None:
        return "anyone"


class UndocumentedStatus(TavusMock):
    """Listing replicas with verbose=true answers 202, which the spec does not list."""

    def _list(self, ctx: Ctx) -> Answer:
        answer = super()._list(ctx)
        if ctx.op.tag == "replicas" and ctx.query.get("verbose"):
            answer.status = 202
        return answer


class ZombieDelete(TavusMock):
    """DELETE of a video answers success but the video stays readable."""

    def _delete(self, ctx: Ctx) -> Answer:
        if ctx.op.tag == "videos":
            self._record(ctx, writable=True)
            return Answer(self.success(ctx.op))
        return super()._delete(ctx)


class EmptyString500(TavusMock):
    """An empty persona name crashes the server (a boundary value the coverage phase sends)."""

    def _create(self, ctx: Ctx) -> Answer:
        if ctx.op.tag == "personas" and ctx.body.get("persona_name") == "":
            raise RuntimeError("name[0] of an empty name")
        return super()._create(ctx)


class FilterIgnored(TavusMock):
    """Lists ignore the `status` filter (a survivor of the first mutation run)."""

    def _list(self, ctx: Ctx) -> Answer:
        ctx.query.pop("status", None)
        return super()._list(ctx)


class WrongTotal(TavusMock):
    """Lists report one item more than really match."""

    def _list(self, ctx: Ctx) -> Answer:
        answer = super()._list(ctx)
        answer.body["total_count"] += 1
        return answer


class PatchNotApplied(TavusMock):
    """JSON Patch answers success but nothing is stored."""

    def _patch(self, ctx: Ctx) -> Answer:
        if isinstance(ctx.body, list):
            with self.store.lock:
                record = self._record(ctx, writable=True)
                saved = dict(record.data)
                answer = super()._patch(ctx)
                record.data.clear()
                record.data.update(saved)
                return answer
        return super()._patch(ctx)


class _Wrapped(TavusMock):
    """A variant that changes the behaviour of one operation of a behaviour module."""

    OPERATION = ""

    def _handler_for(self, op: Operation) -> Callable[[Ctx], Answer]:
        handler = super()._handler_for(op)
        if op.operation_id != self.OPERATION:
            return handler
        return lambda ctx: self.wrap(handler, ctx)

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        raise NotImplementedError


class CreateDropsName(_Wrapped):
    """Creating a persona forgets the name it was given."""

    OPERATION = "createPersona"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return handler(replace(ctx, body={k: v for k, v in ctx.body.items() if k != "persona_name"}))


class IfMatchIgnored(_Wrapped):
    """Deployment patches ignore `If-Match`: a stale ETag overwrites a newer version."""

    OPERATION = "patchDeployment"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return handler(replace(ctx, headers={k: v for k, v in ctx.headers.items() if k != "if-match"}))


class DeploymentTotalWrong(_Wrapped):
    """The deployments list (its own envelope) reports one more deployment than there are."""

    OPERATION = "listDeployments"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        answer.body["total"] += 1
        return answer


class ToolPatchIgnored(_Wrapped):
    """A tool's flat PATCH answers the tool unchanged and stores nothing."""

    OPERATION = "patchTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return handler(replace(ctx, body={}))


class DetachKeepsTool(_Wrapped):
    """Detaching a tool from a PAL answers 204 but the PAL keeps it."""

    OPERATION = "detachToolFromPal"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        with self.store.lock:
            pal = self.store.find("personas", ctx.tenant, ctx.path["pal_id"])
            kept = list(pal.data.get("tool_ids") or ())
            answer = handler(ctx)
            pal.data["tool_ids"] = kept
            return answer


class AttachRefused(_Wrapped):
    """Attaching a tool to a PAL is refused as if the tool did not exist (a mutation-run survivor)."""

    OPERATION = "attachToolsToPal"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        raise ApiError(400, "Invalid request: no tool " + ", ".join(ctx.body.get("tool_ids", [])))


class DeletedToolStays(_Wrapped):
    """Deleting a tool answers 204 but the PALs that had it keep listing it (a mutation-run survivor)."""

    OPERATION = "deleteTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        kept = {r.id: list(r.data.get("tool_ids") or ()) for r in self.store.visible("personas", ctx.tenant)}
        answer = handler(ctx)
        for record in self.store.visible("personas", ctx.tenant):
            if record.id in kept and record.tenant is not None:
                record.data["tool_ids"] = kept[record.id]
        return answer


class DefaultOrderReversed(_Wrapped):
    """A tool list that names no order comes newest first, though the spec documents `asc` as its default
    (a mutation-run survivor: the default order of a list flipped)."""

    OPERATION = "listTools"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        if "sort" in ctx.query:
            return handler(ctx)
        return handler(replace(ctx, query={**ctx.query, "sort": "desc"}))


class DuplicateToolNames(_Wrapped):
    """Two tools of one account may share a name."""

    OPERATION = "createTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        body = dict(ctx.body)
        with self.store.lock:
            for record in self.store.visible("tools", ctx.tenant):
                if record.data.get("name") == body.get("name"):
                    record.data["name"] = f"{record.data['name']}_shadow_{record.id}"[:64]
        return handler(ctx)


class RefusalIs401(_Wrapped):
    """A tool the server refuses is answered 401, as if the key were wrong."""

    OPERATION = "createTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        try:
            return handler(ctx)
        except ApiError as err:
            raise ApiError(401, "Invalid access token", key="message") from err


class FillerNotRequired(_Wrapped):
    """A tool whose on_call is static_filler is accepted without the filler text (the docs require it)."""

    OPERATION = "createTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        body = ctx.body
        if isinstance(body, dict) and body.get("on_call") == "static_filler" and not body.get("static_filler"):
            ctx = replace(ctx, body={**body, "static_filler": "One moment."})
        return handler(ctx)


class PagesOverlap(TavusMock):
    """A list's pages are counted one too late: the second page repeats the first."""

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]:
        limit, page, offset, descending = super().paging(ctx, default_limit)
        return limit, page, max(offset - limit, 0), descending


class ToolsAlwaysRefused(_Wrapped):
    """Every tool is refused as if it broke a rule (even the spec's own example)."""

    OPERATION = "createTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        raise ApiError(400, "Invalid request: description and parameters are too long")


class SortIgnored(TavusMock):
    """Lists answer oldest first whatever `sort` says."""

    def paging(self, ctx: Ctx, default_limit: int = 10) -> tuple[int, int, int, bool]:
        limit, page, offset, _ = super().paging(ctx, default_limit)
        return limit, page, offset, False

    def _list(self, ctx: Ctx) -> Answer:
        return super()._list(replace(ctx, query={k: v for k, v in ctx.query.items() if k != "sort"}))


class RenameIgnored(TavusMock):
    """Renaming a replica answers success but keeps the old name."""

    def _rename(self, ctx: Ctx) -> Answer:
        if ctx.op.tag == "replicas":
            self._record(ctx, writable=True)
            return Answer(self.success(ctx.op))
        return super()._rename(ctx)


class EndNotFinal(_Wrapped):
    """Ending a conversation answers success but it stays active."""

    OPERATION = "endConversation"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        self._record(ctx)
        return Answer(self.success(ctx.op))


class PatchesTooLarge(TavusMock):
    """Every JSON Patch that adds or replaces a value is refused as too large (even the spec's examples)."""

    def _patch(self, ctx: Ctx) -> Answer:
        if isinstance(ctx.body, list) and any(op.get("op") in ("add", "replace", "copy") for op in ctx.body):
            raise ApiError(413, "JSON Patch operation 0 adds too many objects and arrays; nothing was changed")
        return super()._patch(ctx)


class DescendingRepeats(TavusMock):
    """Newest-first pages are counted wrongly: the page repeats its first item and loses its last."""

    def _list(self, ctx: Ctx) -> Answer:
        answer = super()._list(ctx)
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        if str(ctx.query.get("sort", "")).startswith("desc") and isinstance(items, list) and len(items) > 1:
            answer.body["data"] = items[:1] + items[:-1]
        return answer


class ETagFrozen(_Wrapped):
    """A deployment's ETag never changes, so a patch with an ETag from before a change still applies."""

    OPERATION = "patchDeployment"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        with self.store.lock:
            record = self.store.find("deployments", ctx.tenant, ctx.path["deployment_id"])
            revision = record.data.get(REVISION, 0)
            answer = handler(ctx)
            record.data[REVISION] = revision
            answer.headers["ETag"] = etag(record)
            return answer


class GuardrailPatchLost(_Wrapped):
    """A JSON Patch of one guardrail answers its new state but stores nothing."""

    OPERATION = "patchGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        with self.store.lock:
            item = self.store.records["guardrail_items"].get(ctx.path["guardrails_id"])
            saved = dict(item.data) if item is not None else None
            answer = handler(ctx)
            if item is not None and saved is not None:
                item.data.clear()
                item.data.update(saved)
            return answer


class ToolSizeOffByOne(TavusMock):
    """Tools are refused one character before the documented 10,000."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tavus_mock.resources import tools

        self._tools = tools

    def _handler_for(self, op: Operation) -> Callable[[Ctx], Answer]:
        handler = super()._handler_for(op)
        if op.operation_id != "createTool":
            return handler

        def smaller_limit(ctx: Ctx) -> Answer:
            limit = self._tools.MAX_TOOL_SIZE
            self._tools.MAX_TOOL_SIZE = limit - 1
            try:
                return handler(ctx)
            finally:
                self._tools.MAX_TOOL_SIZE = limit

        return smaller_limit


class NewestNotListed(TavusMock):
    """A key's newest persona is missing from its list (and from the count), as if lists lagged behind."""

    def _list(self, ctx: Ctx) -> Answer:
        answer = super()._list(ctx)
        if ctx.op.tag != "personas" or not isinstance(answer.body, dict):
            return answer
        mine = [r for r in self.store.visible("personas", ctx.tenant) if r.tenant is not None]
        if mine:
            newest = max(mine, key=lambda r: r.seq).id
            kept = [i for i in answer.body["data"] if i.get("persona_id") != newest]
            answer.body["total_count"] -= 1
            answer.body["data"] = kept
        return answer


class PalsApart(TavusMock):
    """PALs kept apart from personas (a second table): a PAL just created is 404 as a persona."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pal_ids: set[str] = set()
        self.via_alias = False

    def _alias(self, alias: Alias, target_id: str, ctx: Ctx) -> Answer:
        self.via_alias = True  # a PAL read reaches the persona handler through here: still served
        try:
            return super()._alias(alias, target_id, ctx)
        finally:
            self.via_alias = False

    def _handler_for(self, op: Operation) -> Callable[[Ctx], Answer]:
        handler = super()._handler_for(op)
        if op.operation_id == "createPal":

            def create(ctx: Ctx) -> Answer:
                answer = handler(ctx)
                if isinstance(answer.body, dict) and isinstance(answer.body.get("pal_id"), str):
                    self.pal_ids.add(answer.body["pal_id"])
                return answer

            return create
        if op.operation_id == "getPersona":

            def read(ctx: Ctx) -> Answer:
                if not self.via_alias and ctx.path.get("persona_id") in self.pal_ids:
                    raise ApiError(404, "Persona not found")
                return handler(ctx)

            return read
        return handler


class SkillsRefusePal(_Wrapped):
    """Reading a PAL's skills says "PAL not found" for a PAL that exists (a mutation-run survivor: the
    PAL test negated)."""

    OPERATION = "listPalSkills"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        if self.store.exists("personas", ctx.tenant, ctx.path["pal_id"]):
            raise ApiError(400, "PAL not found")
        return handler(ctx)


class SkillConfigUnchecked(_Wrapped):
    """Replacing a PAL's skills stores a presentation without documents (a mutation-run survivor: the
    configurations were not checked before the replacement)."""

    OPERATION = "replacePalSkills"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        skills = ctx.body.get("skills") or {}
        if "presentation" in skills and not (skills["presentation"] or {}).get("config", {}).get("document_ids"):
            pal = self.store.find("personas", ctx.tenant, ctx.path["pal_id"], writable=True)
            pal.data.setdefault("skills", {})["presentation"] = {"skill_id": "presentation", "config": {}}
            return Answer(200, {"presentation": {"skill_id": "presentation", "config": {}}})
        return handler(ctx)


class TagPagesRepeat(_Wrapped):
    """The document tag list answers its first page whatever page is asked (a mutation-run survivor: the
    offset computed with % instead of *)."""

    OPERATION = "listDocumentTags"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return handler(replace(ctx, query={**ctx.query, "page": 1}))


class GuardrailSetsPatchedAsItems(_Wrapped):
    """A guardrail set's JSON Patch is served as an individual guardrail's, so it is not found (a
    mutation-run survivor: the set test negated)."""

    OPERATION = "patchGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        record = self.store.lookup("guardrails", ctx.tenant, ctx.path["guardrails_id"])
        if record is not None:
            raise ApiError(404, "Guardrail not found")
        return handler(ctx)


class ChunkCursorNeverEnds(_Wrapped):
    """The last page of a document's chunks still hands out a `next_offset` (a mutation-run survivor:
    `end < len` written `end <= len`)."""

    OPERATION = "listDocumentChunks"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if isinstance(answer.body, dict) and answer.body.get("next_offset") is None and answer.body.get("data"):
            answer.body["next_offset"] = str(int(str(ctx.query.get("offset") or 0)) + len(answer.body["data"]))
        return answer


class DeploymentFilterWrong(_Wrapped):
    """The deployment list filtered by `pal_id` compares with `<` (a mutation-run survivor)."""

    OPERATION = "listDeployments"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        wanted = ctx.query.get("pal_id")
        if wanted is None:
            return handler(ctx)
        answer = handler(replace(ctx, query={k: v for k, v in ctx.query.items() if k != "pal_id"}))
        kept = [d for d in answer.body["deployments"] if str(d.get("pal_id", "")) < str(wanted)]
        answer.body.update(deployments=kept, total=len(kept))
        return answer


class GuardrailTagFilterEmpty(_Wrapped):
    """Individual guardrails filtered by `tags` never match (a mutation-run survivor: `or ()` written
    `and ()`)."""

    OPERATION = "listGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if "tags" in ctx.query and isinstance(answer.body, dict) and isinstance(answer.body.get("data"), list):
            answer.body.update(data=[], total_count=0)
        return answer


class ToolSecretsInClear(TavusMock):
    """A tool's auth secrets are answered as stored (a mutation-run survivor: the masking's lookup of
    `delivery` short-circuited), and the answers are not checked against the spec by the server."""

    def _view(self, record: Any, **how: Any) -> dict[str, Any]:
        view = super()._view(record, **how)
        if record.kind == "tools":
            auth = ((record.data.get("delivery") or {}).get("api") or {}).get("auth")
            shown = ((view.get("delivery") or {}).get("api") or {}).get("auth")
            if isinstance(auth, dict) and isinstance(shown, dict):
                shown.update(auth)
        return view


class ToolRenameTakesName(_Wrapped):
    """A tool's PATCH stores a new name without asking whether another tool has it (a mutation-run
    survivor: the name comparison written with `is`)."""

    OPERATION = "patchTool"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        name = ctx.body.get("name") if isinstance(ctx.body, dict) else None
        if not isinstance(name, str):
            return handler(ctx)
        answer = handler(replace(ctx, body={k: v for k, v in ctx.body.items() if k != "name"}))
        if 200 <= answer.status < 300:
            self.store.find("tools", ctx.tenant, ctx.path["tool_id"], writable=True).data["name"] = name
            if isinstance(answer.body, dict) and "name" in answer.body:
                answer.body["name"] = name
        return answer


class SetGuardrailsHidden(_Wrapped):
    """A guardrail of a set cannot be read by its own uuid (only guardrails made on their own can): the
    set's items were never made guardrails of their own."""

    OPERATION = "getGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        item = self.store.lookup("guardrail_items", ctx.tenant, ctx.path["guardrails_id"])
        if item is not None and item.data.get("guardrails_set_id"):
            raise ApiError(404, "Guardrail not found", key="message")
        return handler(ctx)


class SetPatchNotMirrored(_Wrapped):
    """A set's JSON Patch changes the set only: its guardrails, read by their uuids, keep the old text."""

    OPERATION = "patchGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        set_id = ctx.path["guardrails_id"]
        if self.store.lookup("guardrails", ctx.tenant, set_id) is None:
            return handler(ctx)
        mirrors = [
            r for r in self.store.visible("guardrail_items", ctx.tenant) if r.data.get("guardrails_set_id") == set_id
        ]
        kept = [(r, dict(r.data)) for r in mirrors]
        answer = handler(ctx)
        for record, data in kept:
            record.data = data
        return answer


class DeletedSetStaysOnPersonas(_Wrapped):
    """Deleting a set deletes it and its guardrails but the personas that used it still name it."""

    OPERATION = "deleteGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        set_id = ctx.path["guardrails_id"]
        users = [p for p in self.store.visible("personas", ctx.tenant) if p.data.get("guardrails_id") == set_id]
        answer = handler(ctx)
        for persona in users:
            persona.data["guardrails_id"] = set_id
        return answer


class PersonaRefsEmpty(_Wrapped):
    """A guardrail's `persona_refs` (verbose) is always empty."""

    OPERATION = "getGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if isinstance(answer.body, dict) and "persona_refs" in answer.body:
            answer.body["persona_refs"] = []
        return answer


class ObjectiveLoopsUnseen(_Wrapped):
    """Objectives' validate finds no loop past the first objective (it only counts first objectives)."""

    OPERATION = "validateObjectives"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if isinstance(answer.body, dict):
            errors = [e for e in answer.body.get("errors", []) if "cycle" not in e]
            answer.body.update(valid=not errors, errors=errors)
        return answer


class ObjectiveConditionsUnread(_Wrapped):
    """Objectives' validate reads `next_required_objective` only: a conditional next that is not in the
    set goes unseen (and a conditional one that is makes two first objectives)."""

    OPERATION = "validateObjectives"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        items = [{k: v for k, v in i.items() if k != "next_conditional_objectives"} for i in ctx.body["data"]]
        return handler(replace(ctx, body={**ctx.body, "data": items}))


class PatchResultUnchecked(TavusMock):
    """A JSON Patch's result is stored without holding it to the schema (a record whose name is a
    number is kept); the server does not check its own answers either."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._patch_schema = dict.fromkeys(self._patch_schema)

    def _admit(self, record: Any, before: dict[str, Any] | None) -> None:
        if before is None:
            super()._admit(record, before)


class UnknownPatchMember500(_Wrapped):
    """A JSON Patch naming a member the persona does not have crashes the server: it looks the member's
    schema up by name (a KeyError, answered 500) instead of refusing or ignoring it."""

    OPERATION = "patchPersona"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        if isinstance(ctx.body, list):
            known = self.spec.raw["components"]["schemas"]["Persona"]["properties"]
            for op in ctx.body:
                member = str(op.get("path", "")).split("/")[1:2]
                if member and member[0] not in known:
                    raise KeyError(member[0])
        return handler(ctx)


class StockWritable(TavusMock):
    """The ownership check of a write looks at other keys' records only: any key renames or deletes
    Tavus's stock personas, which every account shares."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store, find = self.store, self.store.find

        def found(tag: str, tenant: str, rid: str, *, writable: bool = False) -> Any:
            record = find(tag, tenant, rid)
            if writable:
                store.change(record)
            return record

        store.find = found  # type: ignore[method-assign]


class GuardrailPatchSpreads(_Wrapped):
    """A JSON Patch of one guardrail of a set is mirrored into every guardrail the set holds (the match
    on its uuid left out of the loop)."""

    OPERATION = "patchGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        item = self.store.records["guardrail_items"].get(ctx.path["guardrails_id"])
        set_id = item.data.get("guardrails_set_id") if item is not None and answer.status < 300 else None
        group = self.store.lookup("guardrails", ctx.tenant, set_id) if item is not None and set_id else None
        if item is not None and group is not None:
            self.store.change(group)
            for other in group.data["data"]:
                other["guardrail_prompt"] = item.data.get("guardrail_prompt")
        return answer


class RecrawlAnytime(_Wrapped):
    """A document can be recrawled again at once: neither the running crawl nor the hour's cooldown is
    kept."""

    OPERATION = "recrawlDocument"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        record = self.store.lookup("documents", ctx.tenant, ctx.path["document_id"])
        if record is not None and record.data.get("status") == "recrawling":
            record.data["status"] = "ready"
        if record is not None:
            record.last_recrawl = None
        return handler(ctx)


class ThumbnailsAlways(_Wrapped):
    """A deployment list ignores `include_thumbnails=false` (the CLI's way to save time)."""

    OPERATION = "listDeployments"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return handler(replace(ctx, query={k: v for k, v in ctx.query.items() if k != "include_thumbnails"}))


class LocalTimeAsUtc(_Wrapped):
    """Creates stamp the server's local time (two hours east of UTC) with a `Z`: every new persona says
    it was made two hours from now."""

    OPERATION = "createPersona"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if isinstance(answer.body, dict) and "created_at" in answer.body:
            local = iso_at(time.time() + 7200)
            record = self.store.lookup("personas", ctx.tenant, answer.body.get("persona_id"))
            if record is not None:
                record.data.update(created_at=local, updated_at=local)
            answer.body["created_at"] = local
        return answer


class DuplicateRulesMerged(_Wrapped):
    """A dictionary created with two rules of one text keeps the last instead of refusing it."""

    OPERATION = "createPronunciationDictionary"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        rules = ctx.body.get("rules") if isinstance(ctx.body, dict) else None
        if isinstance(rules, list):
            last = {str(rule.get("text")): rule for rule in rules if isinstance(rule, dict)}
            ctx = replace(ctx, body={**ctx.body, "rules": list(last.values())})
        return handler(ctx)


class PalPatchDropped(TavusMock):
    """A PAL's JSON Patch loses its operations on the way to the persona (the vocabulary translation
    yields none), so every PAL patch is answered 304 and changes nothing."""

    def _alias(self, alias: Alias, target_id: str, ctx: Ctx) -> Answer:
        if isinstance(ctx.body, list):
            ctx = replace(ctx, body=[])
        return super()._alias(alias, target_id, ctx)


class ChunkCursorPastEnd(_Wrapped):
    """A page of chunks that reaches past the last one still hands out a `next_offset` (the end test
    written `!=` instead of `<`)."""

    OPERATION = "listDocumentChunks"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        if isinstance(answer.body, dict) and answer.body.get("next_offset") is None:
            start = int(str(ctx.query.get("offset") or 0))
            end = start + int(ctx.query.get("limit", 100))
            if end != start + len(answer.body.get("data") or ()):
                answer.body["next_offset"] = str(end)
        return answer


class DeleteGuardrail500(_Wrapped):
    """Deleting a guardrail that a persona uses fails with a 500 (the scrub of the persona's
    `guardrail_ids` breaks)."""

    OPERATION = "deleteGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        rid = ctx.path["guardrails_id"]
        if any(rid in (p.data.get("guardrail_ids") or ()) for p in self.store.visible("personas", ctx.tenant)):
            raise ApiError(500, "Internal server error")
        return handler(ctx)


class DetachAnswersOnly(_Wrapped):
    """Detaching a tool from a PAL answers success and keeps the tool attached (the kept list compares
    ids by identity, never equal to the path's)."""

    OPERATION = "detachToolFromPal"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        pal = self.store.lookup("personas", ctx.tenant, ctx.path["pal_id"])
        kept = list(pal.data.get("tool_ids") or ()) if pal is not None else []
        answer = handler(ctx)
        if pal is not None and 200 <= answer.status < 300:
            pal.data["tool_ids"] = kept
        return answer


class ToolIdFilterLoose(_Wrapped):
    """`name_or_uuid` on tools compares ids with `<=` instead of `==`: any tool whose id sorts before
    the value matches."""

    OPERATION = "listTools"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        return _loose_id_filter(handler, ctx, "tool_id", "name")


class CooldownRetryNow(_Wrapped):
    """The recrawl cooldown's 429 says `Retry-After: 0` (the wait computed with `% 1`)."""

    OPERATION = "recrawlDocument"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        try:
            return handler(ctx)
        except ApiError as err:
            if err.status == 429:
                err.headers["Retry-After"] = "0"
            raise


class PersonaReplicaUnchecked(TavusMock):
    """A persona may name a replica that does not exist (its references are not checked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.families = dict(self.families)  # this server's own: the registry is shared by every server
        family = self.families["personas"]
        kept = tuple(r for r in family.references if r.field != "default_replica_id")
        self.families["personas"] = replace(family, references=kept)


class CharsetRefused(TavusMock):
    """`application/json; charset=utf-8` is refused as another media type (the parameter is not split
    off before the comparison)."""

    @staticmethod
    def _check_body(op: Operation, raw: bytes, headers: Mapping[str, str]) -> Any:
        if headers.get("content-type", "").replace(" ", "").lower() != "application/json" and raw.strip():
            raise ApiError(400, "Invalid request: Content-Type must be application/json")
        return TavusMock._check_body(op, raw, headers)


class GuardrailIdFilterLoose(_Wrapped):
    """`name_or_uuid` on individual guardrails compares uuids with `<=` instead of `==`."""

    OPERATION = "listGuardrails"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        if ctx.query.get("legacy", True):  # sets: not this variant's mistake
            return handler(ctx)
        return _loose_id_filter(handler, ctx, "uuid", "guardrail_name")


class TagCountsNeverAdded(_Wrapped):
    """The document tag list lists each tag but never adds to its count (the sum written `// 1`)."""

    OPERATION = "listDocumentTags"

    def wrap(self, handler: Callable[[Ctx], Answer], ctx: Ctx) -> Answer:
        answer = handler(ctx)
        for item in answer.body.get("tags", []) if isinstance(answer.body, dict) else []:
            item["document_count"] = 0
        return answer


def _loose_id_filter(handler: Callable[[Ctx], Answer], ctx: Ctx, id_field: str, name_field: str) -> Answer:
    """A list whose `name_or_uuid` compares ids with `<=` instead of `==` (names are still compared
    right): the list read unfiltered, then cut down that way."""
    value = ctx.query.get("name_or_uuid")
    if not isinstance(value, str):
        return handler(ctx)
    answer = handler(replace(ctx, query={k: v for k, v in ctx.query.items() if k != "name_or_uuid"}))
    if isinstance(answer.body, dict) and isinstance(answer.body.get("data"), list):
        kept = [
            item
            for item in answer.body["data"]
            if str(item.get(id_field)) <= value or value.lower() in str(item.get(name_field, "")).lower()
        ]
        answer.body.update(data=kept, total_count=len(kept))
    return answer


# variant -> (operations the run is limited to, checks of which at least one must fail). A run ends at its
# first failure, so every check that rightly fails on the variant is listed: whichever comes first.
VARIANTS: dict[type[TavusMock], tuple[tuple[str, ...], set[str]]] = {
    WrongType: (("personas",), {"response_schema_conformance"}),
    IgnoredKey: (("personas",), {"ignored_auth", "missing_required_header"}),
    UndocumentedStatus: (("replicas",), {"status_code_conformance"}),
    ZombieDelete: (("videos",), {"use_after_free", "deleted_leave_lists"}),
    EmptyString500: (("personas",), {"not_a_server_error"}),
    WrongTotal: (("documents",), {"list_total_count"}),
    FilterIgnored: (("conversations",), {"list_filter_applied", "filter_finds_listed"}),
    CreateDropsName: (("personas",), {"create_reads_back"}),
    PatchNotApplied: (("personas",), {"json_patch_applied", "patch_round_trip"}),
    IfMatchIgnored: (("deployments",), {"etag_guards_patches"}),
    DeploymentTotalWrong: (("deployments",), {"list_total_count", "pages_are_consecutive"}),
    ToolPatchIgnored: (("tools",), {"flat_update_applied", "tool_names_unique"}),
    RenameIgnored: (("replicas",), {"flat_update_applied"}),
    EndNotFinal: (("conversations",), {"end_is_final"}),
    DetachKeepsTool: (("pal_tools",), {"deleted_leave_lists"}),
    DuplicateToolNames: (("tools",), {"tool_names_unique"}),
    AttachRefused: (("tools",), {"new_tool_attaches"}),
    DeletedToolStays: (("tools",), {"deleted_tool_leaves_pals"}),
    DefaultOrderReversed: (("tools",), {"list_follows_sort"}),
    RefusalIs401: (("tools",), {"key_accepted", "documented_refusals"}),
    FillerNotRequired: (("tools",), {"documented_refusals"}),
    PagesOverlap: (("personas",), {"pages_are_consecutive", "paging_adds_up"}),
    ToolsAlwaysRefused: (("tools",), {"documented_example_accepted"}),
    SortIgnored: (("documents",), {"list_follows_sort"}),
    PatchesTooLarge: (("personas",), {"documented_example_accepted"}),
    DescendingRepeats: (("documents",), {"list_items_distinct", "list_follows_sort"}),
    ETagFrozen: (("deployments",), {"etag_guards_patches"}),
    GuardrailPatchLost: (("guardrails",), {"patch_round_trip", "json_patch_applied"}),
    ToolSizeOffByOne: (("tools",), {"documented_refusals"}),
    NewestNotListed: (("personas",), {"create_is_listed"}),
    PalsApart: (("pals",), {"alias_reads_same_record"}),
    SkillsRefusePal: (("pals", "pal_skills"), {"created_stays_available"}),
    SkillConfigUnchecked: (("pal_skills",), {"documented_refusals"}),
    TagPagesRepeat: (("documents",), {"paging_adds_up", "pages_are_consecutive"}),
    GuardrailSetsPatchedAsItems: (("guardrails",), {"patch_round_trip", "created_stays_available"}),
    ChunkCursorNeverEnds: (("documents",), {"cursor_reaches_end"}),
    DeploymentFilterWrong: (("pals", "deployments"), {"filter_finds_listed"}),
    GuardrailTagFilterEmpty: (("guardrails",), {"filter_finds_listed", "list_filter_complete"}),
    ToolSecretsInClear: (("tools",), {"secrets_answered_masked"}),
    ToolRenameTakesName: (("tools",), {"tool_names_unique"}),
    SetGuardrailsHidden: (("guardrails",), {"set_guardrails_are_guardrails"}),
    SetPatchNotMirrored: (("guardrails",), {"set_guardrails_are_guardrails"}),
    DeletedSetStaysOnPersonas: (("guardrails",), {"set_guardrails_are_guardrails"}),
    PersonaRefsEmpty: (("guardrails",), {"set_guardrails_are_guardrails"}),
    ObjectiveLoopsUnseen: (("objectives",), {"documented_refusals"}),
    ObjectiveConditionsUnread: (("objectives",), {"documented_refusals"}),
    PatchResultUnchecked: (("personas",), {"patch_keeps_schema"}),
    UnknownPatchMember500: (("personas",), {"patch_unknown_member_answered"}),
    StockWritable: (("personas",), {"stock_stays_unchanged"}),
    GuardrailPatchSpreads: (("guardrails",), {"set_guardrails_are_guardrails"}),
    RecrawlAnytime: (("documents",), {"recrawl_once_an_hour"}),
    ThumbnailsAlways: (("pals", "deployments"), {"verbose_adds_only"}),
    LocalTimeAsUtc: (("personas",), {"created_at_is_now"}),
    DuplicateRulesMerged: (("pronunciation_dictionaries",), {"documented_refusals"}),
    PalPatchDropped: (("pals",), {"patch_round_trip"}),
    ChunkCursorPastEnd: (("documents",), {"cursor_reaches_end"}),
    DeleteGuardrail500: (("guardrails",), {"set_guardrails_are_guardrails"}),
    DetachAnswersOnly: (("tools",), {"new_tool_attaches"}),
    ToolIdFilterLoose: (("tools",), {"text_filter_applied"}),
    CooldownRetryNow: (("documents",), {"recrawl_once_an_hour"}),
    PersonaReplicaUnchecked: (("personas",), {"documented_refusals"}),
    CharsetRefused: (("personas",), {"charset_accepted"}),
    GuardrailIdFilterLoose: (("guardrails",), {"text_filter_applied"}),
    TagCountsNeverAdded: (("documents",), {"tag_counts_add_up"}),
}
