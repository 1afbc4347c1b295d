"""`tavus-mock`: run the stateful Tavus v2 reference server."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from tavus_spec.specfile import SpecError, default_spec_path

from .app import MockConfig, TavusMock
from .core import tenant_of
from .db import DatabaseError, DbStore
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
    parser.add_argument(
        "--seed",
        type=Path,
        help="JSON file of resources to load at start (with --db: only into a new file, where they are stored)",
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="FILE|URL",
        help="keep the state in this SQLite file (created if missing), or on a PostgreSQL server "
        "(postgresql://user@host/dbname): it survives restarts and kill -9, and several servers, "
        "--workers or (with PostgreSQL) machines share it. Without it the state lives in memory.",
    )
    parser.add_argument(
        "--db-synchronous",
        choices=("normal", "full"),
        default="normal",
        help="normal survives the process being killed; full also a power cut (an fsync per write)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (more than 1 needs --db)")
    parser.add_argument(
        "--export",
        metavar="API_KEY",
        help="print that key's resources in the --seed format (from --db) and exit; replay them with --seed",
    )
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
        "--journal-size", type=int, default=1000, help="requests the journal keeps (GET /_mock/requests)"
    )
    parser.add_argument(
        "--control-token",
        default=None,
        help="let any client that sends this x-mock-token use /_mock/ (without it: loopback clients only)",
    )
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
    _proxy_options(parser)
    args = parser.parse_args(argv)
    _check_proxy(parser, args)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be between 0 and 1")
    if args.journal_size < 1:
        parser.error("--journal-size must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1 and args.db is None:
        parser.error("--workers above 1 needs --db: processes share their state through the database file")
    if args.export is not None and args.db is None:
        parser.error("--export reads a --db file")
    return args


def _proxy_options(parser: argparse.ArgumentParser) -> None:
    proxy = parser.add_argument_group(
        "proxy", "forward to a Tavus-compatible server, check its answers against the spec (tavus_mock/proxy.py)"
    )
    proxy.add_argument(
        "--proxy",
        metavar="URL",
        help="forward every request to this base URL (e.g. https://tavusapi.com) instead of serving a state",
    )
    proxy.add_argument("--allow-writes", action="store_true", help="also forward writes (without it: reads only)")
    proxy.add_argument(
        "--proxy-timeout", type=float, default=30.0, help="seconds the upstream has for a whole exchange"
    )
    proxy.add_argument("--drift-report", type=Path, help="write the drift report here (Markdown) when stopped")
    proxy.add_argument(
        "--record",
        type=Path,
        help="write the resources the answers showed here (the --seed format) when stopped",
    )
    proxy.add_argument(
        "--record-as",
        default="recorded",
        metavar="KEY",
        help="the API key the recorded resources belong to in that file (never the caller's)",
    )


def _check_proxy(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.proxy is not None:
        url = urlsplit(args.proxy)
        if url.scheme not in ("http", "https") or not url.hostname:
            parser.error(f"--proxy needs an http(s) base URL, not {args.proxy!r}")
        if args.proxy_timeout <= 0:
            parser.error("--proxy-timeout must be positive")
        for flag, value in (("--db", args.db), ("--seed", args.seed), ("--export", args.export)):
            if value is not None:
                parser.error(f"{flag} has no meaning with --proxy: the upstream keeps the state")
        if args.workers > 1:
            parser.error("--proxy runs in one process (its drift report is in memory)")
    elif args.allow_writes or args.drift_report or args.record:
        parser.error("--allow-writes, --drift-report and --record go with --proxy URL")


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
        db=str(args.db) if args.db else None,
        db_synchronous=args.db_synchronous,
        journal_size=args.journal_size,
        control_token=args.control_token,
    )
    app = TavusMock(Spec(args.spec or default_spec_path()), config)
    fresh = app.store.rev == 0 if isinstance(app.store, DbStore) else True
    if args.seed and fresh:
        count = app.store.load_seed(args.seed)
        logging.getLogger("tavus_mock").info("loaded %d resources from %s", count, args.seed)
    elif args.seed:
        logging.getLogger("tavus_mock").info("%s already holds data: --seed %s not loaded", args.db, args.seed)
    return app


def worker_app() -> TavusMock:
    """The app of one `--workers` process (uvicorn imports it by name in each process), which logs each
    request as a single process does."""
    args = parse_args(json.loads(os.environ[WORKER_ARGS]))
    _logging()
    app = build_app(args)
    tune_collector()
    return app


def tune_collector() -> None:
    """Keep the garbage collector off the stored resources (a server process only, never a host's).

    Stored resources live as long as the server and hold no reference cycles, yet CPython's collector
    rescans its older generations as they grow: under a stream of creates a middle-generation pass took
    314 ms and a full one 150 ms (bench/bench_mock.py, about 10% of the time). Here what start-up made
    is frozen at once, and whatever survives a collection is frozen after it (`gc.freeze`), so each
    object is scanned once, in its first young-generation pass (about 2 ms per 10,000 objects).
    The price: a reference cycle still alive at a collection is never collected once it dies. Requests
    make few: under a stream of creates, the collections found 15-50 objects in cycles per 70,000
    requests (all of them already dead, so collected), and a GET or a refusal makes none.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":
        gc.freeze()


WORKER_ARGS = "TAVUS_MOCK_WORKER_ARGS"


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _logging()
    if args.proxy is not None:
        return run_proxy(args)
    try:
        app = build_app(args)
    except (SpecError, DatabaseError, ValueError) as exc:  # a bad --spec, --db or --seed: one line, exit 2
        print(f"tavus-mock: {exc}", file=sys.stderr)
        return 2
    if args.export is not None:
        seed = {"tenants": {args.export: app.store.export(tenant_of(args.export))}}
        try:
            sys.stdout.write(json.dumps(seed, indent=1, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        except OSError as exc:  # a closed pipe, a full disk
            print(f"tavus-mock: --export could not be written: {exc.strerror or exc}", file=sys.stderr)
            return 2
        return 0
    tune_collector()
    keys = f"{len(args.api_keys)} key(s)" if args.api_keys else "any key"
    print(
        f"tavus-mock: serving {app.spec.path.name} on http://{args.host}:{args.port} ({keys})",
        file=sys.stderr,
        flush=True,
    )
    if args.workers > 1:
        # Each process builds its own app on the same --db (the file is ready: made and seeded above).
        os.environ[WORKER_ARGS] = json.dumps([a for a in (argv if argv is not None else sys.argv[1:])])
        uvicorn.run(
            "tavus_mock.cli:worker_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # tavus-mock reads no client address: no X-Forwarded-* rewriting per request
            server_header=False,  # no "server: uvicorn" line in every answer
            **uvicorn_http_settings(args.http),
        )
        return 0
    serve(app, args)
    return 0


def serve(app: Any, args: argparse.Namespace) -> None:
    """Serve one ASGI app (the server's or the proxy's) in the foreground, as the CLI sets uvicorn up: its
    protocol, no proxy-header rewriting (nothing reads the client address), no `server` header."""
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        **uvicorn_http_settings(args.http),
    )


def run_proxy(args: argparse.Namespace) -> int:
    """`--proxy URL`: the validating proxy in the foreground; its files are written when it stops."""
    from .proxy import Proxy, ProxyConfig  # httpx's client and the drift checks load only for a proxy

    for target in (args.drift_report, args.record):
        if target is not None and not target.parent.is_dir():
            print(f"tavus-mock: {target.parent} is not a directory (for {target.name})", file=sys.stderr)
            return 2
    try:
        spec = Spec(args.spec or default_spec_path())
    except SpecError as exc:
        print(f"tavus-mock: {exc}", file=sys.stderr)
        return 2
    config = ProxyConfig(
        upstream=args.proxy,
        allow_writes=args.allow_writes,
        timeout=args.proxy_timeout,
        record=args.record,
        record_as=args.record_as,
        drift_report=args.drift_report,
        control_token=args.control_token,
        access_log=not args.quiet,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the proxy logs each exchange once, itself
    mode = "reads and writes" if args.allow_writes else "reads only"
    print(
        f"tavus-mock: proxying http://{args.host}:{args.port} to {args.proxy} ({mode}); drift report at /_mock/drift",
        file=sys.stderr,
        flush=True,
    )
    serve(Proxy(spec, config), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
