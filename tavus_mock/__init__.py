"""tavus_mock: a stateful reference server for the Tavus v2 API, driven by openapi/tavus.yaml."""

from .app import MockConfig, TavusMock
from .server import MockServer
from .spec import Spec
from .store import Delays

__all__ = ["Delays", "MockConfig", "MockServer", "Spec", "TavusMock"]
