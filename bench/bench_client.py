"""Client cost, measured side by side in one run (prints figures; never pass/fail).

1. Per-request overhead of `Tavus` over raw httpx: the same sequential GET of one persona against
   the same reference server (its own process, CPU 1; the client on CPU 0). Calls alternate
   between the two; reported are the medians and the median of the per-call paired differences. The
   same pair is also timed over an in-memory transport, which leaves only the clients' own cost
   (no sockets, no server), the steadiest view of the overhead.
2. Import time of `tavus_client` relative to `import httpx`: fresh interpreters, alternating,
   median of N each (`.pyc` files warm).

usage: python bench/bench_client.py [--requests 2000] [--rounds 5] [--imports 9]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import BIN, TASKSET, free_port, start_mock, stop
from tavus_client import Tavus, authenticated_client
from tavus_client.api.personas import get_persona

PATH = "/v2/personas/pdced222244b"


def per_request(call: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


def body_of_stock_persona() -> bytes:
    from tavus_mock import Spec, TavusMock

    app = TavusMock(Spec())
    record = app.store.records["personas"]["pdced222244b"]
    return json.dumps(app._view(record)).encode()


def compare(raw: httpx.Client, sdk: Tavus, rounds: int, n: int) -> tuple[float, float, float]:
    """The same GET through both clients, call by call alternating (so drift of a shared machine hits
    both alike): medians of each and the median of the per-call paired differences."""

    def raw_get() -> object:
        response = raw.get(PATH)
        response.raise_for_status()
        return response.json()

    def sdk_get() -> object:
        return sdk.personas.get("pdced222244b")

    per_request(raw_get, 200)  # warm-up both
    per_request(sdk_get, 200)
    clock = time.perf_counter
    raws, sdks, diffs = [], [], []
    for _ in range(rounds * n):
        started = clock()
        raw_get()
        middle = clock()
        sdk_get()
        ended = clock()
        raws.append(middle - started)
        sdks.append(ended - middle)
        diffs.append((ended - middle) - (middle - started))
    return tuple(statistics.median(x) * 1e6 for x in (raws, sdks, diffs))  # type: ignore[return-value]


def in_memory(body: bytes, rounds: int, n: int) -> tuple[tuple[float, float, float], float]:
    """The clients over httpx.MockTransport answering the same body: only client-side work remains.
    Also answers the median per-request time of the generated functional client (same typed parse)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    transport = httpx.MockTransport(answer)
    generated = authenticated_client("k", base_url="http://tavus.local")
    generated.set_httpx_client(httpx.Client(base_url="http://tavus.local", transport=transport))
    with (
        httpx.Client(base_url="http://tavus.local", transport=transport) as raw,
        Tavus(api_key="k", http_client=httpx.Client(base_url="http://tavus.local", transport=transport)) as sdk,
    ):
        figures = compare(raw, sdk, rounds, n)
    functional = statistics.median(
        per_request(lambda: get_persona.sync("p", client=generated), n) for _ in range(rounds)
    )
    return figures, functional


# Bytecode is written (and then read) as a pip install leaves it: with PYTHONDONTWRITEBYTECODE set, as
# some shells and CI images do, every import of the checkout's modules would compile them again while
# httpx's, compiled by pip, would not - an unfair race (it made 1.05x read as 1.18x).
IMPORT_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def import_time(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN / "python"), "-c", statement], check=True, env=IMPORT_ENV)
    return (time.perf_counter() - started) * 1000


def list_body(items: int) -> bytes:
    """A verbose list answer of `items` personas, each with every layer set (what a parse has to build)."""
    persona = json.loads(body_of_stock_persona())
    persona["layers"] = {
        "llm": {"model": "tavus-gpt-oss", "speculative_inference": True, "headers": {"x": "y"}},
        "tts": {"tts_engine": "cartesia", "external_voice_id": "v1", "tts_emotion_control": True},
        "stt": {"stt_engine": "tavus-auto", "hotwords": "Tavus"},
        "perception": {"perception_model": "raven-1", "visual_awareness_queries": ["a", "b"]},
        "conversational_flow": {"turn_detection_model": "sparrow-1", "turn_taking_patience": "medium"},
    }
    return json.dumps(
        {"data": [dict(persona, persona_id=f"p{i:011d}") for i in range(items)], "total_count": items}
    ).encode()


def parse_cost(rounds: int, n: int) -> tuple[float, float, float, float, float]:
    """Medians (us) of json.loads; of json.loads + the generator's own from_dict for every model + the
    client's type check after it (the client's path before the compiled decoders); and of json.loads +
    `from_dict` as it is now (the compiled decoder, which type-checks everything as it parses and
    builds nested models such as `layers` on first read), with the cyclic garbage collector running as
    usual and paused (what its collections add); last, the parse followed by reading every layer of
    every persona once (which builds what the parse left for later)."""
    import attrs
    from tavus_client import models
    from tavus_client._overrides import fastparse
    from tavus_client._overrides.models import check_model
    from tavus_client.models import PersonaList

    body = list_body(100)
    compiled = {
        cls: fastparse.decoder_for(cls) for cls in vars(models).values() if isinstance(cls, type) and attrs.has(cls)
    }

    def generated_only(src: object) -> object:
        raise fastparse._Fallback  # every model falls back: the generated methods alone (+ a raise each)

    def before() -> None:
        fastparse._DECODERS.update(dict.fromkeys(compiled, generated_only))
        try:
            check_model(PersonaList.from_dict(json.loads(body)))
        finally:
            fastparse._DECODERS.update(compiled)

    def parse_and_read_layers() -> None:
        seen = []
        for persona in PersonaList.from_dict(json.loads(body)).data:
            layers = persona.layers
            seen += [layers.llm, layers.tts, layers.stt, layers.perception, layers.conversational_flow]  # type: ignore[union-attr]

    loads, generated, now, paused, read = [], [], [], [], []
    for _ in range(rounds):  # each timing starts after a full collection, so none pays for another's garbage
        gc.collect()
        loads.append(per_request(lambda: json.loads(body), n))
        gc.collect()
        now.append(per_request(lambda: PersonaList.from_dict(json.loads(body)), n))
        gc.collect()
        generated.append(per_request(before, n))
        gc.collect()
        gc.disable()  # the same decode with the cyclic collector paused: the decoder's own cost
        try:
            paused.append(per_request(lambda: PersonaList.from_dict(json.loads(body)), n))
        finally:
            gc.enable()
        gc.collect()
        read.append(per_request(parse_and_read_layers, n))
    return tuple(statistics.median(x) for x in (loads, generated, now, paused, read))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--imports", type=int, default=9)
    args = parser.parse_args()
    if TASKSET:
        subprocess.run([TASKSET, "-pc", "0", str(os.getpid())], capture_output=True, check=False)

    port = free_port()
    server = start_mock(port, cpu=1)
    url = f"http://127.0.0.1:{port}"
    try:
        with (
            httpx.Client(base_url=url, headers={"x-api-key": "bench-key"}) as raw,
            Tavus(api_key="bench-key", base_url=url) as sdk,
        ):
            socket_figures = compare(raw, sdk, args.rounds, args.requests)
    finally:
        stop(server)

    print(f"per-request cost, sequential GET {PATH}, {args.rounds} rounds x {args.requests} requests (medians)")
    row = "  {:28} raw httpx {:6.1f} us, Tavus {:6.1f} us, overhead {:+6.1f} us"
    print(row.format("over a socket to tavus-mock:", *socket_figures))
    figures, functional = in_memory(body_of_stock_persona(), args.rounds, args.requests * 4)
    print(row.format("in-memory transport:", *figures))
    print(f"  {'':28} generated get_persona.sync {functional:6.1f} us (same typed parse, no retries/errors/logging)")
    loads, generated, now, paused, read = parse_cost(args.rounds, max(1, args.requests // 5))
    print(f"parse of a 100-item verbose persona list, bytes to checked models (medians): json.loads {loads:7.0f} us")
    print(f"  {'':28} generator's from_dict + type check {generated:7.0f} us ({generated / loads:4.1f}x json.loads)")
    print(f"  {'':28} compiled decoder, checking as it builds {now:7.0f} us ({now / loads:4.1f}x json.loads)")
    print(f"  {'':28} the same, garbage collector paused {paused:7.0f} us ({paused / loads:4.1f}x json.loads)")
    print(f"  {'':28} parse, then every persona's 5 layers read {read:7.0f} us ({read / loads:4.1f}x json.loads)")

    statements = {
        "python -c pass": "pass",
        "import httpx": "import httpx",
        "import tavus_client": "import tavus_client",
        "from tavus_client import Tavus": "from tavus_client import Tavus",
    }
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for stmt in statements.values():  # warm .pyc
        import_time(stmt)
    for _ in range(args.imports):
        for name, stmt in statements.items():
            samples[name].append(import_time(stmt))
    base = statistics.median(samples["python -c pass"])
    httpx_ms = statistics.median(samples["import httpx"]) - base
    print(
        f"\nimport time, fresh interpreter, median of {args.imports} (interpreter start-up of {base:.0f} ms subtracted)"
    )
    for name in list(statements)[1:]:
        ms = statistics.median(samples[name]) - base
        print(f"  {name:32} {ms:6.1f} ms  ({ms / httpx_ms:.2f}x import httpx)")


if __name__ == "__main__":
    main()
