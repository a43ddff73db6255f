# urbanreport: `make demo` sets everything up and runs the main job; `make test` runs the tests.
# Only python3 (3.11+) and pip are needed on the machine; everything else is installed here.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export URBANREPORT_HOME ?= $(CURDIR)/var
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo demo-steps test lint bench bench-lake serve stop clean browser office postgres \
  city-demo city-stop

$(BIN)/urbanreport: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/urbanreport

# `$(TIMED) LABEL COMMAND...` runs COMMAND and prints how long it took, also when it fails.
TIMED = $(PYTHON) -c 'import subprocess, sys, time; t = time.monotonic(); \
  rc = subprocess.call(sys.argv[2:]); \
  print(f"{sys.argv[1]} 总用时 {time.monotonic() - t:.1f} 秒 (total time)"); sys.exit(rc)'

# `make demo` prints its own total time, the install included.
demo:
	@$(TIMED) "make demo" $(MAKE) --no-print-directory demo-steps

# A first start of Prefect's temporary server creates its database: give it time on a slow machine.
demo-steps: export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
demo-steps: install
	$(BIN)/urbanreport sample --years 2022-2024
	$(BIN)/urbanreport demo

# Headless Chromium for the portal's browser test (Debian's package: Playwright's own browser
# download is not used). Installed only when missing and only as root; otherwise say how.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "chromium 未安装，浏览器测试将跳过。安装：sudo apt-get install -y chromium"; \
	  fi; }

# LibreOffice (Debian's headless Writer) for the test that converts the Word draft to PDF, with
# the Noto CJK and AR PL UKai faces it stands in for the 公文 fonts, and poppler (pdftoppm, pdffonts).
# Installed only when missing and only as root; otherwise say how (the test then skips).
office:
	@{ command -v soffice && command -v pdffonts && fc-list :lang=zh family | grep -q "Noto Serif CJK SC" && fc-list | grep -q UKai; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	      libreoffice-writer-nogui fonts-noto-cjk fonts-arphic-ukai poppler-utils; \
	  else \
	    echo "LibreOffice 未安装，Word 转 PDF 测试将跳过。安装：sudo apt-get install -y libreoffice-writer-nogui fonts-noto-cjk fonts-arphic-ukai poppler-utils"; \
	  fi; }

# PostgreSQL (Debian's package) for the DuckLake catalog tests: scripts/postgres.sh starts a
# throwaway cluster from these binaries. Installed only when missing and only as root, without
# the package's own always-on cluster; otherwise say how (those tests then skip).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    mkdir -p /etc/postgresql-common/createcluster.d && \
	    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/urbanreport.conf && \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	  else \
	    echo "PostgreSQL 未安装，DuckLake 测试将跳过。安装：sudo apt-get install -y postgresql"; \
	  fi; }

test: install browser office postgres
	$(BIN)/ruff check .
	VENV=$(VENV) scripts/lint-imports.sh
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	VENV=$(VENV) scripts/lint-imports.sh

# The city rows (tests/bench_city.py) need PostgreSQL: without it they say so and are skipped.
bench: install postgres
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_city

# Ingest and indicators: the embedded file against DuckLake on a throwaway local PostgreSQL
# (BENCH_SCALES, default 1).
bench-lake: install postgres
	$(BIN)/python -m tests.bench_lake

serve: install
	VENV=$(VENV) scripts/serve.sh

# A whole city on one machine (docs/city.md): PostgreSQL as the lake's catalog, three districts'
# sample data, a Prefect server with two workers running the districts at once, the city
# report. Prints its total time. `make city-stop` stops exactly what it started.
city-demo: install postgres
	@$(TIMED) "make city-demo" env VENV=$(VENV) scripts/city-demo.sh

city-stop:
	VENV=$(VENV) scripts/city-stop.sh

stop:
	VENV=$(VENV) scripts/stop.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
