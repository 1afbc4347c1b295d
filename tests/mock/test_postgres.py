"""Two tavus-mock instances (separate processes, as behind a load balancer) on one PostgreSQL server:
one state. What one writes the other reads, patches and deletes; kill -9 of either during a stream
of writes to both loses nothing acknowledged; an ETag race across the two has one winner per ETag; a
job's callback arrives once; the schema is versioned (a newer one is refused, with a message)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.mock.test_features import Receiver
from tests.mock.test_persistence import BIN, HEADERS, _free_port, serve


@pytest.fixture
def pg(postgres_cluster: object) -> Callable[[], str]:
    return postgres_cluster.new_database  # type: ignore[attr-defined,no-any-return]


def test_what_one_instance_writes_the_other_reads_patches_and_deletes(pg: Callable[[], str]) -> None:
    db = pg()
    with (
        serve(db) as one,
        serve(db) as two,
        httpx.Client(base_url=one.url, headers=HEADERS) as a,
        httpx.Client(base_url=two.url, headers=HEADERS) as b,
    ):
        persona = a.post("/v2/personas", json={"persona_name": "Shared", "system_prompt": "x"}).json()["persona_id"]
        assert b.get(f"/v2/personas/{persona}").json()["persona_name"] == "Shared"
        patched = b.patch(f"/v2/personas/{persona}", json=[{"op": "replace", "path": "/persona_name", "value": "B"}])
        assert patched.status_code == 200
        assert a.get(f"/v2/personas/{persona}").json()["persona_name"] == "B"
        assert b.delete(f"/v2/personas/{persona}").status_code == 204
        assert a.get(f"/v2/personas/{persona}").status_code == 404
        made = [a.post("/v2/personas", json={"persona_name": f"a{i}"}).json()["persona_id"] for i in range(3)]
        made += [b.post("/v2/personas", json={"persona_name": f"b{i}"}).json()["persona_id"] for i in range(3)]
        for api in (a, b):  # one creation order, whichever instance lists
            listed = api.get("/v2/personas", params={"persona_type": "user"}).json()["data"]
            assert [p["persona_id"] for p in listed] == made


def test_kill_9_of_either_instance_loses_nothing_acknowledged(pg: Callable[[], str]) -> None:
    db = pg()
    acknowledged: list[str] = []
    lock = threading.Lock()
    with serve(db) as one, serve(db) as two:

        def writer(url: str, n: int) -> None:
            with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as api:
                for i in range(150):
                    try:
                        answer = api.post("/v2/personas", json={"persona_name": f"w{n}-{i}"})
                    except httpx.HTTPError:
                        return  # this instance is gone: this create was not acknowledged
                    if answer.status_code == 200:
                        with lock:
                            acknowledged.append(answer.json()["persona_id"])

        threads = [threading.Thread(target=writer, args=(s.url, n)) for n, s in enumerate((one, two, one, two))]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 150:
            time.sleep(0.002)
        one.kill()  # mid-stream: some creates through it are in flight
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=two.url, headers=HEADERS) as api:
            stored = api.get("/v2/personas", params={"persona_type": "user", "limit": 1000}).json()
    through_two = 2 * 150
    assert through_two <= len(acknowledged) < 4 * 150  # the survivor's writers all finished
    ids = [p["persona_id"] for p in stored["data"]]
    assert len(ids) == len(set(ids))
    assert set(acknowledged) <= set(ids), f"lost {len(set(acknowledged) - set(ids))} acknowledged creates"


def test_an_etag_race_across_two_instances_has_one_winner(pg: Callable[[], str]) -> None:
    db = pg()
    with serve(db) as one, serve(db) as two:
        with httpx.Client(base_url=one.url, headers=HEADERS) as a:
            pal = a.post("/v2/personas", json={"persona_name": "P", "system_prompt": "x"}).json()["persona_id"]
            deployment = a.post("/v2/deployments", json={"pal_id": pal, "channel": "embed"}).json()["deployment_id"]
        for round_ in range(10):
            tag = httpx.get(f"{one.url}/v2/deployments/{deployment}", headers=HEADERS).headers["etag"]
            statuses: list[int] = []
            barrier = threading.Barrier(4)
            args = [(s.url, f"pw-{round_}-{n}", tag, barrier, statuses) for n, s in enumerate((one, two, one, two))]
            threads = [threading.Thread(target=_race, args=(*a, deployment)) for a in args]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(statuses) == [200, 412, 412, 412], (round_, statuses)


def _race(url: str, password: str, tag: str, barrier: threading.Barrier, out: list[int], deployment: str) -> None:
    """One racer: a conditional change of the deployment, sent when every racer is ready."""
    patch = [{"op": "add", "path": "/password", "value": password}]
    with httpx.Client(base_url=url, headers={**HEADERS, "If-Match": tag}, timeout=10) as api:
        barrier.wait()
        out.append(api.patch(f"/v2/deployments/{deployment}", json=patch).status_code)


def test_a_jobs_callback_arrives_once_from_two_instances(pg: Callable[[], str]) -> None:
    db = pg()
    receiver = Receiver()
    try:
        with serve(db, "--replica-seconds", "1") as one, serve(db, "--replica-seconds", "1") as two:
            body = {"train_video_url": "https://example.com/v.mp4", "callback_url": receiver.url}
            made = [
                httpx.post(f"{server.url}/v2/replicas", json=body, headers=HEADERS).json()["replica_id"]
                for server in (one, two, one)
            ]
            # each instance reads the others' jobs too, so both owe each callback once it is due
            for server in (one, two):
                for replica in made:
                    assert httpx.get(f"{server.url}/v2/replicas/{replica}", headers=HEADERS).status_code == 200
            sent = receiver.wait_for(3, timeout=15)
            time.sleep(1.0)  # a second sender would have sent by now
            for server in (one, two):  # both instances see the jobs finished
                for replica in made:
                    got = httpx.get(f"{server.url}/v2/replicas/{replica}", headers=HEADERS).json()["status"]
                    assert got == "completed"
        assert sorted(b["replica_id"] for b in sent) == sorted(made)
        assert len(receiver.bodies) == 3
    finally:
        receiver.server.shutdown()


def test_a_newer_schema_or_an_unreachable_server_is_one_line(pg: Callable[[], str]) -> None:
    import psycopg

    db = pg()
    with serve(db):
        pass
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE tavus_mock.meta SET schema_version = 99")
    closed = f"postgresql://tavus@127.0.0.1:{_free_port()}/nothing"
    for target, words in ((db, "newer tavus-mock"), (closed, "cannot be reached")):
        done = subprocess.run(
            [str(BIN / "tavus-mock"), "--db", target, "--port", str(_free_port())],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr


def test_keys_are_not_stored_and_a_password_is_not_shown(pg: Callable[[], str]) -> None:
    from tavus_mock.pg import shown

    assert shown("postgresql://me:s3cret@db.example:5432/x") == "postgresql://me:***@db.example:5432/x"
    db = pg()
    with serve(db) as server:
        httpx.post(f"{server.url}/v2/personas", json={"persona_name": "K"}, headers=HEADERS)
    from tests.mock.test_persistence import assert_no_key_stored

    assert_no_key_stored(db, TEST_KEY)
