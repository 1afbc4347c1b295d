"""overrides/client.py `authenticated_client`: the generated client, set up for Tavus."""

from __future__ import annotations

import httpx
import pytest
from tavus_client import TavusError, authenticated_client
from tavus_client.api.personas import get_persona
from tavus_client.client import AuthenticatedClient


def _capture(client: AuthenticatedClient) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"persona_id": "p1", "persona_name": "x"})

    client.set_httpx_client(
        httpx.Client(
            base_url=client._base_url,
            headers={client.auth_header_name: client.token},
            transport=httpx.MockTransport(handler),
        )
    )
    return seen


def test_sends_x_api_key_to_the_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAVUS_BASE_URL", raising=False)
    client = authenticated_client("k-123")
    assert client._base_url == "https://tavusapi.com"
    assert client._timeout is not None and client._timeout.read == 60.0
    seen = _capture(client)
    persona = get_persona.sync("p1", client=client)
    assert persona is not None
    assert seen[0].headers["x-api-key"] == "k-123"
    assert "authorization" not in seen[0].headers


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVUS_API_KEY", "k-env")
    monkeypatch.setenv("TAVUS_BASE_URL", "http://127.0.0.1:1234/")
    client = authenticated_client()
    assert client.token == "k-env"
    assert client._base_url == "http://127.0.0.1:1234"


def test_no_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    with pytest.raises(TavusError, match="TAVUS_API_KEY"):
        authenticated_client()


def test_canary_generated_client_defaults() -> None:
    """When this fails the generator sends apiKey schemes itself: authenticated_client can go."""
    client = AuthenticatedClient(base_url="https://tavusapi.com", token="k")
    assert (client.prefix, client.auth_header_name) == ("Bearer", "Authorization")
    assert client._timeout is None
