# The verbs a person types. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test install setup reset lint format lock clean bench loadtest backup restore

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

# The database (a private PostgreSQL in .postgres/ unless DATABASE_URL names one), migrated,
# with the shipped directory loaded where it is missing: never over a curator's work.
setup: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_directory

run: setup
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production server (docs/deploy.md): DEBUG off, so SECRET_KEY and ALLOWED_HOSTS must
# be set; gunicorn with a worker per core and one more for each, static files collected,
# compressed and served by WhiteNoise.
serve: export DEBUG = false
serve: setup
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c python:directory.gunicorn

# The whole database (the directory, accounts, curators' history) to
# backups/directory-<time>.dump, or to OUTPUT.
backup: install
	$(BIN)/python manage.py backup_directory $(if $(OUTPUT),--output $(OUTPUT))

# Into an empty database only: one that holds data is refused, never overwritten.
restore: install
	@test -n "$(FILE)" || { echo "Name the backup: make restore FILE=backups/directory-YYYYmmdd-HHMMSS.dump" >&2; exit 2; }
	$(BIN)/python manage.py restore_directory $(FILE)

# Deliberately throws away everything curators entered, after saying what and asking.
reset: install
	$(BIN)/python manage.py reset_directory

# axe-core (the browser tests' accessibility checker) comes from npm when npm is here;
# without it, or without Chromium, the browser tests skip and say why.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

test: install $(if $(shell command -v npm),node_modules/.package-lock.json)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-resolve the exact versions after changing dependencies in pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/lock-venv && /tmp/lock-venv/bin/pip install --quiet pip-tools
	/tmp/lock-venv/bin/pip-compile --quiet --extra dev --generate-hashes --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

# Never the database in .postgres/: it holds what curators entered.
clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# Search latency at 10,000 and 100,000 made-up services, on a scratch database of the site's
# own server, served by gunicorn on loopback, then an HSDS export and import of each;
# writes bench/results.json. More with e.g.
# make bench BENCH_ARGS="--sizes 1000000" or BENCH_ARGS="--compare before=<commit>".
bench: install
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

# Throughput of `make serve` under concurrent searches at 100,000 made-up services (30 s at
# 8 and at 32 clients, through wrk), then the rate limits under 32 clients at once; writes
# bench/loadtest.json. More with e.g. make loadtest LOADTEST_ARGS="--rate 300/min".
loadtest: install
	$(BIN)/python bench/loadtest.py $(LOADTEST_ARGS)
