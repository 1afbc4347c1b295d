"""Run the reference server with uvicorn: in a background thread (tests, demo) or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from .app import MockConfig, TavusMock
from .protocols import uvicorn_http_settings
from .spec import Spec


class ServerHelpers:
    """What a test does with a running server (`app` is its TavusMock): read the journal, assert on it,
    move the clock, plan faults, make a record act. Shared by MockServer and the pytest fixture."""

    app: TavusMock

    def requests(self, operation_id: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """What the server was asked (its journal, oldest first), filtered as `TavusMock.requests`."""
        return self.app.requests(operation_id, **fields)

    def advance(self, seconds: float) -> int:
        """Move the server's clock on: jobs due by then are done, their callbacks sent now (in order);
        answers how many callbacks went out."""
        answer = self.app.advance(seconds)
        if answer.status != 200:
            raise ValueError(answer.body["error"])
        sent: int = answer.body["callbacks"]
        return sent

    def fail_next(self, operation_id: str, status: int, times: int = 1) -> None:
        """The next `times` calls of `operation_id` answer `status` (e.g. 503, to test your retries)."""
        answer = self.app.fail_next(operation_id, status, times)
        if answer.status != 200:
            raise ValueError(answer.body["error"])

    def control(self, tag: str, rid: str, action: str, **body: Any) -> dict[str, Any]:
        """A family's control action on one record, as `POST /_mock/{tag}/{id}/{action}` does (e.g.
        `control("conversations", cid, "events", event_type="system.shutdown")`); ValueError if refused."""
        answer = self.app.control(tag, rid, action, body)
        if answer.status != 200:
            raise ValueError(str(answer.body))
        result: dict[str, Any] = answer.body
        return result

    def assert_called(self, operation_id: str, times: int | None = None, **fields: Any) -> list[dict[str, Any]]:
        """`TavusMock.assert_called`: fails with the list of what was called instead."""
        return self.app.assert_called(operation_id, times, **fields)


class BackgroundServer:
    """An ASGI app on a real socket, in a background thread: `with BackgroundServer(app) as s: s.url`."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, http: str = "h11") -> None:
        self.host = host
        # IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
        # and without it every answer waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="on",
                loop="asyncio",
                **uvicorn_http_settings(http),
            )
        )
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class MockServer(ServerHelpers, BackgroundServer):
    """The reference server on a real socket, in a background thread: `with MockServer() as server: server.url`."""

    def __init__(
        self,
        app: TavusMock | None = None,
        *,
        config: MockConfig | None = None,
        spec: Spec | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        http: str = "h11",
    ) -> None:
        self.app = app or TavusMock(spec, config)
        BackgroundServer.__init__(self, self.app, host=host, port=port, http=http)
