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

# The whole story on copies of the example world (git does not keep the 0600 mode the issuer
# insists on for key files, and the registry is created next to the key):
#   1. the ministry issues a heating-2027 credential as a QR image;
#   2. it publishes its signed status lists; with the authority's trust list that makes a
#      sync source (a web server, or here a directory, as a USB stick would be);
#   3. a benefit office syncs, then verifies the image offline: VALID;
#   4. the ministry revokes it and publishes; after the next sync the same image is INVALID.
demo: $(STAMP)
	rm -rf $(DEMO) && mkdir -p $(DEMO)/source
	cp -R keys_example/issuers/mosa $(DEMO)/mosa
	chmod 700 $(DEMO)/mosa/keys && chmod 600 $(DEMO)/mosa/keys/*.pem
	@echo "== 1. The Ministry of Social Affairs issues a credential"
	$(BIN)/plainclaim-issuer --dir $(DEMO)/mosa issue --benefit heating-2027 \
	    --valid-until $$($(BIN)/python -c 'import datetime as d; print(d.date.today() + d.timedelta(days=180))') \
	    --out $(DEMO)/credential.png --json > $(DEMO)/issued.json
	@cat $(DEMO)/issued.json
	@echo "== 2. It publishes its status lists next to the authority's trust list"
	$(BIN)/plainclaim-issuer --dir $(DEMO)/mosa publish --out $(DEMO)/source
	cp keys_example/verifier/trustlist.jwt $(DEMO)/source/
	@echo "== 3. A benefit office syncs, then verifies the QR image offline"
	$(BIN)/plainclaim-verify sync $(DEMO)/source --trust-dir $(DEMO)/trust --anchor keys_example/verifier/anchor.jwk
	$(BIN)/plainclaim-verify --trust-dir $(DEMO)/trust $(DEMO)/credential.png
	@echo "== 4. The ministry revokes it; after the next sync the office refuses it"
	$(BIN)/plainclaim-issuer --dir $(DEMO)/mosa revoke \
	    $$($(BIN)/python -c 'import json; print(json.load(open("$(DEMO)/issued.json"))["credential_id"])') \
	    --reason "demo: circumstances changed"
	$(BIN)/plainclaim-issuer --dir $(DEMO)/mosa publish --out $(DEMO)/source
	$(BIN)/plainclaim-verify sync $(DEMO)/source --trust-dir $(DEMO)/trust
	$(BIN)/plainclaim-verify --trust-dir $(DEMO)/trust $(DEMO)/credential.png; test $$? -eq 1

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
