"""Lists in O(page): the per-key creation-order index gives the same pages as a full scan, and only the
page's records are touched."""

from __future__ import annotations

import random

import pytest

from tavus_mock.core import Record
from tavus_mock.resources import registry as families
from tavus_mock.store import Store


def scan(store: Store, tag: str, tenant: str, owner: str | None, order: str) -> list[str]:
    records = [
        r
        for r in store.records[tag].values()
        if not r.deleted and r.tenant in (tenant, None) and (owner is None or (r.tenant is None) == (owner == "system"))
    ]
    if order == "stock_first":
        records.sort(key=lambda r: (r.tenant is not None, r.seq))
    else:
        records.sort(key=lambda r: r.seq, reverse=order == "desc")
    return [r.id for r in records]


@pytest.fixture
def store() -> Store:
    """Stock personas, then tenant and seeded stock records interleaved, some deleted."""
    store = Store()
    rng = random.Random(7)
    for i in range(120):
        owner = rng.choice(["t1", "t1", "t2", None])
        store.load_seed_data(
            {"system": {"personas": [{"persona_id": f"psys{i}"}]}}
            if owner is None
            else {"tenants": {owner: {"personas": [{"persona_id": f"p{owner}{i}"}]}}}
        )
    for record in rng.sample([r for r in store.records["personas"].values() if r.tenant], 20):
        store.delete(record, hard=rng.random() < 0.5)
    return store


@pytest.mark.parametrize("order", ["asc", "desc", "stock_first"])
@pytest.mark.parametrize("owner", [None, "user", "system"])
def test_every_page_equals_the_scan(store: Store, order: str, owner: str | None) -> None:
    expected = scan(store, "personas", "t1", owner, order)
    for limit in (1, 3, 10, 1000):
        pages = []
        for offset in range(0, len(expected) + limit, limit):
            chunk, total = store.page("personas", "t1", owner=owner, offset=offset, limit=limit, order=order)
            assert total == len(expected)
            pages.extend(r.id for r in chunk)
        assert pages == expected, (limit, order, owner)


def test_a_page_touches_only_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    store.load_seed_data({"tenants": {"big": {"videos": [{"status": "queued"} for _ in range(5000)]}}})
    touched: list[Record] = []
    original = store.advance
    monkeypatch.setattr(store, "advance", lambda record: touched.append(record) or original(record))
    chunk, total = store.page("videos", "big", offset=4990, limit=10)
    assert total == 5000 and len(chunk) == 10 and len(touched) == 10
    empty, none = store.page("videos", "other", offset=0, limit=10)
    assert (empty, none) == ([], 0)


def test_hard_delete_frees_the_record_and_keeps_the_id(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    record = next(r for r in store.records["personas"].values() if r.tenant == "t2" and not r.deleted)
    store.delete(record, hard=True)
    assert record.id not in store.records["personas"] and record.id in store.retired_ids
    # the id is never given again, even when the id maker draws it
    drawn = iter([record.id, record.id, "p00000000001"])
    monkeypatch.setattr(families()["personas"], "make_id", lambda: next(drawn))
    assert store.create("personas", "t2", {"persona_name": "again"}).id == "p00000000001"
    soft = next(r for r in store.records["personas"].values() if r.tenant == "t2" and not r.deleted)
    store.delete(soft, hard=False)
    assert soft.id in store.records["personas"] and soft.deleted
    assert soft not in store.order[("personas", "t2")]
