# Two commands do everything (see README.md):
#   make book   set up .venv and build the HTML book, executing every notebook (fast profile)
#   make test   set up .venv and run the whole test suite (unit tests, nbval, the book build)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= $(or $(SIAMESE_PROFILE),fast)

.PHONY: setup book test test-latest clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

book: setup
	SIAMESE_PROFILE=$(PROFILE) $(BIN)/python tools/build_book.py

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SIAMESE_PROFILE=smoke $(BIN)/python -m pytest tests book --durations=25
	@echo "The book built by the tests: $(CURDIR)/_build/html/index.html"

# The newest releases of the direct dependencies, in .venv-latest (tools/test_latest.py).
test-latest:
	$(PYTHON) tools/test_latest.py

clean:
	rm -rf _build
