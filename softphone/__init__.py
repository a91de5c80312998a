"""A desktop softphone for SIP and WebRTC."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/softphone/softphone"  # the project's home, shown in Help -> About
