"""Django's PostgreSQL backend (settings.py selects it for a postgres:// DATABASE_URL), with bulk
writes cut to the number of parameters one statement may carry.

Bound by the server, every value is a parameter, and the protocol counts them in 16 bits: one
bulk_create of 5,000 signatures (about 20 columns each) would be refused. Django cuts bulk writes
only for backends that say where to (SQLite, Oracle), so this one says it for PostgreSQL.
"""

from django.db.backends.postgresql import base, operations

MAX_PARAMETERS = 65_535


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs):
        if not self.connection.features.uses_server_side_binding:
            return super().bulk_batch_size(fields, objs)
        return max(MAX_PARAMETERS // max(len(fields), 1), 1)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
