SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

# Runs to build: `make report PARAMS=path/to/run.yaml` builds any other. The committed reports are
# these three: the news study, the seed article alone, and a German corpus (Bundestag speeches).
PARAMS ?= params/news.yaml params/seed.yaml params/bundestag.yaml
# Where ingest, tokenize and the counts run: empty = each run's `engine` key (pandas by
# default); `make report ENGINE=dask` uses Dask (DASK_SCHEDULER_ADDRESS, or a local cluster).
ENGINE ?=
ifneq ($(ENGINE),)
export NEWSLENS_ENGINE := $(ENGINE)
endif
PYTHON_BOOT ?= python3
SOURCE ?=
NAME ?=
# Two runs to compare: params files, or for B a git revision of run A (`make compare A=params/news.yaml B=HEAD~5`).
A ?=
B ?=
# Sensitivity variants to build (names from `python -m newslens sensitivity variants PARAMS`); empty = all.
VARIANTS ?=
# The validation page's coder (filled in on the page) and number of topic-intrusion items (default 30).
CODER ?=
ITEMS ?=
# Builtin corpora `make data` fetches: `make data CORPUS="commons sotu"`, or CORPUS=all.
CORPUS ?= news-articles
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
# The stage table (src/newslens/stages.py) writes each stage's rules: notebook, parameter
# slice, modules, upstream stages and run files (STAGES, CODE_PATHS, RENDER_SRC, STAGE_RULES),
# and each builtin corpus with the raw file ingest reads of it (BUILTIN_RAW, from
# src/newslens/corpora.py). Only goals that build a run (or fetch a raw file) read it, so
# `make help` needs no Python.
STAGES_MK := build/stages.mk
RUN_GOALS := report validate reports/% build/% data/raw/%
ifneq ($(filter $(RUN_GOALS),$(MAKECMDGOALS)),)
include $(STAGES_MK)

# A run's builtin sources are fetched on its first `make report`.
define FETCH_RULE
$(2): | $$(ENV_STAMP)
	$$(PY) -m newslens fetch $(1)
endef
$(foreach pair,$(BUILTIN_RAW),$(eval $(call FETCH_RULE,$(firstword $(subst =, ,$(pair))),$(lastword $(subst =, ,$(pair))))))
endif

run_name = $(basename $(notdir $(1)))
RUNS := $(foreach p,$(PARAMS),$(call run_name,$(p)))

.PHONY: help env data init report validate compare sensitivity test check lab bench stress clean
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

## data: fetch the builtin news corpus (others: CORPUS="commons sotu" or CORPUS=all), or restore it (hash-checked)
data: | $(ENV_STAMP)
	$(PY) -m newslens fetch $(if $(filter all,$(CORPUS)),--all,$(CORPUS))

## init: write params/NAME.yaml for a corpus: make init SOURCE=path/to/file-or-folder (or builtin:commons) [NAME=name]
init: $(ENV_STAMP)
	@[ -n "$(SOURCE)" ] || { echo "usage: make init SOURCE=path/to/file-or-folder|builtin:NAME [NAME=name]" >&2; exit 2; }
	$(PY) -m newslens init "$(SOURCE)" $(if $(NAME),--name "$(NAME)")

## report: run every stage of every run in PARAMS and render reports/ (incremental)
report: reports/index.html

## validate: write reports/<run>/validate.html for each run in PARAMS: word and topic intrusion for a coder to answer (CODER=name ITEMS=n topic items, default 30); answers go in validation/<run>/
validate: $(foreach r,$(RUNS),build/$(r)/04-topics.done)
	@for p in $(PARAMS); do $(PY) -m newslens validate "$$p" $(if $(CODER),--coder "$(CODER)") $(if $(ITEMS),--items "$(ITEMS)"); done

## compare: compare two runs: make compare A=params/x.yaml B=params/y.yaml (or B=HEAD~5: run A at a revision; or a findings.json); writes reports/compare/
compare: $(ENV_STAMP)
	@[ -n "$(A)" ] && [ -n "$(B)" ] || { echo "usage: make compare A=params/x.yaml B=params/y.yaml|REVISION" >&2; exit 2; }
	@for p in $(filter %.yaml,$(A) $(B)); do [ -f "$$p" ] || { echo "error: $$p does not exist: A and B are a run's params file" >&2; exit 2; }; done
	$(MAKE) --no-print-directory -o $(ENV_STAMP) report PARAMS="$(sort $(filter %.yaml,$(A) $(B)))"
	$(PY) -m newslens compare "$(A)" "$(B)"
	$(PY) -m newslens index

## sensitivity: how the findings of each run in PARAMS hold across preprocessing variants (run with -j; VARIANTS="..." picks some)
sensitivity: $(ENV_STAMP)
	$(MAKE) --no-print-directory -o $(ENV_STAMP) report PARAMS="$(PARAMS)"
	@mkdir -p build/sensitivity
	$(PY) -m newslens sensitivity makefile $(PARAMS) $(if $(VARIANTS),--variants "$(VARIANTS)") > build/sensitivity/grid.mk.tmp
	@mv build/sensitivity/grid.mk.tmp build/sensitivity/grid.mk
	$(MAKE) --no-print-directory -o $(ENV_STAMP) -f Makefile -f build/sensitivity/grid.mk sensitivity-reports
	$(MAKE) --no-print-directory -o $(ENV_STAMP) report PARAMS="$(PARAMS)"  # the summaries' robustness line

## test: the fast tier: every test that runs in process (builds the environment and fetches every builtin first)
test: $(ENV_STAMP) data
	$(PY) -m newslens fetch --all
	$(PY) -m pytest -q --tier fast

## check: ruff, the layers contract, and the whole suite (pipeline, papermill, make, Dask, JupyterLab, browsers, every committed run under every CPU code path)
check: $(ENV_STAMP) data
	$(PY) -m newslens fetch --all
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q --tier full

## lab: open JupyterLab on the project's environment
lab: $(ENV_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

## bench: stages vs bare-library anchors, the k sweep, a cold news report vs a bare script, the engines (benchmarks/*.md)
bench: $(ENV_STAMP) data
	$(PY) -m benchmarks --scales 1 16 --cell-budget 60 --max-anchor-scale 1 --gensim-max-scale 0 --sections stages sweep report
	$(PY) benchmarks/engines.py --scales 1 4 16 64 --add-to benchmarks/results.json

## stress: large and odd inputs (100 MB text, 500k-row CSV, 20k files): memory and time
stress: $(ENV_STAMP)
	$(PY) benchmarks/stress.py

## clean: remove build/, data/processed/ and caches (never data/raw/ or reports/)
clean:
	rm -rf build data/processed .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

# ---------------------------------------------------------------- per-run rules
$(STAGES_MK): $(SRC)/stages.py $(SRC)/corpora.py $(SRC)/pipeline/execute.py | $(ENV_STAMP)
	@mkdir -p $(@D)
	$(PY) -m newslens makefile > $@.tmp && mv $@.tmp $@

# A run's builtin sources (`builtin: NAME` lines of its params) and their raw files, prerequisites of ingest.
builtin_names = $(shell sed -nE 's/^[[:space:]-]*builtin:[[:space:]]*["'"'"']?([a-z0-9_-]+).*/\1/p' $(1))
raw_inputs = $(foreach n,$(call builtin_names,$(1)),$(patsubst $(n)=%,%,$(filter $(n)=%,$(BUILTIN_RAW))))

# The `path:` sources of a run's params, and a listing of their files (path, size, modification
# time), rewritten only when it changes: a file added to, changed in or removed from a source
# folder reruns ingest. Plain find, no Python start-up. The recipe line starts with + so that a
# dry run (make -n) lists the files too and sees what a real run would.
source_paths = $(shell sed -nE 's/^[[:space:]-]*path:[[:space:]]*["'"'"']?([^"'"'"'#[:space:]]+).*/\1/p' $(1))
define LIST_SOURCES
listing="$$($(if $(strip $(1)),find -L $(1) -type f -printf '%p\t%s\t%T@\n' 2>/dev/null | LC_ALL=C sort,true))"; \
[ -f $(2) ] && [ "$$(cat $(2))" = "$$listing" ] || { mkdir -p $(dir $(2)); printf '%s\n' "$$listing" > $(2); }
endef

# build/<run>/params.stamp rewrites each stage's slice of the params only when it
# changed, so a stage reruns only when the part of the params it reads changes. The git
# state is settled first (order-only), so that a report a stage renders is never older.
# A stage is executed into build/<run>/<stage>.ipynb (tracked by <stage>.done),
# then rendered to reports/<run>/<stage>.html with its provenance block; the
# render also depends on build/git-state.txt, so committing code re-renders
# the reports (seconds) without re-executing them.
define RUN_RULES
build/$(1)/params.stamp: $(2) $(SRC)/params.py $(SRC)/stages.py build/engine-state.txt | $(ENV_STAMP) build/git-state.txt
	$(PY) -m newslens slices $(2)
	@touch $$@

build/$(1)/sources.txt: FORCE
	+@$$(call LIST_SOURCES,$$(call source_paths,$(2)),$$@)

build/$(1)/params/%.json: build/$(1)/params.stamp ;
build/$(1)/params/engine.txt: build/$(1)/params.stamp ;

$(call STAGE_RULES,$(1),$(2))

# The run's findings, small and committed, that `make compare` reads (also at a revision).
reports/$(1)/findings.json: build/$(1)/03-keywords.done build/$(1)/04-topics.done $(SRC)/analysis/compare.py \
		$(SRC)/analysis/limits.py
	$(PY) -m newslens findings $(2)

# The validation page, beside the reports: word and topic intrusion drawn from the run's model
# (`make validate` draws it again for a named coder).
reports/$(1)/validate.html: build/$(1)/04-topics.done $(SRC)/analysis/validation.py $(SRC)/analysis/validation_items.py $(SRC)/report/validation_form.py $(SRC)/report/validation_page.py $(RENDER_SRC)
	$(PY) -m newslens validate $(2)

# The stage renders its report as it finishes; this rule renders again only when the report
# is older than one of its prerequisites (a code commit, a render module), without re-executing.
reports/$(1)/%.html: build/$(1)/%.done build/git-state.txt $(RENDER_SRC)
	@stale=; for p in $$^; do [ $$@ -nt $$$$p ] || stale=1; done; \
	if [ -n "$$$$stale" ]; then $(PY) -m newslens render $(2) $$*; fi
endef
ifneq ($(filter $(RUN_GOALS),$(MAKECMDGOALS)),)
$(foreach p,$(PARAMS),$(eval $(call RUN_RULES,$(call run_name,$(p)),$(p))))
endif

# Rewritten only when the last code commit or the cleanliness of the tree changes
# (plain git, no Python start-up, so a no-op `make report` stays fast).
# CODE_PATHS comes from the stage table, as provenance's does.
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

ifneq ($(filter $(RUN_GOALS),$(MAKECMDGOALS)),)
# Every stage whose notebook exists, for every run.
BUILT_STAGES := $(filter $(patsubst notebooks/%.ipynb,%,$(wildcard notebooks/*.ipynb)),$(STAGES))
ALL_REPORTS := $(foreach r,$(RUNS),$(foreach s,$(BUILT_STAGES),reports/$(r)/$(s).html) reports/$(r)/findings.json \
	reports/$(r)/validate.html)

reports/index.html: $(ALL_REPORTS) $(SRC)/report/index.py $(RENDER_SRC)
	$(PY) -m newslens index
endif
