"""Per-token state that the configuration seeds: credit balances and rate-limit windows."""

from __future__ import annotations

from collections import deque

from sora_mock.engine.config import TokenProfile


class Accounts:
    """Credit balances and recent request times of every token seen. Not thread-safe alone:
    the engine calls it under its lock."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self._recent: dict[str, deque[float]] = {}

    def balance(self, token: str, profile: TokenProfile) -> float | None:
        """Credits left, or None for an unlimited profile."""
        if profile.credits is None:
            return None
        return profile.credits - self._spent.get(token, 0.0)

    def can_afford(self, token: str, profile: TokenProfile, cost: float) -> bool:
        """True when the token can pay ``cost`` now."""
        balance = self.balance(token, profile)
        return balance is None or balance + 1e-9 >= cost

    def charge(self, token: str, cost: float) -> None:
        """Take ``cost`` credits from the token."""
        self._spent[token] = self._spent.get(token, 0.0) + cost

    def wait_needed(self, token: str, profile: TokenProfile, now: float) -> float | None:
        """Count a request; None when allowed, else mock seconds until one is."""
        limit = profile.rate_limit
        if limit is None:
            return None
        recent = self._recent.setdefault(token, deque())
        while recent and recent[0] <= now - limit.window_seconds:
            recent.popleft()
        if len(recent) >= limit.requests:
            return recent[0] + limit.window_seconds - now
        recent.append(now)
        return None

    def reset(self) -> None:
        """Forget all spending and request history."""
        self._spent.clear()
        self._recent.clear()
