"""The Redis cache keeps one client per pool, shares it between threads, and fails soft while Redis is down."""

import threading

import pytest

from campaign.cache import FailSoftRedisCache
from petitions.tests.conftest import free_port
from petitions.tests.test_faults_signing import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed")


@pytest.fixture
def redis_server():
    server = RedisServer(free_port()).start()
    yield server
    server.stop()


def make_cache(url):
    return FailSoftRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


def test_one_client_serves_every_call_from_every_thread(redis_server):
    cache = make_cache(redis_server.url)
    clients, errors = [], []

    def count():
        try:
            for _ in range(50):
                cache.add("hits", 0, 60)
                cache.incr("hits")
                clients.append(cache._cache.get_client(write=True))
        except Exception as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert cache.get("hits") == 200, "no increment was lost between threads"
    assert len({id(client) for client in clients}) == 1, "the clients are kept, so no id is reused"


def test_the_kept_client_fails_soft_while_redis_is_down_and_works_again_when_it_is_back(redis_server):
    cache = make_cache(redis_server.url)
    cache.set("count", 41, 60)
    redis_server.stop()

    assert cache.get("count", "missed") == "missed"
    assert cache.incr("count") is None

    redis_server.start()  # empty again: it keeps nothing on disk
    cache.set("count", 42, 60)
    assert cache.get("count") == 42


def test_count_many_adds_one_to_each_counter_and_starts_a_new_one_with_its_timeout(redis_server):
    cache = make_cache(redis_server.url)
    cache.set("older", 5, 600)

    assert cache.count_many({"new": 60, "older": 60}) == {"new": 1, "older": 6}
    assert cache.count_many({"new": 60}) == {"new": 2}

    # Plain integers, as Django's Redis cache keeps them: its get and incr (django-ratelimit's) agree.
    assert cache.get("new") == 2
    assert cache.incr("new") == 3
    client = cache._cache.get_client()
    assert 55 <= client.ttl(cache.make_and_validate_key("new")) <= 60
    assert client.ttl(cache.make_and_validate_key("older")) > 60, "a counter keeps the timeout it started with"


def test_count_many_fails_soft_while_redis_is_down(redis_server):
    cache = make_cache(redis_server.url)
    redis_server.stop()

    assert cache.count_many({"hits": 60}) == {}
