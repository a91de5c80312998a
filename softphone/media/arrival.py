"""When a datagram really arrived: the kernel's receive timestamp (SO_TIMESTAMPNS, Linux).

The jitter buffer's delay estimate is built from arrival times. A time taken when the event loop
gets round to a datagram includes the loop's own delays (a busy tick, a task switch, a queue in
between): a stall of the receiver would look like network jitter, and the buffer would grow its
delay and shift the playout for no reason. The kernel notes the time a datagram reached the
socket, which is what the buffer needs. Sockets read here ask for that stamp; where it is not
available (other systems), the time of the read stands in.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import time
from typing import Any, Final

# SO_TIMESTAMPNS has this value on Linux's asm-generic architectures only.
SO_TIMESTAMPNS: Final = 35
TIMESTAMPNS_MACHINES: Final = frozenset({"x86_64", "amd64", "i386", "i686", "aarch64", "arm64", "riscv64"})
TIMESPEC: Final = struct.Struct("@ll")  # struct timespec (tv_sec, tv_nsec) on Linux
MAX_AGE: Final = 0.5  # a larger age (seconds) means the wall clock stepped: trust it this far
ANCILLARY_SIZE: Final = 64  # room for one timespec control message


def enable_timestamps(sock: socket.socket) -> bool:
    """Have the kernel note each datagram's arrival time on ``sock``; False where it cannot."""
    if sys.platform != "linux" or os.uname().machine not in TIMESTAMPNS_MACHINES:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def arrival_time(ancillary: list[tuple[int, int, Any]], now: float) -> float:
    """``now`` (any monotonic clock, e.g. ``loop.time()``) moved back by the datagram's age, taken from
    the kernel's timestamp in ``ancillary`` (``recvmsg``'s control messages); ``now`` without one."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(value)
            # the kernel stamps wall-clock time
            age = time.time() - (float(seconds) + float(nanoseconds) * 1e-9)
            return now - min(max(age, 0.0), MAX_AGE)
    return now
