"""A call quality estimate for people: the ITU-T G.107 E-model, simplified, as a MOS from 1 to 4.5."""

from __future__ import annotations

# Equipment impairment (Ie) and packet-loss robustness (Bpl) per codec, G.113 Appendix I values
# for G.711 with PLC; wideband codecs are rated on the same narrowband scale here.
_CODECS = {
    "pcmu": (0.0, 25.1),
    "pcma": (0.0, 25.1),
    "g722": (0.0, 20.0),
    "opus": (0.0, 30.0),
}


def estimate_mos(
    codec: str | None,
    rtt_ms: float | None,
    jitter_ms: float | None,
    fraction_lost: float | None,
) -> float | None:
    """Mean opinion score from round-trip time, jitter and loss; None with nothing measured."""
    if rtt_ms is None and jitter_ms is None and fraction_lost is None:
        return None
    ie, bpl = _CODECS.get((codec or "").lower(), (0.0, 20.0))
    delay = (rtt_ms or 0.0) / 2 + 2 * (jitter_ms or 0.0) + 20.0  # one way, plus jitter buffer and framing
    idd = 0.024 * delay + (0.11 * (delay - 177.3) if delay > 177.3 else 0.0)
    loss = max(0.0, min(1.0, fraction_lost or 0.0)) * 100
    ie_eff = ie + (95 - ie) * loss / (loss + bpl)
    r = max(0.0, min(100.0, 93.2 - idd - ie_eff))
    mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
    return round(max(1.0, min(4.5, mos)), 2)


def quality_label(mos: float | None) -> str:
    """Words for the score (not translated here: the windows pass them through tr())."""
    if mos is None:
        return "Unknown"
    if mos >= 4.0:
        return "Excellent"
    if mos >= 3.6:
        return "Good"
    if mos >= 3.1:
        return "Fair"
    if mos >= 2.6:
        return "Poor"
    return "Bad"
