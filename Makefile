# `make demo` and `make test` are all a newcomer needs: each creates .venv and installs first.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test install bench clean docs browser-deps test-deps

# pip's and setuptools' chatter goes to .venv/install.log, shown only when the install fails.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "rounds needs Python 3.11 or newer")'
	@echo "Installing rounds into $(VENV) (the first time takes a few minutes)..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install --quiet -e '.[test]' >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(BIN)/rounds demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in tests/benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-round .pytest_cache

# Headless Chromium and CJK fonts for tests/browser (the 公示 page and the round report).
# Debian packages, installed as root; the browser tests call this target and skip, saying why, when it fails.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh family 2>/dev/null | grep -q .; then \
	  echo "browser-deps: chromium and CJK fonts present"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "browser-deps: run as root: apt-get install -y --no-install-recommends chromium fonts-noto-cjk" >&2; exit 1; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk fontconfig; \
	fi

# Everything outside Python the full test suite uses: Chromium and CJK fonts (browser tests) and
# LibreOffice Calc (the score sheets' validation is checked by converting one). CI calls this first;
# tests that need a missing one skip and say why.
test-deps: browser-deps
	@if command -v soffice >/dev/null 2>&1; then \
	  echo "test-deps: LibreOffice present"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "test-deps: run as root: apt-get install -y --no-install-recommends libreoffice-calc-nogui" >&2; exit 1; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui; \
	fi
