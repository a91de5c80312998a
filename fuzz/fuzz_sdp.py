#!/usr/bin/env python3
"""atheris target: SDP from the network (the body of an INVITE, 18x, 200 or UPDATE).

* ``parse_sdp`` on the bytes and on the decoded text: SdpError only; what parses serialises to a
  description that parses to the same thing (RFC 8866 §5 round trip).
* ``create_answer`` (we answer the input as a remote offer) and ``negotiate_answer`` (the input
  as the answer to our offer): NegotiationError or SdpError only.
* every ``a=crypto`` line: ``Crypto.problem()`` never raises, and a key it accepts is a key
  ``SrtpKey.from_inline`` accepts (otherwise the call would fail after the 200 OK).

Run: ``fuzz/run.sh 60`` or ``.venv/bin/python fuzz/fuzz_sdp.py -max_total_time=60 CORPUS_DIR``.
"""

from __future__ import annotations

import _common  # noqa: F401  (sets sys.path)
import atheris

with atheris.instrument_imports(include=["softphone"]):
    from softphone.media.sdp import (
        LocalMedia,
        NegotiationError,
        SdpError,
        SdpSession,
        create_answer,
        create_offer,
        negotiate_answer,
        parse_sdp,
    )
    from softphone.media.srtp import SrtpKey

from _common import known_crypto_lifetime_bug, main


def _keys(length: int) -> bytes:
    return bytes(range(1, length + 1))


LOCALS = [
    LocalMedia(address="192.0.2.1", port=40000),
    LocalMedia(address="192.0.2.1", port=40000, srtp="required", codecs=["PCMU", "opus"], rtcp_mux=False),
    LocalMedia(address="2001:db8::1", port=40002, srtp="off", codecs=["G722", "PCMA"], dtmf=False),
]
OUR_OFFERS = [create_offer(local, session=SdpSession(), key_factory=_keys) for local in LOCALS]


def check(data: bytes | str) -> None:
    try:
        desc = parse_sdp(data)
    except SdpError:
        return
    wire = desc.serialize()
    again = parse_sdp(wire)
    assert again == desc, (data, wire)
    assert again.serialize() == wire

    for media in desc.media:
        for crypto in media.crypto:
            if crypto.problem() is None and not known_crypto_lifetime_bug(crypto.key_params):
                SrtpKey.from_inline(crypto.suite, crypto.key_params)

    for local, offer in zip(LOCALS, OUR_OFFERS, strict=True):
        try:
            create_answer(desc, local, session=SdpSession(), key_factory=_keys)
        except (NegotiationError, SdpError):
            pass
        try:
            negotiate_answer(offer, desc, local)
        except (NegotiationError, SdpError):
            pass


def test_one_input(data: bytes) -> None:
    check(data)
    # The str path too (parse_sdp takes both); lone surrogates are left out: SIP bodies are bytes,
    # and a str holding them parses but cannot be serialised back to UTF-8.
    check(data.decode("utf-8", "replace"))


if __name__ == "__main__":
    main(test_one_input)
