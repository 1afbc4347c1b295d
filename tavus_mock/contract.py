"""`tavus-contract`: run the contract suite of openapi/tavus.yaml against any base URL.

It checks the key with one plain request first (a refused key must never pass green), then runs
schemathesis with tavus_mock/schemathesis.toml and the checks of tavus_mock.contract_hooks, streaming
its progress, and ends with one line per operation: passed or failed, with the first failure's
check and a curl command that reproduces it. Exit status 0 only when everything passed.

Against the real API (tavusapi.com) only read operations run unless --allow-writes is given,
because conversations and videos are billed; with it, created conversations use `test_mode`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from .specfile import SpecError, default_spec_path, load_document

PHASES = ("examples", "coverage", "fuzzing", "stateful")


def default_config_path() -> Path:
    """`TAVUS_CONTRACT_CONFIG` when set, else the schemathesis configuration shipped in this package."""
    env = os.environ.get("TAVUS_CONTRACT_CONFIG")
    if env:
        return Path(env)
    return Path(str(resources.files("tavus_mock").joinpath("schemathesis.toml")))


def is_real_tavus(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host == "tavusapi.com" or host.endswith(".tavusapi.com")


@dataclass
class OperationResult:
    name: str
    passed: bool
    check: str = ""
    detail: str = ""
    curl: str = ""
    checks: tuple[str, ...] = ()  # every failed check: its code, or the name of a custom check


@dataclass
class ContractResult:
    returncode: int
    operations: list[OperationResult] = field(default_factory=list)
    output: str = ""

    @property
    def failed(self) -> list[OperationResult]:
        return [op for op in self.operations if not op.passed]

    @property
    def failing_checks(self) -> set[str]:
        """Every check that failed somewhere: ST codes, and custom checks by name."""
        return {check for op in self.failed for check in op.checks}

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failed


def smoke(base_url: str, api_key: str) -> str | None:
    """None when an authenticated list call answers 200, else what went wrong."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/v2/personas", headers={"x-api-key": api_key}, timeout=15)
    except httpx.HTTPError as exc:
        return f"cannot reach {base_url}: {type(exc).__name__}: {exc}"
    if response.status_code != 200:
        return f"GET /v2/personas with this key answered {response.status_code}: {response.text[:200]}"
    return None


def parse_junit(path: Path) -> list[OperationResult]:
    results = []
    for case in ET.parse(path).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            results.append(OperationResult(case.get("name", "?"), True))
            continue
        text = failure.text or ""
        lines = [line.strip() for line in text.splitlines()]
        curl = next((line for line in lines if line.startswith("curl ")), "")
        found = [line[2:] for line in lines if re.match(r"- ST\d{3} ", line)]
        checks = tuple(dict.fromkeys(_check_name(line) for line in found))
        detail = found[0] if found else ""
        results.append(OperationResult(case.get("name", "?"), False, failure.get("message", ""), detail, curl, checks))
    return results


def _check_name(line: str) -> str:
    """`ST101 Server error` -> ST101; `ST901 Custom check failed: `name`` -> name."""
    custom = re.search(r"Custom check failed: `([^`]+)`", line)
    return custom.group(1) if custom else line.split(" ", 1)[0]


def _schemathesis() -> str:
    candidate = Path(sys.executable).parent / "schemathesis"
    return str(candidate) if candidate.exists() else "schemathesis"


def command(
    base_url: str,
    api_key: str,
    report: Path,
    *,
    phases: tuple[str, ...] = PHASES,
    max_examples: int | None = None,
    seed: int | None = None,
    allow_writes: bool = False,
    include_operation_ids: tuple[str, ...] = (),
    extra_args: tuple[str, ...] = (),
    spec: Path | None = None,
    config: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The schemathesis command line and environment of one run (the key travels in the environment)."""
    args = ["--phases", ",".join(phases)]
    env = {**os.environ, "TAVUS_API_KEY": api_key, "SCHEMATHESIS_HOOKS": "tavus_mock.contract_hooks"}
    env.pop("TAVUS_CONTRACT_TEST_MODE", None)
    if is_real_tavus(base_url):
        if allow_writes:
            env["TAVUS_CONTRACT_TEST_MODE"] = "1"
        else:  # conversations and videos are billed: read operations only, no stateful chains
            reads = ",".join(p for p in phases if p != "stateful") or "examples"
            args = ["--phases", reads, "--include-method", "GET"]
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if seed is not None:
        args += ["--seed", str(seed)]
    for oid in include_operation_ids:
        args += ["--include-operation-id", oid]
    cmd = [
        _schemathesis(),
        "--config-file",
        str(config or default_config_path()),
        "run",
        str(spec or default_spec_path()),
        "--url",
        base_url,
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        *args,
        *extra_args,
    ]
    return cmd, env


def run(
    base_url: str,
    api_key: str,
    *,
    phases: tuple[str, ...] = PHASES,
    max_examples: int | None = None,
    seed: int | None = None,
    junit: Path | None = None,
    allow_writes: bool = False,
    include_operation_ids: tuple[str, ...] = (),
    extra_args: tuple[str, ...] = (),
    out: TextIO | None = None,
    spec: Path | None = None,
    config: Path | None = None,
) -> ContractResult:
    """Run the suite; progress goes to `out` (None: captured only)."""
    problem = smoke(base_url, api_key)
    if problem is not None:
        return ContractResult(2, [OperationResult("smoke: GET /v2/personas", False, "smoke", problem)], problem)
    if is_real_tavus(base_url) and not allow_writes and out is not None:
        print("tavus-contract: real Tavus API: only read operations run (--allow-writes to change that)", file=out)
    with tempfile.TemporaryDirectory() as tmp:
        report = junit or Path(tmp) / "junit.xml"
        cmd, env = command(
            base_url,
            api_key,
            report,
            phases=phases,
            max_examples=max_examples,
            seed=seed,
            allow_writes=allow_writes,
            include_operation_ids=include_operation_ids,
            extra_args=extra_args,
            spec=spec,
            config=config,
        )
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if out is not None:
                out.write(line)
                out.flush()
        returncode = proc.wait()
        operations = parse_junit(report) if report.exists() else []
    return ContractResult(returncode, operations, "".join(lines))


def summary(result: ContractResult) -> str:
    rows = []
    for op in sorted(result.operations, key=lambda o: (o.passed, o.name)):
        if op.passed:
            rows.append(f"  passed  {op.name}")
        else:
            rows.append(f"  FAILED  {op.name}  [{op.check}] {op.detail}")
            if op.curl:
                rows.append(f"          reproduce: {op.curl}")
    passed = sum(op.passed for op in result.operations)
    verdict = "contract honoured" if result.ok else "contract broken"
    rows.append(f"{passed} passed, {len(result.operations) - passed} failed: {verdict}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tavus-contract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default=os.environ.get("TAVUS_API_KEY"), help="default: TAVUS_API_KEY")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated: " + ",".join(PHASES))
    parser.add_argument("--max-examples", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--spec", type=Path, help="OpenAPI file (default: TAVUS_SPEC, else the packaged spec)")
    parser.add_argument("--junit", type=Path, help="also write a JUnit XML report here")
    parser.add_argument("--allow-writes", action="store_true", help="against tavusapi.com: also run billable writes")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("an API key is needed: --api-key or TAVUS_API_KEY")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    spec = args.spec or default_spec_path()
    try:
        load_document(spec)
    except SpecError as exc:
        print(f"tavus-contract: {exc}", file=sys.stderr)
        return 2
    result = run(
        args.base_url,
        args.api_key,
        spec=spec,
        phases=phases,
        max_examples=args.max_examples,
        seed=args.seed,
        junit=args.junit,
        allow_writes=args.allow_writes,
        out=sys.stdout,
    )
    print("\n" + summary(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
