"""Tables the shared infrastructure keeps for both apps."""

import contextlib
import random

from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone


class RateCounter(models.Model):
    """A rate limit's counter when the shared cache is the database (lib.ratelimit): one row per
    limit and window. Django's database cache cannot serve here: its incr reads and then writes,
    so concurrent hits are lost, and it resets the expiry to the cache's default timeout."""

    key = models.CharField(max_length=255, primary_key=True)
    expires_at = models.BigIntegerField(db_index=True)  # Unix time: the same on every backend
    hits = models.PositiveIntegerField()

    # Expired rows are deleted on about one hit in this many: a window's key is never used
    # again, and one indexed delete now and then keeps the table small.
    PURGE_ONE_IN = 100

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"

    @classmethod
    def hit(cls, windows: dict[str, int]) -> dict[str, int]:
        """Add one to the counter at each key, starting it at one for its seconds if it is new or
        has expired; return each key's value. One statement for all of them, so concurrent hits
        are all counted, on PostgreSQL and on SQLite 3.35+. Raises DatabaseError when the
        database does not answer."""
        now = int(timezone.now().timestamp())
        # The same order in every statement, so that two of them never wait on each other's rows.
        keys = sorted(windows)
        params = [value for key in keys for value in (key, now + windows[key])] + [now, now]
        # Inside a caller's transaction, a failure must not break the rest of it.
        guard = contextlib.nullcontext() if transaction.get_autocommit() else transaction.atomic()
        with guard, connection.cursor() as cursor:
            cursor.execute(_hit_sql(cls._meta.db_table, len(keys)), params)
            counts = dict(cursor.fetchall())
        if random.randrange(cls.PURGE_ONE_IN) == 0:  # noqa: S311 - not a secret
            cls.objects.filter(expires_at__lte=now).delete()
        return counts

    @classmethod
    def take_back(cls, keys: list[str]) -> None:
        """Undo one hit counted at each key."""
        cls.objects.filter(key__in=keys, hits__gt=0).update(hits=F("hits") - 1)


def _hit_sql(table: str, rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(table)
    key, expires, hits = map(quote, ("key", "expires_at", "hits"))
    values = ", ".join(["(%s, %s, 1)"] * rows)
    return (
        f"INSERT INTO {table} ({key}, {expires}, {hits}) VALUES {values} "  # noqa: S608 - names from the model, values as parameters
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{hits} = CASE WHEN {table}.{expires} > %s THEN {table}.{hits} + 1 ELSE 1 END, "
        f"{expires} = CASE WHEN {table}.{expires} > %s THEN {table}.{expires} "
        f"ELSE excluded.{expires} END "
        f"RETURNING {key}, {hits}"
    )
