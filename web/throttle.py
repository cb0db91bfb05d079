"""Login throttling: after `limit` failed logins for one account or from one address within
`window` seconds, further attempts are refused until the oldest failure leaves the window.

Kept in memory per process: a restart forgets, which only ever lets a locked-out person in sooner.
"""
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 10_000  # a flood of made-up names cannot grow this without bound


@dataclass
class LoginThrottle:
    limit: int = 5
    window: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque] = field(default_factory=dict)

    @staticmethod
    def keys(name: str, address: str | None) -> tuple[str, str]:
        return "account:" + name.strip().casefold()[:64], "address:" + (address or "unknown")

    def retry_after(self, keys: tuple[str, ...]) -> int | None:
        """Seconds until an attempt is allowed again, or None when it is allowed now."""
        now = self.clock()
        waits = []
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                waits.append(times[-self.limit] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, keys: tuple[str, ...]) -> None:
        now = self.clock()
        if len(self._failures) >= MAX_KEYS:
            for key in list(self._failures):
                self._recent(key, now)
            while len(self._failures) >= MAX_KEYS:  # still full: forget the longest-known keys
                self._failures.pop(next(iter(self._failures)))
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account_key: str) -> None:
        """A right password clears the account's failures; the address keeps its own."""
        self._failures.pop(account_key, None)

    def _recent(self, key: str, now: float) -> deque:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times
