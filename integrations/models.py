# The bulk data files (bulk_models.py); the webhooks' models join this module.
from .bulk_models import BulkFile  # noqa: F401
