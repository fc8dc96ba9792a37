"""Throttles degrade safely when Redis goes away (issue 16: failures): no 500, every attempt still counted and
limited (in the process's own memory while Redis is unreachable), and Redis's shared counts again once it is back.
Redis really goes away: the counter talks to it through a TCP relay of this test's own."""
from __future__ import annotations

import os
import uuid

import pytest

from network.core.ratelimit import RedisCounter, ResilientCounter
from tests.relay import Relay

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def relay():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis is required in CI at " + REDIS_URL)
        pytest.skip("Redis not reachable at " + REDIS_URL)
    relay = Relay(("127.0.0.1", int(REDIS_URL.split(":")[2].split("/")[0])))
    yield relay
    relay.close()


def test_a_redis_outage_keeps_every_limit_and_redis_counts_again_when_it_is_back(relay):
    database = REDIS_URL.rsplit("/", 1)[1]
    counter = ResilientCounter(RedisCounter(f"redis://127.0.0.1:{relay.port}/{database}"), retry_seconds=0)
    key = f"sign-in:{uuid.uuid4().hex}"
    assert counter.reserve(key, 60, 3) is not None  # through Redis
    assert not counter.degraded

    relay.cut()
    during = [counter.reserve(key, 60, 3) for _ in range(5)]
    assert counter.degraded
    assert sum(event is not None for event in during) == 3  # the limit still holds, in this process
    assert during[3:] == [None, None]

    relay.restore()
    assert counter.reserve(key, 60, 3) is not None  # Redis again: it had 1 of 3
    assert counter.reserve(key, 60, 3) is not None
    assert counter.reserve(key, 60, 3) is None
    assert not counter.degraded
    assert RedisCounter(REDIS_URL).count(key, 60) == 3  # the shared count is Redis's


@pytest.mark.config(RATELIMIT_STORAGE_URL="redis://127.0.0.1:9/0", LOGIN_ACCOUNT_LIMIT=3)
def test_sign_in_with_redis_unreachable_is_still_throttled_and_never_a_500(app, client, member):
    from tests.conftest import submit

    answers = [submit(client, "/sign-in", {"email": member.email, "password": "wrong password"}).status_code
               for _ in range(5)]
    assert 500 not in answers
    page = submit(client, "/sign-in", {"email": member.email, "password": "wrong password"})
    assert page.status_code in (200, 429)
    assert "Too many" in page.get_data(as_text=True) or page.status_code == 429
