"""One tenant's heavy request does not stall another tenant (measured over a real socket, bounds loose)."""

from __future__ import annotations

import resource
import threading
import time

import httpx

from tavus_mock import MockServer, Spec
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.mock.conftest import make_app


def test_the_doubling_patch_is_refused_fast_and_does_not_stall_others(spec: Spec) -> None:
    with MockServer(make_app(spec, access_log=False)) as server:
        mine = httpx.Client(base_url=server.url, headers={"x-api-key": TEST_KEY})
        theirs = httpx.Client(base_url=server.url, headers={"x-api-key": OTHER_KEY})
        pid = mine.post("/v2/personas", json={"system_prompt": "y", "layers": {"llm": {"model": "m"}}}).json()[
            "persona_id"
        ]
        theirs.get("/v2/personas/pdced222244b")  # warm both connections
        attack = [{"op": "copy", "from": "/layers", "path": f"/layers/a{i}"} for i in range(19)]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        waits: list[float] = []
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                started = time.perf_counter()
                assert theirs.get("/v2/personas/pdced222244b").status_code == 200
                waits.append(time.perf_counter() - started)

        thread = threading.Thread(target=reader)
        thread.start()
        durations = []
        for _ in range(5):
            started = time.perf_counter()
            assert mine.patch(f"/v2/personas/{pid}", json=attack).status_code == 413
            durations.append(time.perf_counter() - started)
        done.set()
        thread.join()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Bounds are generous (a loaded 2-core CI machine); the measured figures are in the issue notes.
    assert sorted(durations)[2] < 0.1, durations
    assert max(waits) < 0.25 and sorted(waits)[len(waits) // 2] < 0.05, (max(waits), len(waits))
    assert (rss_after - rss_before) < 300 * 1024, "KiB of peak memory added by the attack"
