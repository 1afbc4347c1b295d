"""The README's pytest example against tavus-mock runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_pytest_example_passes(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = next(block for block in blocks if "def test_" in block and "tavus_mock" in block)
    path = tmp_path / "test_readme_example.py"
    path.write_text(example, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_the_readme_client_example_runs_against_tavus_mock(tmp_path: Path) -> None:
    from tavus_mock import Delays, MockConfig, MockServer

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = next(block for block in blocks if "client = Tavus()" in block)
    path = tmp_path / "readme_client.py"
    path.write_text(example, encoding="utf-8")
    config = MockConfig(api_keys=frozenset({"readme-key"}), delays=Delays.instant(), access_log=False)
    with MockServer(config=config) as server:
        env = {"TAVUS_API_KEY": "readme-key", "TAVUS_BASE_URL": server.url, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=False, env=env
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "200 application/json Sales coach" in done.stdout
    assert "404 Persona not found" in done.stdout
