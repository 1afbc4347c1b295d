"""`tavus-mock --proxy URL`: a validating proxy in front of a Tavus-compatible server (the live API).

Every request is forwarded as it came (method, path, query, headers, body; the caller's key passes
through and is never logged or kept), once: the proxy never retries. Each exchange is checked against
the spec into a drift report (tavus_mock/drift.py): served at `GET /_mock/drift` (JSON) and
`GET /_mock/drift.md`, written as Markdown with `--drift-report FILE` when the proxy stops. With
`--record FILE` the resources the answers show are kept, and written when the proxy stops in the
`--seed` format (under a made-up key, never the caller's; secret-looking fields replaced), so that
`tavus-mock --seed FILE` starts from them.

Safe by default [OURS]: only reads (GET, HEAD, OPTIONS) are forwarded; any other method is answered
403 by the proxy itself unless `--allow-writes`. An upstream that does not answer in time is a 504, one
that cannot be reached a 502, an answer over the size bound a 502; each is in the report.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from tavus_client._overrides._logs import redact_body

from .aliases import Alias
from .app import MAX_BODY, MockConfig, TavusMock, request_problem
from .control import control_closed
from .core import Family, Receive, Scope, Send, short
from .drift import Drift
from .resources import registry
from .spec import Operation, Router, Spec

logger = logging.getLogger("tavus_mock.proxy")

READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy sets itself: never passed on.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_ANSWER_DROPS = _HOP | {"content-encoding"}  # httpx hands over the decoded body


@dataclass
class ProxyConfig:
    upstream: str  # the server's base URL, e.g. https://tavusapi.com
    allow_writes: bool = False
    timeout: float = 30.0  # seconds for the whole upstream exchange (connect, send, read)
    record: Path | None = None  # where the recorded resources go (seed format), at stop
    record_as: str = "recorded"  # [OURS] the key the recorded resources belong to in that seed file
    drift_report: Path | None = None  # where the Markdown drift report goes, at stop
    control_token: str | None = None  # as MockConfig.control_token, for /_mock/drift
    access_log: bool = True
    max_body: int = MAX_BODY  # request bytes forwarded at most (as tavus-mock itself accepts)
    max_answer: int = 32 * 1024 * 1024  # answer bytes taken at most (the client's own default bound)


class Recorder:
    """The resources the proxied answers showed, by family and id, merged field by field (a later answer
    wins); a successful delete forgets one. Stock records (type "system") are left out: every
    tavus-mock has its own."""

    def __init__(self, spec: Spec, families: Mapping[str, Family]) -> None:
        self.spec = spec
        self.families = families
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self._ops = self._record_operations()

    def _record_operations(self) -> dict[str, tuple[Family, Alias | None, str]]:
        """operationId -> (family, alias, what its answer does): "show" for a family's list, get, create
        and patch answers, "delete" for its delete (an alias operation as its legacy twin)."""
        out: dict[str, tuple[Family, Alias | None, str]] = {}
        for family in self.families.values():
            twins: list[tuple[str, Alias | None]] = [(op_id, None) for op_id in family.operations]
            twins += [(op_id, family.alias) for op_id in family.alias_operations]
            for op_id, alias in twins:
                op = self.spec.by_id.get(op_id)
                if op is None or op.path.count("/") > 3:  # sub-resources (tags, chunks, attachments)
                    continue
                if op.method == "DELETE":
                    out[op_id] = (family, alias, "delete")
                elif op.method in ("GET", "POST", "PATCH", "PUT"):
                    out[op_id] = (family, alias, "show")
        return out

    def observe(self, op: Operation, status: int, body: Any, path_params: Mapping[str, str]) -> None:
        found = self._ops.get(op.operation_id)
        if found is None or not 200 <= status < 300:
            return
        family, alias, action = found
        kept = self.records.setdefault(family.tag, {})
        if action == "delete":
            for value in path_params.values():
                kept.pop(value, None)
            return
        if not isinstance(body, dict):
            return
        items = [body] if self._id_of(family, alias, body) else []
        for value in body.values():
            if isinstance(value, list):
                items += [v for v in value if isinstance(v, dict) and self._id_of(family, alias, v)]
        for item in items:
            data = {(alias.to_legacy(k) if alias else k): v for k, v in item.items()}
            if family.type_field and data.get(family.type_field) == "system":
                continue
            rid = str(data[family.id_field])
            kept[rid] = {**kept.get(rid, {}), **redact_body(data)}

    @staticmethod
    def _id_of(family: Family, alias: Alias | None, item: Mapping[str, Any]) -> bool:
        name = alias.to_alias(family.id_field) if alias else family.id_field
        value = item.get(name)
        return isinstance(value, str) and bool(value)

    def seed(self, key: str) -> tuple[dict[str, Any], list[str]]:
        """The recorded resources as a seed file under `key`, each one a fresh tavus-mock on the same spec
        accepts (the others named, with why, in the second list). A resource that names another is
        tried again after the rest, so references load in any order."""
        mock = TavusMock(self.spec, MockConfig(access_log=False))
        pending = [
            (tag, copy.deepcopy(data))
            for tag, by_id in self.records.items()
            for rid, data in by_id.items()
            if not self._stock(mock, tag, rid)
        ]
        accepted: dict[str, list[dict[str, Any]]] = {}
        refusals: dict[tuple[str, str], str] = {}
        while pending:
            left = []
            for tag, data in pending:
                try:
                    mock.store.load_seed_data({"tenants": {key: {tag: [data]}}})
                except ValueError as exc:
                    left.append((tag, data))
                    refusals[(tag, str(data.get(self.families[tag].id_field)))] = str(exc)
                else:
                    accepted.setdefault(tag, []).append(data)
            if len(left) == len(pending):
                break
            pending = left
        dropped = [f"{tag} {rid}: {refusals[(tag, rid)]}" for tag, data in pending for rid in [self._rid(tag, data)]]
        return {"tenants": {key: accepted}}, dropped

    @staticmethod
    def _stock(mock: TavusMock, tag: str, rid: str) -> bool:
        """Whether a record is one of tavus-mock's own stock records (a list that does not say a record's
        type still shows them): a fresh mock has it already."""
        found = mock.store.records.get(tag, {}).get(rid)
        return found is not None and found.tenant is None

    def _rid(self, tag: str, data: Mapping[str, Any]) -> str:
        return str(data.get(self.families[tag].id_field))


class Proxy:
    """The ASGI app of `tavus-mock --proxy`."""

    def __init__(self, spec: Spec, config: ProxyConfig) -> None:
        self.spec = spec
        self.config = config
        self.upstream = config.upstream.rstrip("/")
        self.router = Router(spec.operations)
        self.drift = Drift(spec, self.upstream)
        self.recorder = Recorder(spec, registry()) if config.record is not None else None
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        path = scope["path"]
        try:
            if path == "/_mock" or path.startswith("/_mock/"):
                status, headers, content = self._control(scope)
            else:
                status, headers, content = await self._forward(scope, receive)
        except Exception:  # a bug here must still give an answer and a log line, never the caller's key
            logger.exception("tavus-mock proxy: unhandled error on %s %s", scope["method"], short(path))
            status, headers, content = _json(500, {"error": "tavus-mock proxy: internal error"})
        headers.append((b"content-length", b"%d" % len(content)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})
        if self.config.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %d %.1fms", scope["method"], short(path), status, elapsed)

    # -- forwarding ----------------------------------------------------------------------------
    async def _forward(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        method, path = scope["method"], scope["path"]
        found = self.router.find(path)
        op = found[0].get(method) if found is not None else None
        params = found[1] if found is not None else {}
        name = op.operation_id if op is not None else f"{method} {short(path)}"
        if method not in READS and not self.config.allow_writes:
            await _drain(receive)
            return _json(
                403,
                {
                    "error": f"tavus-mock proxy: {method} is not forwarded (reads only); "
                    "start the proxy with --allow-writes to forward writes"
                },
            )
        raw = await self._body(receive)
        if raw is None:
            return _json(413, {"error": f"tavus-mock proxy: the body is over {self.config.max_body} bytes"})
        query = scope.get("query_string", b"")
        url = self.upstream + scope.get("raw_path", path.encode()).decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in _HOP]
        try:
            status, answer_headers, content = await self._exchange(method, url, headers, raw)
        except httpx.TimeoutException:
            what = f"no answer within {self.config.timeout:g} s"
            self.drift.upstream_error(name, what)
            return _json(504, {"error": f"tavus-mock proxy: the upstream gave {what}"})
        except _TooLarge:
            what = f"an answer over {self.config.max_answer} bytes"
            self.drift.upstream_error(name, what)
            return _json(502, {"error": f"tavus-mock proxy: the upstream gave {what}"})
        except httpx.HTTPError as exc:
            what = f"{type(exc).__name__}: {short(str(exc) or 'no detail', 200)}"
            self.drift.upstream_error(name, what)
            return _json(502, {"error": f"tavus-mock proxy: the upstream could not be reached ({what})"})
        if op is None:
            self.drift.observe_unknown(method, path, status)
        else:
            self._check(scope, op, params, raw, status, answer_headers, content)
        return status, answer_headers, content

    def _check(
        self,
        scope: Scope,
        op: Operation,
        params: dict[str, str],
        raw: bytes,
        status: int,
        answer_headers: list[tuple[bytes, bytes]],
        content: bytes,
    ) -> None:
        problem = request_problem(op, scope, params, raw) if 200 <= status < 300 else None
        named = {p.name for p in op.query_parameters}
        given = scope.get("query_string", b"").decode("latin-1")
        unnamed = sorted({part.split("=", 1)[0] for part in given.split("&") if part} - named) if given else []
        ctype = next((v.decode("latin-1") for k, v in answer_headers if k == b"content-type"), "")
        self.drift.observe(op, status, ctype, content, request_problem=problem, unnamed_parameters=unnamed)
        if self.recorder is not None and 200 <= status < 300 and content:
            try:
                body = orjson.loads(content)
            except orjson.JSONDecodeError:
                return
            self.recorder.observe(op, status, body, params)
        elif self.recorder is not None and 200 <= status < 300:
            self.recorder.observe(op, status, None, params)

    async def _exchange(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], raw: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One upstream exchange, whole within the time-out (not per read), its answer bounded."""
        client = self._client_for_loop()
        try:
            async with asyncio.timeout(self.config.timeout):
                request = client.build_request(method, url, headers=headers, content=raw or None)
                response = await client.send(request, stream=True)
                try:
                    chunks, size = [], 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.config.max_answer:
                            raise _TooLarge
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise httpx.ReadTimeout("the whole exchange took too long") from None
        kept = [(k.lower(), v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _ANSWER_DROPS]
        return response.status_code, kept, b"".join(chunks)

    def _client_for_loop(self) -> httpx.AsyncClient:
        if self._client is None:
            # No retries (httpx makes none), no redirects followed, no environment proxies; the pool's
            # own time-outs are the whole exchange's (asyncio.timeout above bounds the sum).
            timeout = httpx.Timeout(self.config.timeout)
            self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
        return self._client

    async def _body(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_body:
                if message.get("more_body"):
                    await _drain(receive)
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    # -- the control plane: the drift report and the recording so far --------------------------
    def _control(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        closed = control_closed(scope, headers, self.config.control_token)
        if closed is not None:
            return _json(closed.status, closed.body)
        route = (scope["method"], scope["path"].rstrip("/"))
        if route == ("GET", "/_mock/drift"):
            return _json(200, self.drift.report())
        if route == ("GET", "/_mock/drift.md"):
            return 200, [(b"content-type", b"text/markdown; charset=utf-8")], self.drift.markdown().encode()
        if route == ("GET", "/_mock/record"):
            if self.recorder is None:
                return _json(404, {"error": "tavus-mock proxy: start it with --record FILE to record"})
            seed, dropped = self.recorder.seed(self.config.record_as)
            return _json(200, {**seed, "dropped": dropped})
        return _json(404, {"error": f"No such control endpoint of the proxy: {route[0]} {short(route[1])}"})

    # -- start and stop ------------------------------------------------------------------------
    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    client, self._client = self._client, None
                    await client.aclose()
                self.write_files()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def write_files(self) -> None:
        """Write the drift report and the recording where the options said (a failure is logged, once)."""
        if self.config.drift_report is not None:
            _write(self.config.drift_report, self.drift.markdown(), "drift report")
        if self.recorder is not None and self.config.record is not None:
            seed, dropped = self.recorder.seed(self.config.record_as)
            for line in dropped:
                logger.warning("tavus-mock proxy: not recorded (the spec refuses it): %s", short(line, 300))
            count = sum(len(items) for items in seed["tenants"][self.config.record_as].values())
            if _write(self.config.record, json.dumps(seed, indent=1, ensure_ascii=False) + "\n", "recording"):
                logger.warning(
                    "tavus-mock proxy: %d resources recorded in %s (key %r)",
                    count,
                    self.config.record,
                    self.config.record_as,
                )


class _TooLarge(Exception):
    pass


def _json(status: int, body: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [(b"content-type", b"application/json")], orjson.dumps(body)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def _write(path: Path, text: str, what: str) -> bool:
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        logger.error("tavus-mock proxy: the %s could not be written to %s: %s", what, path, exc.strerror or exc)
        return False
    return True
