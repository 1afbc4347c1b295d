"""Model reprs show only what is set and never a secret; models turn into JSON text."""

from __future__ import annotations

import json
from pathlib import Path

import openapi_python_client
from tavus_client import json_default
from tavus_client.models import Persona, Replica

SECRETS = {
    "persona_id": "p1",
    "persona_name": "A",
    "layers": {
        "llm": {"model": "m", "api_key": "sk-live-123", "base_url": "https://bob:hunter2@llm.example/v1"},
        "tts": {"api_key": "el-secret-9", "tts_engine": "elevenlabs"},
    },
    "partner_token": "tok-abc",
}


def test_repr_shows_set_fields_and_hides_secrets() -> None:
    text = repr(Persona.from_dict(SECRETS))
    for secret in ("sk-live-123", "hunter2", "el-secret-9", "tok-abc"):
        assert secret not in text
    assert "UNSET" not in text and "context" not in text  # absent fields are left out
    assert "persona_name='A'" in text and "https://<redacted>@llm.example/v1" in text
    assert "partner_token='<redacted>'" in text  # unknown fields follow the same rule
    assert repr(Replica.from_dict({"replica_id": "r1", "status": "completed"})).startswith("Replica(replica_id='r1'")


def test_the_log_redaction_is_the_same_rule() -> None:
    from tavus_client._overrides._logs import redact_body

    redacted = json.dumps(redact_body(SECRETS))
    for secret in ("sk-live-123", "hunter2", "el-secret-9", "tok-abc"):
        assert secret not in redacted


def test_models_turn_into_json() -> None:
    persona = Persona.from_dict(SECRETS)
    assert json.loads(persona.to_json()) == SECRETS  # to_json is for sending: everything, as given
    assert json.loads(json.dumps({"p": persona}, default=json_default)) == {"p": SECRETS}


def test_canary_upstream_model_template_has_no_repr() -> None:
    """generator-templates/model.py.jinja exists only to add __repr__/to_json; drop it when upstream has them."""
    upstream = Path(openapi_python_client.__file__).parent / "templates" / "model.py.jinja"
    text = upstream.read_text(encoding="utf-8")
    assert "__repr__" not in text and "to_json" not in text
