"""The floor's settings: the bench's (production's plus the query count), with its own URLs."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_app.urls"
