# The README's two commands: `make run` and `make test`. Both create .venv and
# install the project from this checkout; nothing else needs to be on the machine
# but Python >= 3.11 and Qt's system libraries: scripts/check_qt_libs.py runs `ldd` on the Qt platform plugin
# that will load (xcb with a display, offscreen for the tests) and prints the one apt-get line that fixes it.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test bench qt-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-run

qt-check: | $(PY)
	@$(PY) scripts/check_qt_libs.py

run: $(VENV)/.installed-run qt-check
	$(PY) -m visualcnn $(ARGS)

test: $(VENV)/.installed-test
	@QT_QPA_PLATFORM=offscreen $(PY) scripts/check_qt_libs.py
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
