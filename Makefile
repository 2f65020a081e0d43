# The two commands of the README, and the pieces they are made of.
SWIFT ?= swift

.PHONY: setup build test bench run

## Install what the build and the tests need (Debian packages, python varlink, the cgroup mount crun needs).
setup:
	bash scripts/setup

build: setup
	$(SWIFT) build

## Run the whole test suite (real peers, real sockets).
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Benchmarks against the peers; writes figures to stdout (see docs/BENCHMARKS.md).
bench: setup
	bash scripts/bench
