# The book's two commands (README): `make site` builds _build/html, `make test` runs every test.
# Both create .venv and install requirements.txt the first time (and again when it changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site test gpu-check notebooks clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

site: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Site: _build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

# On a GPU machine with requirements-gpu-cu12.txt or -cu13.txt installed in .venv:
gpu-check: $(STAMP)
	$(BIN)/python -m trtfaq env
	$(BIN)/python -m pytest notebooks

# Re-run every chapter on this machine and store its outputs (commit outputs from a CPU run).
notebooks: $(STAMP)
	cd notebooks && for nb in *.ipynb; do ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done
	$(BIN)/python -m trtfaq colab-cells

clean:
	rm -rf _build .pytest_cache
