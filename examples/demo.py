"""Quickstart against a local reference server: `make demo` (or `python examples/demo.py`).

Starts tavus-mock on a free port in this process, then uses tavus_client the way an application
would: create a persona, start and end a conversation, generate a video and wait until it is
ready, list with pagination, change the persona with JSON Patch, and clean up.
"""

from __future__ import annotations

import time

from tavus_client import NotFoundError, Patch, Tavus
from tavus_client.models import VideoStatus

from tavus_mock import Delays, MockConfig, MockServer

STOCK_REPLICA = "rfe12d8b9597"
DEMO_KEY = "demo-key-not-a-secret"


def step(text: str) -> None:
    print(f"\n== {text}")


def main() -> None:
    config = MockConfig(api_keys=frozenset({DEMO_KEY}), delays=Delays(replica=3, video=2, document=1), access_log=False)
    with MockServer(config=config) as server:
        print(f"tavus-mock is listening on {server.url}")
        with Tavus(api_key=DEMO_KEY, base_url=server.url) as client:
            step("Create a persona")
            persona = client.personas.create(
                persona_name="Sales coach",
                system_prompt="You help sales people practise handling objections.",
                default_replica_id=STOCK_REPLICA,
                layers={"llm": {"model": "tavus-gpt-oss"}, "tts": {"tts_engine": "cartesia"}},
            )
            print(f"persona {persona.persona_id} '{persona.persona_name}' created at {persona.created_at}")

            step("Start a conversation, then end it")
            conversation = client.conversations.create(persona_id=persona.persona_id, conversation_name="Practice call")
            print(
                f"conversation {conversation.conversation_id} is {conversation.status}: {conversation.conversation_url}"
            )
            client.conversations.end(conversation.conversation_id)
            ended = client.conversations.get(conversation.conversation_id, verbose=True)
            events = ", ".join(event.event_type for event in ended.events or [])
            print(f"now {ended.status} ({ended.shutdown_reason}); events: {events}")

            step("Generate a video and wait until it is ready")
            video = client.videos.generate(replica_id=STOCK_REPLICA, script="Hello from the Tavus quickstart!")
            print(f"video {video.video_id} is {video.status}")
            while True:
                current = client.videos.get(video.video_id)
                print(f"  {current.status} {current.generation_progress}")
                if current.status in (VideoStatus.READY, VideoStatus.ERROR):
                    break
                time.sleep(0.5)
            print(f"download: {current.download_url}")

            step("List with pagination (2 per page)")
            for i in range(4):
                client.personas.create(persona_name=f"Extra persona {i}", system_prompt="Be brief.")
            first = client.personas.list(limit=2, persona_type="user")
            print(f"first page: {[p.persona_name for p in first.data]} of {first.total_count} in all")
            names = [p.persona_name for p in client.personas.list_all(limit=2, persona_type="user")]
            print(f"list_all walked every page: {names}")

            step("Change the persona with JSON Patch")
            patch = Patch().replace("/persona_name", "Senior sales coach").add("/context", "Calls last ten minutes.")
            client.personas.patch(persona.persona_id, patch)
            changed = client.personas.get(persona.persona_id)
            print(f"persona is now '{changed.persona_name}' with context '{changed.context}'")
            raw = client.personas.with_raw_response.patch(persona.persona_id, patch)
            print(f"sending the same patch again answers {raw.status_code} (nothing changed)")

            step("Delete and check it is gone")
            client.videos.delete(video.video_id)
            client.personas.delete(persona.persona_id)
            try:
                client.personas.get(persona.persona_id)
            except NotFoundError as err:
                print(f"reading it now raises {type(err).__name__}: {err}")
    print("\ndemo finished")


if __name__ == "__main__":
    main()
