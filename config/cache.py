"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django builds a new `redis.Redis` for every cache call, and redis-py 8 fills a table of about two
hundred response callbacks each time it does: on this site that was about 0.7 ms of CPU per cache
call, several calls a request. A client is only a thin, thread-safe front on its pool (the pool
hands each command its own connection), so keeping one per pool changes nothing else.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one the first time; either is as good as the other.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


# INCR each key; a key that was new expires after its window. Run by Redis as one command, so no
# other client sees a counter without its expiry.
COUNT_HITS_LUA = """
local hits = {}
for i, key in ipairs(KEYS) do
  hits[i] = redis.call('INCR', key)
  if hits[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return hits
"""


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
        self._count_hits_script = None

    def count_hits(self, windows: list[tuple[str, int]]) -> list[int]:
        """Add one to each (key, seconds) counter, creating it to expire after that many seconds,
        and return the new values (signatures/abuse.py): one command, one round trip."""
        client = self._cache.get_client(write=True)
        if self._count_hits_script is None:
            self._count_hits_script = client.register_script(COUNT_HITS_LUA)
        keys = [self.make_and_validate_key(key) for key, _seconds in windows]
        return self._count_hits_script(keys=keys, args=[s for _key, s in windows], client=client)
