# Applied from overrides/callbacks.py by `make generate`. DO NOT EDIT this copy; edit overrides/callbacks.py.
"""Typed parsing of the callbacks Tavus POSTs to a resource's `callback_url`.

Patches: nothing generated; openapi-python-client ignores the spec's `webhooks` section, but it does
generate the payload models (ConversationCallback, ReplicaTrainingCallback, Video, Document,
Transcription).
Why: a webhook handler should get a typed event without knowing which model fits which body.
Delete when: the generator grows webhook support; the canary in tests/overrides/test_callbacks.py
checks that no generated module handles webhooks yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import ConversationCallback, Document, ReplicaTrainingCallback, Transcription, Video

__all__ = ["parse_callback"]


def parse_callback(
    payload: bytes | str | Mapping[str, Any],
) -> ConversationCallback | ReplicaTrainingCallback | Video | Document | Transcription:
    """The typed model of a callback body; ValueError when it matches no documented callback."""
    from ..models import ConversationCallback, Document, ReplicaTrainingCallback, Transcription, Video

    data: Any = json.loads(payload) if isinstance(payload, (bytes, str)) else dict(payload)
    if not isinstance(data, dict):
        raise ValueError("a Tavus callback body is a JSON object")
    try:
        if "event_type" in data and "conversation_id" in data:
            return ConversationCallback.from_dict(data)
        if "video_id" in data:
            return Video.from_dict(data)
        if "document_id" in data:
            return Document.from_dict(data)
        if "transcription_id" in data:
            return Transcription.from_dict(data)
        if "replica_id" in data and "status" in data:
            return ReplicaTrainingCallback.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed Tavus callback: {type(exc).__name__}: {exc}") from exc
    raise ValueError("not a documented Tavus callback (no conversation, video, document or replica id)")
