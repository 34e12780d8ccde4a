"""A token bucket shared by every thread fetching one region.

LookupEvents allows 2 requests per second per account and region. Throttled requests count
too, so every attempt (first try or retry) takes a token; the default burst of 1 spaces
requests 1/rate apart, never above the limit on purpose.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`acquire()` blocks until a request may be sent; thread-safe."""

    def __init__(self, rate: float, burst: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = burst
        self._last = clock()

    def _reserve(self) -> float:
        """Take a token now (possibly going into debt); return how long to wait for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def acquire(self, cancelled: threading.Event | None = None) -> bool:
        """Wait for a token. False when `cancelled` was set while waiting (token not used)."""
        wait = self._reserve()
        if wait <= 0:
            return True
        if cancelled is not None:
            return not cancelled.wait(wait)
        self._sleep(wait)
        return True
