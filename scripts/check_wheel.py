"""`make check-wheel`: the built wheel works for a user who never saw this checkout.

1. build the wheel into a scratch directory and check it carries the spec, the contract settings and LICENSE;
2. plain install (no extras) in a fresh venv: the client imports and finds its spec, and `tavus-mock`
   and `tavus-contract` answer one line naming the extra to install, exit 2;
3. `[mock,contract]` plus pytest in another fresh venv, run from an empty directory outside the
   checkout: `tavus-mock` serves, `tavus-contract` passes against it, and a user's test file using the
   `tavus_mock`/`tavus` fixtures passes.
Versions come from constraints.txt, as everywhere else. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "wheel-check-key"
PLAIN_CHECK = (
    "from importlib.resources import files; from tavus_client import Tavus; "
    "assert files('tavus_client').joinpath('openapi.yaml').is_file()"
)
USER_TEST = """
def test_a_user_flow(tavus, tavus_mock):
    persona = tavus.personas.create(persona_name="Greeter", system_prompt="Say hi.")
    assert tavus.personas.get(persona.persona_id).persona_name == "Greeter"
    conversation = tavus.conversations.create(persona_id=persona.persona_id, replica_id="rfe12d8b9597")
    tavus.conversations.end(conversation.conversation_id)

def test_fresh_state(tavus):
    assert [p.persona_name for p in tavus.personas.list_all(persona_type="user")] == []
"""


def step(text: str) -> None:
    print(f"check-wheel: {text}", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"check-wheel: failed: {' '.join(cmd[:4])} ... (exit {done.returncode})")
    return done  # type: ignore[no-any-return]


def venv(where: Path, requirement: str, *extra: str) -> Path:
    run([sys.executable, "-m", "venv", str(where)])
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, requirement, *extra, "-c", str(ROOT / "constraints.txt")])
    return where / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(scratch: Path) -> Path:
    step("building the wheel")
    dist = scratch / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)])
    wheel = next(dist.glob("tavus_client-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("tavus_client/openapi.yaml", "tavus_contract/schemathesis.toml", "tavus_client/py.typed"):
        if needed not in names:
            raise SystemExit(f"check-wheel: {needed} is missing from {wheel.name}")
    if not any(n.endswith("licenses/LICENSE") for n in names):
        raise SystemExit(f"check-wheel: no LICENSE in {wheel.name}")
    return wheel


def check_plain(scratch: Path, wheel: Path, env: dict[str, str]) -> None:
    step("plain install: the client works, the commands name their extra")
    plain = venv(scratch / "plain", str(wheel))
    run([str(plain / "python"), "-c", PLAIN_CHECK], cwd=scratch, env=env)
    for command, extra in (("tavus-mock", "mock"), ("tavus-contract", "contract")):
        done = subprocess.run([str(plain / command)], capture_output=True, text=True, cwd=scratch, env=env, check=False)
        said = done.stderr.strip()
        if done.returncode != 2 or "\n" in said or f"tavus-client[{extra}]" not in said or "Traceback" in said:
            raise SystemExit(f"check-wheel: plain {command} answered {done.returncode}: {said[:500]}")


def check_server_and_contract(scratch: Path, full: Path, user_dir: Path, env: dict[str, str]) -> None:
    port = free_port()
    log_path = scratch / "mock.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(full / "tavus-mock"), "--port", str(port), "--api-key", KEY, "--quiet"],
            cwd=user_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("check-wheel: tavus-mock did not start:\n" + log_path.read_text())
                time.sleep(0.1)
            step(f"tavus-mock serves on port {port}; running tavus-contract against it")
            contract = [str(full / "tavus-contract"), "--base-url", f"http://127.0.0.1:{port}"]
            contract += ["--phases", "examples,coverage,stateful", "--max-examples", "3", "--seed", "1"]
            done = run(contract, cwd=user_dir, env={**env, "TAVUS_API_KEY": KEY}, timeout=600)
            print("  " + done.stdout.strip().splitlines()[-1], flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="tavus-wheel-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "VIRTUAL_ENV", "PYTHONPATH"))}
    try:
        wheel = build(scratch)
        check_plain(scratch, wheel, env)
        step("install with [mock,contract] and pytest")
        full = venv(scratch / "full", f"{wheel}[mock,contract]", "pytest")
        user_dir = scratch / "user"
        user_dir.mkdir()
        check_server_and_contract(scratch, full, user_dir, env)
        step("a user's tests with the tavus_mock and tavus fixtures")
        (user_dir / "test_user.py").write_text(USER_TEST, encoding="utf-8")
        done = run([str(full / "pytest"), "-q", "-p", "no:cacheprovider", "test_user.py"], cwd=user_dir, env=env)
        print("  " + done.stdout.strip().splitlines()[-1], flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    step("the wheel works outside the checkout")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
