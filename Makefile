# One-command entry points. `make run` starts the app on its built-in samples,
# `make test` runs the whole suite. Both create/refresh .venv as needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: run test venv clean-venv lint-imports bundle

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m bloodview gui resources/samples

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

# Desktop bundle (PyInstaller, one folder): dist/bloodview/bloodview runs with no Python installed.
bundle: $(STAMP)
	$(PY) -m pip install --quiet "pyinstaller>=6.10"
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/bloodview.spec
	bash packaging/bundle_smoke.sh dist/bloodview

lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
