# The book's two commands (README): `make site` builds _build/html, `make test` runs every test.
# Both create .venv and install requirements.txt the first time (and again when it changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBDIR  ?= notebooks

.PHONY: site test lint double gpu-check cpu-check notebooks clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

site: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Site: _build/html/index.html"

# The browser test needs Debian's Chromium (and a CJK font for the Chinese lines in screenshots);
# installed here when running as root on Debian, otherwise that test is skipped (it fails in CI).
# Ruff over the package, the tests and the notebooks (rules in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check trtfaq tests notebooks

# One chapter under one flavour of the TensorRT test double (tests/double_pass.py runs them all).
NB      ?= notebooks/01-batch-profiles.ipynb
FLAVOUR ?= 11.4
double: $(STAMP)
	$(BIN)/python tests/double_pass.py --flavour $(FLAVOUR) $(NB)

test: $(STAMP) lint
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)
	$(BIN)/python -m pytest

# The workshop preflight on a GPU machine (requirements-gpu-cu12.txt or -cu13.txt installed in .venv):
# environment doctor, every chapter executed with a report in _build/preflight.md, then nbval.
gpu-check: $(STAMP)
	$(BIN)/python -m trtfaq doctor --require-gpu
	$(BIN)/python -m trtfaq run-all --report _build/preflight.md
	$(BIN)/python -m pytest notebooks

# The same on a CPU machine (GPU and TensorRT missing are warnings).
cpu-check: $(STAMP)
	$(BIN)/python -m trtfaq doctor
	$(BIN)/python -m trtfaq run-all --report _build/preflight.md
	$(BIN)/python -m pytest notebooks

# Re-run every chapter on this machine and store its outputs (commit outputs from a CPU run).
notebooks: $(STAMP)
	for nb in $(NBDIR)/*.ipynb; do (cd "$$(dirname "$$nb")" && $(CURDIR)/$(BIN)/jupyter nbconvert --to notebook --execute --inplace "$$(basename "$$nb")") || exit 1; done
	$(BIN)/python -m trtfaq colab-cells

clean:
	rm -rf _build .pytest_cache
