"""`tavus-mock`: run the stateful Tavus v2 reference server."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

import uvicorn

from tavus_spec.specfile import SpecError, default_spec_path

from .app import MockConfig, TavusMock
from .protocols import uvicorn_http_settings
from .spec import Spec
from .store import Delays


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tavus-mock", description="Stateful reference server for the Tavus v2 API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        help="accepted key (repeatable); each key is its own tenant. Without any, every non-empty key is accepted.",
    )
    parser.add_argument("--seed", type=Path, help="JSON file of resources to load at start")
    parser.add_argument(
        "--spec",
        type=Path,
        default=None,
        help="OpenAPI file (default: TAVUS_SPEC, else the spec packaged with the client)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="divide every lifecycle delay by this factor")
    parser.add_argument("--replica-seconds", type=float, default=8.0, help="training time of a replica")
    parser.add_argument("--video-seconds", type=float, default=6.0, help="rendering time of a video")
    parser.add_argument("--document-seconds", type=float, default=3.0, help="processing time of a document")
    parser.add_argument("--transcription-seconds", type=float, default=3.0, help="time to transcribe a file")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 429/500/503 (0-1)")
    parser.add_argument("--fault-codes", default="429,500,503", help="statuses injected by --fault-rate")
    parser.add_argument("--fault-seed", type=int, default=None, help="seed of the fault injection")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    parser.add_argument(
        "--http",
        choices=("httptools", "h11"),
        default="httptools",
        help="HTTP implementation (both limit request headers to 64 KiB)",
    )
    parser.add_argument(
        "--external-callbacks",
        action="store_true",
        help="also POST callbacks to non-loopback hosts (off: only 127.0.0.0/8, ::1 and localhost)",
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be between 0 and 1")
    return args


def build_app(args: argparse.Namespace) -> TavusMock:
    codes = tuple(int(c) for c in args.fault_codes.split(",") if c.strip())
    delays = Delays(args.replica_seconds, args.video_seconds, args.document_seconds, args.transcription_seconds)
    delays = delays.scaled(args.speed)
    config = MockConfig(
        api_keys=frozenset(args.api_keys),
        delays=delays,
        fault_rate=args.fault_rate,
        fault_codes=codes,
        fault_seed=args.fault_seed,
        access_log=not args.quiet,
        external_callbacks=args.external_callbacks,
    )
    app = TavusMock(Spec(args.spec or default_spec_path()), config)
    if args.seed:
        count = app.store.load_seed(args.seed)
        logging.getLogger("tavus_mock").info("loaded %d resources from %s", count, args.seed)
    return app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    try:
        app = build_app(args)
    except SpecError as exc:
        print(f"tavus-mock: {exc}", file=sys.stderr)
        return 2
    # Stored resources live as long as the server: move what start-up made out of the collector's sight,
    # and collect the young generation less often, so full collections do not stall requests (a p99 of
    # 160 ms under a stream of creates without this; see bench/bench_mock.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    keys = f"{len(args.api_keys)} key(s)" if args.api_keys else "any key"
    print(
        f"tavus-mock: serving {app.spec.path.name} on http://{args.host}:{args.port} ({keys})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", access_log=False, **uvicorn_http_settings(args.http)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
