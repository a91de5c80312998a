"""Per-source request rate limiting (softphone.core.limits)."""

from __future__ import annotations

from softphone.core.limits import SourceLimiter


def test_a_burst_up_to_the_bucket_size_is_allowed() -> None:
    limiter = SourceLimiter(rate=10, burst=20)
    assert all(limiter.allow("192.0.2.1", 0.0) for _ in range(20))


def test_requests_beyond_the_burst_are_dropped_and_counted() -> None:
    limiter = SourceLimiter(rate=10, burst=20)
    results = [limiter.allow("192.0.2.1", 0.0) for _ in range(25)]
    assert results.count(False) == 5
    assert limiter.dropped == 5


def test_tokens_come_back_at_the_sustained_rate() -> None:
    limiter = SourceLimiter(rate=10, burst=20)
    for _ in range(20):
        limiter.allow("192.0.2.1", 0.0)
    assert not limiter.allow("192.0.2.1", 0.0)
    assert limiter.allow("192.0.2.1", 0.1)  # 0.1 s at 10/s is one token
    assert not limiter.allow("192.0.2.1", 0.1)


def test_sources_are_limited_independently() -> None:
    limiter = SourceLimiter(rate=1, burst=1)
    assert limiter.allow("192.0.2.1", 0.0)
    assert not limiter.allow("192.0.2.1", 0.0)
    assert limiter.allow("192.0.2.2", 0.0)


def test_a_trusted_server_is_never_limited() -> None:
    limiter = SourceLimiter(rate=1, burst=1)
    limiter.trust("192.0.2.9")
    assert all(limiter.allow("192.0.2.9", 0.0) for _ in range(1000))


def test_the_table_of_sources_is_bounded() -> None:
    limiter = SourceLimiter(rate=1, burst=1, max_sources=100)
    for n in range(1000):
        limiter.allow(f"10.0.{n // 256}.{n % 256}", 0.0)
    assert len(limiter._buckets) == 100
