import os

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item):
    """Tests marked `postgres` need the real database: skipped on a laptop running SQLite, but a
    failure under CI, which must always run them."""
    if not item.get_closest_marker("postgres"):
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        if running_in_ci():
            pytest.fail("this test needs PostgreSQL, and CI must provide it (DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counts are cached for a second or two; a test must not see another test's petition
    (under CI the cache is the shared Redis)."""
    from django.core.cache import cache

    cache.clear()
