"""Console-script entry points that fail politely when an optional extra is not installed.

`pip install tavus-client` installs the `tavus-mock` and `tavus-contract` commands but not their
dependencies; without this, running them ends in a ModuleNotFoundError traceback. Standard library
only: it must import on a plain install.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

NEEDS = {
    "mock": ("starlette", "uvicorn", "httptools", "jsonschema_rs", "jsonpatch", "yaml", "orjson", "sortedcontainers"),
    "contract": ("schemathesis", "jsonpointer", "yaml", "httpx"),
}


def missing(extra: str) -> list[str]:
    return [name for name in NEEDS[extra] if find_spec(name) is None]


def refuse(command: str, extra: str) -> int | None:
    """None when the extra is installed; else one line on stderr and the exit status 2."""
    absent = missing(extra)
    if not absent:
        return None
    print(
        f"{command}: needs the [{extra}] extra (missing: {', '.join(absent)}): pip install 'tavus-client[{extra}]'",
        file=sys.stderr,
    )
    return 2


def mock() -> int:
    refused = refuse("tavus-mock", "mock")
    if refused is not None:
        return refused
    from tavus_mock.cli import main

    return main()


def contract() -> int:
    refused = refuse("tavus-contract", "contract")
    if refused is not None:
        return refused
    from tavus_contract.cli import main

    return main()
