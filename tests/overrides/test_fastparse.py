"""The compiled decoders build exactly what the generated `from_dict` builds, check types as
`check_model` does, and leave everything else to the generated method.

The data are drawn from each model's own annotations with a seeded generator: mostly well-typed
values, with wrong types, unknown enum values, extra keys and missing required keys mixed in."""

from __future__ import annotations

import copy
import enum
import random
from typing import Any

import attrs
import httpx
import pytest
from tavus_client import APIResponseValidationError, Tavus, models
from tavus_client._overrides import fastparse
from tavus_client._overrides.models import check_model

MODELS = sorted(
    (cls for cls in vars(models).values() if isinstance(cls, type) and attrs.has(cls)), key=lambda c: c.__name__
)
SCALARS: dict[str, Any] = {
    "str": lambda r: r.choice(["", "a", "ünï", "p" + str(r.randrange(10**6))]),
    "int": lambda r: r.randrange(-5, 10**6),
    "float": lambda r: r.choice([0.5, 3, -1.25]),
    "bool": lambda r: r.random() < 0.5,
}
WRONG = [5, 2.5, True, "text", [1, "x"], {"k": 1}, None]


def resolve(name: str) -> Any:
    return getattr(models, name, None)


def draw_value(annotation: str, r: random.Random, depth: int, wrong: float) -> Any:
    tokens = [t.strip() for t in annotation.split("|") if t.strip() != "Unset"]
    if r.random() < wrong:
        return r.choice(WRONG)
    token = r.choice(tokens)
    if token == "None":
        return None
    if token == "Any":
        return r.choice([1, "x", {"a": [1]}, None])
    if token in SCALARS:
        return SCALARS[token](r)
    if token.startswith("list["):
        return [draw_value(token[5:-1], r, depth + 1, wrong) for _ in range(r.randrange(3))]
    if token.startswith("dict["):
        return {}
    target = resolve(token)
    if isinstance(target, type) and issubclass(target, enum.Enum):
        members = [m.value for m in target]
        return r.choice(members) if r.random() < 0.85 else "not-in-the-spec-yet"
    assert target is not None and attrs.has(target), token
    return draw(target, r, depth + 1, wrong)


def draw(cls: type, r: random.Random, depth: int = 0, wrong: float = 0.0) -> dict[str, Any]:
    names: dict[str, str] = getattr(cls, "_JSON_NAMES", {})
    data: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name == "additional_properties":
            if r.random() < 0.3:
                value_type = field.type.removeprefix("dict[str, ").removesuffix("]")
                data["extra_" + str(r.randrange(9))] = draw_value(value_type, r, depth, wrong)
            continue
        optional = "Unset" in field.type
        if optional and (depth >= 4 or r.random() < 0.4):
            continue
        if not optional and r.random() < wrong / 4:
            continue  # a required key left out
        data[names.get(field.name, field.name)] = draw_value(field.type, r, depth, wrong)
    return data


def outcome(build: Any, data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", build(copy.deepcopy(data))
    except Exception as exc:  # noqa: BLE001 (any failure of either path is compared by its type)
        return "error", type(exc)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_fast_and_generated_agree(cls: type) -> None:
    r = random.Random(cls.__name__)
    fast_runs = 0
    for i in range(120):
        data = draw(cls, r, wrong=0.0 if i < 40 else 0.15)
        before = fastparse.fallbacks()
        fast = outcome(cls.from_dict, data)  # type: ignore[attr-defined]
        fell_back = fastparse.fallbacks() != before
        slow = outcome(cls._from_dict_generated, data)  # type: ignore[attr-defined]
        assert fast == slow, (data, fast, slow)
        if not fell_back:
            fast_runs += 1
            check_model(fast[1])  # what the fast path vouched for passes the client's type check
            assert fast[1].to_dict() == slow[1].to_dict()
            # the nested models built on first read (above) never needed the generated method
            assert fastparse.fallbacks() == before, data
        elif i < 40 and fastparse.decoder_for(cls).__name__ == "decode":
            raise AssertionError(f"well-typed data fell back to the generated method: {data}")
    if fastparse.decoder_for(cls).__name__ == "decode":
        assert fast_runs >= 40


def test_every_model_has_a_compiled_decoder() -> None:
    """A model the decoder cannot compile would quietly take the slow path; none may."""
    for compiled in (fastparse.decoder_for, fastparse.eager_decoder_for, fastparse.checker_for):
        assert [cls.__name__ for cls in MODELS if compiled(cls).__name__ != "decode"] == [], compiled.__name__


def test_a_wrong_type_deep_inside_still_fails_the_call() -> None:
    """The fast path refuses it, the generated method builds it, and the client's check names it."""
    persona = {"persona_id": "p1", "layers": {"llm": {"model": 5}}}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=persona)

    http = httpx.Client(base_url="http://tavus.local", transport=httpx.MockTransport(answer))
    with Tavus(api_key="made-up", http_client=http) as client, pytest.raises(APIResponseValidationError) as caught:
        client.personas.get("p1")
    assert "layers.llm.model" in str(caught.value)
    persona["layers"]["llm"]["model"] = "tavus-gpt-oss"
    with Tavus(api_key="made-up", http_client=http) as client:
        assert client.personas.get("p1").layers.llm.model == "tavus-gpt-oss"  # type: ignore[union-attr]


PERSONA = {
    "persona_id": "p1",
    "persona_name": "Coach",
    "layers": {"llm": {"model": "tavus-gpt-oss", "headers": {"x": "y"}}, "tts": {"tts_engine": "cartesia"}},
}


def _stored(model: Any, name: str) -> Any:
    """What the slot of a field holds, without building it."""
    return type(model).__dict__[name].slot.__get__(model, type(model))


def test_a_nested_model_is_checked_at_once_and_built_on_first_read() -> None:
    before = fastparse.fallbacks()
    persona = models.Persona.from_dict(copy.deepcopy(PERSONA))
    assert isinstance(type(persona).__dict__["layers"], fastparse._LazyField)
    assert type(_stored(persona, "layers")) is dict  # not built yet
    layers = persona.layers
    assert isinstance(layers, models.PersonaLayers) and persona.layers is layers  # built once, then kept
    assert attrs.has(type(_stored(layers, "llm")))  # a read builds the whole subtree at once (one payment)
    assert layers.llm.model == "tavus-gpt-oss"  # type: ignore[union-attr]
    assert persona == models.Persona._from_dict_generated(copy.deepcopy(PERSONA))  # type: ignore[attr-defined]
    assert fastparse.fallbacks() == before
    # a wrong type inside is found when the answer is parsed, not when the field is read
    broken = copy.deepcopy(PERSONA)
    broken["layers"]["tts"]["external_voice_id"] = 7  # type: ignore[index]
    models.Persona.from_dict(broken)
    assert fastparse.fallbacks() > before  # the generated method ran (and the client type-checks its result)


def test_a_model_with_unbuilt_fields_copies_pickles_compares_and_serialises() -> None:
    import pickle

    expected = models.Persona._from_dict_generated(copy.deepcopy(PERSONA))  # type: ignore[attr-defined]
    for clone in (copy.copy, copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        persona = models.Persona.from_dict(copy.deepcopy(PERSONA))
        assert clone(persona) == expected
    persona = models.Persona.from_dict(copy.deepcopy(PERSONA))
    assert persona.to_dict() == expected.to_dict()
    assert "cartesia" in repr(models.Persona.from_dict(copy.deepcopy(PERSONA)))


def test_a_field_set_by_hand_is_kept_as_it_is() -> None:
    persona = models.Persona.from_dict(copy.deepcopy(PERSONA))
    replacement = models.PersonaLayers.from_dict({"llm": {"model": "other"}})
    persona.layers = replacement
    assert persona.layers is replacement
    del persona.layers
    with pytest.raises(AttributeError):
        _ = persona.layers
