"""Hostile or malformed input gets a clear 400/413/422, never a crash, a stall or non-JSON out."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from tavus_mock import MockServer, Spec
from tests.conftest import TEST_KEY
from tests.mock.conftest import make_app

JSON = {"content-type": "application/json"}
FACE = "rfe12d8b9597"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"persona_name": "x", "layers": {"llm": {"extra_body": {"t": 1e400}}}}', "infinity"),
        (b'\xef\xbb\xbf{"persona_name": "x"}', "byte order mark"),
        ('{"persona_name": "x"}'.encode("utf-16"), "UTF-8"),
        (b'{"persona_name": "\\ud800"}', "surrogate"),
        (b'{"persona_name": "\xff"}', "UTF-8"),
        (b'{"persona_name": NaN}', "not strict JSON"),
    ],
)
def test_strict_json_in(api: httpx.Client, body: bytes, says: str) -> None:
    response = api.post("/v2/personas", content=body, headers=JSON)
    assert response.status_code == 400
    assert "not strict JSON" in response.json()["error"] and says in response.json()["error"]


def test_nothing_non_json_is_stored_or_served(api: httpx.Client) -> None:
    pid = api.post("/v2/personas", json={"persona_name": "x", "system_prompt": "y"}).json()["persona_id"]
    huge = b'[{"op": "add", "path": "/layers", "value": {"llm": {"extra_body": {"t": 1e400}}}}]'
    assert api.patch(f"/v2/personas/{pid}", content=huge, headers=JSON).status_code == 400
    listing = api.get("/v2/personas")
    assert "Infinity" not in listing.text and "NaN" not in listing.text


def test_errors_quote_only_a_short_prefix(api: httpx.Client) -> None:
    long_id = "p" + "x" * 60_000  # httpx refuses URLs over 65,536 characters
    response = api.get(f"/v2/personas/{long_id}")
    assert response.status_code == 400 and len(response.text) < 500
    response = api.get("/v2/" + "y" * 60_000)
    assert response.status_code == 404 and len(response.text) < 500


def doubling_patch(count: int) -> list[dict[str, str]]:
    """The 1 KB attack: each `copy` doubles the document."""
    return [{"op": "copy", "from": "/layers", "path": f"/layers/a{i}"} for i in range(count)]


def test_a_doubling_patch_is_refused_and_changes_nothing(api: httpx.Client) -> None:
    pid = api.post("/v2/personas", json={"system_prompt": "y", "layers": {"llm": {"model": "m"}}}).json()["persona_id"]
    before = api.get(f"/v2/personas/{pid}").json()
    response = api.patch(f"/v2/personas/{pid}", json=doubling_patch(19))
    assert response.status_code == 413 and "nothing was changed" in response.json()["error"]
    assert api.get(f"/v2/personas/{pid}").json() == before
    # the size bound: copies of a large string cross 1 MiB
    big = api.post("/v2/personas", json={"system_prompt": "y", "context": "c" * 300_000}).json()["persona_id"]
    copies = [{"op": "copy", "from": "/context", "path": f"/layers/x{i}"} for i in range(5)]
    copies.insert(0, {"op": "add", "path": "/layers", "value": {}})
    response = api.patch(f"/v2/personas/{big}", json=copies)
    assert response.status_code == 413 and "larger than 1048576 bytes" in response.json()["error"]
    ok = api.patch(f"/v2/personas/{big}", json=copies[:3])  # two copies stay under the bound
    assert ok.status_code == 200 and len(api.get(f"/v2/personas/{big}").json()["layers"]["x1"]) == 300_000
    objectives = api.post("/v2/objectives", json={"data": [{"objective_name": "a", "objective_prompt": "b"}]})
    oid = objectives.json()["objectives_id"]
    attack = [{"op": "copy", "from": "/data", "path": f"/data/{i}"} for i in range(17)]
    assert api.patch(f"/v2/objectives/{oid}", json=attack).status_code in (413, 422)


def test_a_deepening_patch_is_refused(api: httpx.Client) -> None:
    pid = api.post("/v2/personas", json={"system_prompt": "y", "layers": {"llm": {"model": "m"}}}).json()["persona_id"]
    deeper = [{"op": "add", "path": "/layers" + "/x" * i, "value": {}} for i in range(1, 90)]
    response = api.patch(f"/v2/personas/{pid}", json=deeper)
    assert response.status_code == 422 and "deeper than 64 levels" in response.text, response.text[:300]


def test_add_and_remove_churn_is_bounded_by_the_work_budget(api: httpx.Client) -> None:
    pid = api.post("/v2/personas", json={"system_prompt": "y"}).json()["persona_id"]
    big = "z" * 300_000
    churn = [{"op": "add", "path": "/context", "value": big}, {"op": "remove", "path": "/context"}] * 10
    response = api.patch(f"/v2/personas/{pid}", content=orjson_dumps(churn), headers=JSON)
    assert response.status_code == 413, response.text[:200]


def orjson_dumps(value: object) -> bytes:
    import orjson

    return orjson.dumps(value)


@pytest.mark.parametrize(("http", "status"), [("httptools", b"431"), ("h11", b"400")])
def test_huge_request_headers_are_cut_off(spec: Spec, http: str, status: bytes) -> None:
    """Both HTTP implementations stop reading a request head past 64 KiB and close the connection."""
    with MockServer(make_app(spec, access_log=False), http=http) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as conn:
            conn.sendall(b"GET /v2/personas HTTP/1.1\r\nhost: x\r\nx-api-key: " + TEST_KEY.encode() + b"\r\n")
            answer = b""
            try:
                for _ in range(200):  # up to 20 MB, sent until the server answers or closes
                    conn.sendall(b"x-filler: " + b"a" * 100_000 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                while chunk := conn.recv(65536):
                    answer += chunk
            except ConnectionResetError:
                pass
        assert answer.split(b" ")[1] == status, answer[:200]
        ok = httpx.get(f"{server.url}/v2/personas", headers={"x-api-key": TEST_KEY})
        assert ok.status_code == 200  # the server goes on serving


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_requests_the_http_parser_refuses_get_a_json_400(spec: Spec, http: str) -> None:
    """A header line without a colon never reaches the app; the answer is still JSON."""
    with MockServer(make_app(spec, access_log=False), http=http) as server:
        with socket.create_connection((server.host, server.port), timeout=10) as conn:
            conn.sendall(b"GET /v2/personas HTTP/1.1\r\nhost: x\r\nnot a header line\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"400", answer[:300]
        assert b"content-type: application/json" in head.lower()
        assert json.loads(body)["error"].startswith("Invalid HTTP request")
