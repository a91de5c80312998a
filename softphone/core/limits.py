"""Per-source request rate limiting: one peer must not make the engine work without bound.

A token bucket per source IP address (not per port: a scanner changes ports for free).  Requests over
the limit are dropped without an answer; answering them (503) would let a spoofed source turn us into
an amplifier, and a real UA retransmits over UDP anyway (RFC 3261 §17.1.2.2).  Responses are never
limited: they only match transactions we started.  Servers we send requests to (registrar, outbound
proxy) are trusted and exempt, so a busy proxy relaying many calls to us is never throttled.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

log = logging.getLogger(__name__)

DEFAULT_RATE: Final = 100.0  # requests per second, sustained
DEFAULT_BURST: Final = 200.0  # requests in a burst from an idle source
MAX_SOURCES: Final = 4096  # buckets kept; the least recently seen source is forgotten first
LOG_INTERVAL: Final = 10.0  # seconds between two "rate limited" log lines for one source


@dataclass
class _Bucket:
    tokens: float
    updated: float
    dropped: int = 0
    logged: float = float("-inf")


@dataclass
class SourceLimiter:
    """Token buckets keyed by source host; ``allow`` is O(1) and never raises."""

    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST
    max_sources: int = MAX_SOURCES
    trusted: set[str] = field(default_factory=set)
    dropped: int = 0
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict, repr=False)

    def trust(self, host: str) -> None:
        """Exempt a host we talk to on our own initiative (a registrar or proxy)."""
        if host not in self.trusted:
            if len(self.trusted) >= self.max_sources:
                self.trusted.pop()
            self.trusted.add(host)

    def allow(self, host: str, now: float) -> bool:
        if host in self.trusted:
            return True
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._buckets.popitem(last=False)
            bucket = self._buckets[host] = _Bucket(tokens=self.burst, updated=now)
        else:
            self._buckets.move_to_end(host)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        bucket.dropped += 1
        self.dropped += 1
        if now - bucket.logged >= LOG_INTERVAL:
            bucket.logged = now
            log.warning(
                "rate limit: dropping requests from %s (over %.0f/s; %d dropped so far)",
                host,
                self.rate,
                bucket.dropped,
            )
        return False
