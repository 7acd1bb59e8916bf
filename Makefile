# Soil Moisture (DenseSM-E + MSDA): set-up, tests, demo and packaging.
# `make install` then `make test` on a fresh Debian 12 machine; `make demo` runs the main job.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# TORCH_INDEX=https://download.pytorch.org/whl/cpu selects the CPU-only torch build;
# leave empty for PyPI's default build (CUDA on Linux x86_64).
TORCH_INDEX ?=
TORCH_INDEX_ARG := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
APT_PACKAGES := qgis python3-qgis qgis-providers python3-venv python3-rasterio python3-pyproj \
	proj-bin python3-gdal libgeos-dev xvfb xauth python3-matplotlib python3-pandas python3-scipy python3-yaml \
	qttools5-dev-tools pyqt5-dev-tools
export PYTHONHASHSEED := 0

.PHONY: install system-packages venv models test test-core test-plugin lint format demo bench package \
	screenshot translations translations-update clean qt6-check plain-qgis-check

install: system-packages venv translations

system-packages:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "Debian packages already installed"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

# The venv is built from Debian's python3 with --system-site-packages: only that interpreter
# imports qgis.core, and QGIS, GDAL, rasterio, pyproj and numpy then come from Debian.
# shapely is built from source against Debian's GEOS: the wheel bundles its own GEOS, which
# clashes with the GEOS that the QGIS desktop loads first and crashes QGIS (signal 11).
venv:
	test -x $(PY) || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PIP) install -q -c constraints.txt $(TORCH_INDEX_ARG) --no-binary shapely \
		-r requirements.txt -r requirements-dev.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .

test:
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q

test-core:
	$(VENV)/bin/pytest -q tests/core

test-plugin:
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q tests/plugin

lint: qt6-check
	$(VENV)/bin/ruff check core soilmoisture_plugin tests scripts
	$(VENV)/bin/mypy core

# QGIS 4 runs on Qt 6: fail on Qt 5-only forms in the plugin (also a test in `make test`).
qt6-check:
	$(PY) scripts/check_qt6.py

# The packaged plugin in the QGIS desktop without the engine's packages: it loads, installs
# them with its own installer (downloads ~1.5 GB), then runs the demo Adapt & Map.
plain-qgis-check:
	SOILMOISTURE_INSTALL_TEST=1 QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -s \
		tests/plugin/test_plain_qgis.py tests/plugin/test_install_in_plain_qgis.py

format:
	$(VENV)/bin/ruff format core soilmoisture_plugin tests scripts

# The published weights are data, installed into the user model store once (from the shared
# folder beside the checkout by default; MODELS_FROM=/path/to/DenseSM_9km.zip for the archive).
MODELS_FROM ?= ../shared/models/densesm_9km

models:
	@$(VENV)/bin/soilmoisture models list 2>/dev/null | grep -q '^densesm_9km ' || \
		$(VENV)/bin/soilmoisture models install --from $(MODELS_FROM)

demo: models
	$(VENV)/bin/soilmoisture demo --out out/demo

bench:
	$(PY) scripts/bench.py

translations-update:
	pylupdate5 -noobsolete $$(find soilmoisture_plugin -name '*.py' | sort) -ts i18n/soilmoisture_fr.ts

translations:
	@for ts in i18n/*.ts; do [ -e "$$ts" ] || continue; lrelease -silent "$$ts" -qm "$${ts%.ts}.qm" || exit 1; done

package: translations
	$(PY) scripts/package.py --out dist

screenshot:
	$(PY) scripts/screenshot.py --out docs/screenshot.png

clean:
	rm -rf dist build out bench-out .pytest_cache .mypy_cache .ruff_cache
