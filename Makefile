# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup bench bench-quick clean

run: setup
	$(BIN)/livetranslate serve

test: setup
	scripts/system-deps.sh test
	$(BIN)/pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	scripts/system-deps.sh run
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

bench: setup
	scripts/system-deps.sh test
	$(BIN)/pip install -q -e '.[test,bench]'
	bench/peer/setup-whisperlive.sh
	$(BIN)/python bench/stream_bench.py --peer --streams 1 2 4 8 12 16 --write BENCHMARKS.md \
		--json docs/bench/streaming.json --plot docs/bench/streaming-latency.png
	$(BIN)/python bench/translation_bench.py --write BENCHMARKS.md
	$(BIN)/python bench/speakers_bench.py
	$(BIN)/python bench/readme_figures.py

bench-quick: setup
	scripts/system-deps.sh test
	$(BIN)/python bench/stream_bench.py --quick

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
