"""`make breaking BASE=<git ref>` and `make changelog`: what an edit breaks, and the changelog entry it needs.

Two diffs against the base (default: the newest `v*` tag, else `main`):
- the spec: openapi/tavus.yaml against the base's (scripts/spec_diff.py), each change with its line;
- the client: griffe's API check of generated/tavus_client against the base's generated package (as
  committed there), each breakage with its file, line and Python name (a resource method as users call
  it: `Tavus().personas.create`).

The gate prints each breaking change in one line and exits 1 when there is any and the release does not
say so: the version in pyproject.toml did not get the bump the version scheme asks for a breaking change
(the major; the minor while the major is 0), and the change is not listed under `### Breaking` in the
`[Unreleased]` section of CHANGELOG.md (by its operationId, schema, field or Python name). Exit 2: the
base cannot be read. `--changelog` prints a draft of the next entry instead (Keep a Changelog form).

usage: python scripts/breaking.py [--base REF | --base-dir DIR] [--changelog]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import griffe

sys.path.insert(0, str(Path(__file__).parent))
from spec_diff import Change, diff

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path("openapi/tavus.yaml")
PACKAGE = Path("generated/tavus_client")
PRIVATE_SURFACE = ("_resources", "_overrides")


@dataclass(frozen=True)
class PythonBreak:
    where: str  # generated/tavus_client/...:LINE
    name: str  # as users write it
    what: str

    def one_line(self) -> str:
        return f"{self.where}: {self.name}: {self.what}"


class BaseError(Exception):
    pass


# -- the base --------------------------------------------------------------------------------------
def default_base(root: Path) -> str:
    tags = _git(root, "tag", "--list", "v*", "--sort=-version:refname").split()
    return tags[0] if tags else "main"


def _git(root: Path, *args: str, binary: bool = False) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise BaseError(done.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed")
    return done.stdout.decode() if not binary else done.stdout.decode("latin-1")


def materialize(root: Path, ref: str, into: Path) -> Path:
    """The base's spec, pyproject.toml, CHANGELOG.md, generated package and overrides, written under `into`."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BaseError:
        raise BaseError(f"no such git ref: {ref} (fetch it, or give another with BASE=...)") from None
    archive = subprocess.run(
        # overrides/ too: the package's `_overrides` links to it (before that link, it held a copy)
        [
            "git",
            "-C",
            str(root),
            "archive",
            "--format=tar",
            ref,
            str(SPEC),
            "pyproject.toml",
            str(PACKAGE),
            "overrides",
        ],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise BaseError(f"{ref} has no {SPEC} or {PACKAGE}: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    with contextlib.suppress(BaseError):  # a base from before the changelog has none
        (into / "CHANGELOG.md").write_text(_git(root, "show", f"{ref}:CHANGELOG.md"), encoding="utf-8")
    return into


# -- the Python side --------------------------------------------------------------------------------
_RESOURCE = re.compile(r"^tavus_client\._resources\.(\w+)\.(Async)?\w+?(WithRawResponse)?\.(\w+)(.*)$")


def user_name(path: str) -> str:
    """A resource method as users call it (`Tavus().personas.create`); other names as they are."""
    found = _RESOURCE.match(path)
    if found is None:
        return path
    module, is_async, raw, method, rest = found.groups()
    client = "AsyncTavus()" if is_async else "Tavus()"
    return f"{client}.{module}{'.with_raw_response' if raw else ''}.{method}{rest}"


def python_breaks(base: Path, head: Path) -> list[PythonBreak]:
    old = griffe.load("tavus_client", search_paths=[str(base / PACKAGE.parent)], resolve_aliases=False)
    new = griffe.load("tavus_client", search_paths=[str(head / PACKAGE.parent)], resolve_aliases=False)
    out = []
    # The package, and the two modules users reach through `Tavus` (their own names start with an
    # underscore, so griffe leaves them out of the package's check): the resources and the overrides.
    pairs = [(old, new)] + [(old[m], new[m]) for m in PRIVATE_SURFACE if m in old.members and m in new.members]
    breakages = [b for o, n in pairs for b in griffe.find_breaking_changes(o, n)]
    for breakage in breakages:
        obj = breakage.obj
        filepath = obj.filepath if isinstance(obj.filepath, Path) else Path(str(obj.filepath))
        for root in (head, base):
            try:
                shown = filepath.relative_to(root)
                break
            except ValueError:
                continue
        else:
            shown = filepath
        what = str(breakage.kind.value).lower()
        before, after = _value(breakage.old_value), _value(breakage.new_value)
        if before == after and before != "None":
            what += f": {before}"
        elif breakage.old_value is not None or breakage.new_value is not None:
            what += f": {before} -> {after}"
        out.append(PythonBreak(f"{shown}:{obj.lineno or 1}", user_name(obj.path), what))
    return out


def _value(value: object) -> str:
    name = getattr(value, "name", None)
    text = str(name if isinstance(name, str) else value)
    return text if len(text) <= 80 else text[:80] + "..."


# -- the verdict ------------------------------------------------------------------------------------
def version_of(pyproject: Path) -> tuple[int, int, int]:
    text = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    major, minor, patch = [*(int(p) for p in re.findall(r"\d+", text)[:3]), 0, 0, 0][:3]
    return major, minor, patch


def bumped_for_breaking(old: tuple[int, int, int], new: tuple[int, int, int]) -> bool:
    """The version scheme (README, "Releasing"): a breaking change bumps the major, or the minor while
    the major is 0."""
    if old[0] == 0 and new[0] == 0:
        return new[1] > old[1]
    return new[0] > old[0]


def intended(changelog: Path) -> str:
    """The `### Breaking` list of the `[Unreleased]` section of CHANGELOG.md ("" if none)."""
    if not changelog.exists():
        return ""
    text = changelog.read_text(encoding="utf-8")
    section = re.search(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## \[|\Z)", text, flags=re.M | re.S)
    if section is None:
        return ""
    breaking = re.search(r"^### Breaking[^\n]*\n(.*?)(?=^### |\Z)", section.group(1), flags=re.M | re.S)
    return breaking.group(1) if breaking else ""


def listed(listing: str, names: Iterable[str]) -> bool:
    return any(name and re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", listing) for name in names)


def spec_names(change: Change) -> list[str]:
    names = [change.python.rsplit(".", 1)[-1]] if change.python else []
    words = change.subject.split()
    names += [words[-1]] if words else []
    names += re.findall(r"field ([\w.\[\]]+)", change.what)
    names += [n.rsplit(".", 1)[-1] for n in re.findall(r"field ([\w.]+)", change.what)]
    return names


def python_names(item: PythonBreak) -> list[str]:
    """The names a changelog line may list a Python breakage by: its own, `Class.member`, and its class
    (listing `PipelineMode` covers a member it lost)."""
    parts = item.name.replace("()", "").split(".")
    names = [item.name, ".".join(parts[-2:]), parts[-1]]
    if len(parts) > 1 and parts[-2][:1].isupper():
        names.append(parts[-2])
    return names


def draft(spec: list[Change], python: list[PythonBreak], version: str) -> str:
    sections: dict[str, list[str]] = {"Breaking": [], "Added": [], "Deprecated": [], "Changed": []}
    names = {"breaking": "Breaking", "added": "Added", "deprecated": "Deprecated", "changed": "Changed"}
    for change in spec:
        python_name = f" (`{change.python}`)" if change.python else ""
        sections[names[change.kind]].append(f"- {change.subject}: {change.what}{python_name}")
    for item in python:
        sections["Breaking"].append(f"- `{item.name}`: {item.what}")
    lines = [f"## [{version}] - YYYY-MM-DD", ""]
    for title, items in sections.items():
        if items:
            lines += [f"### {title}", "", *items, ""]
    if len(lines) == 2:
        lines += ["Nothing the spec or the client's API shows changed.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make breaking", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="git ref to compare with (default: the newest v* tag, else main)")
    parser.add_argument("--base-dir", type=Path, help="a checkout to compare with, instead of a git ref")
    parser.add_argument("--changelog", action="store_true", help="print a draft of the next changelog entry")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="breaking-") as tmp:
        try:
            if args.base_dir is not None:
                base, label = args.base_dir.resolve(), str(args.base_dir)
                if not (base / SPEC).is_file() or not (base / PACKAGE).is_dir():
                    raise BaseError(f"{base} has no {SPEC} or {PACKAGE}")
            else:
                label = args.base or default_base(ROOT)
                base = materialize(ROOT, label, Path(tmp))
        except BaseError as exc:
            print(f"make breaking: {exc}", file=sys.stderr)
            return 2
        spec = diff((base / SPEC).read_text(encoding="utf-8"), (ROOT / SPEC).read_text(encoding="utf-8"))
        python = python_breaks(base, ROOT)
        old_version, new_version = version_of(base / "pyproject.toml"), version_of(ROOT / "pyproject.toml")
    if args.changelog:
        print(draft(spec, python, ".".join(map(str, new_version))))
        return 0
    breaking = [c for c in spec if c.kind == "breaking"]
    print(
        f"make breaking: against {label}: {len(spec)} spec changes ({len(breaking)} breaking), "
        f"{len(python)} breaking changes of the client's API"
    )
    for change in breaking:
        print("  spec    " + change.one_line())
    for item in python:
        print("  python  " + item.one_line())
    if not breaking and not python:
        return 0
    if bumped_for_breaking(old_version, new_version):
        print(f"make breaking: allowed: the version went from {_v(old_version)} to {_v(new_version)}")
        return 0
    listing = intended(ROOT / "CHANGELOG.md")
    unlisted = [c.one_line() for c in breaking if not listed(listing, spec_names(c))]
    unlisted += [p.one_line() for p in python if not listed(listing, python_names(p))]
    if not unlisted:
        print("make breaking: allowed: each change is listed under [Unreleased] / ### Breaking in CHANGELOG.md")
        return 0
    print(
        f"make breaking: {len(unlisted)} breaking change(s) neither allowed by the version "
        f"({_v(old_version)} -> {_v(new_version)}; a breaking change needs "
        f"{'the minor bump while the major is 0' if new_version[0] == 0 else 'the major bump'}) "
        "nor listed under [Unreleased] / ### Breaking in CHANGELOG.md",
        file=sys.stderr,
    )
    return 1


def _v(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


if __name__ == "__main__":
    raise SystemExit(main())
