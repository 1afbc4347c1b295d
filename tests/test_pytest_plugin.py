"""The shipped pytest plugin, run the way a user runs it: a separate pytest on a user's test file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

USER_TESTS = """
import time

import httpx

def test_a_creates(tavus, tavus_mock):
    tavus.personas.create(persona_name="A", system_prompt="x")
    assert sorted(p.persona_name for p in tavus.personas.list_all(persona_type="user")) == ["A", "Seeded"]
    body = {"persona_id": "pdced222244b", "callback_url": "http://127.0.0.1:9/hook"}
    httpx.post(tavus_mock.url + "/v2/conversations", json=body, headers={"x-api-key": tavus_mock.api_key})
    for _ in range(200):  # the replica_joined event goes out in the background
        if tavus_mock.app.callbacks_sent:
            break
        time.sleep(0.01)
    assert tavus_mock.app.callbacks_sent

def test_b_starts_fresh(tavus, tavus_mock):
    assert [p.persona_name for p in tavus.personas.list_all(persona_type="user")] == ["Seeded"]
    assert tavus_mock.api_key == "my-made-up-key"
    assert not tavus_mock.app.callbacks_sent  # test_a's callbacks are not this test's

def test_c_tenants_and_seed(tavus_mock):
    other = httpx.get(tavus_mock.url + "/v2/personas", headers={"x-api-key": tavus_mock.other_api_key})
    names = {p["persona_name"] for p in other.json()["data"]}
    assert "Seeded" not in names
    assert tavus_mock.seed({"tenants": {tavus_mock.other_api_key: {"personas": [{"persona_name": "Theirs"}]}}}) == 1
    other = httpx.get(tavus_mock.url + "/v2/personas", headers={"x-api-key": tavus_mock.other_api_key})
    assert "Theirs" in {p["persona_name"] for p in other.json()["data"]}

def test_e_a_callback_driven_test(tavus, tavus_mock):
    import json, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    received = []

    class Hook(BaseHTTPRequestHandler):  # stands for the app's webhook handler
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/tavus"
    conversation = tavus.conversations.create(persona_id="pb87e71797da", callback_url=url)
    tavus_mock.emit(conversation.conversation_id, "application.transcription_ready",
                    transcript=[{"role": "user", "content": "Hi"}])
    for _ in range(300):
        if any(b["event_type"] == "application.transcription_ready" for b in received):
            break
        time.sleep(0.01)
    hook.shutdown()
    ready = [b for b in received if b["event_type"] == "application.transcription_ready"]
    assert ready and ready[0]["properties"]["transcript"][0]["content"] == "Hi"
    tavus_mock.assert_called("createConversation", times=1, status=200, body={"callback_url": url})
    assert [e["operation_id"] for e in tavus_mock.requests()] == ["createConversation"]
    replica = tavus.replicas.create(train_video_url="https://example.com/v.mp4", replica_name="R")
    assert tavus_mock.advance(10) == 0  # instant trainings are done already; no callback URL given
    tavus_mock.fail_next("listConversations", 503, times=3)
    try:
        tavus.conversations.list(max_retries=0)
        raise AssertionError("the fault did not happen")
    except Exception as exc:
        assert type(exc).__name__ == "InternalServerError"

def test_d_instant_lifecycles(tavus):
    replica = tavus.replicas.create(train_video_url="https://example.com/v.mp4", replica_name="R")
    assert tavus.replicas.get(replica.replica_id).status == "completed"
"""


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_user.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)


def test_the_plugin_fixtures_reset_seed_and_take_options(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tenants": {"my-made-up-key": {"personas": [{"persona_name": "Seeded"}]}}}))
    (tmp_path / "pytest.ini").write_text("[pytest]\ntavus_mock_api_key = my-made-up-key\n")
    done = run_pytest(tmp_path, "--tavus-mock-seed", str(seed))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout  # test_b runs after test_a and no longer sees its persona


def test_a_bad_speed_is_a_usage_error(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, "-k", "test_d", "--tavus-mock-speed", "fast")
    assert done.returncode != 0
    assert "tavus_mock_speed must be 'instant' or a positive number" in done.stdout + done.stderr
