# zhidu — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck browser postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "zhidu needs Python 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Install (first time only) and run the whole system on embedded defaults; Ctrl-C stops it.
run: install
	$(BIN)/python -m zhidu.cli up

## Install (first time only) and run linters, type checks and the whole test suite twice: on SQLite, then on
## PostgreSQL (127.0.0.1:5432, started when it is not running).
test: install browser postgres
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -m "not production"
	ZHIDU_TEST_DB=postgresql $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## Debian's Chromium and a CJK font for the browser test and the report charts.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "warning: could not install chromium/fonts-noto-cjk (the browser test will fail)"; fi

## The machine's PostgreSQL on 127.0.0.1:5432 (Debian cluster), started when it is not running.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -1) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL is not answering on 127.0.0.1:5432 (the second test pass needs it)"; exit 1

clean:
	rm -rf var
