# Two commands matter: `make run` starts the app, `make test` runs the whole suite.
# Both install what they need first (Debian packages, then a virtual environment).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test demo venv deps-run deps-test deps-package deps-browser package lint typecheck bench quality clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[gui,media,test,package]'
	touch $(STAMP)

venv: $(STAMP)

deps-run:
	./scripts/install-debian-deps run

deps-test:
	./scripts/install-debian-deps test

deps-package:
	./scripts/install-debian-deps package

# JsSIP (pinned in package-lock.json) bundled for the headless Chromium test peer, tests/peers/browser.py
BROWSER_PEER := tests/peers/browser
$(BROWSER_PEER)/build/jssip.js: $(BROWSER_PEER)/package.json $(BROWSER_PEER)/package-lock.json
	cd $(BROWSER_PEER) && npm ci --no-audit --no-fund && npm run build

# janus.js (the npm package janus-gateway) and webrtc-adapter for tests/peers/janus_browser.py: same build step
$(BROWSER_PEER)/build/janus.js: $(BROWSER_PEER)/build/jssip.js $(BROWSER_PEER)/janus-bundle.js
	cd $(BROWSER_PEER) && npm run build

deps-browser: $(BROWSER_PEER)/build/jssip.js $(BROWSER_PEER)/build/janus.js

run: deps-run venv
	$(VENV)/bin/softphone

test: deps-test venv deps-browser
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

# Call quality under loss and jitter (PESQ per codec and peer pair; about 25 minutes): docs/ROBUSTNESS.md
quality: deps-test venv
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/quality.py --markdown docs/quality.md --plot docs/quality.png

# The Debian package (build/softphone_<version>_<arch>.deb) from a PyInstaller bundle: packaging/README.md
package: deps-package venv
	PY=$(PY) packaging/linux/build-deb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
