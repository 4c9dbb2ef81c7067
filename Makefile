# smpinfo's front door. `make run` serves the site; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint format check bench loadcheck faults clean backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# The mail sender (deliver_mail) runs in the background and stops when gunicorn stops, however it stops.
run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py refresh_article_content
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_content
	@echo ""
	@echo "smpinfo is starting at http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@echo "Make an admin account with:  $(BIN)/python manage.py createsuperuser"
	@echo "then log in at http://$(HOST):$(PORT)/admin/"
	@echo "Email is queued in the database and sent by manage.py deliver_mail, started beside gunicorn."
	@echo ""
	$(BIN)/python manage.py deliver_mail & trap "kill $$! 2>/dev/null" EXIT INT TERM; \
		$(BIN)/gunicorn --config gunicorn.conf.py smpinfo.wsgi

# axe-core, injected into pages by the accessibility tests (tests/e2e).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

test: $(VENV)/.installed-dev node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(VENV)/.installed-dev
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: $(VENV)/.installed-run
	$(BIN)/python bench/run.py

# Read articles at full speed while posting a known number of comments: no 5xx, nothing lost.
loadcheck: $(VENV)/.installed-dev
	$(BIN)/python bench/nothing_lost.py

# The same counts while Redis, PostgreSQL or the mail server fail, each on servers of its own.
faults: $(VENV)/.installed-run
	$(BIN)/python bench/faults.py

clean:
	rm -rf $(VENV) staticfiles

# One dated archive in backups/: the database (SQLite backup API or pg_dump) and the image files; safe while the site runs.
backup: $(VENV)/.installed-run
	$(BIN)/python manage.py backup

# Put a backup back (the image files, then the database): make restore FILE=backups/smpinfo-....tar
restore: $(VENV)/.installed-run
	@if [ -z "$(FILE)" ]; then \
		echo "Usage: make restore FILE=backups/<file>  (one made by make backup; it asks before replacing anything)"; \
		ls -1t backups 2>/dev/null | sed -n '1,5s|^|  backups/|p'; \
		exit 2; \
	fi
	$(BIN)/python manage.py restore "$(FILE)"
