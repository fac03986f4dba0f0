# plainclaim: `make demo` issues and verifies a credential with the example keys;
# `make test` runs the linters, the type checker and the test suite. Both create .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := .demo

.PHONY: all demo test lint bench clean

all: test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "plainclaim needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Works on copies: the registry is created next to the issuer's key, and git does not keep
# the 0600 mode that the issuer insists on for key files.
demo: $(STAMP)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	cp -R keys_example/issuers/mosa $(DEMO)/mosa
	cp -R keys_example/verifier $(DEMO)/trust
	chmod 700 $(DEMO)/mosa/keys && chmod 600 $(DEMO)/mosa/keys/*.pem
	$(BIN)/plainclaim-issuer --dir $(DEMO)/mosa issue --benefit heating-2027 \
	    --valid-until $$($(BIN)/python -c 'import datetime as d; print(d.date.today() + d.timedelta(days=180))') \
	    --out $(DEMO)/credential.png
	$(BIN)/plainclaim-verify --trust-dir $(DEMO)/trust $(DEMO)/credential.png

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache .hypothesis
