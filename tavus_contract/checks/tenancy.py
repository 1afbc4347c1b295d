"""Tenancy: each API key is its own account (the spec's 404: "No resource with this identifier is
visible to this API key"). Judged only when the run has a second key (`--second-api-key`): what one
key creates, the other can neither read nor find in its lists."""

from __future__ import annotations

import json
from typing import Any

from tavus_contract.checks._probe import Probe, contract_check, json_of, list_parts
from tavus_contract.checks.writes import _created

# Collections whose list the second key was asked for in this run (a list read costs more than a get).
_LISTED: set[tuple[str, str]] = set()


@contract_check
def other_key_sees_nothing(probe: Probe) -> None:
    """A resource created with the run's key is 404 to the second key, and the second key's list of the
    collection does not show it."""
    created = _created(probe) if probe.settings.second_key else None
    if created is None:
        return
    item, field, rid = created
    get_id = probe.facts.operation_id(item, "get")
    seen = probe.ask(str(get_id), path_parameters={field: rid}, as_second=True)
    if seen.status_code != 404:
        shown: Any = json_of(seen)
        probe.fail(
            f"{rid}, created with the run's key, was answered {seen.status_code} to the second key"
            f" (not 404){': ' + json.dumps(shown)[:80] if 200 <= seen.status_code < 300 else ''}"
        )
    found = probe.facts.list_at(probe.path)
    if found is None or (probe.base_url, probe.path) in _LISTED:
        return
    _LISTED.add((probe.base_url, probe.path))
    params = dict(probe.case.path_parameters or {})
    query = {"sort": "desc"} if "sort" in found.query else {}
    for page in range(5):
        wanted = {**query, **({"page": (found.page_base or 0) + page} if found.page_base is not None else {})}
        if "limit" in found.query:
            wanted["limit"] = 100
        answer = probe.ask(found.operation_id, path_parameters=params, query=wanted, as_second=True)
        parts = list_parts(json_of(answer), found) if answer.status_code == 200 else None
        if parts is None:
            return
        if any(isinstance(i, dict) and i.get(field) == rid for i in parts[0]):
            probe.fail(f"{rid}, created with the run's key, is listed at {probe.path} for the second key")
        if found.page_base is None or len(parts[0]) < 100:
            return
