# Two commands matter: `make run` starts the app, `make test` runs the whole suite.
# Both install what they need first (Debian packages, then a virtual environment).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test demo venv deps-run deps-test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[gui,media,test]'
	touch $(STAMP)

venv: $(STAMP)

deps-run:
	./scripts/install-debian-deps run

deps-test:
	./scripts/install-debian-deps test

run: deps-run venv
	$(VENV)/bin/softphone

test: deps-test venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

demo: deps-test venv
	$(PY) scripts/demo.py

lint: venv
	$(VENV)/bin/ruff check softphone tests bench
	$(VENV)/bin/mypy

bench: deps-test venv
	$(PY) bench/parse.py
	$(PY) bench/latency.py
	$(PY) bench/call_cpu.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
