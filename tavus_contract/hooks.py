"""What `tavus-contract` loads into schemathesis (SCHEMATHESIS_HOOKS=tavus_contract.hooks).

- the contract checks (`tavus_contract.checks`, one module per concern);
- a `before_call` hook that makes conversations created against the real API use `test_mode`;
- a bound on every answer: schemathesis reads whole bodies into memory (its own probes too), so a
  server answering 200 MB took the run to 900 MB. `requests.Response.content` is replaced in the
  schemathesis process by a reader that stops at `max_body_bytes` after decompression and at twice
  `request_timeout` in all; past either the request fails with a network error naming the bound,
  which the report shows as an error, never as passed.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import schemathesis

from tavus_contract.checks import Probe, etag, lists, refusals, tenancy, writes
from tavus_contract.checks.refusals import probe_body
from tavus_contract.checks.writes import patch_round_trip
from tavus_contract.settings import current

CHUNK = 64 * 1024


class AnswerTooLarge(requests.exceptions.ContentDecodingError):
    """An answer's body is larger than the run reads (a network-level failure for schemathesis)."""


class AnswerTooSlow(requests.exceptions.ReadTimeout):
    """An answer's body took longer than twice the request timeout to arrive."""


def bounded_content(response: requests.Response) -> bytes | None:
    """`requests.Response.content`, read in pieces: at most `max_body_bytes` after decompression, and for
    at most twice the request timeout; past either the connection is closed and the request fails."""
    if response._content is False:
        if response._content_consumed:
            raise RuntimeError("The content for this response was already consumed")
        if response.status_code == 0 or response.raw is None:
            response._content = None
        else:
            settings = current()
            cap = settings.max_body_bytes
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap and not response.headers.get("content-encoding"):
                response.close()
                raise AnswerTooLarge(f"the answer declares {declared} bytes; tavus-contract reads at most {cap}")
            started = time.monotonic()
            pieces: list[bytes] = []
            size = 0
            for piece in response.iter_content(CHUNK):
                size += len(piece)
                if size > cap:
                    response.close()
                    raise AnswerTooLarge(f"the answer is larger than {cap} bytes (tavus-contract's --max-body-bytes)")
                if time.monotonic() - started > 2 * settings.request_timeout:
                    response.close()
                    raise AnswerTooSlow(f"the answer took more than {2 * settings.request_timeout:g} s to arrive")
                pieces.append(piece)
            response._content = b"".join(pieces)
    response._content_consumed = True
    return response._content


# Every answer the schemathesis process reads (test cases, the checks' follow-ups, its own probes) is bounded.
requests.models.Response.content = property(bounded_content)  # type: ignore[assignment,method-assign]


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
    "bounded_content",
    "etag",
    "lists",
    "patch_round_trip",
    "probe_body",
    "refusals",
    "tenancy",
    "writes",
]
