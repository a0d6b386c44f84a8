import threading
import time

import pytest

from petitions.cache import ProcessCache


def expired_cache(value) -> ProcessCache:
    cache = ProcessCache(seconds=60)
    cache.set("key", value)
    cache._entries["key"] = (time.monotonic() - 1, value)  # as if a minute had passed
    return cache


def test_an_expired_entry_is_reloaded_by_one_thread_while_the_others_use_it():
    cache = expired_cache("old")
    loading, release = threading.Event(), threading.Event()
    loads = []

    def slow_load():
        loads.append(1)
        loading.set()
        release.wait(5)
        return "new"

    reloader = threading.Thread(target=lambda: cache.get_or_load("key", slow_load))
    reloader.start()
    assert loading.wait(5)
    # Meanwhile another thread is answered at once with what the cache had, without loading.
    assert cache.get_or_load("key", slow_load) == "old"
    release.set()
    reloader.join(5)
    assert loads == [1]
    assert cache.get_or_load("key", slow_load) == "new"


def test_an_entry_whose_reload_finds_nothing_is_dropped():
    cache = expired_cache("unpublished since")
    assert cache.get_or_load("key", lambda: None) is None
    assert cache.get("key") is None
    assert cache.get_or_load("key", lambda: "published again") == "published again"


def test_a_reload_that_fails_lets_the_next_caller_try_again():
    cache = expired_cache("old")

    def broken():
        raise ConnectionError("database gone")

    with pytest.raises(ConnectionError):
        cache.get_or_load("key", broken)
    assert cache.get_or_load("key", lambda: "new") == "new"
