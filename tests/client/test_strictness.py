"""The client refuses what it cannot honour and never shows the key: misspelled keywords, unusable
Retry-After values, absurd bodies, copies and pickles of models."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import httpx
import pytest
from tavus_client import APIResponseValidationError, NotFoundError, Tavus
from tavus_client.models import Persona

KEY = "strict-test-key-not-a-secret"


def client_for(*responses: httpx.Response) -> Tavus:
    queue = list(responses)
    http = httpx.Client(base_url="https://tavus.test", transport=httpx.MockTransport(lambda request: queue.pop(0)))
    return Tavus(api_key=KEY, base_url="https://tavus.test", http_client=http, max_retries=0)


def test_a_misspelled_keyword_is_a_type_error_naming_it() -> None:
    client = client_for()
    with pytest.raises(TypeError, match="personna_name"):
        client.personas.create(personna_name="x", system_prompt="y")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="timout"):
        client.personas.get("p1", timout=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="extra_header"):
        list(client.personas.list_all(extra_header={"a": "b"}))  # type: ignore[call-arg]


def test_the_request_options_still_work() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"persona_id": "p1"})

    http = httpx.Client(base_url="https://tavus.test", transport=httpx.MockTransport(answer))
    client = Tavus(api_key=KEY, base_url="https://tavus.test", http_client=http)
    client.personas.get("p1", extra_headers={"x-trace": "1"}, extra_query={"q": "2"}, timeout=3, max_retries=0)
    assert seen[0].headers["x-trace"] == "1" and seen[0].url.params["q"] == "2"
    assert seen[0].extensions["timeout"]["read"] == 3


def test_the_key_never_shows_in_errors_or_raw_answers() -> None:
    client = client_for(
        httpx.Response(404, json={"message": "Persona not found"}), httpx.Response(200, json={"persona_id": "p"})
    )
    with pytest.raises(NotFoundError) as caught:
        client.personas.get("p1")
    err = caught.value
    for text in (repr(err.request.headers), repr(err.response.request.headers), str(err), repr(err)):
        assert KEY not in text
    assert err.request.headers["x-api-key"] == "<redacted>"
    raw = client.personas.with_raw_response.get("p")
    assert KEY not in repr(raw.http_response.request.headers)


def test_absurdly_nested_success_bodies_are_validation_errors() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    client = client_for(httpx.Response(200, content=deep, headers={"content-type": "application/json"}))
    with pytest.raises(APIResponseValidationError):
        client.personas.get("p1")


def test_models_survive_copy_and_pickle() -> None:
    persona = Persona.from_dict({"persona_id": "p1", "persona_name": "A", "layers": {"llm": {"model": "m"}}})
    assert copy.deepcopy(persona) == persona
    assert copy.copy(persona) == persona
    assert pickle.loads(pickle.dumps(persona)) == persona
    assert pickle.loads(pickle.dumps(persona)).context is copy.deepcopy(persona).context


def test_mypy_strict_catches_a_misspelled_keyword(tmp_path: Path) -> None:
    from mypy import api

    script = tmp_path / "user_script.py"
    script.write_text(
        "from tavus_client import Tavus\n"
        "client = Tavus(api_key='k')\n"
        "client.personas.create(personna_name='x', system_prompt='y')\n"
        "client.personas.get('p1', timeout=1.5, max_retries=0)\n",
        encoding="utf-8",
    )
    out, _, status = api.run(["--strict", "--no-incremental", str(script)])
    assert status == 1 and 'Unexpected keyword argument "personna_name"' in out, out
    assert out.count("error:") == 1, out


def test_docstrings_carry_the_spec_descriptions() -> None:
    client = client_for()
    doc = client.personas.create.__doc__ or ""
    assert "`POST /v2/personas`" in doc and "needed unless `pipeline_mode` is `echo`" in doc
    assert "Args:" in doc and "    context: Background the LLM is given." in doc and "Returns:" in doc
    assert "pal_id: PAL identifier" in (client.pals.patch.__doc__ or "")
    assert "force: Discard PAL Maker" in (client.pals.patch.__doc__ or "")


@pytest.mark.parametrize(
    ("body", "call", "names"),
    [
        ({"persona_id": 5}, lambda c: c.personas.create(system_prompt="x"), "persona_id"),
        ({"persona_id": "p", "persona_name": 7}, lambda c: c.personas.get("p"), "persona_name"),
        ({"data": [{"persona_id": 5}], "total_count": 1}, lambda c: c.personas.list(), "data[0].persona_id"),
        ({"data": [], "total_count": "x"}, lambda c: c.personas.list(), "total_count"),
        (
            {"persona_id": "p", "layers": {"llm": {"speculative_inference": "yes"}}},
            lambda c: c.personas.get("p"),
            "llm",
        ),
    ],
)
def test_every_success_body_is_held_to_its_types(body: dict[str, object], call: object, names: str) -> None:
    client = client_for(httpx.Response(200, json=body))
    with pytest.raises(APIResponseValidationError, match=names.replace("[", r"\[").replace("]", r"\]")):
        call(client)  # type: ignore[operator]


def test_well_typed_bodies_pass() -> None:
    persona = {"persona_id": "p", "persona_name": None, "layers": {"llm": {"speculative_inference": True}}, "x": 1}
    assert client_for(httpx.Response(200, json=persona)).personas.get("p").persona_id == "p"
