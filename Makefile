# Two entry points: `make demo` runs the main job, `make test` runs the tests.
# Each creates .venv and installs what it needs (torch==2.13.0 first: an
# unpinned torch would pull a much larger CUDA build). The main job needs the
# package alone (no extra: its speech front end is librosa's); the tests also
# install the test, opensmile (research licence), dask and onnx extras.
VENV ?= .venv
PY := $(VENV)/bin/python
SKPATHNET_DATA ?= $(abspath ../shared/data)
export SKPATHNET_DATA

.PHONY: install install-dev demo demo-full demo-visual test benchmark

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,opensmile,dask,onnx]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install
	$(PY) -m skpathnet transfer --source ravdess --target emodb

demo-full: install
	$(PY) -m skpathnet transfer --source ravdess --target emodb --full

demo-visual: install
	$(PY) -m skpathnet transfer --modality visual --source ckplus --target jaffe

test: install-dev
	$(PY) -m pytest -q -ra --durations=10

benchmark: install-dev
	$(PY) benchmarks/bench_engine.py
