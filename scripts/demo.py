"""`make demo`: a local registrar (Kamailio) with two demo users, for trying the app.

Starts Kamailio on 127.0.0.1:5060 (UDP and TCP) with users demo1 and demo2 (passwords
demo1-secret and demo2-secret), prints how to use them, and runs until Ctrl+C.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.peers.kamailio import KamailioServer  # noqa: E402

USERS = {"demo1": "demo1-secret", "demo2": "demo2-secret"}


def main() -> int:
    server = KamailioServer(USERS)
    server.udp_port, server.tcp_port, server.tls_port, server.ws_port = 5060, 5060, 5061, 8080
    try:
        server.start()
    except Exception as exc:
        print(f"cannot start Kamailio on 127.0.0.1:5060: {exc}", file=sys.stderr)
        return 1
    print(
        "Demo registrar running on 127.0.0.1:5060 (UDP, TCP), 5061 (TLS), 8080 (WebSocket).\n"
        "  In the app (make run): add the account sip:demo1@127.0.0.1, password demo1-secret.\n"
        "  In another terminal, the second user answers calls:\n"
        "    SIP_PASSWORD=demo2-secret .venv/bin/softphone-cli --user sip:demo2@127.0.0.1 \\\n"
        "        --password-env SIP_PASSWORD --proxy sip:127.0.0.1:5060 answer --calls 0\n"
        "  Then call sip:demo2@127.0.0.1 (or just demo2) from the app.\n"
        "Ctrl+C stops the registrar."
    )
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop and server.is_running():
            time.sleep(0.5)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
