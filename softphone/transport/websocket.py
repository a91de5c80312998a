"""SIP over WebSocket as a client (RFC 7118): one flow to a SIP WebSocket server.

The WebSocket protocol itself (handshake, framing, masking, ping/pong, closing) is the
``websockets`` package's; this module only adapts it to the way ``TransportManager`` uses
a stream: synchronous ``write`` in send order, received messages handed up whole, a
callback when the flow is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from ..sip.message import MAX_MESSAGE_SIZE
from .base import Destination, Source, TransportError

log = logging.getLogger(__name__)

SUBPROTOCOL = Subprotocol("sip")  # RFC 7118 §4.1
CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
# RFC 5626 §4.4.1 style keep-alives that some servers send as WebSocket messages.
CRLF_PING = b"\r\n\r\n"
CRLF_PONG = b"\r\n"

MessageHook = Callable[[bytes, Source], None]
ClosedHook = Callable[["WebSocketFlow"], None]


def random_invalid_host() -> str:
    """A host name for Via and Contact of a WebSocket client (RFC 7118 §5.2)."""
    # The client has no address the server could connect to; the name only has to be unique.
    return f"{secrets.token_hex(6)}.invalid"


def default_url(dest: Destination) -> str:
    """``ws(s)://host:port/`` for a destination without an explicit WebSocket URL."""
    host = dest.server_name or dest.address
    if ":" in host:
        host = f"[{host}]"
    return f"{dest.transport}://{host}:{dest.port}/"


def url_endpoint(url: str) -> tuple[str, str, int, str]:
    """(``ws`` or ``wss``, host, port, path) of a WebSocket URL; ValueError when it is not one."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a WebSocket URL: {url!r} (use ws://host:port/path or wss://...)")
    port = parts.port or (443 if scheme == "wss" else 80)
    return scheme, parts.hostname, port, parts.path or "/"


class WebSocketFlow:
    """One client connection carrying SIP (RFC 7118 §5): a SIP message per WebSocket message.

    Messages go out as text frames when they are UTF-8 and as binary frames otherwise
    (§5.1); both kinds are accepted. A message larger than ``MAX_MESSAGE_SIZE`` closes
    the connection (status 1009): a SIP message that large is hostile or broken.
    """

    def __init__(
        self,
        dest: Destination,
        url: str,
        *,
        on_message: MessageHook,
        on_closed: ClosedHook,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str | None = None,
        max_size: int = MAX_MESSAGE_SIZE,
    ) -> None:
        self.dest = dest
        self.url = url
        self.local: tuple[str, int] = ("", 0)
        self.last_pong = 0.0
        self.closed = asyncio.Event()
        self._on_message = on_message
        self._on_closed = on_closed
        self._ssl = ssl_context
        self._user_agent = user_agent
        self._max_size = max_size
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- opening --
    async def open(self) -> None:
        """Connect and run the opening handshake with the ``sip`` subprotocol (RFC 7118 §4)."""
        kwargs: dict[str, object] = {"host": self.dest.address, "port": self.dest.port}
        if self.dest.transport == "wss":
            if self._ssl is None:
                raise TransportError("wss needs a TLS context")
            kwargs["ssl"] = self._ssl
            # The certificate names the URL's host, not the address it resolved to (RFC 5922 style).
            name = urlsplit(self.url).hostname or self.dest.server_name or self.dest.address
            kwargs["server_hostname"] = name
        try:
            ws = await connect(
                self.url,
                subprotocols=[SUBPROTOCOL],
                compression=None,
                # SIP signalling goes to the configured server itself, never through a proxy
                # picked up from the environment.
                proxy=None,
                open_timeout=CONNECT_TIMEOUT,
                # Keep-alives are the registration's business (RFC 5626 §4.4.1), as for TCP.
                ping_interval=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=self._max_size,
                user_agent_header=self._user_agent,
                **kwargs,  # type: ignore[arg-type]
            )
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"TLS certificate of {kwargs.get('server_hostname')} is not trusted ({exc.verify_message})",
                certificate=True,
            ) from exc
        except InvalidURI as exc:
            raise TransportError(f"bad WebSocket URL {self.url}: {exc}") from exc
        except InvalidHandshake as exc:
            raise TransportError(f"WebSocket handshake with {self.url} failed: {exc}") from exc
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise TransportError(f"cannot connect to {self.url}: {exc or 'timed out'}") from exc
        if ws.subprotocol != SUBPROTOCOL:
            # §4: without the sip subprotocol the server does not speak SIP on this connection.
            await ws.close(1002, "sip subprotocol required")
            raise TransportError(f"{self.url} did not accept the WebSocket subprotocol 'sip'")
        self._ws = ws
        sockname = ws.local_address
        self.local = (str(sockname[0]), int(sockname[1]))
        self._spawn(self._reader(ws))
        self._spawn(self._writer(ws))

    # -- what TransportManager calls --
    @property
    def is_open(self) -> bool:
        return self._ws is not None and not self._closing and not self.closed.is_set()

    def write(self, data: bytes) -> None:
        """Queue one whole SIP message; messages leave in the order they were written."""
        if not self.is_open:
            raise TransportError(f"WebSocket connection to {self.url} is closed")
        self._outbox.put_nowait(data)

    def ping(self) -> None:
        """A WebSocket Ping (RFC 7118 §6, RFC 6455 §5.5.2); ``last_pong`` moves when it is answered."""
        if self._ws is not None and self.is_open:
            self._spawn(self._ping(self._ws))

    def close(self) -> None:
        if self._ws is None or self._closing:
            return
        self._closing = True
        self._outbox.put_nowait(None)  # the writer sends what is queued, then closes

    async def wait_closed(self, timeout: float = CLOSE_TIMEOUT + 1.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), timeout)
        for task in list(self._tasks):
            task.cancel()

    # -- internals --
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _source(self) -> Source:
        return Source(self.dest.transport, self.dest.address, self.dest.port, *self.local)

    async def _reader(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
                if data == CRLF_PING:
                    if self.is_open:
                        self.write(CRLF_PONG)
                elif data == CRLF_PONG:
                    self.last_pong = time.monotonic()
                else:
                    self._on_message(data, self._source())
        except ConnectionClosed as exc:
            log.info("WebSocket %s closed: %s", self.url, exc)
        except Exception:
            log.exception("WebSocket %s: reader failed", self.url)
            await ws.close(1011)
        finally:
            self._finish()

    async def _writer(self, ws: ClientConnection) -> None:
        try:
            while True:
                data = await self._outbox.get()
                if data is None:
                    await ws.close()
                    return
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    await ws.send(data)  # a body that is not UTF-8: binary frame (§5.1)
                else:
                    await ws.send(text)
        except ConnectionClosed:
            pass  # the reader reports the loss
        except Exception:
            log.exception("WebSocket %s: writer failed", self.url)
            await ws.close(1011)  # the reader then reports the loss
        finally:
            self._closing = True

    async def _ping(self, ws: ClientConnection) -> None:
        try:
            waiter = await ws.ping()
            await waiter
        except ConnectionClosed:
            return
        self.last_pong = time.monotonic()

    def _finish(self) -> None:
        if self.closed.is_set():
            return
        self._closing = True
        self.closed.set()
        self._outbox.put_nowait(None)
        self._on_closed(self)
