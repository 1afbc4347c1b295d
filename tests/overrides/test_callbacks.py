"""overrides/callbacks.py: every documented callback body becomes its typed model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tavus_client
from tavus_client import parse_callback
from tavus_client.models import ConversationCallback, Document, ReplicaTrainingCallback, Transcription, Video

from tavus_mock import Spec


def test_the_spec_webhook_examples_parse(spec: Spec) -> None:
    expected = {
        "conversationEvent": ConversationCallback,
        "replicaTraining": ReplicaTrainingCallback,
        "videoGeneration": Video,
        "documentStatus": Document,
        "transcriptionReady": Transcription,
    }
    for name, hook in spec.raw["webhooks"].items():
        example = hook["post"]["requestBody"]["content"]["application/json"]["example"]
        event = parse_callback(json.dumps(example).encode())
        assert isinstance(event, expected[name]), name
        assert event.to_dict() == example


def test_conversation_event_details() -> None:
    body = {
        "conversation_id": "c1",
        "event_type": "application.transcription_ready",
        "message_type": "application",
        "properties": {"replica_id": "r1", "transcript": [{"role": "user", "content": "Hi"}]},
    }
    event = parse_callback(body)
    assert isinstance(event, ConversationCallback)
    assert event.properties.transcript[0].content == "Hi"  # type: ignore[union-attr, index]


@pytest.mark.parametrize("payload", [b"[1, 2]", b'{"hello": "world"}', b'{"video_id": 5, "status": {"x": 1}}'])
def test_unknown_or_malformed_bodies_are_clear_errors(payload: bytes) -> None:
    with pytest.raises(ValueError, match="callback"):
        parse_callback(payload)


def test_canary_no_webhook_code() -> None:
    """When the generator starts emitting webhook handling, parse_callback may be replaced by it."""
    package = Path(tavus_client.__file__).parent
    generated = [p for p in package.rglob("*.py") if "_overrides" not in p.parts]
    assert not any("webhook" in p.name for p in generated)
