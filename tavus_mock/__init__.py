"""tavus_mock: a stateful reference server for the Tavus v2 API, driven by the OpenAPI spec.

The names below load on first use, so `import tavus_mock` (and its console scripts) work without the
`mock` extra installed far enough to say which extra is missing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MockConfig, TavusMock
    from .server import MockServer
    from .spec import Spec
    from .store import Delays

_WHERE = {"MockConfig": "app", "TavusMock": "app", "MockServer": "server", "Spec": "spec", "Delays": "store"}

__all__ = ["Delays", "MockConfig", "MockServer", "Spec", "TavusMock"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tavus_mock' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
