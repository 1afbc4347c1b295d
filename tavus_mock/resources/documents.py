"""Documents (the knowledge base): create (from a URL, or crawling a website), recrawl, tags, chunks.

Evidence: research doc (document fields; processing statuses; crawl limit and the recrawl rules: one
recrawl per document per hour, only in `ready` or `error`) and live-surface inventory (the tag list and
the chunks of a document). Get, list, patch and delete are the generic behaviours (app.py); processing
is Store.advance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import MAX_PAGE, Answer, Ctx, creates, handles, tag_page
from ..store import ApiError

if TYPE_CHECKING:
    from ..app import TavusMock

CRAWL_LIMIT = 100  # crawl-backed documents per key [S1: "Crawl document limit reached (100)"]


@creates("documents")
def create(mock: TavusMock, ctx: Ctx, body: dict[str, Any], now: str) -> Answer:
    crawl = body.get("crawl")
    if crawl is not None:
        crawls = [r for r in mock.store.visible("documents", ctx.tenant) if r.data.get("crawl_config")]
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
    record = mock.store.create("documents", ctx.tenant, data)
    mock.store.schedule_callback(record)
    return Answer(mock.success(ctx.op), mock.view(record))


@handles("recrawlDocument")
def recrawl(mock: TavusMock, ctx: Ctx) -> Answer:
    with mock.store.lock:
        record = mock.store.find("documents", ctx.tenant, ctx.path["document_id"], writable=True)
        mock.store.recrawl(record, mock.config.recrawl_cooldown)
        mock.store.schedule_callback(record)
        return Answer(mock.success(ctx.op), mock.view(record))


@handles("listDocumentTags")
def tags(mock: TavusMock, ctx: Ctx) -> Answer:
    """Tags in use on the key's documents, counted."""
    with mock.store.lock:
        return tag_page(ctx, (r.data.get("tags") or () for r in mock.store.visible("documents", ctx.tenant)))


@handles("listDocumentChunks")
def chunks(mock: TavusMock, ctx: Ctx) -> Answer:
    """The chunks of a processed document. tavus-mock stores no file contents, so a ready document has
    a few chunks naming it; customer-support chunks exist only on customer-support documents."""
    record = mock.store.find("documents", ctx.tenant, ctx.path["document_id"])
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
