"""A desktop softphone for SIP and WebRTC."""

__version__ = "0.1.0"
