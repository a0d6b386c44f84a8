"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django builds a new `redis.Redis` for every cache call, and redis-py 8 fills a table of about two
hundred response callbacks each time it does: on this site that was about 0.7 ms of CPU per cache
call, several calls a request. A client is only a thin, thread-safe front on its pool (the pool
hands each command its own connection), so keeping one per pool changes nothing else.

It also counts signing attempts for the rate limits (send_count_hits): one Lua command for all the
limits, on a connection each thread keeps for it.
"""

import hashlib
import os
import socket
import struct
import threading
from collections.abc import Callable

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import exceptions as redis_errors


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
COUNT_HITS_LUA = b"""
local hits = {}
for i, key in ipairs(KEYS) do
  hits[i] = redis.call('INCR', key)
  if hits[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return hits
"""
COUNT_HITS_SHA = hashlib.sha1(COUNT_HITS_LUA).hexdigest().encode()  # noqa: S324 - Redis's script id


def _command(*parts: bytes) -> bytes:
    """A Redis command as it goes on the wire (RESP)."""
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%b\r\n" % (len(p), p) for p in parts)


def _read_integers(sock, count: int) -> list[int]:
    """Read Redis's answer to one command: an array of `count` integers, or an error."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise redis_errors.ConnectionError("Redis closed the connection")
        data += chunk
        if not data.endswith(b"\r\n"):
            continue
        if data.startswith(b"-"):
            message = data[1:-2].decode(errors="replace")
            if message.startswith("NOSCRIPT"):
                raise redis_errors.NoScriptError(message)
            raise redis_errors.ResponseError(message)
        lines = data.split(b"\r\n")
        complete = len(lines) >= count + 2
        if (
            lines[0] != b"*%d" % count
            or not all(line[:1] == b":" for line in lines[1:-1])
            or (complete and len(lines) > count + 2)
        ):
            raise redis_errors.ResponseError(f"Unexpected answer from Redis: {data[:100]!r}")
        if complete:
            return [int(line[1:]) for line in lines[1:-1]]


def _kernel_timeouts(sock: socket.socket, seconds: float | None) -> None:
    """Make the socket blocking, with its timeout kept by the kernel rather than by Python. With a
    Python timeout every send and every receive first polls the socket: two more system calls on
    each count, each letting go of the interpreter and taking it back. A receive or send that
    times out here fails with EAGAIN (BlockingIOError)."""
    sock.settimeout(None)
    if seconds:
        whole = int(seconds)
        timeval = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _redis_error(exc: OSError) -> redis_errors.RedisError:
    """A socket's error as redis-py raises it, so callers see one kind of failure."""
    if isinstance(exc, TimeoutError | BlockingIOError):
        return redis_errors.TimeoutError(str(exc))
    return redis_errors.ConnectionError(str(exc))


# Counted here rather than comparing os.getpid() on every count: that is a system call too.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
        self._own = threading.local()

    def send_count_hits(self, windows: list[tuple[str, int]]) -> Callable[[], list[int]]:
        """Add one to each (key, seconds) counter, creating it to expire after that many seconds
        (signatures/abuse.py), in one command: sent now, and the function returned reads the new
        values. Whatever the caller does in between overlaps Redis's work and the network,
        and by the time it asks, the answer is usually waiting: the request's thread neither
        blocks nor hands the interpreter to another thread and back, which cost gthread workers
        more than the command itself. Call the function once; if it never is, the thread's next
        count drops the connection, unread answer and all, and opens another.

        redis-py opens the connection (address, password, database, TLS); the command and its
        answer go over its socket directly. redis-py's general-purpose encoding and parsing of
        them took as long as the rest of the count."""
        # make_key, not make_and_validate_key: the check only warns of keys memcached would
        # refuse, and these are short ASCII without spaces.
        keys = [self.make_key(key).encode() for key, _seconds in windows]
        args = [b"%d" % len(keys), *keys, *(b"%d" % seconds for _key, seconds in windows)]
        own = self._thread_connection()
        connection = own.connection
        try:
            # _sock is redis-py's own, and private: tests/test_abuse.py would catch a change.
            if connection._sock is None:
                connection.connect()
                _kernel_timeouts(connection._sock, connection.socket_timeout)
            sock = connection._sock
            sock.sendall(_command(b"EVALSHA", COUNT_HITS_SHA, *args))
        except BaseException as exc:
            connection.disconnect()
            if isinstance(exc, OSError):
                raise _redis_error(exc) from exc
            raise
        own.unread = True

        def answer() -> list[int]:
            try:
                try:
                    return _read_integers(sock, len(keys))
                except redis_errors.NoScriptError:  # a restarted Redis forgot the script: send it
                    sock.sendall(_command(b"EVAL", COUNT_HITS_LUA, *args))
                    return _read_integers(sock, len(keys))
            except BaseException as exc:
                connection.disconnect()  # its answer may still be on the way
                if isinstance(exc, OSError):
                    raise _redis_error(exc) from exc
                raise
            finally:
                own.unread = False

        return answer

    def _thread_connection(self) -> threading.local:
        """This thread's own connection to the primary, for counting only. Before lending one of
        its connections the pool checks its process id and asks the socket whether anything is
        left unread: five of the nine system calls of each count, and on a virtual machine a
        system call costs about as much as ten microseconds of Python. Here nothing is left
        unread: every answer is read, or the connection dropped before the next command (it
        reconnects on that command), as it is on any error."""
        own = self._own
        if getattr(own, "forks", None) != _forks:  # a new thread, or a forked process
            pool = self._cache.get_client(write=True).connection_pool
            own.connection = pool.connection_class(**pool.connection_kwargs)
            own.forks, own.unread = _forks, False
        elif own.unread:
            own.connection.disconnect()
            own.unread = False
        return own
