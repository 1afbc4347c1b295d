"""Records that name each other: a set of guardrails and its guardrails.

Evidence (docs api-reference/guardrails/legacy-guardrail-sets, confidence H; the spec's descriptions of
`Guardrail.uuid`, `IndividualGuardrail.guardrails_set_id` and `persona_refs`, and of deleteGuardrails):
every guardrail of a set is also a guardrail of its own, read, patched and deleted by its `uuid`; the
two are one guardrail, so a change through either shows through the other; a PAL or persona that uses
one is listed in its `persona_refs` (verbose); deleting a guardrail takes it out of its set and out of
the PALs that used it, and deleting a set deletes its guardrails and leaves the PALs that used it.

Judged once per run, on records of its own (a set of two guardrails and a persona using them), after
the run's first successful create of a guardrail; every record it makes is deleted again.
"""

from __future__ import annotations

import secrets
from typing import Any

from tavus_contract.checks._probe import Probe, contract_check, json_of

_RAN: set[str] = set()  # base URLs this check already ran against, in this process


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _object(probe: Probe, operation: str, **how: Any) -> tuple[int, dict[str, Any]]:
    answer = probe.ask(operation, **how)
    document = json_of(answer)
    return answer.status_code, document if isinstance(document, dict) else {}


@contract_check
def set_guardrails_are_guardrails(probe: Probe) -> None:
    """A set's guardrails are guardrails of their own, kept in step with the set (see the module)."""
    if probe.method != "POST" or probe.path != "/v2/guardrails" or not probe.succeeded or probe.settings.read_only:
        return
    if probe.base_url in _RAN:
        return
    _RAN.add(probe.base_url)
    tag = secrets.token_hex(3)
    sent = [
        {"guardrail_name": "probe_one_" + tag, "guardrail_prompt": "Never share a password."},
        {"guardrail_name": "probe_two_" + tag, "guardrail_prompt": "Never give medical advice."},
    ]
    status, made = _object(probe, "createGuardrails", body={"name": "contract probe " + tag, "data": sent})
    set_id = made.get("guardrails_id")
    if not _ok(status) or not isinstance(set_id, str):
        return  # creating a set is judged by the other checks
    persona_id: str | None = None
    try:
        persona_id = _judge(probe, set_id, sent)
    finally:
        probe.ask("deleteGuardrails", path_parameters={"guardrails_id": set_id})
        if persona_id is not None:
            probe.ask("deletePersona", path_parameters={"persona_id": persona_id})


def _judge(probe: Probe, set_id: str, sent: list[dict[str, str]]) -> str | None:
    """The steps, in order; answers the id of the persona it made (to delete), if any."""
    here = {"guardrails_id": set_id}
    status, group = _object(probe, "getGuardrails", path_parameters=here)
    items = group.get("data")
    if status != 200 or not isinstance(items, list) or len(items) != len(sent):
        return None  # reading a set back is judged by create_reads_back
    uuids = [item.get("uuid") if isinstance(item, dict) else None for item in items]
    if not all(isinstance(u, str) and u for u in uuids):
        probe.fail(f"a guardrail of the set {set_id} has no uuid of its own: {uuids}")
    for item, uid in zip(items, uuids, strict=True):
        status, own = _object(probe, "getGuardrails", path_parameters={"guardrails_id": uid})
        if status != 200:
            probe.fail(f"the guardrail {uid} of the set {set_id} cannot be read by its own uuid ({status})")
        for name in ("guardrail_name", "guardrail_prompt"):
            if own.get(name) != item.get(name):
                probe.fail(
                    f"the guardrail {uid} read by its uuid has {name}={own.get(name)!r}; "
                    f"its set says {item.get(name)!r}"
                )
        if "guardrails_set_id" in own and own["guardrails_set_id"] != set_id:
            probe.fail(f"the guardrail {uid} of the set {set_id} says it belongs to {own['guardrails_set_id']!r}")
    first, second = str(uuids[0]), str(uuids[1])

    # A change through the set shows through the guardrail, and the other way round.
    status, _ = _object(
        probe,
        "patchGuardrails",
        path_parameters=here,
        body=[{"op": "replace", "path": "/data/0/guardrail_prompt", "value": "Never share a secret."}],
    )
    if _ok(status):
        _, own = _object(probe, "getGuardrails", path_parameters={"guardrails_id": first})
        if own.get("guardrail_prompt") != "Never share a secret.":
            probe.fail(
                f"the set {set_id} was patched (its first guardrail's prompt) but the guardrail {first}, read by "
                f"its uuid, still says {own.get('guardrail_prompt')!r}"
            )
    prompts = {first: str(items[0].get("guardrail_prompt")), second: str(items[1].get("guardrail_prompt"))}
    if _ok(status):
        prompts[first] = "Never share a secret."
    _patched_alone(probe, set_id, prompts)

    # A persona that uses both: listed in the guardrail's persona_refs; left by what is deleted.
    status, made = _object(
        probe,
        "createPersona",
        body={
            "persona_name": "contract probe",
            "system_prompt": "x",
            "guardrails_id": set_id,
            "guardrail_ids": [first],
        },
    )
    persona_id = made.get("persona_id")
    if not _ok(status) or not isinstance(persona_id, str):
        return None
    _, own = _object(probe, "getGuardrails", path_parameters={"guardrails_id": first}, query={"verbose": True})
    refs = own.get("persona_refs")
    if isinstance(refs, list) and persona_id not in refs:
        probe.fail(f"the persona {persona_id} uses the guardrail {first} but its persona_refs are {refs}")
    where = {"persona_id": persona_id}
    if _ok(probe.ask("deleteGuardrails", path_parameters={"guardrails_id": first}).status_code):
        _, group = _object(probe, "getGuardrails", path_parameters=here)
        if first in [i.get("uuid") for i in group.get("data") or () if isinstance(i, dict)]:
            probe.fail(f"the guardrail {first} was deleted but its set {set_id} still holds it")
        _, persona = _object(probe, "getPersona", path_parameters=where)
        if first in (persona.get("guardrail_ids") or ()):
            probe.fail(
                f"the guardrail {first} was deleted but the persona {persona_id} still names it in guardrail_ids"
            )
    if _ok(probe.ask("deleteGuardrails", path_parameters=here).status_code):
        status = probe.ask("getGuardrails", path_parameters={"guardrails_id": second}).status_code
        if status != 404:
            probe.fail(f"the set {set_id} was deleted but its guardrail {second} is still read by its uuid ({status})")
        _, persona = _object(probe, "getPersona", path_parameters=where)
        if persona.get("guardrails_id") == set_id:
            probe.fail(f"the set {set_id} was deleted but the persona {persona_id} still names it in guardrails_id")
    return persona_id


def _patched_alone(probe: Probe, set_id: str, prompts: dict[str, str]) -> None:
    """Each guardrail of the set patched by its own uuid: the set shows that change, and only on that
    guardrail (both ways round, so that how the server orders its ids cannot hide a change that
    spreads). `prompts`: each guardrail's prompt before."""
    here = {"guardrails_id": set_id}
    first, second = list(prompts)
    for uid, prompt in ((second, "Never give legal advice."), (first, "Never share a token.")):
        status, _ = _object(
            probe,
            "patchGuardrails",
            path_parameters={"guardrails_id": uid},
            body=[{"op": "replace", "path": "/guardrail_prompt", "value": prompt}],
        )
        if not _ok(status):
            continue
        prompts[uid] = prompt
        _, group = _object(probe, "getGuardrails", path_parameters=here)
        shown = {i.get("uuid"): i.get("guardrail_prompt") for i in group.get("data") or () if isinstance(i, dict)}
        if shown.get(uid) != prompt:
            probe.fail(f"the guardrail {uid} was patched by its uuid but its set {set_id} shows {shown.get(uid)!r}")
        spread = sorted(str(k) for k, v in shown.items() if k != uid and k in prompts and v != prompts[k])
        if spread:
            probe.fail(
                f"the guardrail {uid} was patched by its uuid, and its set {set_id} shows the guardrail "
                f"{spread[0]} changed too: {shown[spread[0]]!r}"
            )


def forget() -> None:
    _RAN.clear()
