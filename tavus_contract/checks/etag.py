"""Optimistic locking: a read that answers an `ETag` promises that a JSON Patch with a stale `If-Match`
is refused with 412, and that the ETag moves with every change (docs api-reference/deployments)."""

from __future__ import annotations

from typing import Any

from tavus_contract.checks._probe import Probe, contract_check, header, pointer

STALE = 'W/"not-the-current-version"'


@contract_check
def etag_guards_patches(probe: Probe) -> None:
    """A JSON Patch sent with an `If-Match` that is not the current ETag is refused with 412 (a `test`
    that holds is sent, so a server that ignores `If-Match` answers 2xx); after a real change, the
    ETag from before it is stale too (never probed in read-only runs)."""
    etag = header(probe.response, "etag") if probe.method == "GET" and probe.response.status_code == 200 else None
    patch_raw = probe.raw["paths"].get(probe.path, {}).get("patch")
    document = probe.body()
    if not etag or patch_raw is None or not isinstance(document, dict) or not document:
        return
    patch_id = str(patch_raw["operationId"])
    params = dict(probe.case.path_parameters or {})
    name, value = next(iter(document.items()))
    answer = probe.ask(
        patch_id,
        path_parameters=params,
        headers={"If-Match": STALE},
        body=[{"op": "test", "path": pointer(name), "value": value}],
    )
    if answer.status_code != 412:
        probe.fail(f"a patch with a stale If-Match was answered {answer.status_code}, not 412")
    if probe.settings.read_only:
        return
    field = next((k for k, v in document.items() if k.endswith("name") and isinstance(v, str)), None)
    if field is None:
        return
    changed_to = document[field] + " (contract)"

    def patch(body: list[dict[str, Any]], if_match: str) -> Any:
        return probe.ask(patch_id, path_parameters=params, headers={"If-Match": if_match}, body=body)

    changed = patch([{"op": "replace", "path": pointer(field), "value": changed_to}], etag)
    if changed.status_code != 200:
        return  # the change itself was refused (a length rule, say): nothing to judge
    current = header(changed, "etag") or "*"
    try:
        stale = patch([{"op": "test", "path": pointer(field), "value": changed_to}], etag)
        if stale.status_code != 412:
            probe.fail(
                f"after {field} changed, a patch with the ETag from before the change was answered"
                f" {stale.status_code}, not 412: the ETag did not follow the change"
            )
    finally:
        patch([{"op": "replace", "path": pointer(field), "value": document[field]}], current)
