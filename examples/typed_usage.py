"""A typed usage example: `make typecheck` runs mypy --strict over it, so the public surface stays typed.

Run it against any Tavus-compatible server: TAVUS_API_KEY=... TAVUS_BASE_URL=... python examples/typed_usage.py
"""

from __future__ import annotations

import asyncio

from tavus_client import APIStatusError, AsyncTavus, Patch, RawResponse, Tavus, parse_callback, parse_timestamp
from tavus_client.models import Persona, PersonaCreated, Video, VideoStatus


def sync_example(client: Tavus) -> list[str]:
    created: PersonaCreated = client.personas.create(persona_name="Typed", system_prompt="Be typed.")
    persona: Persona = client.personas.get(created.persona_id)
    client.personas.patch(persona.persona_id, Patch.from_changes(persona_name="Typed twice"))
    raw: RawResponse[Persona] = client.personas.with_raw_response.get(persona.persona_id)
    print(raw.status_code, parse_timestamp(raw.parsed.created_at if isinstance(raw.parsed.created_at, str) else None))
    names = [p.persona_id for p in client.personas.list_all(limit=50)]
    try:
        client.personas.delete(persona.persona_id, max_retries=0, timeout=10.0)
    except APIStatusError as err:
        print(err.status_code, err.error_message)
    return names


async def async_example(client: AsyncTavus) -> VideoStatus | None:
    video = await client.videos.generate(
        replica_id="rfe12d8b9597", script="Typed hello", extra_headers={"x-trace": "1"}
    )
    got: Video = await client.videos.get(video.video_id, verbose=True)
    async for item in client.videos.list_all():
        print(item.video_id)
    event = parse_callback(b'{"replica_id": "r1", "status": "ready"}')
    print(type(event).__name__)
    return got.status if isinstance(got.status, VideoStatus) else None


if __name__ == "__main__":
    with Tavus() as tavus:
        print(sync_example(tavus))

    async def run_async() -> None:
        async with AsyncTavus() as tavus_async:
            print(await async_example(tavus_async))

    asyncio.run(run_async())
