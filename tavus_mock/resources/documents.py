"""Documents (the knowledge base): create (from a URL, or crawling a website), recrawl, tags, chunks.

Evidence: research doc (document fields; processing statuses; crawl limit and the recrawl rules: one
recrawl per document per hour, only in `ready` or `error`) and live-surface inventory (the tag list and
the chunks of a document). Get, list, patch and delete are the generic behaviours; processing is its
lifecycle.
"""

from __future__ import annotations

from typing import Any

from ..core import MAX_PAGE, Answer, Api, Ctx, Family, Lifecycle, Record, Stage, register, tag_page
from ..store import ApiError, id_maker, iso_now, matches_any_tag

CRAWL_LIMIT = 100  # crawl-backed documents per key [S1: "Crawl document limit reached (100)"]


def _crawled(data: dict[str, Any], done_at: str) -> None:
    """A crawl-backed document's crawl counts once it is done."""
    if data.get("crawl_config"):
        crawls = (data.get("crawl_count") or 0) + 1
        data.update(crawl_count=crawls, last_crawled_at=done_at, crawled_urls=[data["document_url"]])


def _name_or_uuid(record: Record, value: str) -> bool:
    return record.id == value or value.lower() in str(record.data.get("document_name", "")).lower()


FAMILY = register(
    Family(
        "documents",
        "document_id",
        id_maker("d8-", 12),
        lifecycle=Lifecycle(
            delay="document",
            running=frozenset({"started", "processing", "recrawling"}),
            progress="progress",
            stages=(
                Stage(0.0, {"status": "processing"}, after=frozenset({"started"}), stamp=False),
                Stage(1.0, {"status": "ready", "progress": 100}),
            ),
            on_finish=_crawled,
        ),
        filters={
            "status": lambda record, value: record.data.get("status") == value,
            "name_or_uuid": _name_or_uuid,
            "tags": lambda record, value: matches_any_tag(record.data.get("tags") or (), value),
        },
        operations={
            "createDocument": "create",
            "listDocuments": "list",
            "getDocument": "get",
            "patchDocument": "patch",
            "deleteDocument": "delete",
        },
    )
)


@FAMILY.creates
def create(api: Api, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    crawl = body.get("crawl")
    if crawl is not None:
        crawls = [r for r in api.visible("documents", ctx.tenant) if r.data.get("crawl_config")]
        if len(crawls) >= CRAWL_LIMIT:
            raise ApiError(429, f"Crawl document limit reached ({CRAWL_LIMIT}).")
    url = body["document_url"]
    data = {
        # A name is made up only when none is given (an empty one is kept, as sent).
        "document_name": body["document_name"]
        if body.get("document_name") is not None
        else (url.rstrip("/").rsplit("/", 1)[-1] or url),
        "document_url": url,
        "status": "started",
        "progress": 0,
        "error_message": None,
        "tags": body.get("tags", []),
        "callback_url": body.get("callback_url"),
        "crawl_config": crawl,
        "crawled_urls": None,
        "last_crawled_at": None,
        "crawl_count": None,
        "created_at": now,
        "updated_at": now,
    }
    record = api.create("documents", ctx.tenant, data)
    api.schedule(record)
    return Answer(api.success(ctx.op), api.view(record))


@FAMILY.handles("recrawlDocument")
def recrawl(api: Api, ctx: Ctx) -> Answer:
    """Start crawling a website document again (it must be crawl-backed, settled and cooled down)."""
    record = api.find("documents", ctx.tenant, ctx.path["document_id"], writable=True)
    data = record.data
    if not data.get("crawl_config"):
        raise ApiError(400, "Document was not created with crawl configuration")
    if data["status"] not in ("ready", "error"):
        raise ApiError(
            409, f"Document must be in 'ready' or 'error' state to recrawl, current status: {data['status']}"
        )
    now, cooldown = api.now(), api.recrawl_cooldown
    if record.last_recrawl is not None and now - record.last_recrawl < cooldown:
        wait = int(cooldown - (now - record.last_recrawl)) + 1
        raise ApiError(429, f"Recrawl cooldown: please wait {wait} seconds", headers={"Retry-After": str(wait)})
    api.restart(record)
    record.last_recrawl = now
    # The body's `crawl` settings would only shape this crawl, whose pages the server does not fetch;
    # the stored settings stay as they are.
    data.update(status="recrawling", progress=None, updated_at=iso_now())
    api.schedule(record)
    return Answer(api.success(ctx.op), api.view(record))


@FAMILY.handles("listDocumentTags")
def tags(api: Api, ctx: Ctx) -> Answer:
    """Tags in use on the key's documents, counted."""
    return tag_page(ctx, (r.data.get("tags") or () for r in api.visible("documents", ctx.tenant)))


@FAMILY.handles("listDocumentChunks")
def chunks(api: Api, ctx: Ctx) -> Answer:
    """The chunks of a processed document. tavus-mock stores no file contents, so a ready document has
    a few chunks naming it; customer-support chunks exist only on customer-support documents."""
    record = api.find("documents", ctx.tenant, ctx.path["document_id"])
    data = record.data
    offset_text = ctx.query.get("offset", "0")
    if not str(offset_text).isdigit():
        raise ApiError(400, "Invalid request: offset must be a next_offset this endpoint returned")
    support = ctx.query.get("collection", "regular") == "customer_support"
    ready = data.get("status") == "ready" and bool(data.get("is_customer_support_document")) == support
    texts = [f"Part {i + 1} of {data.get('document_name')} ({data.get('document_url')})." for i in range(3)]
    found = [{"chunk_id": f"{record.id}-{i}", "index": i, "text": t} for i, t in enumerate(texts)] if ready else []
    start, limit = int(offset_text), min(ctx.query.get("limit", 100), MAX_PAGE)
    end = start + limit
    return Answer(200, {"data": found[start:end], "next_offset": str(end) if end < len(found) else None})
