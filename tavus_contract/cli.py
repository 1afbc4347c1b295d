"""`tavus-contract`: run the contract suite of the Tavus v2 spec against any base URL.

It checks the server and the key with one plain request first (a refused key must never pass green),
then runs schemathesis with tavus_contract/schemathesis.toml and the checks of tavus_contract.checks,
printing one line per phase, and ends with one line per operation: failures and errors first, each
with the check that failed, its message and every request needed to see it again (curl lines that
run as pasted; the key comes from $TAVUS_API_KEY); then operations that were not tested and why; then
those that passed.

Exit status: 0 the contract is honoured by everything tested; 1 it is broken (a check failed, or a
request ended in an error); 2 the suite could not run (server unreachable, key refused, not a Tavus
API, bad arguments, a selection matching no operation, missing spec or configuration), or the run hit
`--max-time` before anything failed; said in one line.

schemathesis runs as its own command (the CLI, the config file, hooks for the custom checks); the
verdict is read from its NDJSON event stream (one JSON event per line, written as the run goes), so a
run stopped at `--max-time` still reports what it tested. Bounds: `--request-timeout` per request,
`--max-body-bytes` per answer, `--max-time` for the whole run.

Against the real API (tavusapi.com) only read operations run unless --allow-writes is given,
because conversations and videos are billed; with it, created conversations use `test_mode`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx

from tavus_contract.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT, REPRODUCE, Settings
from tavus_spec.specfile import SpecError, default_spec_path, load_document

PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEFAULT_MAX_TIME = 1800.0  # seconds for the whole run
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
RANK = {"failed": 0, "error": 1, "passed": 2, "not tested": 3}


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
    status: str  # passed, failed, error, not tested
    check: str = ""  # the check that failed (our check's name, or a built-in's code and title)
    detail: str = ""  # its message, or the error, or why the operation was not tested
    curl: str = ""  # the failing request
    checks: tuple[str, ...] = ()  # every failed check: its code, or the name of a custom check
    steps: tuple[str, ...] = ()  # the follow-up requests the check sent, in order

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class ContractResult:
    returncode: int
    operations: list[OperationResult] = field(default_factory=list)
    output: str = ""
    note: str = ""  # how the run ended when it did not complete (--max-time)
    cases: int = 0  # test cases sent

    @property
    def failed(self) -> list[OperationResult]:
        """Operations that failed a check or ended in an error."""
        return [op for op in self.operations if op.status in ("failed", "error")]

    @property
    def untested(self) -> list[OperationResult]:
        return [op for op in self.operations if op.status == "not tested"]

    @property
    def failing_checks(self) -> set[str]:
        """Every check that failed somewhere: ST codes, and custom checks by name."""
        return {check for op in self.failed for check in op.checks}

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failed


def _smoke(base_url: str, api_key: str, timeout: float, max_bytes: int) -> str | None:
    url = f"{base_url.rstrip('/')}/v2/personas"
    started = time.monotonic()
    try:
        with httpx.stream("GET", url, headers={"x-api-key": api_key}, timeout=timeout) as response:
            size = 0
            for piece in response.iter_bytes():
                size += len(piece)
                if size > max_bytes:
                    return f"GET /v2/personas answered more than {max_bytes} bytes"
                if time.monotonic() - started > 2 * timeout:
                    return f"GET /v2/personas did not finish answering within {2 * timeout:g} s"
    except httpx.HTTPError as exc:
        return f"cannot reach {base_url}: {type(exc).__name__}: {str(exc)[:120]}"
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    if response.status_code in (401, 403):
        return f"the server refused the API key: GET /v2/personas answered {response.status_code}"
    if response.status_code != 200 or kind != "application/json":
        return f"{base_url} does not look like the Tavus API: GET /v2/personas answered {response.status_code} ({kind})"
    return None


def smoke(
    base_url: str,
    api_key: str,
    *,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> str | None:
    """None when an authenticated list call answers 200 with JSON, else one line saying what is wrong.
    Bounded in all: a server that trickles its answer's head is given up on after three timeouts."""
    found: list[str | None] = []
    worker = threading.Thread(target=lambda: found.append(_smoke(base_url, api_key, timeout, max_bytes)), daemon=True)
    worker.start()
    worker.join(3 * timeout)
    if not found:
        return f"{base_url} did not answer GET /v2/personas within {3 * timeout:g} s"
    return found[0]


def _schemathesis() -> str:
    candidate = Path(sys.executable).parent / "schemathesis"
    return str(candidate) if candidate.exists() else "schemathesis"


def _hit(facts: dict[str, set[str]], pairs: Iterable[tuple[str, str]]) -> list[bool]:
    """Whether each (what, value) filter matches an operation's facts (methods in any case)."""
    return [value.upper() in facts[w] if w == "method" else value in facts[w] for w, value in pairs]


@dataclass(frozen=True)
class Selection:
    """The --include-/--exclude- filters, applied to the spec the way schemathesis applies them."""

    include: tuple[tuple[str, str], ...] = ()  # (what, value): what in operation-id, tag, method, path
    exclude: tuple[tuple[str, str], ...] = ()

    def args(self) -> list[str]:
        out = []
        for verb, pairs in (("include", self.include), ("exclude", self.exclude)):
            for what, value in pairs:
                out += [f"--{verb}-{what}", value]
        return out

    def labels(self, document: dict[str, Any], *, read_only: bool = False) -> list[str]:
        """`METHOD /path` of every operation of the spec the selection keeps."""
        kept = []
        for path, item in document.get("paths", {}).items():
            for method, raw in item.items():
                if method not in HTTP_METHODS or not isinstance(raw, dict):
                    continue
                facts = {
                    "operation-id": {str(raw.get("operationId"))},
                    "tag": set(raw.get("tags", [])),
                    "method": {method.upper()},
                    "path": {path},
                }
                chosen = all(
                    any(_hit(facts, [(w, v) for w, v in self.include if w == what]))
                    for what in {w for w, _ in self.include}
                )
                if chosen and not any(_hit(facts, self.exclude)) and (not read_only or method == "get"):
                    kept.append(f"{method.upper()} {path}")
        return kept


def command(
    base_url: str,
    api_key: str,
    report_dir: Path,
    *,
    phases: tuple[str, ...] = PHASES,
    max_examples: int | None = None,
    seed: int | None = None,
    allow_writes: bool = False,
    extra_args: tuple[str, ...] = (),
    spec: Path | None = None,
    config: Path | None = None,
    reports: tuple[str, ...] = (),
    junit: Path | None = None,
    refusals: str = "documented",
    second_key: str | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> tuple[list[str], dict[str, str]]:
    """The schemathesis command line and environment of one run (the keys travel in the environment)."""
    args = ["--phases", ",".join(phases)]
    real = is_real_tavus(base_url)
    settings = Settings(
        key=api_key,
        second_key=second_key,
        read_only=real and not allow_writes,
        test_mode=real and allow_writes,
        refusals=refusals,
        max_body_bytes=max_body_bytes,
        request_timeout=request_timeout,
    )
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tavus_contract.hooks", **settings.environment()}
    if not second_key:
        env.pop("TAVUS_CONTRACT_SECOND_KEY", None)
    if settings.read_only:  # conversations and videos are billed: read operations only, no stateful chains
        reads = ",".join(p for p in phases if p != "stateful") or "examples"
        args = ["--phases", reads, "--include-method", "GET"]
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if seed is not None:
        args += ["--seed", str(seed)]
    formats = [
        "ndjson",
        *(r for r in reports if r != "ndjson"),
        *(["junit"] if junit and "junit" not in reports else []),
    ]
    args += ["--report", ",".join(dict.fromkeys(formats)), "--report-dir", str(report_dir)]
    args += ["--report-ndjson-path", str(report_dir / "events.ndjson")]
    if junit is not None:
        args += ["--report-junit-path", str(junit)]
    args += ["--request-timeout", f"{request_timeout:g}"]
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


def _curl(request: dict[str, Any]) -> str:
    """A curl line for a request recorded in the event stream (the key from the environment)."""
    parts = ["curl", "-X", str(request.get("method", "GET"))]
    for name, values in (request.get("headers") or {}).items():
        value = values[0] if isinstance(values, list) and values else values
        if name.lower() == "x-api-key":
            parts.append(f'-H "{name}: $TAVUS_API_KEY"')
        elif name.lower() in ("content-type", "if-match", "if-none-match"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        text = base64.b64decode(body["$base64"]).decode("utf-8", "replace")
        if text:
            parts += ["-d", shlex.quote(text)]
    parts.append(shlex.quote(str(request.get("uri", ""))))
    return " ".join(parts)


@dataclass
class Events:
    """What the NDJSON event stream of one run says."""

    operations: dict[str, OperationResult] = field(default_factory=dict)
    selected: int | None = None
    finished: bool = False
    stop_reason: str = ""
    cases: int = 0
    errors: list[str] = field(default_factory=list)  # errors not tied to an operation


def _merge(events: Events, result: OperationResult) -> None:
    known = events.operations.get(result.name)
    if known is None or RANK[result.status] < RANK[known.status]:
        if known is not None and known.status == result.status == "failed":
            result.checks = tuple(dict.fromkeys(known.checks + result.checks))
        events.operations[result.name] = result
    elif known.status == result.status == "failed":
        known.checks = tuple(dict.fromkeys(known.checks + result.checks))


def _scenario(event: dict[str, Any]) -> OperationResult:
    recorder = event.get("recorder") or {}
    label = str(recorder.get("label", "?"))
    status = str(event.get("status", ""))
    if status == "skip":
        return OperationResult(label, "not tested", detail=str(event.get("skip_reason") or "skipped by schemathesis"))
    if status == "success":
        return OperationResult(label, "passed")
    if status in ("interrupted",):
        return OperationResult(label, "not tested", detail="the run was stopped while it was tested")
    found: list[tuple[str, str, str]] = []  # (check, message, case id)
    for case_id, nodes in (recorder.get("checks") or {}).items():
        for node in nodes:
            failure = (node.get("failure_info") or {}).get("failure") if node.get("status") == "failure" else None
            if not isinstance(failure, dict):
                continue
            code = str(failure.get("code", ""))
            name = str(node.get("name", "?"))
            check = name if code == "ST901" else f"{code} {failure.get('title', name)}"
            found.append((check, str(failure.get("message", "")), str(failure.get("case_id") or case_id)))
    if status == "failure" and found:
        check, message, case_id = found[0]
        text, _, steps = message.partition(REPRODUCE)
        request = ((recorder.get("interactions") or {}).get(case_id) or {}).get("request") or {}
        return OperationResult(
            label,
            "failed",
            check=check,
            detail=" ".join(text.split())[:400],
            curl=_curl(request) if request else "",
            checks=tuple(dict.fromkeys(c.split(" ", 1)[0] if c.startswith("ST") else c for c, _, _ in found)),
            steps=tuple(line for line in steps.splitlines() if line.strip()),
        )
    return OperationResult(label, "error", check="error", detail="the test ended in an error (see -v)")


def read_events(path: Path) -> Events:
    """Parse an NDJSON event stream, complete or cut short (a truncated last line is ignored)."""
    events = Events()
    if not path.exists():
        return events
    with path.open(encoding="utf-8", errors="replace") as stream:
        for line in stream:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or len(record) != 1:
                continue
            ((kind, event),) = record.items()
            if not isinstance(event, dict):
                continue
            if kind == "LoadingFinished":
                events.selected = ((event.get("statistic") or {}).get("operations") or {}).get("selected")
            elif kind == "ScenarioFinished":
                events.cases += len((event.get("recorder") or {}).get("cases") or {})
                _merge(events, _scenario(event))
            elif kind == "NonFatalError":
                value = event.get("value") or {}
                message = f"{value.get('type', 'Error')}: {value.get('message', '')}".strip()
                label = event.get("label")
                if isinstance(label, str) and label:
                    _merge(
                        events, OperationResult(label, "error", check="error", detail=" ".join(message.split())[:300])
                    )
                else:
                    events.errors.append(message)
            elif kind == "EngineFinished":
                events.finished = True
                events.stop_reason = str(event.get("stop_reason", ""))
    return events


PHASE_NAMES = {"Examples", "Coverage", "Fuzzing", "Stateful"}


def _is_phase_line(line: str) -> bool:
    """schemathesis' own one-line summary of a finished phase (only echoed to the user, never parsed)."""
    words = line.split()
    return len(words) >= 3 and words[1] in PHASE_NAMES and words[2].startswith("(in")


def run(
    base_url: str,
    api_key: str,
    *,
    phases: tuple[str, ...] = PHASES,
    max_examples: int | None = None,
    seed: int | None = None,
    junit: Path | None = None,
    allow_writes: bool = False,
    extra_args: tuple[str, ...] = (),
    out: TextIO | None = None,
    verbose: bool = False,
    spec: Path | None = None,
    config: Path | None = None,
    reports: tuple[str, ...] = (),
    report_dir: Path | None = None,
    refusals: str = "documented",
    second_key: str | None = None,
    selection: Selection = Selection(),
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_time: float = DEFAULT_MAX_TIME,
) -> ContractResult:
    """Run the suite. Progress goes to `out` (None: captured only): one line per phase, or with
    `verbose` schemathesis' whole stream."""
    started = time.monotonic()
    problem = smoke(base_url, api_key, timeout=request_timeout, max_bytes=max_body_bytes)
    if problem is not None:
        return ContractResult(2, [OperationResult("smoke: GET /v2/personas", "error", "smoke", problem)], problem)
    spec_path = spec or default_spec_path()
    expected = selection.labels(load_document(spec_path), read_only=is_real_tavus(base_url) and not allow_writes)
    if not expected:
        line = "no operation of the spec matches the selection (" + " ".join(selection.args()) + ")"
        return ContractResult(2, [OperationResult("selection", "error", "setup", line)], line)
    if is_real_tavus(base_url) and not allow_writes and out is not None:
        print("tavus-contract: real Tavus API: only read operations run (--allow-writes to change that)", file=out)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        cmd, env = command(
            base_url,
            api_key,
            report_dir or where,
            phases=phases,
            max_examples=max_examples,
            seed=seed,
            allow_writes=allow_writes,
            extra_args=(*selection.args(), *extra_args),
            spec=spec_path,
            config=config,
            reports=reports,
            junit=junit,
            refusals=refusals,
            second_key=second_key,
            request_timeout=request_timeout,
            max_body_bytes=max_body_bytes,
        )
        ndjson = Path(cmd[cmd.index("--report-ndjson-path") + 1])
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if out is not None and (verbose or _is_phase_line(line)):
                    out.write(line if verbose else f"  {line.strip()}\n")
                    out.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        remaining = max(1.0, max_time - (time.monotonic() - started))
        note = ""
        try:
            returncode = proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            note = f"stopped after --max-time {max_time:g} s"
            proc.send_signal(signal.SIGINT)  # schemathesis stops and writes its last events
            try:
                returncode = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
        reader.join(timeout=5)
        events = read_events(ndjson)
    output = "".join(lines)
    return _verdict(events, expected, returncode, note, output)


def _verdict(events: Events, expected: list[str], returncode: int, note: str, output: str) -> ContractResult:
    if events.selected == 0 or (not events.operations and not note):
        last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), f"exit {returncode}")
        detail = "no operation matches the selection" if events.selected == 0 else last[:300]
        return ContractResult(2, [OperationResult("schemathesis", "error", "setup", detail)], output)
    operations = dict(events.operations)
    why = "the run stopped before it was tested" if note else "schemathesis generated no test case for it"
    for label in expected:
        operations.setdefault(label, OperationResult(label, "not tested", detail=why))
    ordered = sorted(operations.values(), key=lambda o: (RANK[o.status], o.name))
    broken = any(op.status in ("failed", "error") for op in ordered)
    if note:
        code = 1 if broken else 2
    elif broken or events.errors:
        code = 1
    else:
        code = 0
    if events.errors and not broken:
        ordered.insert(0, OperationResult("run", "error", "error", "; ".join(events.errors)[:300]))
    return ContractResult(code, ordered, output, note, events.cases)


def runnable(curl: str, *, with_key: bool = True) -> str:
    """A curl line with the key header replaced by the environment variable (or, for an authentication
    failure, left out: that request is the one to reproduce)."""
    key = r"-H ('|\")[Xx]-[Aa]pi-[Kk]ey: [^'\"]*('|\") ?"
    if not with_key:
        return re.sub(key, "", curl).rstrip()
    return re.sub(key, '-H "x-api-key: $TAVUS_API_KEY" ', curl).rstrip()


GROUP_PASSED_OVER = 20  # more passed operations than this: one line per resource (--every-operation: each)


def _resource(name: str) -> str:
    """`GET /v2/pals/{pal_id}/tools` -> `/v2/pals` (the path up to its first parameter)."""
    path = name.split(" ", 1)[-1]
    return path.split("/{", 1)[0].rstrip("/") if path.startswith("/") else name


def summary(result: ContractResult, *, every_operation: bool = False) -> str:
    """Failures and errors first, each with its check, message and reproduction; then what was not
    tested and why; then the operations that passed (one line per resource when there are many); then
    the verdict. Nothing that was not tested is counted as passed."""
    if result.returncode == 2 and result.failed and result.failed[0].check in ("smoke", "setup"):
        return f"tavus-contract: could not run: {result.failed[0].detail}"
    rows = []
    for op in result.failed:
        if op.status == "failed":
            rows.append(f"  FAILED  {op.name}  [{op.check}] {op.detail}")
            if op.curl:
                rows.append(f"          reproduce: {runnable(op.curl, with_key='ST401' not in op.checks)}")
            for step in op.steps:
                rows.append(f"          then:      {step}")
        else:
            rows.append(f"  ERROR   {op.name}  {op.detail}")
    for op in result.untested:
        rows.append(f"  not tested  {op.name}: {op.detail}")
    passed_ops = [op for op in result.operations if op.passed]
    if not every_operation and len(passed_ops) > GROUP_PASSED_OVER:
        groups: dict[str, list[str]] = {}
        for op in passed_ops:
            groups.setdefault(_resource(op.name), []).append(op.name.split(" ", 1)[0])
        rows += [
            f"  passed  {where}: {len(methods)} operation{'s' if len(methods) > 1 else ''}"
            if where.startswith("/")
            else f"  passed  {where}"
            for where, methods in sorted(groups.items())
        ]
    else:
        rows += [f"  passed  {op.name}" for op in passed_ops]
    errors = sum(op.status == "error" for op in result.operations)
    counts = {
        "passed": len(passed_ops),
        "failed": sum(op.status == "failed" for op in result.operations),
        "error" if errors == 1 else "errors": errors,
        "not tested": len(result.untested),
    }
    told = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    if result.failed:
        verdict = "contract broken"
    elif result.returncode == 2:
        verdict = "no verdict"
    elif result.untested:
        verdict = "contract honoured by what was tested"
    else:
        verdict = "contract honoured"
    if result.note:
        rows.append(f"  {result.note}")
    rows.append(f"{told}: {verdict}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 (one statement per option)
    parser = argparse.ArgumentParser(prog="tavus-contract", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default=os.environ.get("TAVUS_API_KEY"), help="default: TAVUS_API_KEY")
    parser.add_argument(
        "--second-api-key",
        default=os.environ.get("TAVUS_SECOND_API_KEY"),
        help="another account's key: checks that it sees none of the run's resources (default: TAVUS_SECOND_API_KEY)",
    )
    parser.add_argument("--spec", type=Path, help="OpenAPI file (default: TAVUS_SPEC, else the packaged spec)")
    parser.add_argument("--config", type=Path, help="schemathesis.toml (default: TAVUS_CONTRACT_CONFIG, else packaged)")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated: " + ",".join(PHASES))
    parser.add_argument("--max-examples", type=int, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, help="seed, for a run that repeats")
    parser.add_argument("--rate-limit", help="e.g. 10/s or 100/m (a real, rate-limited server)")
    parser.add_argument("--workers", help="concurrent workers: a number or auto (default 1)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        help=f"seconds each request may take (default {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-time",
        type=float,
        default=DEFAULT_MAX_TIME,
        help=f"seconds the whole run may take; then it stops and reports what it tested (default {DEFAULT_MAX_TIME:g})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest answer read, after decompression (default {DEFAULT_MAX_BODY_BYTES})",
    )
    for what in ("operation-id", "tag", "method", "path"):
        for verb in ("include", "exclude"):
            parser.add_argument(
                f"--{verb}-{what}",
                action="append",
                default=[],
                metavar=what.upper(),
                help=f"{verb} operations by {what} (repeatable)",
            )
    parser.add_argument("--report", default="", help="also write schemathesis reports: comma-separated har,vcr,junit")
    parser.add_argument("--report-dir", type=Path, help="where --report writes (default: a temporary directory)")
    parser.add_argument("--junit", type=Path, help="also keep a JUnit XML report here")
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
    for name in ("request_timeout", "max_time"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be more than 0")
    if args.max_body_bytes < 1024:
        parser.error("--max-body-bytes must be at least 1024")
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
    pairs = {
        verb: tuple(
            (what.replace("_", "-"), value)
            for what in ("operation_id", "tag", "method", "path")
            for value in getattr(args, f"{verb}_{what}")
        )
        for verb in ("include", "exclude")
    }
    selection = Selection(include=pairs["include"], exclude=pairs["exclude"])
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
        second_key=args.second_api_key,
        selection=selection,
        request_timeout=args.request_timeout,
        max_body_bytes=args.max_body_bytes,
        max_time=args.max_time,
    )
    text = summary(result, every_operation=args.every_operation or args.verbose)
    if result.returncode == 2 and result.failed and result.failed[0].check in ("smoke", "setup"):
        print(text, file=sys.stderr)
        return 2
    print("\n" + text)
    return result.returncode if result.returncode else (0 if result.ok else 1)


if __name__ == "__main__":
    raise SystemExit(main())
