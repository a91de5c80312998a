"""softphone-cli: the headless engine for scripts, monitoring and tests.

The options and the JSON event names are a stable interface: scripts rely on them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence

from . import __version__
from .cli_engine import _engine
from .core.account import AccountConfig, AccountError
from .core.events import EngineEvent
from .core.secrets import get_password
from .core.trace import TraceEntry

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="softphone-cli",
        description="Headless SIP softphone engine.",
        epilog="Passwords are read from the environment variable named by --password-env, "
        "or from the OS keyring for a saved account; never from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--user", help="the account's SIP address, e.g. sip:alice@example.com")
    parser.add_argument("--auth-user", help="user name for authentication, if not the address's user")
    parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    parser.add_argument("--display-name", help="name shown to the people you call")
    parser.add_argument("--transport", choices=["udp", "tcp", "tls", "ws", "wss"], default="udp")
    parser.add_argument("--proxy", metavar="URI", help="outbound proxy, e.g. sip:proxy.example.com:5060")
    parser.add_argument(
        "--ws-url",
        metavar="URL",
        help="SIP WebSocket server (RFC 7118), e.g. wss://sip.example.com/ws; implies --transport ws/wss",
    )
    parser.add_argument("--registrar", metavar="URI", help="registrar, if not the address's domain")
    parser.add_argument("--expires", type=int, default=600, help="registration interval asked for (s)")
    parser.add_argument("--listen", metavar="HOST:PORT", default="0.0.0.0:0", help="local UDP address")
    parser.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    parser.add_argument("--sip-trace", action="store_true", help="print every SIP message to stderr")
    parser.add_argument("--ca-file", help="extra CA certificates to trust for TLS")
    parser.add_argument(
        "--tls-no-verify",
        action="store_true",
        help="accept any TLS certificate (a self-signed test server); insecure",
    )
    parser.add_argument(
        "--media-profile",
        choices=["classic", "webrtc", "auto"],
        default="auto",
        help="media our calls offer: classic RTP (SDES-SRTP), webrtc (DTLS-SRTP, ICE, BUNDLE) or auto "
        "(webrtc for ws/wss accounts); calls we answer follow the caller's offer",
    )
    parser.add_argument("--dns-server", metavar="IP:PORT", help="use this DNS server (RFC 3263 lookups)")
    parser.add_argument("--t1", type=float, default=0.5, help="RFC 3261 timer T1 in seconds")
    parser.add_argument("--keepalive", type=float, help="keep-alive interval in seconds")
    parser.add_argument("--retry-max", type=float, default=60.0, help="longest wait between retries (s)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    reg = sub.add_parser("register", help="register and stay registered")
    reg.add_argument("--for", dest="duration", type=float, metavar="SECONDS", help="then unregister and exit")
    sub.add_parser("devices", help="list audio devices")
    call = sub.add_parser("call", help="place a call")
    call.add_argument("uri", help="who to call: sip:bob@example.com, bob@host, or a number")
    _media_options(call)
    call.add_argument("--dtmf", help="digits to send once the call is answered, e.g. 123#")
    answer = sub.add_parser("answer", help="wait for calls and answer them")
    _media_options(answer)
    answer.add_argument("--calls", type=int, default=1, help="answer this many calls, then exit (0: forever)")
    answer.add_argument("--allow-direct", action="store_true", help="accept calls that bypass the proxy")
    return parser


def _media_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--play", metavar="WAV", help="send this WAV file (looped) as the microphone")
    parser.add_argument("--record", metavar="WAV", help="record what you hear to this WAV file")
    parser.add_argument(
        "--record-call", metavar="WAV", help="record the call, both sides mixed (16 kHz), from its answer on"
    )
    parser.add_argument("--duration", type=float, help="hang up after this many seconds of conversation")
    parser.add_argument("--codecs", default="opus,G722,PCMU,PCMA", help="codecs in order of preference")
    parser.add_argument("--srtp", choices=["off", "optional", "required"], default="optional")
    parser.add_argument(
        "--media-timeout", type=float, default=30.0, help="hang up after this long without RTP"
    )
    parser.add_argument("--interactive", action="store_true", help="read JSON commands from stdin")
    parser.add_argument("--ice", action="store_true", help="offer and answer ICE (RFC 8445) for the media")
    parser.add_argument(
        "--stun-server", metavar="HOST:PORT", help="STUN server for ICE (server-reflexive; implies --ice)"
    )
    parser.add_argument(
        "--turn-server", metavar="HOST:PORT", help="TURN server for ICE (relayed candidate; implies --ice)"
    )
    parser.add_argument("--turn-user", metavar="NAME", help="TURN user name")
    parser.add_argument("--turn-password-env", metavar="VAR", help="environment variable: TURN password")
    parser.add_argument("--ice-relay-only", action="store_true", help="offer only the TURN relayed candidate")
    parser.add_argument(  # the global option, also accepted after the command
        "--media-profile",
        choices=["classic", "webrtc", "auto"],
        default=argparse.SUPPRESS,
        help="as the global --media-profile",
    )
    parser.add_argument("--mic", metavar="DEVICE", help="sound device as microphone: 'default' or a name")
    parser.add_argument("--speaker", metavar="DEVICE", help="sound device for what you hear, or 'default'")
    parser.add_argument("--ringer", metavar="DEVICE", help="sound device for the ringtone (--interactive)")
    parser.add_argument(
        "--aec",
        choices=["auto", "webrtc", "speex", "none"],
        help="echo cancellation; default: auto with a sound device microphone, none with files",
    )
    parser.add_argument("--levels", action="store_true", help="report mic and speaker levels (10 per second)")


class Output:
    """Events on stdout, as JSON lines or plain words; the trace on stderr."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode

    def event(self, event: EngineEvent) -> None:
        if self.json_mode:
            print(event.to_json(), flush=True)
        elif event.name not in ("started", "stopped"):
            print(event.describe(), flush=True)

    def trace(self, entry: TraceEntry) -> None:
        print(entry.format(), file=sys.stderr, flush=True)


async def run_register(args: argparse.Namespace, config: AccountConfig, out: Output) -> int:
    engine = _engine(args, out, config)
    failed = asyncio.Event()
    stop = asyncio.Event()

    def watch(event: EngineEvent) -> None:
        if event.name == "registration_failed" and event.fields.get("permanent"):
            failed.set()

    engine.subscribe(out.event)
    engine.subscribe(watch)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    engine.add_account(config)
    await engine.register(config.id)
    waiters = [asyncio.ensure_future(failed.wait()), asyncio.ensure_future(stop.wait())]
    await asyncio.wait(waiters, timeout=args.duration, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    await engine.stop()
    return EXIT_FAILED if failed.is_set() else EXIT_OK


def account_from_args(args: argparse.Namespace) -> AccountConfig:
    if not args.user:
        raise AccountError("--user is required for this command")
    password: str | None = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise AccountError(f"environment variable {args.password_env} is not set")
    else:
        password = get_password(args.user)
    return AccountConfig(
        aor=args.user,
        auth_user=args.auth_user,
        password=password,
        display_name=args.display_name,
        # A WebSocket URL only makes sense over a WebSocket; its scheme says ws or wss.
        transport=args.transport if not args.ws_url or args.transport in ("ws", "wss") else "ws",
        ws_url=args.ws_url,
        proxy=args.proxy,
        registrar=args.registrar,
        expires=args.expires,
        tls_verify=not args.tls_no_verify,
        ca_file=args.ca_file,
        keepalive_interval=args.keepalive,
        retry_max=args.retry_max,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    out = Output(args.json)
    if args.command == "devices":
        from .core.audio_devices import audio_devices, describe_devices

        if args.json:
            for dev in audio_devices():
                print(json.dumps({"event": "device", **dataclasses.asdict(dev)}))
        else:
            print(describe_devices())
        return EXIT_OK
    try:
        config = account_from_args(args) if args.user else None
    except AccountError as exc:
        print(f"softphone-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "register":
        if config is None:
            print("softphone-cli: --user is required for register", file=sys.stderr)
            return EXIT_USAGE
        return asyncio.run(run_register(args, config, out))
    if args.command in ("call", "answer"):
        from .calls_cli import run_answer, run_call

        runner = run_call if args.command == "call" else run_answer
        return asyncio.run(runner(args, config, out))
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
