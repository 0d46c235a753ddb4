# stackgate: `make smoke` (the smoke gate), `make release` (the release gate), `make test` (the project's own tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest
REPORT_OPTS = --self-contained-html
TEST_OPTS = --durations=15

.PHONY: setup smoke smoke-vllm release release-vllm scale test lint unit bench bench-isolation bench-llm bench-adversary clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,standins]'
	@touch $@

## setup: venv, Docker engine, compose plugin, host tools, airgap images (idempotent)
setup: venv
	$(BIN)/python -m stackgate setup

## smoke: the smoke gate against the airgap stack; writes reports/smoke.html and reports/smoke.xml; exits
## non-zero unless every metric the gate requires is PASS (or an optional skip)
smoke: setup
	$(PYTEST) -m smoke --gate smoke --html=reports/smoke.html $(REPORT_OPTS) --junitxml=reports/smoke.xml

## smoke-vllm: the smoke gate against the Phase 2 layout (vLLM's OpenAI server in the LLM Ollama's place; in the
## airgap profile llama.cpp's OpenAI server stands in for vLLM): reports/smoke-vllm.html and .xml
smoke-vllm: setup
	$(PYTEST) -m smoke --gate smoke --manifest=stack/manifest-vllm.yaml --html=reports/smoke-vllm.html $(REPORT_OPTS) --junitxml=reports/smoke-vllm.xml

## release: the release gate (smoke + resilience + isolation + rollback, logs watched 60 s after the last check):
## reports/release.html
release: setup
	$(PYTEST) -m "smoke or resilience or isolation or rollback" --gate release --html=reports/release.html $(REPORT_OPTS) --junitxml=reports/release.xml

## release-vllm: the release gate of the Phase 2 layout: its smoke gate, then the rollback to the separated
## deployment (judged by manifest.yaml) and forward again: reports/release-vllm.html
release-vllm: setup
	$(PYTEST) -m "smoke or rollback" --gate release --manifest=stack/manifest-vllm.yaml --html=reports/release-vllm.html $(REPORT_OPTS) --junitxml=reports/release-vllm.xml

## scale: the scale gate on Docker Swarm: the separated deployment with 2 replicas of each Ollama
## (stack/docker-stack-scaled.yml), the smoke checks that apply there, per-replica balance and a replica killed under
## load; a single-node swarm is initialised for the run and left again: reports/scale.html
scale: setup
	$(PYTEST) -m "smoke or scale" --gate scale --stack-engine swarm --html=reports/scale.html $(REPORT_OPTS) --junitxml=reports/scale.xml

## lint: ruff, and import-linter's contracts (stackgate's layers import only downward, no import cycle)
lint: venv
	$(BIN)/ruff check stackgate stackgate_suite tests_unit tests_faults
	$(BIN)/lint-imports

## test: lint, then the project's own tests: unit, contract, smoke, rollback (reports/test.html + .xml), the vLLM
## layout's release gate (reports/release-vllm.html), the scale gate on swarm (reports/scale.html), then the fault
## catalogue in a session of its own (it needs the stack's ports): reports/faults.html + .xml. Each run prints its
## slowest tests (the CI log shows where its 50 minutes go). The vLLM release run watches the logs 10 s, not the
## release gate's 60 s: the 60 s window is the first run's, and a second one would find nothing the first cannot
test: setup lint
	$(PYTEST) --gate release --html=reports/test.html $(REPORT_OPTS) $(TEST_OPTS) --junitxml=reports/test.xml
	$(PYTEST) -m "smoke or rollback" --gate release --watch-logs 10 --manifest=stack/manifest-vllm.yaml --html=reports/release-vllm.html $(REPORT_OPTS) $(TEST_OPTS) --junitxml=reports/release-vllm.xml
	$(PYTEST) -m "smoke or scale" --gate scale --stack-engine swarm --html=reports/scale.html $(REPORT_OPTS) $(TEST_OPTS) --junitxml=reports/scale.xml
	$(PYTEST) tests_faults --html=reports/faults-run.html $(REPORT_OPTS) $(TEST_OPTS) --junitxml=reports/faults.xml

## unit: only the fast tests without Docker
unit: venv
	$(PYTEST) tests_unit

## bench: bare compose cycle vs. full smoke vs. reuse-mode smoke; writes reports/bench.json
bench: setup
	$(BIN)/python -m stackgate.bench

## bench-isolation: LLM latency idle and under a vision burst, separated layout beside the simple one:
## reports/bench-isolation.json + .html
bench-isolation: setup
	$(BIN)/python -m stackgate.bench.isolation

## bench-llm: the LLM Ollama vs an OpenAI-compatible server (llama.cpp's, the stand-in for vLLM): TTFT, TPOT,
## ITL, latency percentiles, throughput at concurrency 1-8 and a Poisson run: reports/bench-llm.json + .html
bench-llm: setup
	$(BIN)/python -m stackgate.bench.llm

## bench-adversary: each content check's failure rate when the LLM answers wrong on purpose (the stand-in's
## adversary modes echo, span, example, other; and off): reports/bench-adversary.json
bench-adversary: setup
	$(BIN)/python -m stackgate.bench.adversary

## clean: remove every container, network and volume stackgate created (images are kept)
clean:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m stackgate clean; else echo "clean: no venv, nothing to do"; fi
