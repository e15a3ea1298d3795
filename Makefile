# Two commands do all the set-up on a fresh machine:
#   make demo   the main job: release notebooks, grade the bundled sample class, feedback + report
#   make test   the whole test suite (unit, reference-vs-PyTorch, buggy catalogues, nbval, end to end)
# Both create the virtual environment in .venv first if it is missing or out of date.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO   ?= build/demo-course
JOBS   ?= 2
CHROMIUM ?= /usr/bin/chromium

.PHONY: venv system chromium demo test test-fast bench lab clean help

help:
	@echo "make demo   - run the instructor pipeline on the bundled sample class (into $(DEMO))"
	@echo "make test   - run the whole test suite"
	@echo "make lab    - open the released notebooks in JupyterLab"
	@echo "make bench  - run the benchmark scripts (prints ratios, asserts nothing)"

venv: $(STAMP)

# System packages: bubblewrap, the sandbox every student process is graded in (Debian's package).
system:
	@command -v bwrap >/dev/null 2>&1 || { echo ">> installing bubblewrap (the grader's sandbox) with apt-get"; \
	  (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) || \
	  echo ">> could not install bubblewrap: grading will refuse to run without it (see labgrade grade --help)"; }

$(STAMP): pyproject.toml
	@echo ">> setting up the virtual environment in $(VENV) (first time: about 1-2 minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)
	@echo ">> environment ready"

# The browser tests (tests/browser/) drive Debian's Chromium (Playwright's own browser download is
# not used). Installed once, quietly, when it is missing and apt-get can (as root); elsewhere those
# tests are skipped and say which package is missing.
chromium:
	@if [ ! -x $(CHROMIUM) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo ">> installing Debian's chromium for the browser tests (apt-get, once)"; \
	  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	      >$(VENV)/chromium-install.log 2>&1; then \
	    echo ">> could not install chromium (see $(VENV)/chromium-install.log): browser tests will be skipped"; \
	  fi; \
	fi

demo: $(STAMP) system
	@echo ">> running the whole instructor pipeline on the bundled sample class in $(DEMO)"
	$(VENV)/bin/labgrade demo --course $(DEMO) --fresh

test: $(STAMP) system chromium
	@echo ">> running the test suite ($(JOBS) workers)"
	LABKIT_STRICT_CLAIMS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) --dist loadscope tests notebooks --nbval-lax --nbval-current-env

test-fast: $(STAMP) system
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) --dist loadscope tests -m "not slow"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo ">> $$f"; $(PY) $$f || exit 1; done

lab: $(STAMP)
	$(VENV)/bin/labgrade release --course $(DEMO)
	cd $(DEMO)/release && ../../../$(VENV)/bin/jupyter lab

clean:
	rm -rf build .pytest_cache
