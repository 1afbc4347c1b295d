"""What `tavus-contract` loads into schemathesis (SCHEMATHESIS_HOOKS=tavus_contract.hooks).

- the contract checks (`tavus_contract.checks`, one module per concern);
- a `before_call` hook that makes conversations created against the real API use `test_mode`;
- a bound on every answer: schemathesis reads a whole body into memory, so a server answering
  200 MB took the run to 900 MB. Its transport's `_request` (schemathesis 4.32.5, pinned) is wrapped
  so that a body is read in pieces, at most `max_body_bytes` after decompression and for at most
  `request_timeout` seconds in all; past either the request fails with a network error naming the
  bound, which the report shows as an error, never as passed.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import schemathesis
from schemathesis.transport import requests as transport

from tavus_contract.checks import Probe, etag, lists, refusals, tenancy, writes
from tavus_contract.checks.refusals import probe_body
from tavus_contract.checks.writes import patch_round_trip
from tavus_contract.settings import current

CHUNK = 64 * 1024


class AnswerTooLarge(requests.exceptions.ContentDecodingError):
    """An answer's body is larger than the run reads (a network-level failure for schemathesis)."""


class AnswerTooSlow(requests.exceptions.ReadTimeout):
    """An answer's body took longer than the request timeout in all."""


def bounded_request(session: requests.Session, data: dict[str, Any], max_stream_events: int) -> requests.Response:
    """schemathesis' `_request`, reading the body in pieces under a byte cap and a total deadline."""
    settings = current()
    started = time.monotonic()
    response = session.request(**{**data, "stream": True})
    cap = settings.max_body_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap and "gzip" not in response.headers.get("content-encoding", ""):
        response.close()
        raise AnswerTooLarge(f"the answer declares {declared} bytes; tavus-contract reads at most {cap}")
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in response.raw.stream(CHUNK, decode_content=True):
            size += len(piece)
            if size > cap:
                raise AnswerTooLarge(f"the answer is larger than {cap} bytes (tavus-contract's --max-body-bytes)")
            if time.monotonic() - started > 2 * settings.request_timeout:
                raise AnswerTooSlow(f"the answer took more than {2 * settings.request_timeout:g} s to arrive")
            pieces.append(piece)
    except (AnswerTooLarge, AnswerTooSlow):
        response.close()
        raise
    except Exception as exc:  # the transport's own read errors, as schemathesis would see them
        response.close()
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
    response._content = b"".join(pieces)
    response._content_consumed = True
    return response


transport._request = bounded_request  # type: ignore[assignment]


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """In runs against the real API with --allow-writes, every created conversation asks for `test_mode`."""
    if (
        current().test_mode
        and case.operation.path == "/v2/conversations"
        and case.method.upper() == "POST"
        and isinstance(case.body, dict)
    ):
        case.body["test_mode"] = True


__all__ = [
    "AnswerTooLarge",
    "Probe",
    "before_call",
    "bounded_request",
    "etag",
    "lists",
    "patch_round_trip",
    "probe_body",
    "refusals",
    "tenancy",
    "writes",
]
