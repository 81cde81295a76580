# Vigie — every set-up step lives here so that two commands work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make demo` uses its own store so that it never mixes demo data into a real one (data/vigie.duckdb)
DEMO_DB ?= data/demo.duckdb
TEST_DB := build/demo-test.duckdb
PORT ?= 8501

.PHONY: demo test test-quick test-db test-grid lint bench bench-10m venv clean-demo format eval

venv: $(VENV)/.installed

# uv (pinned, from the same registry) installs the pinned requirements in ~3 s where pip takes ~60 s.
# No bytecode at install: compiling all 11 500 files of the venv took 30 s of the bootstrap (43 s of CPU);
# the modules Vigie imports are compiled once, by the first process that imports them (the targets
# below write bytecode). If uv cannot be installed or fails (no route to its index), pip installs the
# same pinned versions.
UV_VERSION := 0.13.8
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	( $(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt ) || \
	  $(BIN)/pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

## make demo: bootstrap, build the demo store if absent, serve the app on http://localhost:8501
demo: venv
	test -f $(DEMO_DB).ok || (rm -rf $(DEMO_DB) $(DEMO_DB).read $(DEMO_DB).read.prev data/demo_exports && \
		$(BIN)/vigie --db $(DEMO_DB) demo && touch $(DEMO_DB).ok)
	VIGIE_DB=$(DEMO_DB) VIGIE_AUTH=demo $(BIN)/streamlit run streamlit_app/app.py \
		--server.port $(PORT) --server.headless true --browser.gatherUsageStats false

## make test: bootstrap, build the test demo store, run the whole suite (tests + notebooks); 3 workers on
## 2 cores: the browser and server tests spend much of their time waiting; the 30 slowest tests are listed.
## The notebooks run one after the other beside the tests (in that waiting time), their log printed after.
## The longest groups and tests start first (tests/conftest.py LONG_FIRST; xdist's own reordering is off).
## The tests that build their own demo (no test store), then ruff and lint-imports, run while the test
## store is being built: its generation keeps one core busy and leaves the other idle for ~20 s.
BESIDE_DB := tests/test_demo.py tests/test_bench_slices.py
## Bytecode is written during the tests even where the environment says not to (PYTHONDONTWRITEBYTECODE):
## else every process (3 workers, the notebooks' kernels, each app server and CLI run) compiles the project
## again and pytest rewrites the asserts of every test file again (≈ 5 s per worker, measured on collection).
## `make demo` too: no bytecode is compiled at install, so the app would compile its 2 600 modules at each start;
## and `make bench`, `bench-10m`, `eval`: their parse and enrichment workers would each compile pandas and sklearn.
demo test test-quick test-db bench bench-10m eval: export PYTHONDONTWRITEBYTECODE :=
test: venv
	mkdir -p build
	( $(BIN)/python -m pytest -p no:randomly -q --durations=5 $(BESIDE_DB); r=$$?; \
	  echo "--- ruff, lint-imports"; $(BIN)/ruff check analysis streamlit_app tests benchmarks && $(BIN)/lint-imports; \
	  l=$$?; test $$r -eq 0 && test $$l -eq 0 ) > build/beside-db.log 2>&1 & early=$$!; \
	$(MAKE) --no-print-directory test-db; dbrc=$$?; \
	if [ $$dbrc -ne 0 ]; then wait $$early; cat build/beside-db.log; exit $$dbrc; fi; \
	VIGIE_DB=$(abspath $(TEST_DB)) $(BIN)/python -m pytest --nbmake -p no:randomly -q notebooks \
		> build/notebooks.log 2>&1 & nb=$$!; \
	VIGIE_TEST_DB=$(abspath $(TEST_DB)) $(BIN)/python -m pytest -n 3 --dist loadgroup --no-loadscope-reorder --durations=30 tests \
		--ignore=tests/test_pages_grid.py $(addprefix --ignore=,$(BESIDE_DB)); rc=$$?; \
	wait $$nb; nbrc=$$?; wait $$early; erc=$$?; \
	echo "--- beside the test store's build: $(BESIDE_DB), ruff, lint-imports (build/beside-db.log)"; \
	cat build/beside-db.log; \
	echo "--- notebooks (build/notebooks.log)"; cat build/notebooks.log; \
	test $$rc -eq 0 && test $$nbrc -eq 0 && test $$erc -eq 0

## make test-quick: the inner loop — the suite without the browser tests, the golden pages and the
## notebooks, stopping at the first failure (make test stays the one command CI runs)
test-quick: test-db
	VIGIE_TEST_DB=$(abspath $(TEST_DB)) $(BIN)/python -m pytest -n 2 --dist loadgroup -x -q tests \
		--ignore=tests/test_pages_grid.py -m "not browser" -k "not test_page_shows_its_golden"
	$(BIN)/ruff check analysis streamlit_app tests benchmarks
	$(BIN)/lint-imports

# the .ok stamp is written only after a complete build, so an interrupted build is redone; it is
# older than the schema, the demo generator, the registry, a text model, the hostility lexicon, the question
# rules, the language rules or the derived tables' refresh (the demo is enriched by them, and the golden outputs
# read it) when one of them changed: rebuilt then
test-db: venv $(TEST_DB).ok

$(TEST_DB).ok: analysis/schema.py $(wildcard analysis/demo*.py analysis/demo/*.py) analysis/ingest/agenda.py data/territories.toml \
		data/themes.toml analysis/sentiment/model_fr.npz $(wildcard data/models/*.npz data/models/*.gz) \
		data/lexicons/hostility_fr.txt analysis/moderation/toxicity.py analysis/derived_refresh.py analysis/text.py \
		analysis/topics/classifier.py analysis/topics/enricher.py analysis/topics/lemmas.py analysis/topics/keys.py
	mkdir -p build
	rm -rf $(TEST_DB) $(TEST_DB).ok $(TEST_DB).read $(TEST_DB).read.prev $(basename $(TEST_DB))_exports
	VIGIE_PSEUDONYM_KEY=test-key-not-secret $(BIN)/vigie --db $(TEST_DB) demo
	touch $@

## make test-grid: the every-page × every-filter-combination test (2 160 AppTest runs, ~4 min 30; not in make test: test_pages_all opens every page with every filter value)
test-grid: test-db
	VIGIE_TEST_DB=$(abspath $(TEST_DB)) $(BIN)/python -m pytest -n 2 tests/test_pages_grid.py

lint: venv
	$(BIN)/ruff check analysis streamlit_app tests benchmarks
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format analysis streamlit_app tests benchmarks

## make eval: every text model on real labelled French texts (shared folder: VIGIE_SHARED or ../shared),
## figures with bootstrap intervals printed and written into the model cards (a few minutes); the emerging subjects
## also on the test demo store (its injected events) when `make test` or `make test-db` has built it
eval: venv
	$(BIN)/python -m analysis eval $(if $(wildcard $(TEST_DB).ok),--demo-db $(TEST_DB))

## make bench: scaled demo (1M messages) and the performance table (benchmarks/README.md)
bench: venv
	$(BIN)/python -m benchmarks.run

## make bench-10m: ten million messages (demo scale 41 generated in 10 slices of 1 M), import, enrichment,
## read models p95 and the monthly report against the issue's goals; not in CI (31 min on 2 cores on 6 Dec 2026; 22 GB of disk: exports, store and its read copies)
bench-10m: venv
	$(BIN)/python -m benchmarks.bench10m

clean-demo:
	rm -rf $(DEMO_DB) $(DEMO_DB).read $(DEMO_DB).read.prev $(DEMO_DB).ok data/demo_exports $(TEST_DB) $(TEST_DB).read $(TEST_DB).read.prev $(TEST_DB).ok build/demo-test_exports
