"""Sliding-window counters for throttling (sign-in, second factor, applications, reset mails): in memory, or in
Redis for many processes.

Throttles reserve before they work: `reserve` counts and adds in one atomic step, so a burst of simultaneous
attempts can never pass more than the limit between a check and a later add (the race of issue 12, finding 1).
"""
from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque

from flask import Flask, current_app

log = logging.getLogger("network.security")


def _event_id(now: float) -> str:
    return f"{now:.6f}:{uuid.uuid4().hex}"


class MemoryCounter:
    """Counts events per key in a sliding window, in this process only."""

    def __init__(self) -> None:
        self._events: dict[str, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, window: int, now: float) -> deque[tuple[float, str]]:
        events = self._events.setdefault(key, deque())
        while events and events[0][0] <= now - window:
            events.popleft()
        return events

    def add(self, key: str, window: int) -> int:
        now = time.time()
        with self._lock:
            events = self._prune(key, window, now)
            events.append((now, _event_id(now)))
            return len(events)

    def reserve(self, key: str, window: int, limit: int) -> str | None:
        """Count and add in one step under the lock: an id for the new event (to `release` it) if fewer than
        `limit` events lie in the window, else None and nothing is added."""
        now = time.time()
        with self._lock:
            events = self._prune(key, window, now)
            if len(events) >= limit:
                return None
            event = _event_id(now)
            events.append((now, event))
            return event

    def release(self, key: str, event: str) -> None:
        """Take back one reserved event (the attempt turned out not to count)."""
        with self._lock:
            events = self._events.get(key)
            if events:
                for item in events:
                    if item[1] == event:
                        events.remove(item)
                        break

    def count(self, key: str, window: int) -> int:
        with self._lock:
            return len(self._prune(key, window, time.time()))

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


# KEYS[1]: the sorted set; ARGV: now, window, limit, event id. Prune, count and add as one step in Redis.
_RESERVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class RedisCounter:
    """The same counter in Redis sorted sets, shared by every app server."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._prefix = "network:rl:"
        self._reserve = self._redis.register_script(_RESERVE)

    def add(self, key: str, window: int) -> int:
        now = time.time()
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, now - window)
        pipe.zadd(name, {_event_id(now): now})
        pipe.zcard(name)
        pipe.expire(name, window + 1)
        return int(pipe.execute()[2])

    def reserve(self, key: str, window: int, limit: int) -> str | None:
        """Count and add in one Lua script (atomic in Redis): an id for the new event if fewer than `limit`
        events lie in the window, else None and nothing is added."""
        now = time.time()
        event = _event_id(now)
        added = self._reserve(keys=[self._prefix + key], args=[repr(now), math.ceil(window), int(limit), event])
        return event if int(added) == 1 else None

    def release(self, key: str, event: str) -> None:
        self._redis.zrem(self._prefix + key, event)

    def count(self, key: str, window: int) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, time.time() - window)
        pipe.zcard(name)
        return int(pipe.execute()[1])

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


class ResilientCounter:
    """Redis, and while Redis cannot be reached, this process's own memory: throttles degrade safely instead of
    failing every sign-in (a 500) or letting every attempt through. During an outage each process counts alone, so
    the limit holds per process (a bound of limit x processes, never unlimited); Redis is tried again after
    `retry_seconds`, and its counts are used again as soon as it answers (it may have lost them if it restarted
    without persistence: the window starts afresh, as after any restart)."""

    def __init__(self, primary: RedisCounter, retry_seconds: float = 5.0) -> None:
        import redis

        self._primary = primary
        self._fallback = MemoryCounter()
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self.degraded = False  # True while counts go to this process's memory
        self._errors = (redis.RedisError, OSError)

    def _call(self, name: str, *args):
        if time.monotonic() >= self._down_until:
            try:
                answer = getattr(self._primary, name)(*args)
            except self._errors as error:
                if not self.degraded:
                    log.warning("rate-limit storage unreachable (%s): counting in this process until it answers",
                                type(error).__name__)
                self.degraded = True
                self._down_until = time.monotonic() + self._retry_seconds
            else:
                if self.degraded:
                    log.warning("rate-limit storage answers again: shared counts resume")
                self.degraded = False
                return answer
        return getattr(self._fallback, name)(*args)

    def add(self, key: str, window: int) -> int:
        return self._call("add", key, window)

    def reserve(self, key: str, window: int, limit: int) -> str | None:
        return self._call("reserve", key, window, limit)

    def release(self, key: str, event: str) -> None:
        self._call("release", key, event)

    def count(self, key: str, window: int) -> int:
        return self._call("count", key, window)

    def reset(self, key: str) -> None:
        self._call("reset", key)
        self._fallback.reset(key)


def make_counter(url: str) -> MemoryCounter | ResilientCounter:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return ResilientCounter(RedisCounter(url))
    if url in ("memory://", ""):
        return MemoryCounter()
    raise ValueError(f"unknown rate-limit storage {url!r}: use memory:// or redis://")


def counter() -> MemoryCounter | ResilientCounter:
    return current_app.extensions["network.ratelimit"]


def configure_ratelimit(app: Flask) -> None:
    app.extensions["network.ratelimit"] = make_counter(app.config["RATELIMIT_STORAGE_URL"])
