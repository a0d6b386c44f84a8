"""The read API, /api/v1/: its schema comes from the type hints of `endpoints` (django-ninja),
and `public` makes every answer the same for everyone, cacheable, readable from any site and
rate-limited per client address."""
