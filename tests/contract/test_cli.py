"""`tavus-contract` as users run it: against a separately started `tavus-mock`, and its safety rules."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tavus_mock.contract import command, is_real_tavus
from tavus_mock.spec import Spec

BIN = Path(sys.executable).parent
KEY = "cli-contract-key"


@pytest.fixture
def mock_process() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--port", str(port), "--api-key", KEY, "--quiet", "--replica-seconds", "0", "--video-seconds", "0"]
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
def test_tavus_contract_against_a_separate_tavus_mock(mock_process: str, tmp_path: Path, spec: Spec) -> None:
    junit = tmp_path / "report.xml"
    cmd = [str(BIN / "tavus-contract"), "--base-url", mock_process, "--api-key", KEY]
    cmd += ["--phases", "examples,coverage,stateful", "--max-examples", "5", "--seed", "3", "--junit", str(junit)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"{len(spec.operations) + 1} passed, 0 failed: contract honoured" in done.stdout
    assert junit.exists() and "testcase" in junit.read_text()
    assert KEY not in done.stdout and KEY not in done.stderr

    wrong = subprocess.run(
        [str(BIN / "tavus-contract"), "--base-url", mock_process, "--api-key", "wrong"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 1 and "FAILED  smoke" in wrong.stdout and "401" in wrong.stdout


def test_the_real_api_is_recognised() -> None:
    assert is_real_tavus("https://tavusapi.com") and is_real_tavus("https://eu.tavusapi.com/")
    assert not is_real_tavus("http://127.0.0.1:8080") and not is_real_tavus("https://tavusapi.com.evil.test")


def test_writes_against_the_real_api_need_an_explicit_flag(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    cmd, env = command("https://tavusapi.com", "k", report)
    assert cmd[cmd.index("--include-method") + 1] == "GET"
    assert "stateful" not in cmd[cmd.index("--phases") + 1]
    assert "TAVUS_CONTRACT_TEST_MODE" not in env
    cmd, env = command("https://tavusapi.com", "k", report, allow_writes=True)
    assert "--include-method" not in cmd and env["TAVUS_CONTRACT_TEST_MODE"] == "1"
    local, local_env = command("http://127.0.0.1:1", "k", report)
    assert "--include-method" not in local and "TAVUS_CONTRACT_TEST_MODE" not in local_env
    assert "k" not in local  # the key is passed in the environment, not on the command line
    assert local_env["TAVUS_API_KEY"] == "k" and os.environ.get("TAVUS_API_KEY") != "k"


def test_test_mode_hook_marks_created_conversations(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from tavus_mock.contract_hooks import before_call

    monkeypatch.setenv("TAVUS_CONTRACT_TEST_MODE", "1")
    case = SimpleNamespace(operation=SimpleNamespace(path="/v2/conversations"), method="POST", body={"replica_id": "r"})
    before_call(None, case)
    assert case.body == {"replica_id": "r", "test_mode": True}
    other = SimpleNamespace(operation=SimpleNamespace(path="/v2/videos"), method="POST", body={"script": "x"})
    before_call(None, other)
    assert other.body == {"script": "x"}
