"""The resources a contract run starts with, shared by the contract tests and bench/mutation_check.py."""

from __future__ import annotations

from tavus_mock import Spec


def example_resources(spec: Spec, key: str) -> dict[str, object]:
    """Writable resources whose ids are the spec's example ids (a persona and the PAL of the same id, a
    tool, a deployment of that PAL, two documents, a guardrail), so the examples phase finds them and
    changes them."""
    params = spec.raw["components"]["parameters"]
    persona_ids = {params["PersonaId"]["example"], params["PalId"]["example"]}
    personas = [
        {"persona_id": pid, "persona_name": "Example", "system_prompt": "x", "context": "y"} for pid in persona_ids
    ]
    tool = {
        "tool_id": params["ToolId"]["example"],
        "name": "example_tool",
        "description": "An example.",
        "parameters": {},
        "delivery": {"app_message": True},
        "is_system_tool": False,
        "trigger_type": "in_call",
        "origin": "llm",
        "on_call": None,
        "on_resolve": "fire_and_forget",
        "static_filler": None,
        "tags": [],
    }
    deployment = {
        "deployment_id": params["DeploymentId"]["example"],
        "pal_id": params["PalId"]["example"],
        "channel": "widget",
        "status": "active",
        "name": "Example widget",
        "has_password": False,
        "customization": {},
        "limits": {},
        "usage_total": 0,
        "usage_today": 0,
    }
    # Two documents (the example id and one more), so sorted and paged document lists have something to order.
    documents = [
        {
            "document_id": doc_id,
            "document_name": f"Example guide {n}",  # what the list example filters for (name_or_uuid, tags)
            "document_url": f"https://example.com/{n}.pdf",
            "status": "ready",
            "progress": 100,
            "tags": ["product", "documentation"],
            "created_at": f"2026-01-0{n}T00:00:00.000000Z",
        }
        for n, doc_id in ((1, params["DocumentId"]["example"]), (2, "d8-000000000002"))
    ]
    # One individual guardrail under the example id of the guardrail path, so the examples phase reads it
    # and the checks that change something (patch_round_trip) change it.
    guardrail = {
        "uuid": params["GuardrailsId"]["example"],
        "guardrail_name": "example_guardrail",
        "guardrail_prompt": "Never discuss pricing.",
        "modality": "verbal",
        "callback_url": None,
        "tool_call": None,
        "tags": ["example"],
        "app_message": True,
        "guardrails_set_id": None,
    }
    tenant = {
        "personas": personas,
        "tools": [tool],
        "deployments": [deployment],
        "documents": documents,
        "guardrail_items": [guardrail],
    }
    return {"tenants": {key: tenant}}
