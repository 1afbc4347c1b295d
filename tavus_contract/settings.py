"""What one contract run was asked to do, read once into a dataclass and handed to every check.

`tavus-contract` runs schemathesis as its own process; the settings travel to it in the environment
(`TAVUS_CONTRACT_SETTINGS`, JSON, with no key in it; the keys in `TAVUS_API_KEY` and
`TAVUS_CONTRACT_SECOND_KEY`, never on a command line). `current()` reads them the first time a check
needs them and keeps them; checks never read the environment themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

SETTINGS_VARIABLE = "TAVUS_CONTRACT_SETTINGS"
KEY_VARIABLE = "TAVUS_API_KEY"
SECOND_KEY_VARIABLE = "TAVUS_CONTRACT_SECOND_KEY"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024  # an answer larger than this is an error, not read further
DEFAULT_REQUEST_TIMEOUT = 5.0  # seconds, each request: connecting, the head and the body
REPRODUCE = "\n--- reproduce ---\n"  # separates a check's failure message from its follow-up requests


@dataclass(frozen=True, slots=True)
class Settings:
    key: str = ""  # the run's API key
    second_key: str | None = None  # another tenant's key: checks that it sees none of the run's resources
    read_only: bool = False  # the real API without --allow-writes: no check changes anything to probe it
    test_mode: bool = False  # the real API with --allow-writes: created conversations use test_mode
    refusals: str = "documented"  # which x-tavus-refused entries are judged: documented, all, none
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    def environment(self) -> dict[str, str]:
        """The variables that carry these settings to the schemathesis process."""
        plain = {k: v for k, v in asdict(self).items() if k not in ("key", "second_key")}
        env = {SETTINGS_VARIABLE: json.dumps(plain), KEY_VARIABLE: self.key}
        if self.second_key:
            env[SECOND_KEY_VARIABLE] = self.second_key
        return env

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        raw: Any = json.loads(environ.get(SETTINGS_VARIABLE) or "{}")
        known = {k: v for k, v in (raw if isinstance(raw, dict) else {}).items() if k in cls.__slots__}
        return cls(key=environ.get(KEY_VARIABLE, ""), second_key=environ.get(SECOND_KEY_VARIABLE) or None, **known)


_CURRENT: list[Settings] = []


def current() -> Settings:
    """The run's settings, read from the environment once."""
    if not _CURRENT:
        _CURRENT.append(Settings.from_environment(os.environ))
    return _CURRENT[0]


def use(settings: Settings | None) -> None:
    """Set the settings checks see (tests; None: read the environment again on next use)."""
    _CURRENT.clear()
    if settings is not None:
        _CURRENT.append(settings)


__all__ = ["Settings", "current", "replace", "use"]
