"""pytest plugin (entry point `pytest11`): test your own code against tavus-mock.

Fixtures, both function-scoped over one server per test session (started on first use):
- `tavus_mock`: the running server: `.url`, `.api_key`, `.other_api_key` (a second tenant),
  `.reset()`, `.seed({...})` (the seed-file format), `.app` (the ASGI app, e.g. `.app.callbacks_sent`).
  Every test starts from a fresh state (stock resources plus the configured seed).
- `tavus`: a `tavus_client.Tavus` bound to it.

Options (command line or `[tool.pytest.ini_options]`/pytest.ini):
- `--tavus-mock-api-key` / `tavus_mock_api_key`: the key the fixtures use (default: a made-up key);
- `--tavus-mock-speed` / `tavus_mock_speed`: `instant` (default: trainings, renders and crawls finish
  at once) or a factor dividing the real-time delays, e.g. `10`;
- `--tavus-mock-seed` / `tavus_mock_seed`: a seed file loaded before every test.

This module imports nothing beyond pytest until a fixture is used, and registers the fixtures only
when the `mock` extra is installed, so a plain `pip install tavus-client` never breaks a pytest run.
"""

from __future__ import annotations

import pytest

from tavus_spec.extras import missing

DEFAULT_KEY = "tavus-mock-test-key"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tavus-mock", "tavus-mock fixtures (tavus_mock, tavus)")
    options = (
        ("api_key", "API key the fixtures use", DEFAULT_KEY),
        ("speed", "'instant' or a factor dividing lifecycle delays", "instant"),
        ("seed", "seed file (JSON) loaded before every test", ""),
    )
    for name, help_text, default in options:
        flag = "--tavus-mock-" + name.replace("_", "-")
        group.addoption(flag, dest=f"tavus_mock_{name}", default=None, help=f"{help_text} (default: {default!r})")
        parser.addini(f"tavus_mock_{name}", help_text, default=default)


def pytest_configure(config: pytest.Config) -> None:
    if not missing("mock"):
        from . import _pytest_fixtures

        config.pluginmanager.register(_pytest_fixtures, "tavus_mock_fixtures")
