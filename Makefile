# hebbjax: every target sets up its own virtual environment on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install train test test-slow bench bench-eprnn lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# A short default run (minutes on 2 CPU cores) whose validation score improves.
train: $(STAMP)
	$(BIN)/hebbjax train --task maze --model decprnn-postdn --out runs/default \
		$$(test -f runs/default/checkpoint.npz && echo --resume)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# EPRNN vs ES-RNN vs ES-LSTM at equal budget (Tables 2-3; about 2 hours on 2 cores, resumable)
bench-eprnn: $(STAMP)
	$(BIN)/python -m benchmarks.eprnn_compare --generations 250 \
		--generations-for seqpred-l1-k10-n20=3000 --out benchmarks/results/eprnn/paper-es

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
