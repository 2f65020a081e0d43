# The two commands of the README (`make run`, `make test`) and the pieces they use.
SWIFT ?= swift
# bash with pipefail: a benchmark piped through tee must still fail the target.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
SOCKET ?= /run/podlink/io.podman

.PHONY: setup build test bench run completions soak fuzz

## Install what the build and the tests need (Debian packages, python varlink, the cgroup mount crun needs).
setup:
	bash scripts/setup

build: setup
	$(SWIFT) build -c release

## Serve io.podman on the default socket with the embedded SQLite state (Ctrl-C stops
## the daemon; containers keep running under conmon).
run: build
	exec .build/release/podlinkd "unix:$(SOCKET);mode=0660"

## Run the whole test suite (real peers, real sockets), then check the optimized build
## (the generated codec must agree with Foundation there too), then fuzz each decoder
## for FUZZ_SECONDS.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) build -c release --product podlink-bench
	.build/release/podlink-bench check
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz

## The libFuzzer targets (message decoder, JSON codec, IDL parser), FUZZ_SECONDS each,
## seeded from Tests/Corpus: make fuzz FUZZ_SECONDS=3600
FUZZ_SECONDS ?= 30
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz

## The load suite for as long as asked, at full size (64 clients x 10,000 calls, 200
## containers): make soak SOAK_SECONDS=3600
SOAK_SECONDS ?= 600
soak: setup
	$(SWIFT) build --build-tests
	PODLINK_SOAK_SECONDS=$(SOAK_SECONDS) PODLINK_LOAD_CALLS=10000 PODLINK_LOAD_CLIENTS=64 PODLINK_LOAD_CONTAINERS=200 \
		$(SWIFT) test --skip-build --filter LoadTests

## Benchmarks against the peers, side by side in one run (figures in docs/BENCHMARKS.md).
bench:
	bash scripts/setup-bench
	$(SWIFT) build -c release --product varlink-certification
	$(SWIFT) build -c release --product podlinkd
	$(SWIFT) build -c release --product podlink
	$(SWIFT) build -c release --product podlink-bench
	$(SWIFT) build -c release --product varlink
	mkdir -p .build/bench
	.build/release/podlink-bench all | tee .build/bench/output.txt
	# CNI's bridge, rules and leases for this one stay in a network namespace of its own.
	unshare --net sh -c 'ip link set lo up && exec .build/release/podlink-bench network pod' | tee -a .build/bench/output.txt
	bash scripts/bench-cli | tee -a .build/bench/output.txt
	python3 scripts/bench-chart .build/bench docs/benchmarks-latency.png
	bash scripts/bench-report

## Regenerate contrib/completions from the programs' argument parsers.
completions:
	$(SWIFT) build --product podlink
	$(SWIFT) build --product varlink
	for tool in podlink varlink; do \
		.build/debug/$$tool --generate-completion-script bash > contrib/completions/$$tool.bash; \
		.build/debug/$$tool --generate-completion-script zsh > contrib/completions/_$$tool; \
	done
