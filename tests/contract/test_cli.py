"""`tavus-contract` as users run it: against a separately started `tavus-mock`, and its safety rules."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tavus_contract.cli import command, is_real_tavus
from tavus_contract.settings import SETTINGS_VARIABLE, Settings, use
from tavus_mock.spec import Spec

BIN = Path(sys.executable).parent
KEY = "cli-contract-key"


@pytest.fixture(params=["memory"])
def mock_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--port", str(port), "--api-key", KEY, "--quiet", "--replica-seconds", "0", "--video-seconds", "0"]
    if request.param == "sqlite":
        args += ["--db", str(tmp_path / "state.db")]
    proc = subprocess.Popen([str(BIN / "tavus-mock"), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "tavus-mock did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.contract
@pytest.mark.parametrize("mock_process", ["memory", "sqlite"], indirect=True)  # the same verdict with --db
def test_tavus_contract_against_a_separate_tavus_mock(mock_process: str, tmp_path: Path, spec: Spec) -> None:
    junit = tmp_path / "report.xml"
    cmd = [str(BIN / "tavus-contract"), "--base-url", mock_process, "--api-key", KEY]
    cmd += ["--phases", "examples,coverage,stateful", "--max-examples", "5", "--seed", "3", "--junit", str(junit)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"\n{len(spec.operations) + 1} passed: contract honoured" in done.stdout
    assert junit.exists() and "testcase" in junit.read_text()
    assert KEY not in done.stdout and KEY not in done.stderr

    lines = done.stdout.strip().splitlines()
    assert len(lines) <= 60, f"{len(lines)} lines for a green run"  # passed operations: a line per resource
    counted = [int(m.group(1)) for m in re.finditer(r"passed  /v2/\S+: (\d+) operations?", done.stdout)]
    assert sum(counted) == len(spec.operations), counted  # every operation is in one of them

    wrong = contract(mock_process, "--api-key", "wrong")
    assert wrong.returncode == 2 and "refused the API key" in wrong.stderr and "401" in wrong.stderr
    assert wrong.stderr.strip().count("\n") == 0


def contract(base_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(BIN / "tavus-contract"), "--base-url", base_url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env=env)


@pytest.mark.contract
def test_could_not_run_is_exit_2_with_one_line(tmp_path: Path, mock_process: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    unreachable = contract(closed, "--api-key", KEY)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "personas").write_text("<html><body>" + "not an API " * 500 + "</body></html>")
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert files.stdout is not None
        port = files.stdout.readline().split("port ")[1].split()[0]
        html = contract(f"http://127.0.0.1:{port}", "--api-key", KEY)
    finally:
        files.terminate()
        files.wait(timeout=10)
    assert html.returncode == 2 and "does not look like the Tavus API" in html.stderr and "<html" not in html.stderr
    missing = contract(mock_process, "--api-key", KEY, "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "no schemathesis configuration" in missing.stderr
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("openapi: [\n")
    spec_error = contract(mock_process, "--api-key", KEY, "--spec", str(bad_spec))
    assert spec_error.returncode == 2 and "bad.yaml:" in spec_error.stderr
    usage = contract(mock_process, "--api-key", KEY, "--phases", "nonsense")
    assert usage.returncode == 2 and "unknown phases" in usage.stderr
    for result in (unreachable, html, missing, spec_error):
        assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.mark.contract
def test_operations_can_be_selected(mock_process: str) -> None:
    done = contract(mock_process, "--api-key", KEY, "--phases", "examples", "--include-tag", "voices", "--workers", "2")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "passed  GET /v2/voices" in done.stdout and "/v2/personas" not in done.stdout.split("phases")[1]
    every = contract(mock_process, "--api-key", KEY, "--phases", "examples", "--max-examples", "1", "--every-operation")
    assert every.returncode == 0, every.stdout[-2000:]
    assert "passed  PATCH /v2/personas/{persona_id}" in every.stdout  # each operation on its own line
    assert sum(line.startswith("  passed  ") for line in every.stdout.splitlines()) > 80
    skipped = contract(
        mock_process,
        "--api-key",
        KEY,
        "--phases",
        "examples",
        "--include-tag",
        "personas",
        "--exclude-method",
        "DELETE",
        "--rate-limit",
        "1000/s",
    )
    assert (
        skipped.returncode == 0 and "DELETE /v2/personas" not in skipped.stdout and "GET /v2/personas" in skipped.stdout
    )


def test_reproductions_run_as_pasted() -> None:
    from tavus_contract.cli import runnable

    curl = "curl -X GET -H 'x-api-key: [Filtered]' 'http://127.0.0.1:1/v2/personas?limit=0'"
    assert runnable(curl) == "curl -X GET -H \"x-api-key: $TAVUS_API_KEY\" 'http://127.0.0.1:1/v2/personas?limit=0'"
    assert runnable(curl, with_key=False) == "curl -X GET 'http://127.0.0.1:1/v2/personas?limit=0'"


def test_the_contract_package_does_not_import_the_server() -> None:
    code = (
        "import sys, tavus_contract.cli, tavus_contract.hooks;"
        " print(sorted(m for m in sys.modules if m.startswith('tavus_mock')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_the_real_api_is_recognised() -> None:
    assert is_real_tavus("https://tavusapi.com") and is_real_tavus("https://eu.tavusapi.com/")
    assert not is_real_tavus("http://127.0.0.1:8080") and not is_real_tavus("https://tavusapi.com.evil.test")


def test_writes_against_the_real_api_need_an_explicit_flag(tmp_path: Path) -> None:
    cmd, env = command("https://tavusapi.com", "k", tmp_path)
    settings = Settings.from_environment(env)
    assert cmd[cmd.index("--include-method") + 1] == "GET"
    assert "stateful" not in cmd[cmd.index("--phases") + 1]
    assert settings.read_only and not settings.test_mode  # and the checks that probe by changing something stay off
    cmd, env = command("https://tavusapi.com", "k", tmp_path, allow_writes=True)
    settings = Settings.from_environment(env)
    assert "--include-method" not in cmd and settings.test_mode and not settings.read_only
    local, local_env = command("http://127.0.0.1:1", "k", tmp_path, second_key="k2")
    settings = Settings.from_environment(local_env)
    assert "--include-method" not in local and not settings.test_mode and not settings.read_only
    assert "k" not in local and "k2" not in local  # the keys travel in the environment, not on the command line
    assert settings.key == "k" and settings.second_key == "k2" and os.environ.get("TAVUS_API_KEY") != "k"
    assert "k2" not in local_env[SETTINGS_VARIABLE]


def test_test_mode_hook_marks_created_conversations() -> None:
    from types import SimpleNamespace

    from tavus_contract.hooks import before_call

    use(Settings(test_mode=True))
    try:
        case = SimpleNamespace(
            operation=SimpleNamespace(path="/v2/conversations"), method="POST", body={"replica_id": "r"}
        )
        before_call(None, case)
        assert case.body == {"replica_id": "r", "test_mode": True}
        other = SimpleNamespace(operation=SimpleNamespace(path="/v2/videos"), method="POST", body={"script": "x"})
        before_call(None, other)
        assert other.body == {"script": "x"}
        use(Settings(test_mode=False))
        before_call(
            None, case := SimpleNamespace(operation=SimpleNamespace(path="/v2/conversations"), method="POST", body={})
        )
        assert case.body == {}
    finally:
        use(None)


def test_probing_checks_change_nothing_in_read_only_runs() -> None:
    """In a read-only run against the real API, the checks that probe by writing send nothing at all."""
    from types import SimpleNamespace
    from typing import Any

    from tavus_contract.checks import Probe, writes

    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("a read-only run sent a request")

    response: Any = SimpleNamespace(status_code=200, json=lambda: {"persona_name": "Coach"}, request=no_request)
    case: Any = SimpleNamespace(method="GET", operation=no_request)
    for check in (writes.patch_round_trip, writes.patch_is_atomic):
        assert check(Probe(None, response, case, Settings(read_only=True))) is None
