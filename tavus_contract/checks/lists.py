"""What a Tavus list promises (the spec's conventions): `limit` bounds a page, `total_count` counts
every match, pages follow each other from the documented first page, filters and `sort` apply, each
item appears once, and `verbose` (any flag with `x-verbose-adds`) adds what that names.

Each list is judged in the envelope the spec gives it (`{data, total_count}`, the deployments'
`{deployments, total}`), read from `tavus_spec.facts`."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tavus_contract.checks._probe import Probe, contract_check, has_ids, identity, json_of, list_parts

# Query parameters of a list that do not filter items by equality.
NOT_FILTERS = frozenset({"limit", "page", "sort", "verbose", "legacy", "include_thumbnails", "offset"})
# Lists whose pages were counted through in this run: (base URL, path, path parameters, filters).
_WALKED: set[tuple[str, str, str, str]] = set()
WALK_AT_MOST = 400  # a list with more matches than this is not counted through (its pages are still judged)
WHOLE_PAGE = 100  # the page the unfiltered list is read in (every list's limit admits 100)
SORTABLE = {"asc": False, "ascending": False, "desc": True, "descending": True}


def _page(probe: Probe) -> tuple[list[Any], int, dict[str, Any]] | None:
    """(items, total, query) of a list read answered 200 in its envelope, else None."""
    found = probe.list_here()
    if found is None or probe.response.status_code != 200:
        return None
    parts = list_parts(probe.body(), found)
    return (parts[0], parts[1], dict(probe.case.query or {})) if parts else None


def _limit(probe: Probe, query: dict[str, Any]) -> int | None:
    """The page size this request asked for: its `limit`, else the list's documented default."""
    found = probe.list_here()
    limit = query.get("limit", found.default_limit if found else None)
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1 else None


def _first_page(probe: Probe, query: dict[str, Any]) -> bool:
    found = probe.list_here()
    page = query.get("page")
    return page is None or (found is not None and page == found.page_base)


@contract_check
def page_within_limit(probe: Probe) -> None:
    """A page never holds more items than the `limit` asked for (or the documented default)."""
    page = _page(probe)
    if page is None:
        return
    items, _, query = page
    limit = _limit(probe, query)
    if limit is not None and len(items) > limit:
        how = f"limit={limit}" if "limit" in query else f"no limit given (the documented default is {limit})"
        probe.fail(f"a page holds {len(items)} items with {how}")


@contract_check
def list_total_count(probe: Probe) -> None:
    """`total_count` counts every match: never fewer than the page holds, exactly the page when the first
    page is not full, and more than the page when the first page is full... of fewer than the total."""
    page = _page(probe)
    if page is None:
        return
    items, total, query = page
    if total < len(items):
        probe.fail(f"the total is {total} but this page alone holds {len(items)} items")
    limit = _limit(probe, query)
    if _first_page(probe, query) and limit is not None and len(items) < limit and total != len(items):
        probe.fail(f"the first page is not full ({len(items)} of {limit}) but the total says {total}")


@contract_check
def list_filter_applied(probe: Probe) -> None:
    """A list filtered by a field (`status=ended`, `persona_type=user`) holds only items whose field has
    that value, or one of a comma list's values; items that do not show the field are not judged."""
    page = _page(probe)
    if page is None:
        return
    items, _, query = page
    for name, wanted in query.items():
        if name in NOT_FILTERS or isinstance(wanted, (list, dict)) or str(wanted).strip(" ,") == "":
            continue
        allowed = {w.strip().lower() for w in str(wanted).split(",")} if "," in str(wanted) else {str(wanted).lower()}
        if isinstance(wanted, bool):
            allowed = {json.dumps(wanted)}
        for item in items:
            value = item.get(name) if isinstance(item, dict) else None
            if value is None or isinstance(value, (list, dict)):
                continue
            shown = json.dumps(value) if isinstance(value, bool) else str(value).lower()
            if shown not in allowed:
                probe.fail(f"the list was filtered by {name}={wanted!r} but holds an item with {name}={value!r}")


_COUNTED: set[tuple[str, str]] = set()


@contract_check
def tag_counts_add_up(probe: Probe) -> None:
    """A tag list's count of a tag (its operation's `x-tavus-counted-by`) is the total of the list it
    counts, filtered by that tag: the first tag of a page that a filter can name, once per list and
    server."""
    if probe.method != "GET" or probe.response.status_code != 200:
        return
    raw = probe.raw["paths"].get(probe.path, {}).get("get", {})
    how = raw.get("x-tavus-counted-by")
    body = probe.body()
    tags = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(how, dict) or not isinstance(tags, list):
        return
    first = next((t for t in tags if isinstance(t, dict) and _filterable(t.get("tag"))), None)
    if first is None or (probe.base_url, probe.path) in _COUNTED:
        return
    _COUNTED.add((probe.base_url, probe.path))
    tag, count = first.get("tag"), first.get(how["count"])
    if not isinstance(tag, str) or not isinstance(count, int):
        return
    listed = probe.ask(how["operationId"], query={**how.get("query", {}), how["parameter"]: tag, "limit": 1})
    document = json_of(listed)
    where = probe.facts.path_of(how["operationId"])
    found = probe.facts.list_at(where) if where is not None else None
    parts = list_parts(document, found) if found is not None and listed.status_code == 200 else None
    if parts is not None and parts[1] != count:
        probe.fail(f"the tag {tag!r} is counted {count}, but {how['operationId']} filtered by it totals {parts[1]}")


_TEXT_TRIED: set[tuple[str, str, str, str]] = set()


@contract_check
def text_filter_applied(probe: Probe) -> None:
    """A filter that matches by id or by text (its parameter's `x-tavus-matches`: `name_or_uuid`) holds
    only items whose id field equals the value or whose name field contains it, ignoring case: judged
    on every such list read, and once per list (and its other filters) with a value that matches
    nothing (`zz...`, after every id)."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None:
        return
    items, _, query = page
    for param in probe.facts.parameters(probe.path, "get"):
        how, name = param.get("x-tavus-matches"), param.get("name")
        if not isinstance(how, dict) or not isinstance(name, str):
            continue
        if name in query and not isinstance(query[name], (list, dict)):
            _matching(probe, how, name, str(query[name]), items)
            continue
        where = (probe.base_url, probe.path, json.dumps(sorted(query.items()), default=str), name)
        if where in _TEXT_TRIED:
            continue
        _TEXT_TRIED.add(where)
        value = "zz_no_such_name_" + secrets.token_hex(3)
        params = dict(probe.case.path_parameters or {})
        parts = list_parts(
            json_of(probe.ask(found.operation_id, path_parameters=params, query={**query, name: value})), found
        )
        if parts is not None:
            _matching(probe, how, name, value, parts[0])


def _matching(probe: Probe, how: dict[str, Any], name: str, value: str, items: list[Any]) -> None:
    for item in items:
        if not isinstance(item, dict):
            continue
        equal = any(item.get(field) == value for field in how.get("equals", ()))
        texts = [item.get(field) for field in how.get("contains", ())]
        if not equal and not any(isinstance(t, str) and value.lower() in t.lower() for t in texts):
            shown = {f: item.get(f) for f in (*how.get("equals", ()), *how.get("contains", ())) if f in item}
            probe.fail(f"the list was filtered by {name}={value!r} but holds {shown}, which matches neither way")


@contract_check
def list_filter_complete(probe: Probe) -> None:
    """A filtered list misses no match: read again without the filter (one page of 100), the items
    whose field has the filter's value are no more than the filtered list counts. Judged for one
    equality filter on a field the items show, when the unfiltered list fits in that page."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None or "limit" not in found.query:
        return
    _, total, query = page
    filters = {
        name: wanted
        for name, wanted in query.items()
        if name not in NOT_FILTERS
        and not isinstance(wanted, (list, dict, bool))
        and str(wanted).strip(" ,")
        and "," not in str(wanted)
    }
    if len(filters) != 1:
        return
    ((name, wanted),) = filters.items()
    rest = {k: v for k, v in query.items() if k not in (name, "page", "limit")}
    unfiltered = list_parts(json_of(probe.again(query={**rest, "limit": WHOLE_PAGE})), found)
    if unfiltered is None or unfiltered[1] > len(unfiltered[0]):
        return
    matching = [
        item
        for item in unfiltered[0]
        if isinstance(item, dict)
        and name in item
        and not isinstance(item[name], (list, dict))
        and (json.dumps(item[name]) if isinstance(item[name], bool) else str(item[name])).lower() == str(wanted).lower()
    ]
    if len(matching) > total:
        probe.fail(
            f"the list filtered by {name}={wanted!r} counts {total}, but {len(matching)} items of the same "
            f"list without the filter have {name}={wanted!r}"
        )


_FILTERS_TRIED: set[tuple[str, str, str]] = set()


@contract_check
def filter_finds_listed(probe: Probe) -> None:
    """A list read again with one more filter, set to a value one of its own items shows (the first
    item's `pal_id`, `status`, one of its `tags`), holds that item, and only items showing that value
    (for a list field, holding it). Filters named like a field of the items, and those that match by
    id or text (`name_or_uuid`, set to the first item's id); once per list and filter in a run; judged
    when the filtered list fits in one page. A filter the spec does not name is never sent."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None:
        return
    items = [item for item in page[0] if isinstance(item, dict)]
    if not items or not has_ids(items, found.id_field):
        return
    params = dict(probe.case.path_parameters or {})
    size = min(WHOLE_PAGE, found.max_limit or WHOLE_PAGE)
    for name in sorted(found.query - NOT_FILTERS - set(page[2])):  # one more filter on the same list
        first = next((item for item in items if _filterable(item.get(name))), None)
        where = (probe.base_url, probe.path, name)
        if first is None or where in _FILTERS_TRIED:
            continue
        _FILTERS_TRIED.add(where)
        shown = first[name]
        wanted = shown[0] if isinstance(shown, list) else shown
        text = json.dumps(wanted) if isinstance(wanted, bool) else str(wanted)
        kept = {k: v for k, v in page[2].items() if k not in ("limit", "page", "offset")}  # its other filters
        query = {**kept, name: text, **({"limit": size} if "limit" in found.query else {})}
        parts = list_parts(json_of(probe.ask(found.operation_id, path_parameters=params, query=query)), found)
        if parts is None or parts[1] > (size if "limit" in found.query else len(parts[0])):
            continue  # refused, or more than the page asked for: not judged
        got = [item for item in parts[0] if isinstance(item, dict)]
        if identity(first, found.id_field) not in {identity(item, found.id_field) for item in got}:
            probe.fail(f"filtered by {name}={text!r}, the list misses an item that shows {name}={shown!r}")
        for item in got:
            value = item.get(name)
            holds = wanted in value if isinstance(value, list) else str(value).lower() == text.lower()
            if value is not None and not holds:
                probe.fail(f"filtered by {name}={text!r}, the list holds an item with {name}={value!r}")
    _finds_by_id(probe, items, page[2], params, size)


def _finds_by_id(
    probe: Probe, items: list[dict[str, Any]], query: dict[str, Any], params: dict[str, Any], size: int
) -> None:
    """A filter that matches by id or by text (`x-tavus-matches`: `name_or_uuid`), set to the id of the
    list's first item, holds that item, and only items matching that value one way or the other."""
    found = probe.list_here()
    if found is None:
        return
    kept = {k: v for k, v in query.items() if k not in ("limit", "page", "offset")}
    for param in probe.facts.parameters(probe.path, "get"):
        how, name = param.get("x-tavus-matches"), param.get("name")
        if not isinstance(how, dict) or not isinstance(name, str) or name in query:
            continue
        field = next(iter(how.get("equals", ())), None)
        first = next((item for item in items if isinstance(field, str) and _filterable(item.get(field))), None)
        where = (probe.base_url, probe.path, name)
        if first is None or not isinstance(field, str) or where in _FILTERS_TRIED:
            continue
        _FILTERS_TRIED.add(where)
        text = str(first[field])
        asked = {**kept, name: text, **({"limit": size} if "limit" in found.query else {})}
        parts = list_parts(json_of(probe.ask(found.operation_id, path_parameters=params, query=asked)), found)
        if parts is None or parts[1] > (size if "limit" in found.query else len(parts[0])):
            continue  # refused, or more than the page asked for: not judged (a shorter page is)
        got = [item for item in parts[0] if isinstance(item, dict)]
        if identity(first, found.id_field) not in {identity(item, found.id_field) for item in got}:
            probe.fail(f"filtered by {name}={text!r} (the {field} of an item it lists), the list misses that item")
        _matching(probe, how, name, text, got)


def _filterable(value: Any) -> bool:
    """A value a filter can name: a non-empty scalar without commas, or a list whose first is one."""
    first = value[0] if isinstance(value, list) and value else value
    return isinstance(first, (str, int, bool)) and str(first).strip() != "" and "," not in str(first)


@contract_check
def pages_are_consecutive(probe: Probe) -> None:
    """A first page of fewer items than the total is full; the next page holds the next items: none of
    the first page again, the second half of a page twice as long, as many as the total leaves. Judged
    only when the first page reads the same again afterwards (nothing changed underneath)."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None or found.page_base is None:
        return
    first, total, query = page
    limit = _limit(probe, query)
    if not _first_page(probe, query) or limit is None or total <= len(first):
        return
    query.pop("page", None)
    params = dict(probe.case.path_parameters or {})
    second = list_parts(json_of(probe.again(query={**query, "page": found.page_base + 1})), found)
    double = list_parts(json_of(probe.again(query={**query, "limit": 2 * limit})), found) if "limit" in query else None
    again = list_parts(json_of(probe.ask(found.operation_id, path_parameters=params, query=query)), found)
    names = [identity(item, found.id_field) for item in first]
    if second is None or again is None or [identity(i, found.id_field) for i in again[0]] != names:
        return
    if again[1] != total:
        return
    if len(first) < min(limit, total):
        probe.fail(f"the first page holds {len(first)} items with limit {limit}, but the total says {total}")
    following = [identity(item, found.id_field) for item in second[0]]
    repeated = sum(1 for name in following if name in set(names))
    if repeated and has_ids(first, found.id_field):
        probe.fail(f"page {found.page_base + 1} repeats {repeated} item(s) of the first page (limit {limit})")
    if double is not None and len(double[0]) > limit:
        expected = [identity(i, found.id_field) for i in double[0]][limit:]
        if following != expected:
            probe.fail(
                f"page {found.page_base + 1} of {limit} is not what items {limit + 1}-{2 * limit} of a page of"
                f" {2 * limit} are"
            )
    wanted = min(limit, total - limit)
    if len(second[0]) != wanted:
        probe.fail(
            f"page {found.page_base + 1} holds {len(second[0])} items; a total of {total} at {limit} a page"
            f" leaves {wanted}"
        )


@contract_check
def paging_adds_up(probe: Probe) -> None:
    """Reading every page of a list from the documented first page (`x-page-base`) gives each match
    once, as many as `total_count` says. Once per list and filter in a run; lists of more than
    WALK_AT_MOST matches are not counted through; judged only when the total stays the same."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None or found.page_base is None or "limit" not in found.query:
        return
    _, total, query = page
    filters = {k: v for k, v in query.items() if k not in ("limit", "page")}
    params = dict(probe.case.path_parameters or {})
    where = (probe.base_url, probe.path, json.dumps(params, sort_keys=True), json.dumps(filters, sort_keys=True))
    if where in _WALKED or total > WALK_AT_MOST:
        return
    _WALKED.add(where)
    limit = max(1, -(-total // 8)) if total > 1 else 1  # about eight pages, so every boundary is crossed
    seen: list[str] = []
    totals: set[int] = set()
    shown: list[Any] = []
    for items, count in probe.walk(found, path_parameters=params, query=filters, limit=limit, pages=12):
        totals.add(count)
        shown += items
        seen += [identity(item, found.id_field) for item in items]
        if len(items) > limit:
            probe.fail(f"a page holds {len(items)} items with limit={limit}")
    if len(totals) != 1:
        return  # the list changed while it was read
    (counted,) = totals
    if len(set(seen)) != len(seen):  # items without ids (a tag list) are told apart by their whole content
        probe.fail(f"reading every page of {limit} from page {found.page_base} lists some items twice")
    if len(seen) != counted:
        probe.fail(
            f"every page of {limit} from page {found.page_base} holds {len(seen)} items in all,"
            f" but the total says {counted}"
        )


@contract_check
def list_follows_sort(probe: Probe) -> None:
    """`sort=asc` lists oldest first, `desc` newest first, by `created_at` (items without an ISO 8601
    time are not judged); a list that names no order follows the one its `sort` parameter documents
    (`x-server-default`); a whole list on one page reads the other way round with the other order."""
    page = _page(probe)
    if page is None:
        return
    items, total, query = page
    facts = probe.list_here()
    order = query.get("sort", facts.default_sort if facts is not None else None)
    descending = SORTABLE.get(str(order or "").lower())
    if descending is None:
        return
    said = f"sort={order}" if "sort" in query else f"no sort given (the documented default is {order})"
    found = [item.get("created_at") for item in items if isinstance(item, dict)]
    times = [t for t in found if isinstance(t, str) and t[:4].isdigit() and "T" in t]
    if len(times) < 2 or len(times) != len(found):
        return
    stamps = [t.rstrip("Z").replace("+00:00", "") for t in times]
    if stamps != sorted(stamps, reverse=descending):
        probe.fail(f"{said} but created_at reads {', '.join(times[:5])}...")
    if len(items) != total or "page" in query or facts is None or not has_ids(items, facts.id_field):
        return
    flipped = "asc" if descending else "desc"
    other = list_parts(json_of(probe.again(query={**query, "sort": flipped})), facts)
    if other is None or other[1] != total:
        return
    if [identity(i, facts.id_field) for i in other[0]] != [identity(i, facts.id_field) for i in items][::-1]:
        probe.fail(f"sort={flipped} does not list the items of {said} in reverse")


@contract_check
def list_items_distinct(probe: Probe) -> None:
    """One page of a list names each resource once."""
    page = _page(probe)
    found = probe.list_here()
    if page is None or found is None or len(page[0]) < 2 or not has_ids(page[0], found.id_field):
        return
    names = [identity(item, found.id_field) for item in page[0]]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        probe.fail(f"one page lists {', '.join(repeated[:3])} more than once")


@contract_check
def verbose_adds_only(probe: Probe) -> None:
    """A flag with `x-verbose-adds` (`verbose`; a deployment list's `include_thumbnails`) set true adds to
    the answer (or to each item of a list) exactly the fields it names over the same request with the
    flag false: each of them is there with it and not without it, and nothing else appears only with it."""
    if probe.method != "GET" or probe.response.status_code != 200:
        return
    for flag, adds in probe.facts.flag_adds(probe.path).items():
        _flag_adds_only(probe, flag, adds)


def _flag_adds_only(probe: Probe, flag: str, adds: frozenset[str]) -> None:
    query = {k: v for k, v in (probe.case.query or {}).items() if k != flag}
    plain = json_of(probe.again(query={**query, flag: "false"}))
    rich = json_of(probe.again(query={**query, flag: "true"}))
    found = probe.list_here()
    if found is not None:
        plain_parts, rich_parts = list_parts(plain, found), list_parts(rich, found)
        if plain_parts is None or rich_parts is None or not has_ids(plain_parts[0], found.id_field):
            return
        plain_by = {identity(i, found.id_field): i for i in plain_parts[0]}
        pairs = [
            (plain_by[identity(i, found.id_field)], i) for i in rich_parts[0] if identity(i, found.id_field) in plain_by
        ]
    else:
        pairs = [(plain, rich)] if isinstance(plain, dict) and isinstance(rich, dict) else []
    for before, after in pairs:
        if not isinstance(before, dict) or not isinstance(after, dict):
            continue
        missing = sorted(adds - set(after))
        extra = sorted(set(after) - set(before) - adds)
        kept = sorted(adds & set(before))
        if missing:
            probe.fail(f"{flag}=true should add {', '.join(missing)}, but the answer does not carry it")
        if kept:
            probe.fail(f"{flag}=false still answers {', '.join(kept)}, which only {flag}=true adds")
        if extra:
            probe.fail(f"{flag}=true adds {', '.join(extra)}, which the spec does not say it adds")


_CURSORED: set[tuple[str, str, str]] = set()


@contract_check
def cursor_reaches_end(probe: Probe) -> None:
    """A list that pages by cursor (`next_offset`, null at the end: the document chunks), followed from
    its first page one item at a time, gives each item once and never an empty page while the cursor
    before it promised more; a page that holds them all ends it (its cursor is null). Once per list and
    path in a run, at most 50 pages."""
    found = probe.facts.cursor_at(probe.path) if probe.method == "GET" else None
    if found is None or probe.response.status_code != 200 or "offset" in (probe.case.query or {}):
        return
    params = dict(probe.case.path_parameters or {})
    where = (probe.base_url, probe.path, json.dumps(params, sort_keys=True))
    if where in _CURSORED:
        return
    _CURSORED.add(where)
    filters = {k: v for k, v in (probe.case.query or {}).items() if k not in ("limit", found.offset)}
    seen: list[str] = []
    cursor: Any = None
    for number in range(50):
        query = {**filters, "limit": 1, **({found.offset: cursor} if cursor is not None else {})}
        answer = probe.ask(found.operation_id, path_parameters=params, query=query)
        body = json_of(answer)
        if answer.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get(found.items), list):
            return
        items = body[found.items]
        if number and not items:
            probe.fail(f"{found.cursor} {cursor!r} promised more, but the page it leads to is empty")
        if len(items) > 1:
            probe.fail(f"a page holds {len(items)} items with limit=1")
        seen += [identity(item, None) for item in items]
        cursor = body.get(found.cursor)
        if cursor is None:
            break
    if len(set(seen)) != len(seen):
        probe.fail(f"following {found.cursor} from the first page lists some items twice")
    if cursor is None and len(seen) < WHOLE_PAGE:  # every item fits one page: that page is the last
        whole = probe.ask(found.operation_id, path_parameters=params, query={**filters, "limit": WHOLE_PAGE})
        body = json_of(whole)
        if whole.status_code == 200 and isinstance(body, dict) and body.get(found.cursor) is not None:
            probe.fail(
                f"a page of all {len(seen)} items (limit={WHOLE_PAGE}) still hands out {found.cursor} "
                f"{body.get(found.cursor)!r}"
            )
