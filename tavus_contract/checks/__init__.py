"""The contract suite's own checks, by concern; importing this package registers them with schemathesis.

- `lists`: page size, totals, paging from the documented first page, filters, sort, distinct items, verbose
- `writes`: creates, patches and updates read back; atomic patches; listed after create, gone after delete;
  identifiers never reused; ending is final; unique tool names
- `etag`: optimistic locking with `If-Match`
- `tenancy`: a second key sees none of the run's resources
- `refusals`: the spec's documented refusals and examples; 401 only for a bad key
- `links`: records that name each other (a set's guardrails are guardrails of their own)

Every check is a function of one `Probe` (`_probe.py`): the case, its answer, the run's `Settings`,
and one way to ask the same server again.
"""

from __future__ import annotations

from tavus_contract.checks import etag, links, lists, refusals, tenancy, writes
from tavus_contract.checks._probe import LEDGER, Probe, contract_check


def forget() -> None:
    """Forget what the checks remembered of earlier runs in this process (ids handed out, probes sent)."""
    writes.forget()
    links.forget()
    refusals.forget()
    lists._WALKED.clear()
    lists._CURSORED.clear()
    lists._FILTERS_TRIED.clear()
    lists._TEXT_TRIED.clear()
    lists._COUNTED.clear()
    LEDGER.created.clear()
    LEDGER.deleted.clear()
    tenancy._LISTED.clear()


__all__ = ["Probe", "contract_check", "etag", "forget", "links", "lists", "refusals", "tenancy", "writes"]
