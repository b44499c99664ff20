# The two commands of the README: `make book [DATA=path/to/package]` and `make test`.
PY := .venv/bin/python
DATA ?= data/CD015373
REVIEW ?=

.PHONY: setup book test pdf bench clean

setup:
	@bash scripts/setup.sh

book: setup
	$(PY) -m reviewbook book --data "$(DATA)" $(if $(REVIEW),--review "$(REVIEW)")

test: setup
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

pdf: setup
	$(PY) -m reviewbook pdf

bench: setup
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/book.py
	$(PY) benchmarks/atlas.py
	$(PY) benchmarks/hostile.py

clean:
	rm -rf book/_build
