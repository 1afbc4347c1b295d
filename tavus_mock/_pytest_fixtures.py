"""The fixtures of tavus_mock.pytest_plugin; registered only when the `mock` extra is installed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tavus_client import Tavus

from .app import MockConfig, TavusMock
from .server import MockServer, ServerHelpers
from .store import Delays

OTHER_KEY = "tavus-mock-other-key"  # the second tenant the fixtures offer (`.other_api_key`)


def option(config: pytest.Config, name: str) -> Any:
    """A setting of the plugin (tavus_mock.pytest_plugin declares them): the command line, else the ini."""
    value = config.getoption(f"tavus_mock_{name}")
    return value if value is not None else config.getini(f"tavus_mock_{name}")


class RunningMock(ServerHelpers):
    """A running tavus-mock, as the `tavus_mock` fixture gives it."""

    def __init__(self, server: MockServer, api_key: str, seed: dict[str, Any] | None) -> None:
        self._server = server
        self.app: TavusMock = server.app  # the ASGI app (e.g. `.app.callbacks_sent`)
        self.api_key = api_key
        self.other_api_key = OTHER_KEY
        self._seed = seed

    @property
    def url(self) -> str:
        return self._server.url

    def reset(self) -> None:
        """Back to the stock resources plus the configured seed file."""
        self.app.reset()
        if self._seed:
            self.app.store.load_seed_data(self._seed)

    def emit(self, conversation_id: str, event_type: str, **properties: Any) -> dict[str, Any]:
        """Make a conversation send an event now, as Tavus does during and after a call (to its
        callback_url and its event log), e.g. `emit(cid, "application.transcription_ready",
        transcript=[{"role": "user", "content": "Hi"}])`."""
        answer = self.app.control(
            "conversations", conversation_id, "events", {"event_type": event_type, "properties": properties}
        )
        if answer.status != 200:
            raise ValueError(str(answer.body))
        body: dict[str, Any] = answer.body
        return body

    def seed(self, data: dict[str, Any]) -> int:
        """Load resources in the seed-file format (`{"system": {...}, "tenants": {key: {...}}}`); answers the count."""
        return self.app.store.load_seed_data(data)


def _delays(speed: str) -> Delays:
    if speed.strip().lower() == "instant":
        return Delays.instant()
    try:
        factor = float(speed)
    except ValueError:
        raise pytest.UsageError(f"tavus_mock_speed must be 'instant' or a positive number, not {speed!r}") from None
    if factor <= 0:
        raise pytest.UsageError(f"tavus_mock_speed must be positive, not {speed!r}")
    return Delays().scaled(factor)


@pytest.fixture(scope="session")
def _tavus_mock_session(pytestconfig: pytest.Config) -> Iterator[RunningMock]:
    key = str(option(pytestconfig, "api_key"))
    seed_path = str(option(pytestconfig, "seed") or "")
    seed = json.loads(Path(seed_path).read_text(encoding="utf-8")) if seed_path else None
    config = MockConfig(
        api_keys=frozenset({key, OTHER_KEY}),
        delays=_delays(str(option(pytestconfig, "speed"))),
        access_log=False,
        check_answers=True,
    )
    with MockServer(config=config) as server:
        yield RunningMock(server, key, seed)


@pytest.fixture
def tavus_mock(_tavus_mock_session: RunningMock) -> RunningMock:
    """A running tavus-mock with a fresh state: `.url`, `.api_key`, `.reset()`, `.seed({...})`."""
    _tavus_mock_session.reset()
    return _tavus_mock_session


@pytest.fixture
def tavus(tavus_mock: RunningMock) -> Iterator[Tavus]:
    """A `tavus_client.Tavus` client bound to the `tavus_mock` server."""
    with Tavus(api_key=tavus_mock.api_key, base_url=tavus_mock.url) as client:
        yield client
