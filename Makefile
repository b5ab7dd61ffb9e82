SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

# Runs to build: `make report PARAMS=path/to/run.yaml` builds any other.
PARAMS ?= params/news.yaml params/seed.yaml
# Where ingest, tokenize and the counts run: empty = each run's `engine` key (pandas by
# default); `make report ENGINE=dask` uses Dask (DASK_SCHEDULER_ADDRESS, or a local cluster).
ENGINE ?=
ifneq ($(ENGINE),)
export NEWSLENS_ENGINE := $(ENGINE)
endif
PYTHON_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.installed
KERNEL := newslens
# Single-threaded BLAS keeps results and timings reproducible; stages parallelise themselves.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYTHONHASHSEED ?= 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

SRC := src/newslens
# What executing any stage uses, and what rendering any report uses.
EXEC_SRC := $(SRC)/config.py $(SRC)/params.py $(SRC)/io.py $(SRC)/report.py $(SRC)/plots.py
RENDER_SRC := $(SRC)/render.py $(SRC)/pipeline.py $(wildcard $(SRC)/templates/newslens/*)
INGEST_SRC := $(SRC)/engine.py $(SRC)/ingest.py $(SRC)/sources.py $(SRC)/clean.py $(SRC)/sentences.py $(SRC)/fetch.py
TOKENIZE_SRC := $(SRC)/engine.py $(SRC)/tokenize.py $(SRC)/tokenizer.py $(SRC)/words.py $(SRC)/phrases.py \
	$(SRC)/stopwords.py $(wildcard $(SRC)/data/stopwords/*.txt) $(SRC)/sentences.py
KEYWORDS_SRC := $(SRC)/keywords.py $(SRC)/keyness.py $(SRC)/kwic.py $(SRC)/ingest.py
TOPICS_SRC := $(SRC)/topics.py $(SRC)/keywords.py $(SRC)/ingest.py
SUMMARY_SRC := $(SRC)/summary.py
STAGES := 01-ingest 02-tokenize 03-keywords 04-topics 05-summary

run_name = $(basename $(notdir $(1)))
RUNS := $(foreach p,$(PARAMS),$(call run_name,$(p)))

.PHONY: help env data report test lab bench stress clean
## help: list the targets (default)
help:
	@echo "newslens: make <target>"
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'

## env: create or refresh the virtual environment and the Jupyter kernel
env: $(ENV_STAMP)

$(ENV_STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON_BOOT) >/dev/null || { echo "error: $(PYTHON_BOOT) not found; install Python 3.11" >&2; exit 1; }
	@[ -x $(PY) ] || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (newslens)" >/dev/null
	@touch $@

## data: fetch the builtin news corpus (hash-checked; a second run does nothing)
data: data/raw/news-articles/NewsArticles.csv

data/raw/news-articles/NewsArticles.csv: | $(ENV_STAMP)
	$(PY) -m newslens.fetch news-articles

## report: run every stage of every run in PARAMS and render reports/ (incremental)
report: reports/index.html

## test: run the test suite (builds the environment and data first)
test: $(ENV_STAMP) data
	$(PY) -m pytest -q

## lab: open JupyterLab on the project's environment
lab: $(ENV_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

## bench: each stage against the bare-library anchors, and the pandas and Dask engines (benchmarks/*.md)
bench: $(ENV_STAMP) data
	$(PY) benchmarks/bench.py --cell-budget 60 --max-anchor-scale 4
	$(PY) benchmarks/engines.py --reuse-pandas benchmarks/results.json

## stress: large and odd inputs (100 MB text, 500k-row CSV, 20k files): memory and time
stress: $(ENV_STAMP)
	$(PY) benchmarks/stress.py

## clean: remove build/, data/processed/ and caches (never data/raw/ or reports/)
clean:
	rm -rf build data/processed .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

# ---------------------------------------------------------------- per-run rules
# build/<run>/params.stamp rewrites each stage's slice of the params only when it
# changed, so a stage reruns only when the part of the params it reads changes.
# A stage is executed into build/<run>/<stage>.ipynb (tracked by <stage>.done),
# then rendered to reports/<run>/<stage>.html with its provenance block; the
# render also depends on build/git-state.txt, so committing code re-renders
# the reports (seconds) without re-executing them.
define RUN_RULES
build/$(1)/params.stamp: $(2) $(SRC)/params.py build/engine-state.txt | $(ENV_STAMP)
	$(PY) -m newslens.pipeline slices $(2)
	@touch $$@

build/$(1)/params/%.json: build/$(1)/params.stamp ;
build/$(1)/params/engine.txt: build/$(1)/params.stamp ;

build/$(1)/01-ingest.done: notebooks/01-ingest.ipynb build/$(1)/params/01-ingest.json build/$(1)/params/engine.txt $(EXEC_SRC) $(INGEST_SRC) $(if $(shell grep -l 'news-articles' $(2)),data/raw/news-articles/NewsArticles.csv)
	$(PY) -m newslens.pipeline stage $(2) 01-ingest

build/$(1)/02-tokenize.done: notebooks/02-tokenize.ipynb build/$(1)/params/02-tokenize.json build/$(1)/params/engine.txt build/$(1)/01-ingest.done $(EXEC_SRC) $(TOKENIZE_SRC)
	$(PY) -m newslens.pipeline stage $(2) 02-tokenize

build/$(1)/03-keywords.done: notebooks/03-keywords.ipynb build/$(1)/params/03-keywords.json build/$(1)/params/engine.txt build/$(1)/02-tokenize.done $(EXEC_SRC) $(KEYWORDS_SRC)
	$(PY) -m newslens.pipeline stage $(2) 03-keywords

build/$(1)/04-topics.done: notebooks/04-topics.ipynb build/$(1)/params/04-topics.json build/$(1)/params/engine.txt build/$(1)/02-tokenize.done $(EXEC_SRC) $(TOPICS_SRC) $(wildcard $(basename $(2)).labels.yaml)
	$(PY) -m newslens.pipeline stage $(2) 04-topics

build/$(1)/05-summary.done: notebooks/05-summary.ipynb build/$(1)/params/05-summary.json build/$(1)/03-keywords.done build/$(1)/04-topics.done $(EXEC_SRC) $(SUMMARY_SRC)
	$(PY) -m newslens.pipeline stage $(2) 05-summary

reports/$(1)/%.html: build/$(1)/%.done build/git-state.txt $(RENDER_SRC)
	$(PY) -m newslens.pipeline render $(2) $$*
endef
$(foreach p,$(PARAMS),$(eval $(call RUN_RULES,$(call run_name,$(p)),$(p))))

# Rewritten only when the last code commit or the cleanliness of the tree changes
# (plain git, no Python start-up, so a no-op `make report` stays fast).
# CODE_PATHS must match newslens.render.CODE_PATHS (tests/test_makefile.py checks).
CODE_PATHS := src notebooks params Makefile pyproject.toml requirements.lock data/raw/seed
build/git-state.txt: FORCE
	@mkdir -p build
	@state="$$(git log -1 --format=%H -- $(CODE_PATHS) 2>/dev/null || echo none) \
	$$(git status --porcelain --untracked-files=no -- $(CODE_PATHS) 2>/dev/null | wc -l)"; \
	[ -f $@ ] && [ "$$(cat $@)" = "$$state" ] || echo "$$state" > $@

# Rewritten only when ENGINE changes, so that the next `make report` re-slices the params.
build/engine-state.txt: FORCE
	@mkdir -p build
	@[ -f $@ ] && [ "$$(cat $@)" = "$(ENGINE)" ] || echo "$(ENGINE)" > $@

.PHONY: FORCE
FORCE:

# Every stage whose notebook exists, for every run.
BUILT_STAGES := $(filter $(patsubst notebooks/%.ipynb,%,$(wildcard notebooks/*.ipynb)),$(STAGES))
ALL_REPORTS := $(foreach r,$(RUNS),$(foreach s,$(BUILT_STAGES),reports/$(r)/$(s).html))

reports/index.html: $(ALL_REPORTS) $(SRC)/index.py $(RENDER_SRC)
	$(PY) -m newslens.pipeline index
