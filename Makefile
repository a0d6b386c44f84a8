# The one entry point. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000
# Where `make run` is reached: the default SITE_URL of the server it starts, so emailed, shared and
# embedded links lead back to it (a SITE_URL in the environment or .env still wins). A server on
# every interface is reached on the loopback address.
RUN_SITE_URL = http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: run test test-fast test-sqlite lint format messages compilemessages serve collectstatic system-deps clean lock

# The environment: a virtualenv with exactly the locked versions, rebuilt when the lock changes.
# requirements.lock pins every package with its hashes; `make lock` rewrites it after a change to
# pyproject.toml.
$(VENV)/.synced: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(VENV)/bin/uv pip sync --quiet --require-hashes --python $(PY) requirements.lock
	@touch $@

lock: $(VENV)/.synced
	$(VENV)/bin/uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 --universal \
	  --quiet -o requirements.lock

# msgfmt (from gettext) compiles the Persian catalogue; install it when a fresh machine lacks it.
system-deps:
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing gettext (msgfmt) ..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null || \
	      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null; }; \
	  else echo "Please install gettext (msgfmt), e.g. 'sudo apt-get install gettext'." >&2; exit 1; fi; }

compilemessages: $(VENV)/.synced system-deps
	@DEBUG=true $(PY) manage.py compilemessages --ignore=.venv -v0

messages: $(VENV)/.synced system-deps
	DEBUG=true $(PY) manage.py makemessages -l fa --no-obsolete --ignore=.venv --ignore=tests --ignore=staticfiles --add-location=file

run: compilemessages
	@DEBUG=true $(PY) manage.py migrate -v0
	@DEBUG=true $(PY) manage.py createcachetable
	@DEBUG=true $(PY) manage.py load_demo
	@DEBUG=true $(PY) manage.py build_bulk_data -v0
	@DEBUG=true $(PY) manage.py demo_admin --host $(HOST) --port $(PORT)
	@echo "Serving on http://$(HOST):$(PORT)/  (English: /en/  Persian: /fa/)"
	@echo "Emails are printed in this terminal, not sent (unless EMAIL_URL is set)."
	@DEBUG=true RUN_SITE_URL=$(RUN_SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

# The fast tier runs in parallel (pytest-xdist): one process more than the machine has cores, since
# the tests also wait on PostgreSQL. Each gets its own test database and Redis database
# (tests/conftest.py); at most 8, so that they fit in Redis's 16 databases above CACHE_URL's.
TEST_WORKERS ?= $(shell n=$$(nproc); echo $$(( n < 8 ? n + 1 : 8 )))

# Everything: the fast tier in parallel as test-fast runs it, then the browser and `system` tests
# in one process (each starts servers or a browser of its own). pytest exits 5 when nothing was
# selected, as when PYTEST_ARGS names tests of one kind only: that half is then not a failure. Both
# halves run even when the first fails, so that one run shows every failure.
test: compilemessages
	@$(PY) -m pytest -m "not browser and not system" -n $(TEST_WORKERS) $(PYTEST_ARGS); fast=$$?; \
	  $(PY) -m pytest -m "browser or system" $(PYTEST_ARGS); rest=$$?; \
	  for code in $$fast $$rest; do [ $$code = 0 ] || [ $$code = 5 ] || exit $$code; done; \
	  [ $$fast = 0 ] || [ $$rest = 0 ] || exit 5

# Only the tests that run inside pytest's own process: no browser, and none marked `system`.
test-fast: compilemessages
	$(PY) -m pytest -m "not browser and not system" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The fast tier again on what `make run` uses: SQLite, no Redis (the shared cache in the database). CI runs it
# after `make test`, whose PostgreSQL run cannot show a break that only SQLite has.
test-sqlite: compilemessages
	DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 CACHE_URL= \
	  $(PY) -m pytest -m "not browser and not system" -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.synced
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Production-style serving on this machine: hashed, compressed static files and gunicorn.
collectstatic: compilemessages
	$(PY) manage.py collectstatic --noinput -v0

serve: collectstatic
	$(VENV)/bin/gunicorn -c config/gunicorn.conf.py config.wsgi

clean:
	rm -rf $(VENV) staticfiles test-output .pytest_cache

# Load benchmark (docs/performance.md): its own database, 1,000,000 signatures, gunicorn as in
# production, wrk over loopback; prints the table and writes it to bench/results/.
.PHONY: bench bench-export bench-delivery
bench: compilemessages
	$(PY) bench/run.py $(BENCH_ARGS)

bench-export: $(VENV)/.synced
	$(PY) bench/export_bench.py

# CPU per request of signing and count.json against their floors (docs/performance.md): the bench's
# own requests through Django's WSGI handler in one process each, no network; its own database.
.PHONY: bench-cpu
bench-cpu: compilemessages
	$(PY) bench/cpu_per_request.py $(BENCH_ARGS)

# Delivery pack of 1,000,000 signatures: time and peak memory, its own database.
bench-delivery: compilemessages
	$(PY) bench/delivery_bench.py $(BENCH_ARGS)

# Update send benchmark: one update to 100,000 consenting signers through a local SMTP sink,
# sent by N db_worker processes (BENCH_ARGS="--workers 4"); its own database; prints messages/s,
# each worker's peak memory and whether every signer got exactly one message.
.PHONY: bench-updates
bench-updates: compilemessages
	$(PY) bench/update_send.py $(BENCH_ARGS)

# Fault suite (docs/reliability.md): its own PostgreSQL cluster and Redis on free ports, the site as
# in production behind nginx, signers and readers while each fault is injected; prints the table
# and writes it to bench/results/. A measurement, not a test.
.PHONY: faults faults-net
faults: compilemessages
	$(PY) bench/faults.py $(FAULTS_ARGS)

# The same in network mode (root): PostgreSQL behind PgBouncer, Redis and two app servers each in a
# network namespace of its own; Redis cut off, latency to PostgreSQL, PostgreSQL cut off from one
# app server. Runs the single-host suite first, in the same sitting. Installs iptables and
# pgbouncer from Debian when missing.
faults-net: compilemessages
	$(PY) bench/faults.py --network $(FAULTS_ARGS)

# Letter rendering (docs/performance.md): ordinary and crafted letters at the 30,000-character
# limit through the shipped renderer; prints the median and slowest CPU time. No database.
.PHONY: bench-render
bench-render: $(VENV)/.synced
	$(PY) bench/render_bench.py $(BENCH_ARGS)

# The petition page's render time for petitions aged 1 day, 1 year and 4 years with the same
# number of signatures (docs/performance.md): flat figures mean its cost does not grow with age.
.PHONY: bench-age
bench-age: compilemessages
	$(PY) bench/page_age_bench.py $(BENCH_ARGS)

# Restore drill (docs/operations.md): its own PostgreSQL cluster archived with deploy/pgbackrest/,
# signers through gunicorn, the host killed and deleted, a new one restored from the backups;
# prints the RPO and RTO and writes them to bench/results/. A measurement, not a test.
.PHONY: restore-drill
restore-drill: compilemessages
	$(PY) bench/restore_drill.py $(DRILL_ARGS)
