"""`tavus-contract`: run the contract suite of the Tavus v2 spec against any base URL.

It checks the server and the key with one plain request first (a refused key must never pass green),
then runs schemathesis with tavus_contract/schemathesis.toml and the checks of tavus_contract.hooks,
printing one line per phase, and ends with one line per operation: failures first, each with the
check that failed and a curl command that runs as pasted (the key comes from $TAVUS_API_KEY).

Exit status: 0 the contract is honoured; 1 it is broken (some check failed); 2 the suite could not
run (server unreachable, key refused, not a Tavus API, bad arguments, missing spec or configuration),
said in one line.

schemathesis runs as its own command (its documented interface: the CLI, the config file, hooks for the
custom checks) and its JUnit report is read back with ElementTree. Its Python API would give the same
checks, but the CLI is what the config file, the reports (JUnit, HAR, VCR) and `--workers` are made for.

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

from tavus_spec.specfile import SpecError, default_spec_path, load_document

PHASES = ("examples", "coverage", "fuzzing", "stateful")


def default_config_path() -> Path:
    """`TAVUS_CONTRACT_CONFIG` when set, else the schemathesis configuration shipped in this package."""
    env = os.environ.get("TAVUS_CONTRACT_CONFIG")
    if env:
        return Path(env)
    return Path(str(resources.files("tavus_contract").joinpath("schemathesis.toml")))


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
    """None when an authenticated list call answers 200 with JSON, else one line saying what is wrong."""
    url = f"{base_url.rstrip('/')}/v2/personas"
    try:
        response = httpx.get(url, headers={"x-api-key": api_key}, timeout=15)
    except httpx.HTTPError as exc:
        return f"cannot reach {base_url}: {type(exc).__name__}: {str(exc)[:120]}"
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    if response.status_code in (401, 403):
        return f"the server refused the API key: GET /v2/personas answered {response.status_code}"
    if response.status_code != 200 or kind != "application/json":
        return f"{base_url} does not look like the Tavus API: GET /v2/personas answered {response.status_code} ({kind})"
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
    reports: tuple[str, ...] = (),
    report_dir: Path | None = None,
    refusals: str = "documented",
) -> tuple[list[str], dict[str, str]]:
    """The schemathesis command line and environment of one run (the key travels in the environment)."""
    args = ["--phases", ",".join(phases)]
    env = {**os.environ, "TAVUS_API_KEY": api_key, "SCHEMATHESIS_HOOKS": "tavus_contract.hooks"}
    env.pop("TAVUS_CONTRACT_TEST_MODE", None)
    env.pop("TAVUS_CONTRACT_READ_ONLY", None)
    env["TAVUS_CONTRACT_REFUSALS"] = refusals  # which x-tavus-refused rules documented_refusals judges
    if is_real_tavus(base_url):
        if allow_writes:
            env["TAVUS_CONTRACT_TEST_MODE"] = "1"
        else:  # conversations and videos are billed: read operations only, no stateful chains
            env["TAVUS_CONTRACT_READ_ONLY"] = "1"  # and no check changes anything to probe it
            reads = ",".join(p for p in phases if p != "stateful") or "examples"
            args = ["--phases", reads, "--include-method", "GET"]
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if seed is not None:
        args += ["--seed", str(seed)]
    for oid in include_operation_ids:
        args += ["--include-operation-id", oid]
    formats = ["junit", *(r for r in reports if r != "junit")]  # the JUnit report is what the summary reads
    args += ["--report", ",".join(formats), "--report-junit-path", str(report)]
    if report_dir is not None:
        args += ["--report-dir", str(report_dir)]
    cmd = [
        _schemathesis(),
        "--config-file",
        str(config or default_config_path()),
        "run",
        str(spec or default_spec_path()),
        "--url",
        base_url,
        *args,
        *extra_args,
    ]
    return cmd, env


PHASE_LINE = re.compile(r"^\s*\S+\s+(Examples|Coverage|Fuzzing|Stateful) \(in [\d.]+s\)")


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
    verbose: bool = False,
    spec: Path | None = None,
    config: Path | None = None,
    reports: tuple[str, ...] = (),
    report_dir: Path | None = None,
    refusals: str = "documented",
) -> ContractResult:
    """Run the suite. Progress goes to `out` (None: captured only): one line per phase, or with
    `verbose` schemathesis' whole stream."""
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
            reports=reports,
            report_dir=report_dir,
            refusals=refusals,
        )
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if out is not None and (verbose or PHASE_LINE.match(line)):
                out.write(line if verbose else f"  {line.strip()}\n")
                out.flush()
        returncode = proc.wait()
        operations = parse_junit(report) if report.exists() else []
    output = "".join(lines)
    if not operations:  # schemathesis stopped before testing anything: a usage or set-up problem
        last = next((line.strip() for line in reversed(lines) if line.strip()), f"exit status {returncode}")
        return ContractResult(2, [OperationResult("schemathesis", False, "setup", last[:300])], output)
    return ContractResult(returncode, operations, output)


def runnable(curl: str, *, with_key: bool = True) -> str:
    """schemathesis' curl line with the filtered key replaced by the environment variable, so it runs as pasted.

    For an authentication failure (ST401: the server accepted a request without a valid key) the key
    header is left out instead: that request is the one to reproduce.
    """
    key = r"-H '[Xx]-[Aa]pi-[Kk]ey: [^']*' ?"
    if not with_key:
        return re.sub(key, "", curl)
    return re.sub(key, '-H "x-api-key: $TAVUS_API_KEY" ', curl).rstrip()


GROUP_PASSED_OVER = 20  # more passed operations than this: one line per resource (--every-operation: each)


def _resource(name: str) -> str:
    """`GET /v2/pals/{pal_id}/tools` -> `/v2/pals` (the path up to its first parameter)."""
    path = name.split(" ", 1)[-1]
    return path.split("/{", 1)[0].rstrip("/") if path.startswith("/") else name


def summary(result: ContractResult, *, every_operation: bool = False) -> str:
    """Failures first, each with its check and a curl line; then the operations that passed, one line
    each, or one line per resource when there are many; then the verdict."""
    if result.returncode == 2 and result.failed and result.failed[0].check in ("smoke", "setup"):
        return f"tavus-contract: could not run: {result.failed[0].detail}"
    rows = []
    ordered = sorted(result.operations, key=lambda o: (o.passed, o.name))
    passed_ops = [op for op in ordered if op.passed]
    if not every_operation and len(passed_ops) > GROUP_PASSED_OVER:
        groups: dict[str, list[str]] = {}
        for op in passed_ops:
            groups.setdefault(_resource(op.name), []).append(op.name.split(" ", 1)[0])
        grouped = [
            f"  passed  {where}: {len(methods)} operation{'s' if len(methods) > 1 else ''}"
            if where.startswith("/")
            else f"  passed  {where}"
            for where, methods in sorted(groups.items())
        ]
        ordered = [op for op in ordered if not op.passed]
    else:
        grouped = []
    for op in ordered:
        if op.passed:
            rows.append(f"  passed  {op.name}")
        else:
            rows.append(f"  FAILED  {op.name}  [{op.check}] {op.detail}")
            if op.curl:
                rows.append(f"          reproduce: {runnable(op.curl, with_key='ST401' not in op.checks)}")
    rows += grouped
    warnings = _warnings(result.output)
    if warnings:
        rows.append(
            f"  schemathesis notes ({', '.join(warnings)}): see -v; the README explains the ones tavus-mock gives"
        )
    passed = sum(op.passed for op in result.operations)
    verdict = "contract honoured" if result.ok else "contract broken"
    rows.append(f"{passed} passed, {len(result.operations) - passed} failed: {verdict}")
    return "\n".join(rows)


def _warnings(output: str) -> list[str]:
    """The headline of each warning in schemathesis' WARNINGS section, shortened."""
    if "WARNINGS" not in output:
        return []
    block = output.split("WARNINGS", 1)[1].split("SUMMARY", 1)[0]
    out = []
    for line in block.splitlines():
        text = line.strip()
        if text and not line.startswith(" ") and not text.startswith(("-", "=", "💡")) and ":" in text:
            out.append(re.split(r" - | \(|:", text, maxsplit=1)[0].strip().lower())
    return list(dict.fromkeys(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tavus-contract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default=os.environ.get("TAVUS_API_KEY"), help="default: TAVUS_API_KEY")
    parser.add_argument("--spec", type=Path, help="OpenAPI file (default: TAVUS_SPEC, else the packaged spec)")
    parser.add_argument("--config", type=Path, help="schemathesis.toml (default: TAVUS_CONTRACT_CONFIG, else packaged)")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated: " + ",".join(PHASES))
    parser.add_argument("--max-examples", type=int, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, help="seed, for a run that repeats")
    parser.add_argument("--rate-limit", help="e.g. 10/s or 100/m (a real, rate-limited server)")
    parser.add_argument("--workers", help="concurrent workers: a number or auto (default 1)")
    for what in ("operation-id", "tag", "method", "path"):
        for verb in ("include", "exclude"):
            parser.add_argument(
                f"--{verb}-{what}",
                action="append",
                default=[],
                metavar=what.upper(),
                help=f"{verb} operations by {what} (repeatable)",
            )
    parser.add_argument("--report", default="", help="also write schemathesis reports: comma-separated har,vcr,ndjson")
    parser.add_argument("--report-dir", type=Path, help="where --report writes (default: schemathesis-report)")
    parser.add_argument("--junit", type=Path, help="also keep the JUnit XML report here")
    parser.add_argument("-v", "--verbose", action="store_true", help="stream schemathesis' whole output")
    parser.add_argument(
        "--every-operation", action="store_true", help="a line for each operation that passed (default: per resource)"
    )
    parser.add_argument("--allow-writes", action="store_true", help="against tavusapi.com: also run billable writes")
    parser.add_argument(
        "--refusals",
        choices=("documented", "all", "none"),
        default="documented",
        help="which of the spec's x-tavus-refused bodies must be answered 400: those the docs state "
        "(default), also those only the official CLI enforces (all), or none",
    )
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("an API key is needed: --api-key or TAVUS_API_KEY")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.max_examples is not None and args.max_examples < 1:
        parser.error("--max-examples must be 1 or more")
    spec = args.spec or default_spec_path()
    try:
        load_document(spec)
    except SpecError as exc:
        print(f"tavus-contract: could not run: {exc}", file=sys.stderr)
        return 2
    config = args.config or default_config_path()
    if not config.is_file():
        print(f"tavus-contract: could not run: no schemathesis configuration at {config}", file=sys.stderr)
        return 2
    extra: list[str] = []
    if args.rate_limit:
        extra += ["--rate-limit", args.rate_limit]
    if args.workers:
        extra += ["--workers", args.workers]
    for what in ("operation_id", "tag", "method", "path"):
        for verb in ("include", "exclude"):
            for value in getattr(args, f"{verb}_{what}"):
                extra += [f"--{verb}-{what.replace('_', '-')}", value]
    reports = tuple(r.strip() for r in args.report.split(",") if r.strip())
    print(f"tavus-contract: {args.base_url} against {spec.name}, phases {','.join(phases)}", flush=True)
    result = run(
        args.base_url,
        args.api_key,
        spec=spec,
        config=config,
        phases=phases,
        max_examples=args.max_examples,
        seed=args.seed,
        junit=args.junit,
        allow_writes=args.allow_writes,
        extra_args=tuple(extra),
        out=sys.stdout,
        verbose=args.verbose,
        reports=reports,
        report_dir=args.report_dir,
        refusals=args.refusals,
    )
    text = summary(result, every_operation=args.every_operation or args.verbose)
    if result.returncode == 2 and result.failed and result.failed[0].check in ("smoke", "setup"):
        print(text, file=sys.stderr)
        return 2
    print("\n" + text)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
