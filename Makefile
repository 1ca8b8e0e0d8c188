# Referral CRM: `make run` serves the app; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test lint fmt bench clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)
	@mkdir -p var

run: setup
	./scripts/run.sh

# Two pytest-xdist workers, a test file each at a time (their own test database and Redis
# databases: referralcrm/test_settings.py); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: setup
	@$(PY) scripts/check_services.py
	@CHROMIUM_PATH="$$($(PY) scripts/find_chromium.py)" && export CHROMIUM_PATH && \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r .

fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Figures printed and written to bench/results.json; BENCH_ONLY=http runs only the HTTP part
# on the seeded bench database, BENCH_PAGES="dashboard,contact list" picks pages.
bench: setup
	@$(PY) scripts/check_services.py
	$(PY) scripts/bench.py

clean:
	rm -rf var staticfiles
