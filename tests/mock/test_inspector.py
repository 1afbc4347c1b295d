"""The inspector page (GET /_mock/) in a real headless browser: Debian's Chromium driven by Playwright
for Python (.ci/run installs the `chromium` package; Playwright's own browser download is not used).
The page loads with no console error, shows a resource created through the API, and a refused
request with its problem."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tavus_mock import MockServer
from tavus_mock.spec import Spec
from tests.conftest import TEST_KEY
from tests.mock.conftest import make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = os.environ.get("TAVUS_INSPECTOR_SCREENSHOT")  # set to write the README's picture


@pytest.fixture
def server(spec: Spec) -> Iterator[MockServer]:
    with MockServer(make_app(spec)) as running:
        yield running


def test_the_control_plane_serves_the_page_and_its_data(server: MockServer) -> None:
    page = httpx.get(server.url + "/_mock/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" in page.text and "http://" not in page.text.split("<script", 1)[1]  # nothing external
    state = httpx.get(server.url + "/_mock/state").json()
    assert any(r["tenant"] == "stock" and r["kind"] == "personas" for r in state["records"])
    assert httpx.get(server.url + "/_mock/callbacks").json() == {"callbacks": []}


def test_the_inspector_shows_a_new_resource_and_a_refused_request(server: MockServer) -> None:
    if CHROMIUM is None:
        if os.environ.get("TAVUS_REQUIRE_BROWSER"):  # set by .ci/run: CI must run it
            pytest.fail("no chromium on this machine, and TAVUS_REQUIRE_BROWSER is set")
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    from playwright.sync_api import sync_playwright

    with httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY}) as api:
        created = api.post("/v2/personas", json={"persona_name": "Inspected", "system_prompt": "x"})
        persona_id = created.json()["persona_id"]
        refused = api.post("/v2/pals", json={"pal_name": 5})
        assert refused.status_code == 400
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.url + "/_mock/")
            page.wait_for_selector(f"#resources td:text-is('{persona_id}')", timeout=10_000)
            problem = page.locator("#requests tr.problem td.why").first
            problem.wait_for(timeout=10_000)
            assert "pal_name" in problem.inner_text()
            assert "Inspected" in page.locator("#resources").inner_text()
            assert "requests; refreshed" in page.locator("#status").inner_text()
            if SCREENSHOT:
                page.screenshot(path=str(Path(SCREENSHOT)), clip={"x": 0, "y": 0, "width": 1200, "height": 520})
        finally:
            browser.close()
    assert errors == []
