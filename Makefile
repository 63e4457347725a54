# hebbjax: every target sets up its own virtual environment on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install train test test-slow bench bench-roofline bench-eprnn lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# A short default run (minutes on 2 CPU cores) whose validation score improves: Table 1's
# 9x9 mazes (15x15, --task maze, learns far more slowly at this budget)
train: $(STAMP)
	$(BIN)/hebbjax train --task maze9 --model decprnn-postdn --out runs/default \
		$$(test -f runs/default/checkpoint.npz && echo --resume)

# one worker per core, each test file on one worker (files share their compiled fixtures)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# only the machine's limits and each maze model's roofline, measured rate and fraction
# achieved (issue 19); the other parts of throughput.json are kept
bench-roofline: $(STAMP)
	$(BIN)/python -m benchmarks --jobs limits,sweep

# EPRNN and its baselines, Tables 2-3: seqpred-l1-k10-n20 at the paper's 15,000 generations,
# the other cells at 2,000, EPRNN (w/o m) / EPMLP / EPMLP (Random) / ES-MAML at 1,000.
# Resumable (runs in runs/eprnn/, results in benchmarks/results/eprnn/); about a day on 2 cores.
bench-eprnn: $(STAMP)
	nice -n 19 $(BIN)/python -m benchmarks.eprnn_compare --queue tables \
		--equal-generations 2000 --extra-generations 1000

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache

.PHONY: reproduce-table1 time-to-quality

# Table 1 of Wang et al. 2022 at one equal budget per model (9x9: every row at 1,000
# generations, then 15x15: the four central rows at 500; about 3 h + 1 h on an idle 2-core
# machine; resumable)
reproduce-table1: $(STAMP)
	nice -n 19 env HEBBJAX_CPU_DEVICES=1 $(BIN)/python -m benchmarks.reproduce.table1
	nice -n 19 env HEBBJAX_CPU_DEVICES=1 $(BIN)/python -m benchmarks.reproduce.table1 --size 15

.PHONY: reproduce-ant
# The ant tables of Najarro & Risi 2020 and Palm et al. 2021 (Hebbian, static, LSTM, shared
# rules) at one equal budget: spring backend, 5-s lifetimes, P = 128, 200 generations; resumable
reproduce-ant: $(STAMP)
	nice -n 19 env HEBBJAX_CPU_DEVICES=1 $(BIN)/python -m benchmarks.reproduce.ant_tables

# DecPRNN(PostDN) validation score against wall-clock, per outer loop (resumable)
time-to-quality: $(STAMP)
	nice -n 19 $(BIN)/python -m benchmarks.time_to_quality --minutes 60 \
		--experiments maze9-paper-cmaes-p128-n8 maze9-openai-es-p128-n8
