"""The engine the command line builds from its options; shared by ``cli.py`` (register, devices) and
``calls_cli.py`` (call, answer), so that neither imports the other for it."""

from __future__ import annotations

import argparse
from typing import Any

from .core.account import AccountConfig
from .core.engine import Engine, MediaOptions


def _split_hostport(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    return host, int(port) if port else default_port


def _engine(
    args: argparse.Namespace, out: Any, config: AccountConfig | None, media: MediaOptions | None = None
) -> Engine:
    return Engine.configured(
        listen=_split_hostport(args.listen, 0),
        dns_server=_split_hostport(args.dns_server, 53) if args.dns_server else None,
        t1=args.t1,
        tls_verify=not args.tls_no_verify,
        ca_file=args.ca_file,
        trace=out.trace if args.sip_trace else None,
        media=media,
    )
