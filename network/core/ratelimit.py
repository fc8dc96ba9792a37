"""Sliding-window counters for throttling (sign-in, applications): in memory, or in Redis for many processes."""
from __future__ import annotations

import threading
import time
from collections import deque

from flask import Flask, current_app


class MemoryCounter:
    """Counts events per key in a sliding window, in this process only."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, window: int, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - window:
            events.popleft()
        return events

    def add(self, key: str, window: int) -> int:
        now = time.time()
        with self._lock:
            events = self._prune(key, window, now)
            events.append(now)
            return len(events)

    def count(self, key: str, window: int) -> int:
        with self._lock:
            return len(self._prune(key, window, time.time()))

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class RedisCounter:
    """The same counter in Redis sorted sets, shared by every app server."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._prefix = "network:rl:"

    def add(self, key: str, window: int) -> int:
        now = time.time()
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, now - window)
        pipe.zadd(name, {f"{now:.6f}:{time.perf_counter_ns()}": now})
        pipe.zcard(name)
        pipe.expire(name, window + 1)
        return int(pipe.execute()[2])

    def count(self, key: str, window: int) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, time.time() - window)
        pipe.zcard(name)
        return int(pipe.execute()[1])

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


def make_counter(url: str) -> MemoryCounter | RedisCounter:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisCounter(url)
    if url in ("memory://", ""):
        return MemoryCounter()
    raise ValueError(f"unknown rate-limit storage {url!r}: use memory:// or redis://")


def counter() -> MemoryCounter | RedisCounter:
    return current_app.extensions["network.ratelimit"]


def configure_ratelimit(app: Flask) -> None:
    app.extensions["network.ratelimit"] = make_counter(app.config["RATELIMIT_STORAGE_URL"])
