# stsanalysis: two commands on a fresh machine.
#   make report   builds every demo study report into reports/
#   make test     runs the test suite
# Both create .venv when it is missing and reinstall when pyproject.toml changes
# (the stamp file's name carries the hash of pyproject.toml).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := radiomics,viewer,dask,cluster,dicom,test
STAMP := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")
DEMO := data/demo
REPORTS := reports
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIGS := $(wildcard notebooks/configs/*.yaml)
TEACHING := $(wildcard notebooks/configs/teaching/*.yaml)

.PHONY: install demo report test benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/stsanalysis demo --output $(DEMO)

# Reports are built JOBS at a time, in processes forked from one that has imported papermill
# and nbconvert; each config names its output folder (reports/, reports/teaching/).
report: demo
	$(BIN)/stsanalysis report --jobs $(JOBS) $(addprefix --config ,$(CONFIGS) $(TEACHING))

# ruff lints and checks the formatting first; pytest runs the tests and the docstring examples
test: $(STAMP)
	$(BIN)/ruff check stsanalysis tests benchmarks
	$(BIN)/ruff format --check stsanalysis tests benchmarks
	$(BIN)/python -m pytest

benchmark: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(REPORTS) $(DEMO) .pytest_cache
