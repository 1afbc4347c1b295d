"""Every resource method, sync and async, against the reference server over a real socket."""

from __future__ import annotations

import inspect

import pytest
from tavus_client import (
    APIStatusError,
    AsyncTavus,
    NotFoundError,
    Patch,
    RateLimitError,
    Tavus,
    UnprocessableEntityError,
)
from tavus_client._resources import OPERATIONS, TAGS
from tavus_client.models import ConversationStatus, Persona, VideoStatus

from tavus_mock import Spec
from tests.client.conftest import Caller

pytestmark = pytest.mark.anyio
STOCK_REPLICA = "rfe12d8b9597"


def test_every_spec_operation_is_reachable_on_both_clients(spec: Spec) -> None:
    wanted = {(op.method, op.path) for op in spec.operations}
    assert {(op.method, op.path) for op in OPERATIONS} == wanted
    assert set(TAGS) == {op.tag for op in spec.operations}
    classes = {c.__name__: c for c in _resource_classes()}
    nested = {"pal_tools": ("pals", "tools"), "pal_skills": ("pals", "skills")}  # x-client-attribute
    for cls in (Tavus, AsyncTavus):
        for op in OPERATIONS:
            tag, func = op.name.split(".")
            if tag in nested:  # reached through its parent: client.pals.tools
                parent, attribute = nested[tag]
                parent_cls = classes[getattr(cls, parent).func.__annotations__["return"]]
                resource = getattr(parent_cls, attribute).func.__annotations__["return"]
                assert not hasattr(cls, tag), f"{tag} is reached through {parent}.{attribute} only"
            else:
                resource = getattr(cls, tag).func.__annotations__["return"]
            resource_cls = classes[resource]
            calls = [
                name
                for name, fn in inspect.getmembers(resource_cls, inspect.isfunction)
                if f"_{func.upper()}," in inspect.getsource(fn)
            ]
            assert calls, f"{cls.__name__}.{tag} has no method for {op}"


def _resource_classes() -> list[type]:
    import importlib

    classes = []
    for tag in TAGS:
        module = importlib.import_module(f"tavus_client._resources.{tag}")
        classes += [obj for _, obj in inspect.getmembers(module, inspect.isclass) if obj.__module__ == module.__name__]
    return classes


def test_method_names_drop_the_resource_noun() -> None:
    client = Tavus(api_key="k", base_url="http://127.0.0.1:9")
    assert callable(client.personas.create) and callable(client.conversations.end)
    assert callable(client.videos.generate) and callable(client.replicas.rename)
    assert callable(client.objectives.list_all) and callable(client.documents.patch)


async def test_personas(caller: Caller) -> None:
    c = caller.client
    created = await caller(
        c.personas.create, persona_name="Coach", system_prompt="Be kind.", layers={"llm": {"model": "m"}}
    )
    pid = created.persona_id
    persona = await caller(c.personas.get, pid)
    assert isinstance(persona, Persona) and persona.persona_name == "Coach"
    assert persona.layers.llm.model == "m"  # type: ignore[union-attr]
    await caller(c.personas.patch, pid, Patch().replace("/persona_name", "Sales coach").remove("/system_prompt"))
    assert (await caller(c.personas.get, pid)).persona_name == "Sales coach"
    assert (
        await caller(c.personas.patch, pid, [{"op": "replace", "path": "/persona_name", "value": "Sales coach"}])
        is None
    )
    with pytest.raises(UnprocessableEntityError):
        await caller(c.personas.patch, pid, Patch().test("/persona_name", "Someone else"))
    listed = await caller(c.personas.list, persona_type="user")
    assert [p.persona_id for p in listed.data] == [pid] and listed.total_count == 1
    await caller(c.personas.delete, pid)
    with pytest.raises(NotFoundError):
        await caller(c.personas.get, pid)


async def test_conversations(caller: Caller) -> None:
    c = caller.client
    created = await caller(
        c.conversations.create, replica_id=STOCK_REPLICA, conversation_name="Demo", require_auth=True
    )
    assert created.status == ConversationStatus.ACTIVE and created.meeting_token
    cid = created.conversation_id
    await caller(c.conversations.end, cid)
    verbose = await caller(c.conversations.get, cid, verbose=True)
    assert verbose.status == "ended" and verbose.shutdown_reason == "end_conversation_endpoint_hit"
    assert [e.event_type for e in verbose.events][-1] == "application.transcription_ready"
    assert (await caller(c.conversations.list, status="ended")).total_count == 1
    await caller(c.conversations.delete, cid, hard=True)
    with pytest.raises(NotFoundError):
        await caller(c.conversations.end, cid)


async def test_replicas_videos_documents(caller: Caller) -> None:
    c = caller.client
    replica = await caller(c.replicas.create, train_image_url="https://example.com/face.png", voice_name="anna")
    await caller(c.replicas.rename, replica.replica_id, replica_name="Anna")
    got = await caller(c.replicas.get, replica.replica_id, verbose=True)
    assert (got.replica_name, got.status, got.replica_type) == ("Anna", "completed", "user")
    assert (await caller(c.replicas.list, replica_type="user")).total_count == 1

    video = await caller(
        c.videos.generate, replica_id=replica.replica_id, script="Hello", properties={"start_with_wave": False}
    )
    assert video.status == VideoStatus.QUEUED
    await caller(c.videos.rename, video.video_id, video_name="Hello video")
    ready = await caller(c.videos.get, video.video_id, verbose=True)
    assert ready.status == "ready" and ready.data.script == "Hello" and ready.gif_thumbnail_url
    assert (await caller(c.videos.list)).total_count == 1
    await caller(c.videos.delete, video.video_id, hard=True)
    await caller(c.replicas.delete, replica.replica_id)

    doc = await caller(c.documents.create, document_url="https://example.com/guide.pdf", tags=["a"], crawl={"depth": 1})
    updated = await caller(c.documents.patch, doc.document_id, document_name="Guide", tags=["b"])
    assert updated.tags == ["b"]
    assert (await caller(c.documents.get, doc.document_id)).document_name == "Guide"
    assert (await caller(c.documents.list, tags="b", sort="descending")).total_count == 1
    await caller(c.documents.delete, doc.document_id)


async def test_objectives_and_guardrails(caller: Caller) -> None:
    c = caller.client
    made = await caller(c.objectives.create, data=[{"objective_name": "greet", "objective_prompt": "Say hello."}])
    changed = await caller(c.objectives.patch, made.objectives_id, Patch().add("/data/0/modality", "verbal"))
    assert changed.message
    got = await caller(c.objectives.get, made.objectives_id)
    assert got.data[0].modality == "verbal"
    assert (await caller(c.objectives.list)).total_count == 1
    await caller(c.objectives.delete, made.objectives_id)

    rails = await caller(
        c.guardrails.create,
        data=[{"guardrail_name": "no_advice", "guardrail_prompt": "No."}],
        extra_body={"name": "Set"},
    )
    assert rails.guardrails_name == "Set"
    await caller(c.guardrails.patch, rails.guardrails_id, Patch.from_changes({"/data/0/guardrail_prompt": "Never."}))
    assert (await caller(c.guardrails.get, rails.guardrails_id)).data[0].guardrail_prompt == "Never."
    assert (await caller(c.guardrails.list)).total_count == 1
    await caller(c.guardrails.delete, rails.guardrails_id)


async def test_voices_and_recrawl(caller: Caller) -> None:
    c = caller.client
    voices = await caller.collect(c.voices.list_all, limit=3, tag="warm")
    assert [v.voice_name for v in voices] == ["anna", "dev"] and voices[0].tags[0].tag_name == "female"
    assert (await caller(c.voices.list, sort="desc", search="a")).data[0].voice_name == "carmen"
    doc = await caller(c.documents.create, document_url="https://docs.example.com/", crawl={"depth": 1, "max_pages": 3})
    again = await caller(c.documents.recrawl, doc.document_id, crawl={"depth": 2})
    assert again.status == "recrawling"
    with pytest.raises(RateLimitError) as caught:
        await caller(c.documents.recrawl, doc.document_id, max_retries=0)
    assert int(caught.value.headers["retry-after"]) > 0


async def test_pagination_walks_every_page(caller: Caller) -> None:
    c = caller.client
    made = [(await caller(c.personas.create, persona_name=f"P{i}")).persona_id for i in range(7)]
    walked = await caller.collect(c.personas.list_all, limit=2, persona_type="user")
    assert [p.persona_id for p in walked] == made  # 1-based pages
    videos = [(await caller(c.videos.generate, replica_id=STOCK_REPLICA, script=str(i))).video_id for i in range(5)]
    assert [v.video_id for v in await caller.collect(c.videos.list_all, limit=2)] == videos  # 0-based pages
    assert len(await caller.collect(c.videos.list_all)) == 5  # default page size
    assert await caller.collect(c.documents.list_all, limit=3) == []


async def test_raw_responses(caller: Caller) -> None:
    c = caller.client
    raw = await caller(c.personas.with_raw_response.create, persona_name="Raw")
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/json"
    assert raw.parsed.persona_name == "Raw" and raw.json()["persona_id"] == raw.parsed.persona_id
    deleted = await caller(c.personas.with_raw_response.delete, raw.parsed.persona_id)
    assert deleted.status_code == 204 and deleted.parsed is None and deleted.content == b""


async def test_pronunciation_dictionaries(caller: Caller) -> None:
    c = caller.client
    pd = await caller(
        c.pronunciation_dictionaries.create,
        name="Brand",
        rules=[{"text": "Tavus", "pronunciation": "TAH-vus", "type": "alias"}],
    )
    assert pd.rules_count == 1 and pd.rules[0].word_boundaries is True
    updated = await caller(
        c.pronunciation_dictionaries.patch, pd.pronunciation_dictionary_id, Patch().replace("/name", "Brands")
    )
    assert updated.name == "Brands"
    walked = await caller.collect(c.pronunciation_dictionaries.list_all, limit=1)
    assert [d.pronunciation_dictionary_id for d in walked] == [pd.pronunciation_dictionary_id]
    await caller(c.pronunciation_dictionaries.delete, pd.pronunciation_dictionary_id)
    with pytest.raises(NotFoundError):
        await caller(c.pronunciation_dictionaries.get, pd.pronunciation_dictionary_id)


async def test_transcriptions(caller: Caller) -> None:
    c = caller.client
    made = await caller(
        c.transcriptions.create, file_url="https://example.com/a.mp4", callback_url="http://127.0.0.1:9/hook"
    )
    done = await caller(c.transcriptions.get, made.transcription_id)
    assert done.status == "completed" and done.text
    assert [t.transcription_id for t in await caller.collect(c.transcriptions.list_all)] == [made.transcription_id]
    await caller(c.transcriptions.delete, made.transcription_id)


async def test_tools_skills_and_deployments(caller: Caller) -> None:
    """The PAL-era families: flat tool patches, the nested PAL resources, deployments' own envelope."""
    c = caller.client
    pal = (await caller(c.pals.create, pal_name="Concierge", system_prompt="Hi.", default_face_id=STOCK_REPLICA)).pal_id
    tool = await caller(
        c.tools.create,
        name="lookup_order",
        description="Look up an order.",
        delivery={"api": {"url": "https://api.example.com/o", "auth": {"type": "bearer", "token": "made-up"}}},
    )
    assert tool.delivery.api.auth.token == "********" and "made-up" not in repr(tool)
    renamed = await caller(c.tools.patch, tool.tool_id, description="Find an order.")
    assert renamed.description == "Find an order." and renamed.name == "lookup_order"
    assert [t.tool_id for t in await caller.collect(c.tools.list_all, type_="all")] == ["end_call", tool.tool_id]
    attached = await caller(c.pals.tools.attach, pal, tool_ids=[tool.tool_id])
    assert [t.tool_id for t in attached.data] == [tool.tool_id]
    assert [t.name for t in (await caller(c.pals.tools.list, pal)).data] == ["lookup_order"]
    assert await caller(c.pals.tools.detach, pal, tool.tool_id) is None

    assert {s.skill_id for s in (await caller(c.skills.list)).data} >= {"memory", "presentation"}
    skill = await caller(c.pals.skills.attach, pal, "memory", config={"scope": "per_user"})
    assert skill.config.additional_properties == {"scope": "per_user"}
    merged = await caller(c.pals.skills.update, pal, "memory", config={"scope": None, "depth": 2})
    assert merged.config.additional_properties == {"depth": 2}
    assert set((await caller(c.pals.skills.list, pal)).data.additional_properties) == {"memory"}
    replaced = await caller(c.pals.skills.replace, pal, skills={"internet_search": {"config": {}}})
    assert set(replaced.data.additional_properties) == {"internet_search"}

    made = [
        (await caller(c.deployments.create, pal_id=pal, channel=channel)).deployment_id
        for channel in ("widget", "embed", "landing-page")
    ]
    walked = await caller.collect(c.deployments.list_all, limit=2)  # pages from 0, `deployments`/`total`
    assert [d.deployment_id for d in walked] == made[::-1]
    raw = await caller(c.deployments.with_raw_response.get, made[0])
    assert raw.headers["etag"].startswith('W/"') and raw.parsed.status == "active"
    stale = {"If-Match": 'W/"stale"'}
    with pytest.raises(APIStatusError) as caught:
        await caller(
            c.deployments.patch, made[0], [{"op": "replace", "path": "/name", "value": "x"}], if_match=stale["If-Match"]
        )
    assert caught.value.status_code == 412
    fresh = await caller(
        c.deployments.patch, made[0], [{"op": "replace", "path": "/name", "value": "x"}], if_match=raw.headers["etag"]
    )
    assert fresh.name == "x"
    init = await caller(c.deployments.init, made[0])
    assert init.is_available is True and init.deployment_id == made[0]
