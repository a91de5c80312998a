"""Parser throughput: messages per second for a typical INVITE and a REGISTER response.

Run: .venv/bin/python bench/parse.py  (prints numbers; not a test)
"""

from __future__ import annotations

import time

from softphone.sip.incoming import classify
from softphone.sip.message import parse_message

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"Max-Forwards: 70\r\n"
    b"Record-Route: <sip:proxy.example.com;lr>\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@192.0.2.10:5060>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, REFER\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: Softphone/0.1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 142\r\n"
    b"\r\n"
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)
REGISTER_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7;rport=5060;received=198.51.100.7\r\n"
    b"From: <sip:alice@atlanta.example.com>;tag=a73kszlfl\r\n"
    b"To: <sip:alice@atlanta.example.com>;tag=37GkEhwl6\r\n"
    b"Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
    b"CSeq: 2 REGISTER\r\n"
    b"Contact: <sip:alice@192.0.2.10:5060>;expires=600\r\n"
    b"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def rate(fn, data: bytes, seconds: float = 1.5) -> float:
    count = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(200):
            fn(data)
        count += 200
    return count / (time.perf_counter() - start)


def main() -> None:
    print(f"{'what':44} {'msgs/s':>10}")
    for label, fn, data in [
        ("parse INVITE (framing + headers)", parse_message, INVITE),
        ("classify INVITE (parse + full validation)", classify, INVITE),
        ("parse REGISTER 200 OK", parse_message, REGISTER_200),
        ("classify REGISTER 200 OK", classify, REGISTER_200),
    ]:
        print(f"{label:44} {rate(fn, data):>10,.0f}")


if __name__ == "__main__":
    main()
