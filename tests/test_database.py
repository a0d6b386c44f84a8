import os

import pytest
from django.db import connection

from tests.conftest import running_in_ci, sqlite_chosen


@pytest.mark.django_db
def test_ci_runs_against_postgres():
    """Under CI the suite must run on the real PostgreSQL; anything else is a failure."""
    if not running_in_ci():
        pytest.skip("only enforced under CI; a laptop may use SQLite")
    if sqlite_chosen():
        pytest.skip("CI's second run, on SQLite; this ran in the PostgreSQL one")
    assert connection.vendor == "postgresql", os.environ.get("DATABASE_URL")
