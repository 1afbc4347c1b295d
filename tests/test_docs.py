"""The reference site (`make docs`) in a real headless browser (Debian's Chromium through Playwright):
every page loads with no console error and nothing fetched from another host, no internal link is
broken (pages and #anchors), every operation of the spec is on the API page, every resource method has
its signature, and the search finds `personas.create`."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from tavus_mock.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "scripts/docs.py", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_resource_has_a_page_with_its_methods(site: Path) -> None:
    resources = sorted(p.stem for p in (ROOT / "generated" / "tavus_client" / "_resources").glob("[!_]*.py"))
    pages = sorted(p.stem for p in (site / "resources").glob("*.html"))
    assert pages == resources
    personas = (site / "resources" / "personas.html").read_text(encoding="utf-8")
    for method in ("create", "get", "list", "list_all", "patch", "delete"):
        assert f'id="tavus_client._resources.personas.Personas.{method}"' in personas, method
    assert "persona_name" in personas and "Create a persona" in personas  # signature and docstring
    assert "NotFoundError" in (site / "client.html").read_text(encoding="utf-8")


def _browser_needed() -> None:
    if CHROMIUM is None:
        if os.environ.get("TAVUS_REQUIRE_BROWSER"):  # set by .ci/run: CI must run it
            pytest.fail("no chromium on this machine, and TAVUS_REQUIRE_BROWSER is set")
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")


def test_the_site_in_a_browser(site: Path, served: str, spec: Spec) -> None:  # noqa: PLR0915 (one crawl, step by step)
    _browser_needed()
    from playwright.sync_api import Page, Route, sync_playwright

    errors: list[str] = []
    remote: list[str] = []
    failed: list[str] = []

    def local_only(route: Route) -> None:
        url = route.request.url
        if url.startswith((served, "data:", "blob:", "about:")):
            route.continue_()
        else:
            remote.append(url)
            route.abort()

    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []  # (page, href resolved)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", local_only)
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            # Crawl every page the site links to, from its entry page.
            todo, seen = [served + "/index.html"], set()
            while todo:
                url = todo.pop()
                if url in seen:
                    continue
                seen.add(url)
                page.goto(url, wait_until="load")
                if url.endswith("/api/index.html"):
                    page.wait_for_selector("text=Start a conversation", timeout=30_000)
                ids[url] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                    target = urljoin(url, href)
                    if not target.startswith(served):
                        continue
                    links.append((url, target))
                    bare = urldefrag(target)[0]
                    if bare.endswith(".html") and bare not in seen:
                        todo.append(bare)
            assert len(seen) >= 20, sorted(seen)
            # Every operation of the spec is listed on the API page (every tag open).
            page.goto(served + "/api/index.html", wait_until="load")
            page.wait_for_selector("text=Start a conversation", timeout=30_000)
            text = page.inner_text("body")
            missing = [op.operation_id for op in spec.operations if _summary(spec, op.operation_id) not in text]
            assert not missing, missing
            # The search finds personas.create.
            page.goto(served + "/index.html", wait_until="load")
            page.fill("input.md-search__input", "personas.create")
            page.wait_for_selector(".md-search-result__link", timeout=15_000)
            found = page.eval_on_selector_all(".md-search-result__link", "els => els.map(e => e.getAttribute('href'))")
            top = [h for h in found[:5] if "resources/personas.html" in h and h.endswith("Personas.create")]
            assert top, found[:10]
        finally:
            browser.close()
    assert not errors, (errors[:10], remote[:10])
    assert not remote, remote[:10]
    assert not failed, failed[:10]
    broken = []
    for source, target in links:
        bare, fragment = urldefrag(target)
        path = urlsplit(bare).path
        if not _file_of(site, bare).exists() and path not in ("", "/"):
            broken.append(f"{source} -> {target}")
        elif fragment and bare in ids and fragment not in ids[bare] and not bare.endswith("/api/index.html"):
            broken.append(f"{source} -> {target} (no #{fragment})")
    assert not broken, broken[:10]


def _summary(spec: Spec, operation_id: str) -> str:
    for item in spec.raw["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return str(op.get("summary") or operation_id)
    return operation_id


def _file_of(site: Path, url: str) -> Path:
    """The file of the site a served URL names."""
    path = urlsplit(url).path.lstrip("/") or "index.html"
    return site / (path + "index.html" if path.endswith("/") else path)
