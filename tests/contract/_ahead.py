"""Contract runs of a parametrized test, worked out two at a time ahead of the tests that judge them.

Each variant's run is a schemathesis process against a server of its own (a free port), so two can go
side by side on two cores. The first test of the set submits the runs of every selected parameter (as
pytest will run them, after `-k` and the like) to a pool of two threads; each test then waits for its
own run and judges it, so a failure is still reported by the test of that variant.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import pytest

T = TypeVar("T")


class Ahead(Generic[T]):
    """Runs of `work(param)` for the selected parameters `argname` of one test function."""

    def __init__(self, argname: str, workers: int = 2) -> None:
        self.argname = argname
        self.workers = workers
        self._futures: dict[Hashable, Future[T]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def result(self, request: pytest.FixtureRequest, param: Hashable, work: Callable[[Hashable], T]) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="contract-run")
            node = request.node
            module = node.nodeid.split("::")[0]
            for item in request.session.items:  # the selected tests, in the order they run
                params = getattr(getattr(item, "callspec", None), "params", {})
                same = getattr(item, "originalname", None) == getattr(node, "originalname", None)
                if same and item.nodeid.split("::")[0] == module and self.argname in params:
                    key = params[self.argname]
                    if key not in self._futures:
                        self._futures[key] = self._pool.submit(work, key)
        future = self._futures.get(param)
        if future is None:  # not among the selected items (run by hand): now
            future = self._futures[param] = self._pool.submit(work, param)
        return future.result()
