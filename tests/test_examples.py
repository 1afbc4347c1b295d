"""The README's main command (`make demo`) keeps working: it runs the quickstart end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_demo_runs_the_whole_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("demo", EXAMPLES / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.main()
    out = capsys.readouterr().out
    steps = ("created at", "now ended", "ready 100/100", "list_all walked every page", "answers 304", "NotFoundError")
    for expected in steps:
        assert expected in out, expected
    assert "demo finished" in out
