# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    install into .venv and run the main job (runs/exp2_quick.yaml)
#   make test   install into .venv (with test extras) and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/numsearch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/numsearch

run: install
	$(BIN)/numsearch run runs/exp2_quick.yaml --out out/exp2_quick --force

test: install
	$(BIN)/python -m pytest -q

.PHONY: install run test
