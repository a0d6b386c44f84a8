"""The floors `make bench` measures the site against, served by the same gunicorn and the same
middleware: a one-line view that inserts one row, and a hello-world view answered from the cache."""
