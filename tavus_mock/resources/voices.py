"""Voices: the stock voices a replica speaks with (read-only), listed by name.

Evidence: research doc (the voices list, filtered by `search` in the name and by `tag`). The voices
and their tags are ours.
"""

from __future__ import annotations

from typing import Any

from ..core import Family, register
from ..store import id_maker
from .replicas import STOCK_REPLICA_ID

STOCK_VOICES = (
    ("anna", ("female", "warm")),
    ("ben", ("male", "calm")),
    ("carmen", ("female", "energetic")),
    ("dev", ("male", "warm")),
)


def _stock() -> list[dict[str, Any]]:
    return [
        {
            "voice_name": name,
            "replica_id": STOCK_REPLICA_ID,
            "audio_url": f"https://cdn.tavus.example/voices/{name}.mp3",
            "tags": [{"tag_name": t} for t in tags],
        }
        for name, tags in STOCK_VOICES
    ]


FAMILY = register(
    Family(
        "voices",
        "voice_name",
        id_maker("voice_", 6),
        stock=_stock,
        ordered_by_id=True,
        filters={
            "search": lambda record, value: value.lower() in record.id.lower(),
            "tag": lambda record, value: value in {t.get("tag_name") for t in record.data.get("tags", [])},
        },
        operations={"listVoices": "list"},
    )
)
