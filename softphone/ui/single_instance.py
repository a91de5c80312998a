"""One running phone per user: a second launch hands its sip:/tel: URI over through a QLocalServer."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..core.settings import config_dir

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1000


def server_name() -> str:
    """Per user and per configuration folder, so test runs and a second profile do not meet."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    digest = hashlib.sha256(str(config_dir()).encode()).hexdigest()[:12]
    return f"softphone-{user}-{digest}"


def is_call_uri(text: str) -> bool:
    return text.lower().startswith(("sip:", "sips:", "tel:", "callto:"))


def normalize_uri(text: str) -> str:
    """``callto:`` and ``tel:`` links as something the dialer takes; ``sip:`` as it is."""
    text = text.strip()
    if text.lower().startswith("callto:"):
        text = text[7:].lstrip("/")
    return text


def send_to_running(message: dict[str, str], name: str | None = None) -> bool:
    """True when a running instance took the message (then this launch should end)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    data = (json.dumps(message) + "\n").encode()
    ok = socket.write(data) == len(data)
    socket.flush()
    while ok and socket.bytesToWrite() > 0:
        ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    if ok:
        socket.waitForReadyRead(CONNECT_TIMEOUT_MS)  # the server acknowledges (not in the same thread)
    socket.disconnectFromServer()
    return ok


class SingleInstance(QObject):
    """The first launch listens; ``dial_requested`` and ``show_requested`` carry what later ones want."""

    dial_requested = Signal(str)
    show_requested = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # a stale socket from a crashed run: nobody answered a moment ago, so take it over
        QLocalServer.removeServer(self.name)
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("single instance: cannot listen on %s: %s", self.name, self.server.errorString())
        return ok

    def close(self) -> None:
        self.server.close()

    def _connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                return
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._gone(s))

    def _gone(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            self._handle(line)
            socket.write(b"ok\n")
        self._buffers[socket] = data

    def _handle(self, line: bytes) -> None:
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        if not isinstance(message, dict):
            return
        uri = message.get("dial")
        if isinstance(uri, str) and is_call_uri(uri):
            self.dial_requested.emit(normalize_uri(uri))
        else:
            self.show_requested.emit()
