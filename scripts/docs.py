"""`make docs`: the reference site, offline, in site/ (open site/index.html, or serve the folder).

1. the pages: docs/*.md as written, `client.md` (Tavus, AsyncTavus, the errors) and one page per
   resource of the generated client (tavus_client/_resources), every public method with its signature
   and docstring (mkdocstrings reads them with griffe; nothing is imported);
2. the spec's page: openapi/tavus.yaml rendered in the browser by Scalar's API reference (pinned in
   tools/scalar), its script served beside the page, no web font, no request client: nothing from a
   CDN or any other host. (Redocly's build-docs was tried first: its Redoc 3 page links by path, which
   a static site cannot serve, and fetches its logo from Redocly's CDN; its Redoc 2 page did the same
   and failed to hydrate.);
3. `mkdocs build --strict` (MkDocs Material, pinned): a warning (a broken link, a docstring griffe
   cannot read) fails the build.

usage: python scripts/docs.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tavus_spec.specfile import load_document

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "build" / "docs-src"
RESOURCES = ROOT / "generated" / "tavus_client" / "_resources"
TOOLS = ROOT / "tools" / "scalar"  # Scalar's API reference, pinned (package.json, package-lock.json)
SCALAR = TOOLS / "node_modules" / "@scalar" / "api-reference" / "dist" / "browser" / "standalone.js"
# Scalar's options: no web font fetched, no request client, no telemetry, every tag open (every operation
# listed in the navigation), no AI agent or MCP panel (they would call Scalar's services).
SCALAR_OPTIONS = {
    "withDefaultFonts": False,
    "hideClientButton": True,
    "telemetry": False,
    "defaultOpenAllTags": True,
    "agent": {"disabled": True},
    "mcp": {"disabled": True},
    "showDeveloperTools": "never",
}
REMOTE_FONT = re.compile(r"@font-face\s*\{[^}]*fonts\.scalar\.com[^}]*\}")
SPEC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tavus v2 API (openapi/tavus.yaml)</title>
</head>
<body>
<div id="api-reference"></div>
<script id="spec" type="application/json">{spec}</script>
<script src="scalar.standalone.js"></script>
<script>
Scalar.createApiReference("#api-reference", Object.assign(
  {{content: JSON.parse(document.getElementById("spec").textContent)}}, {options}));
</script>
</body>
</html>
"""


def resource_classes(module: Path) -> tuple[str, str] | None:
    """The sync and async resource classes of a module (not the raw-response twins)."""
    names = re.findall(r"^class (\w+)\b", module.read_text(encoding="utf-8"), flags=re.M)
    sync = [n for n in names if not n.startswith("Async") and not n.endswith("WithRawResponse")]
    asynchronous = [n for n in names if n.startswith("Async") and not n.endswith("WithRawResponse")]
    return (sync[0], asynchronous[0]) if sync and asynchronous else None


def title(module: str) -> str:
    return module.replace("_", " ").capitalize()


def write_pages() -> list[str]:
    if SOURCE.exists():
        shutil.rmtree(SOURCE)
    (SOURCE / "resources").mkdir(parents=True)
    for page in (ROOT / "docs").glob("*.md"):
        shutil.copy2(page, SOURCE / page.name)
    (SOURCE / "client.md").write_text(
        "# The client\n\n"
        "`Tavus` (and `AsyncTavus`, the same with `await`) holds the key, the base URL and the options every\n"
        "call uses; each resource is an attribute (`client.personas`). Per call, `timeout`, `max_retries`,\n"
        "`deadline` and `extra_headers` / `extra_query` / `extra_body` override them.\n\n"
        "::: tavus_client._overrides.client.Tavus\n\n"
        "::: tavus_client._overrides.client.AsyncTavus\n\n"
        "## Errors\n\n"
        "Every failure is a `TavusError`; an error answer is an `APIStatusError` of the status's class.\n\n"
        "::: tavus_client._overrides.errors\n"
        "    options:\n"
        "      show_root_heading: false\n"
        "      heading_level: 3\n",
        encoding="utf-8",
    )
    modules = []
    for module in sorted(RESOURCES.glob("*.py")):
        if module.name.startswith("_"):
            continue
        classes = resource_classes(module)
        if classes is None:
            continue
        name = module.stem
        sync, asynchronous = classes
        (SOURCE / "resources" / f"{name}.md").write_text(
            f"# client.{name}\n\n"
            f"{title(name)}: `Tavus().{name}` (below) and `AsyncTavus().{name}` (the same methods, awaited).\n"
            f"Each method is also on `client.{name}.with_raw_response`, answering the status, headers and body.\n\n"
            f"::: tavus_client._resources.{name}.{sync}\n"
            f"    options:\n"
            f"      heading: client.{name}\n"
            f"      members_order: source\n\n"
            f"::: tavus_client._resources.{name}.{asynchronous}\n"
            f"    options:\n"
            f"      heading: AsyncTavus().{name}\n"
            f"      show_docstring_description: false\n",
            encoding="utf-8",
        )
        modules.append(name)
    return modules


def build_spec_page() -> None:
    """The spec's page: the spec (as JSON, in the page) rendered by Scalar's script, served beside it."""
    if not SCALAR.exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"],
            cwd=ROOT,
            check=True,
        )
    target = SOURCE / "api"
    target.mkdir(exist_ok=True)
    spec = json.dumps(load_document(ROOT / "openapi" / "tavus.yaml"), ensure_ascii=False).replace("</", "<\\/")
    page = SPEC_PAGE.format(spec=spec, options=json.dumps(SCALAR_OPTIONS))
    (target / "index.html").write_text(page, encoding="utf-8")
    # Scalar 1.76 declares its fonts (@font-face on fonts.scalar.com) whatever withDefaultFonts says, and
    # the browser fetches them while the page is drawn: the script is served without those rules.
    script, count = REMOTE_FONT.subn("", SCALAR.read_text(encoding="utf-8"))
    if count == 0 or "fonts.scalar.com" in script:
        raise SystemExit(f"make docs: {SCALAR.name}: its font rules were not found as expected ({count})")
    (target / "scalar.standalone.js").write_text(script, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="where the site goes (default: site/)")
    args = parser.parse_args(argv)
    modules = write_pages()
    build_spec_page()
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml"), "-d", str(args.out.resolve())],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    if done.returncode != 0:
        print("make docs: mkdocs build --strict failed (above)", file=sys.stderr)
        return 1
    print(f"make docs: {len(modules)} resource pages, the client, the HTTP API; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
