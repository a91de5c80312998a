"""Message framing on stream transports (TCP, TLS): Content-Length framing and keep-alives."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseError
from .message import MAX_MESSAGE_SIZE

_HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class KeepAlivePing:
    """A double CRLF from the peer (RFC 5626 §4.4.1); answer with a single CRLF."""


@dataclass(frozen=True)
class KeepAlivePong:
    """A single CRLF from the peer, the answer to our ping."""


Frame = bytes | KeepAlivePing | KeepAlivePong


class StreamFramer:
    """Cuts a byte stream into whole SIP messages.

    Feed bytes with ``feed``; ``frames`` yields each whole message (as bytes, to be
    given to ``parse_message(..., stream=True)``) and keep-alive markers. A framing
    error (a bad or missing Content-Length, an oversized message) raises ParseError:
    the stream cannot be resynchronised, so the caller closes the connection
    (RFC 3261 §18.3, RFC 4475 §3.1.2.3).
    """

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buf = bytearray()
        self._max_size = max_size

    def feed(self, data: bytes) -> list[Frame]:
        self._buf.extend(data)
        out: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                break
            out.append(frame)
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)

    def _next(self) -> Frame | None:
        buf = self._buf
        if buf.startswith(b"\r\n\r\n"):
            del buf[:4]
            return KeepAlivePing()
        if buf.startswith(b"\r\n"):
            # CRLF alone is a pong; CRLF CRLF a ping (handled above). Anything else after
            # the CRLF (even a lone CR) starts the next message: take the pong and go on,
            # so the size checks below always apply (no unbounded buffering).
            if len(buf) == 2 or buf[2:3] != b"\r" or (len(buf) >= 4 and buf[3:4] != b"\n"):
                del buf[:2]
                return KeepAlivePong()
            return None
        end = buf.find(_HEAD_END)
        if end < 0:
            if len(buf) > self._max_size:
                raise ParseError("header section too large", 513)
            return None
        length = _content_length(bytes(buf[:end]))
        total = end + 4 + length
        if total > self._max_size:
            raise ParseError("message too large", 513)
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        return frame


def _content_length(head: bytes) -> int:
    values: list[bytes] = []
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            values.append(value.strip())
    if not values:
        return 0
    if len(set(values)) > 1 or not values[0].isdigit():
        raise ParseError("bad Content-Length on stream transport")
    return int(values[0])
