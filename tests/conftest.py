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


DB_FIXTURES = {"db", "transactional_db", "client", "admin_client", "live_server"}


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """Counts are cached for a second or two; a test must not see another test's petition
    (under CI the cache is the shared Redis)."""
    from django.conf import settings
    from django.core.cache import caches

    caches["default"].clear()
    # Without Redis the shared cache is a database table, reachable only by tests that may use
    # the database.
    uses_db = request.node.get_closest_marker("django_db") or DB_FIXTURES & set(
        request.fixturenames
    )
    if uses_db or "DatabaseCache" not in settings.CACHES["shared"]["BACKEND"]:
        caches["shared"].clear()
