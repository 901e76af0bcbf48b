# guestinspect: `make setup` installs everything and runs the sample; `make test` runs the tests.
SHELL := /bin/bash
export LIBGUESTFS_BACKEND_SETTINGS ?= force_tcg
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := libguestfs-tools python3-guestfs python3-hivex linux-image-amd64 \
	libhivex-bin python3-venv qemu-utils xz-utils sqlite3 libxml2-utils icoutils netpbm makefs \
	qemu-block-extra openssh-server libnss-wrapper python3-cryptography libargon2-1 xfsprogs \
	e2fsprogs dosfstools ntfs-3g btrfs-progs cryptsetup-bin mtools libguestfs-xfs

.PHONY: setup system-packages venv sample test lint typecheck bench bench-backends fuzz

setup: system-packages venv sample

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

sample: venv
	$(PY) -m guestinspect.sample

test: system-packages venv lint typecheck
	$(PY) -m pytest -q --durations=25 $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check guestinspect tests bench fuzz

typecheck: venv
	$(VENV)/bin/mypy

bench: venv
	$(PY) bench/run.py

# virt-inspector, --backend appliance and --backend direct on the same guests (docs/benchmarks.md).
BENCH_BACKENDS_ARGS ?= -n 3
bench-backends: venv
	$(PY) bench/backends.py $(BENCH_BACKENDS_ARGS)

# The full fuzz run (docs/security.md): 100,000 cases per target, seeded; CI runs a short one.
FUZZ_ARGS ?= --cases 100000 --seconds 900
fuzz: venv
	$(PY) -m fuzz $(FUZZ_ARGS)
