"""A Redis cache that fails soft: while Redis is unreachable, reads miss and writes are dropped.

The cache holds only what can be recomputed (counts, rate-limit counters), so an outage must cost
speed, never a 500 page or a lost signature.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _soft(method, fallback):
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _UNREACHABLE as exc:
            log.warning("cache unreachable during %s: %s", method.__name__, type(exc).__name__)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    wrapper.__name__ = method.__name__
    return wrapper


def _default(key, default=None, *args, **kwargs):
    return default


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool.

    Django makes a new redis.Redis for every cache call, and redis-py fills a table of some 170
    response callbacks in each: a tenth of a millisecond per call, several calls per signature (rate
    limits, the count). A redis-py client holds no connection of its own and is safe to share
    between threads; its pool checks the process id, so it survives a fork too.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    def count_many(self, timeouts):
        """Add one to each counter in TIMEOUTS ({key: seconds}) in one round trip; {key: its new count}.

        A counter that does not exist yet starts with its timeout, as cache.add would start it, and
        holds a plain integer as Django's Redis cache stores one, so cache.get and cache.incr read it.
        A signing POST checks three counters: each round trip costs the web process a wake-up and a
        hand-over of the GIL, which under load cost more than the commands (docs/benchmarks.md).
        While Redis is unreachable: {}.
        """
        keys = {key: self.make_and_validate_key(key) for key in timeouts}
        try:
            pipeline = self._cache.get_client(write=True).pipeline(transaction=False)
            for key, timeout in timeouts.items():
                pipeline.set(keys[key], 0, ex=int(timeout), nx=True)
                pipeline.incr(keys[key])
            answers = pipeline.execute()
        except _UNREACHABLE as exc:
            log.warning("cache unreachable during count_many: %s", type(exc).__name__)
            return {}
        return dict(zip(timeouts, answers[1::2], strict=True))

    get = _soft(RedisCache.get, _default)
    get_many = _soft(RedisCache.get_many, {})
    has_key = _soft(RedisCache.has_key, False)
    set = _soft(RedisCache.set, None)
    set_many = _soft(RedisCache.set_many, [])
    add = _soft(RedisCache.add, False)
    touch = _soft(RedisCache.touch, False)
    delete = _soft(RedisCache.delete, False)
    delete_many = _soft(RedisCache.delete_many, None)
    # None, not an error: django-ratelimit reads it as "count unknown" and applies RATELIMIT_FAIL_OPEN.
    incr = _soft(RedisCache.incr, None)
    clear = _soft(RedisCache.clear, None)
