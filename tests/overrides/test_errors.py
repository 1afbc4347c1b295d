"""overrides/errors.py: status -> exception mapping, and the canary on the generated behaviour."""

from __future__ import annotations

import httpx
from tavus_client.api.personas import get_persona
from tavus_client.client import AuthenticatedClient
from tavus_client.models import Error


def test_canary_generated_returns_errors() -> None:
    """When this fails, the generated functions raise on error statuses themselves: errors.py may shrink."""
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"message": "Persona not found"}))
    client = AuthenticatedClient(base_url="http://tavus.test", token="k", prefix="", auth_header_name="x-api-key")
    client.set_httpx_client(httpx.Client(base_url="http://tavus.test", transport=transport))
    result = get_persona.sync("p1", client=client)
    assert isinstance(result, Error) and result.message == "Persona not found"
