"""Console-script entry points that fail politely when an optional extra is not installed.

`pip install tavus-client` installs the `tavus-mock` and `tavus-contract` commands but not their
dependencies; without this, running them ends in a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

NEEDS = {
    "mock": ("starlette", "uvicorn", "httptools", "jsonschema_rs", "jsonpatch", "yaml", "orjson", "sortedcontainers"),
    "contract": ("starlette", "uvicorn", "jsonschema_rs", "jsonpatch", "yaml", "orjson", "schemathesis"),
}


def missing(extra: str) -> list[str]:
    return [name for name in NEEDS[extra] if find_spec(name) is None]


def _refuse(command: str, extra: str) -> int | None:
    absent = missing(extra)
    if not absent:
        return None
    print(
        f"{command}: needs the [{extra}] extra (missing: {', '.join(absent)}): pip install 'tavus-client[{extra}]'",
        file=sys.stderr,
    )
    return 2


def mock() -> int:
    refused = _refuse("tavus-mock", "mock")
    if refused is not None:
        return refused
    from .cli import main

    return main()


def contract() -> int:
    refused = _refuse("tavus-contract", "contract")
    if refused is not None:
        return refused
    from .contract import main

    return main()
