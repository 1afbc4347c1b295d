"""What must be refused and what must not: the spec's `x-tavus-refused` bodies (valid for the schema,
breaking a rule across fields) are answered 400, its `x-tavus-accepted` ones and its own examples are
taken, an operation that judges a body answers its `x-tavus-verdicts`, and 401 means a missing or
unknown key, nothing else."""

from __future__ import annotations

import json
import os
from typing import Any

import jsonpointer

from tavus_contract.checks._probe import LEDGER, Probe, contract_check, json_of
from tavus_spec.facts import item_path, resolve

# Operations whose documented refusals this run has sent, per server (each set once per run).
_REFUSALS_SENT: set[tuple[str, str]] = set()


def probe_body(entry: dict[str, Any], suffix: str = "") -> Any:
    """The body of an `x-tavus-refused` or `x-tavus-accepted` entry as it is sent: each `pad` pointer's
    string made that many "x" (a 10,001-character description is not written into the spec), and with
    `suffix` added to a `name` (an accepted body creates something, and names may have to be unique)."""
    body = json.loads(json.dumps(entry["body"]))
    for where, length in (entry.get("pad") or {}).items():
        jsonpointer.set_pointer(body, where, "x" * int(length))
    if suffix and isinstance(body, dict) and isinstance(body.get("name"), str):
        body["name"] += suffix
    return body


@contract_check
def documented_refusals(probe: Probe) -> None:
    """Bodies under `x-tavus-refused` are answered 400, those under `x-tavus-accepted` 2xx (what they
    created is deleted again) and those under `x-tavus-verdicts` with an answer holding its `answer`
    (a check that stores nothing: objectives' validate). Sent once per operation and server, after a
    case of that operation succeeded (so its path parameters name real resources). Entries of
    `confidence: H` (the docs state the rule) are always judged; `M` ones (the official CLI enforces
    them or calls the check) only with `--refusals all`."""
    level = probe.settings.refusals
    if level == "none" or not probe.succeeded or probe.settings.read_only:
        return
    raw = probe.raw["paths"].get(probe.path, {}).get(probe.method.lower(), {})

    def wanted(key: str) -> list[dict[str, Any]]:
        return [e for e in raw.get(key, ()) if level == "all" or e.get("confidence") == "H"]

    refused, accepted = wanted("x-tavus-refused"), wanted("x-tavus-accepted")
    verdicts = wanted("x-tavus-verdicts")
    label = f"{probe.method} {probe.path}"
    if not (refused or accepted or verdicts) or (probe.base_url, label) in _REFUSALS_SENT:
        return
    _REFUSALS_SENT.add((probe.base_url, label))
    params = dict(probe.case.path_parameters or {})
    wrong = []
    for entry in refused:
        status = probe.again(path_parameters=params, body=probe_body(entry)).status_code
        if status != 400:
            wrong.append(f"refused: {entry['why']} (answered {status})")
    for entry in accepted:
        answer = probe.again(path_parameters=params, body=probe_body(entry, suffix="_" + os.urandom(3).hex()))
        if not 200 <= answer.status_code < 300:
            wrong.append(f"accepted: {entry['why']} (answered {answer.status_code})")
        else:
            _delete_created(probe, answer)
    for entry in verdicts:
        answer = probe.again(path_parameters=params, body=probe_body(entry))
        got = json_of(answer)
        expected: dict[str, Any] = entry["answer"]
        if not isinstance(got, dict) or any(got.get(k) != v for k, v in expected.items()):
            shown = {k: got.get(k) for k in expected} if isinstance(got, dict) else got
            wrong.append(f"verdict: {entry['why']}: expected {expected}, answered {answer.status_code} {shown}")
    if wrong:
        probe.fail("documented rules not kept: " + "; ".join(wrong))


def _delete_created(probe: Probe, answer: Any) -> None:
    """Delete what a create answered, through the DELETE of the collection's item path (if any)."""
    item = item_path(probe.raw, probe.path)
    if item is None:
        return
    field = item.rsplit("{", 1)[1].rstrip("}")
    created = json_of(answer)
    rid = created.get(field) if isinstance(created, dict) else None
    delete_id = probe.facts.operation_id(item, "delete")
    if isinstance(rid, str) and delete_id is not None:
        probe.ask(delete_id, path_parameters={field: rid})


def _documented_examples(raw_schema: dict[str, Any], raw_operation: dict[str, Any]) -> list[Any]:
    body = resolve(raw_schema, raw_operation.get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {}) if isinstance(body, dict) else {}
    found = [media["example"]] if "example" in media else []
    return found + [e["value"] for e in media.get("examples", {}).values() if isinstance(e, dict) and "value" in e]


@contract_check
def documented_example_accepted(probe: Probe) -> None:
    """The spec's own example body is a request the API takes: never answered 413 (it is small), and
    never 400 on an operation whose 400s are the documented rules across fields (`x-tavus-refused`)."""
    if probe.response.status_code not in (400, 413) or probe.case.body is None:
        return
    if not str(probe.response.request.headers.get("content-type", "")).startswith("application/json"):
        return  # the example sent as another media type (the coverage phase does): rightly refused
    raw = probe.raw["paths"].get(probe.path, {}).get(probe.method.lower(), {})
    if not any(probe.case.body == example for example in _documented_examples(probe.raw, raw)):
        return
    named = list((probe.case.path_parameters or {}).values())
    if named and not all(map(LEDGER.alive, named)):
        return  # a 400 may be about the path (Tavus answers "PAL not found" with 400 on PAL skills)
    if probe.response.status_code == 413 or "x-tavus-refused" in raw:
        probe.fail(f"the spec's example body was refused with {probe.response.status_code}")


_CHARSET_SENT: set[tuple[str, str]] = set()


@contract_check
def charset_accepted(probe: Probe) -> None:
    """`Content-Type: application/json; charset=UTF-8` (RFC 8259's one charset, and what many HTTP
    clients send) is JSON too: a create taken with `application/json` is taken again with it, never
    answered 400 or 415. Once per create operation and server; what it made is deleted again."""
    if probe.method != "POST" or not probe.succeeded or probe.settings.read_only or probe.case.body is None:
        return
    if not str(probe.response.request.headers.get("content-type", "")).startswith("application/json"):
        return
    if probe.facts.item_path(probe.path) is None or (probe.base_url, probe.path) in _CHARSET_SENT:
        return  # only creates: sending other POSTs twice is not harmless (end, recrawl)
    _CHARSET_SENT.add((probe.base_url, probe.path))
    body: Any = probe.case.body
    name = body.get("name") if isinstance(body, dict) else None
    if isinstance(name, str):
        body = {**body, "name": name[:40] + "_" + os.urandom(3).hex()}  # names may have to be unique
    again = probe.again(body=body, headers={"Content-Type": "application/json; charset=UTF-8"})
    if again.status_code in (400, 415):
        probe.fail(
            f"the same create with Content-Type: application/json; charset=UTF-8 was answered {again.status_code}"
        )
    if 200 <= again.status_code < 300:
        _delete_created(probe, again)


@contract_check
def key_accepted(probe: Probe) -> None:
    """401 means the key is missing or unknown (Tavus: "Invalid access token"), nothing else: a request
    that carried the run's valid key is not answered 401."""
    if probe.response.status_code != 401:
        return
    key = probe.settings.key
    if key and probe.response.request.headers.get("x-api-key") == key:
        probe.fail("answered 401 although the request carried the run's valid API key")


def forget() -> None:
    _REFUSALS_SENT.clear()
    _CHARSET_SENT.clear()
