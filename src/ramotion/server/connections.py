"""A deadline for each request's headers, which uvicorn does not have.

uvicorn (0.54) times out an idle keep-alive connection after a response, and RequestGuard
(app.py) times out a slow request body, but nothing bounds the time a client takes to send its
headers: a client that connects and sends nothing, or half a header, holds its connection until
it lets go, and enough such connections fill `limit_concurrency` so that everyone else gets 503
(a slowloris attack). uvicorn's `http` setting takes a protocol class, so this one subclasses
its HTTP/1.1 protocol (h11) and adds the deadline. Hand-written because uvicorn offers no
setting for it (hypercorn and gunicorn do, but ramotion serves with uvicorn).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol that closes a connection whose request headers are not
    complete within `header_timeout_s` of the connection opening, or of the first byte of a
    later request on a kept-alive connection. Idle kept-alive connections are still uvicorn's
    (timeout_keep_alive)."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request has begun but its headers are not complete
            if self._header_deadline is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closed a connection whose request headers did not arrive within %g s", self.header_timeout_s)
            self.transport.close()


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for uvicorn's `http` setting, with a deadline of `seconds`."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": float(seconds)})
