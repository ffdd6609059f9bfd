# Thin wrapper around CMake (the neovim style): every target installs what is
# missing first, so a fresh Debian 12 machine needs nothing but this file.

BUILD_TYPE ?= RelWithDebInfo
BUILD_DIR  ?= build
TEST_DIR   ?= build-test
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build test memcheck demo install package clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The test build is separate: sanitizers on, same sources.
test: deps
	cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DCP_SANITIZE=ON
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The valgrind run: a build without sanitizers (they do not mix with
# valgrind); ctest runs the suites labelled memcheck under valgrind.
MEMCHECK_DIR ?= build-memcheck
memcheck: deps
	cmake -S . -B $(MEMCHECK_DIR) -DCMAKE_BUILD_TYPE=Debug -DCP_SANITIZE=OFF
	cmake --build $(MEMCHECK_DIR) -j $(JOBS)
	cd $(MEMCHECK_DIR) && ctest -L memcheck --output-on-failure

# The static checks alone (cppcheck, clang-tidy; `make test` runs them too),
# on the compile commands of the test build, configured but not built.
.PHONY: lint
lint: deps
	cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DCP_SANITIZE=ON
	CP_SOURCE_DIR=$(CURDIR) CP_BUILD_DIR=$(abspath $(TEST_DIR)) bash tests/static_checks.sh

# The proof (docs/performance.md, docs/testing.md). Benchmarks run a
# RelWithDebInfo build without sanitizers against the simulator; the
# fuzzers a clang build (FUZZ_SECONDS each, FUZZ_JOBS at a time); the soak
# the same build as the benchmarks, for SOAK_SECONDS.
BENCH_DIR    ?= build-bench
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_JOBS    ?= 2
SOAK_SECONDS ?= 1800
.PHONY: bench fuzz soak random

bench: deps
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCP_SANITIZE=OFF -DCP_TESTS=OFF
	cmake --build $(BENCH_DIR) -j $(JOBS) --target convex-provisioner convex-api-sim
	bash bench/bench.sh $(BENCH_DIR)

fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCP_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_all
	FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

soak: deps
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCP_SANITIZE=OFF -DCP_TESTS=OFF
	cmake --build $(BENCH_DIR) -j $(JOBS) --target convex-provisioner convex-api-sim
	CP_SOURCE_DIR=$(CURDIR) CP_BUILD_DIR=$(CURDIR)/$(BENCH_DIR) bash tests/e2e/soak.sh $(SOAK_SECONDS)

# Randomized schedules (tests/random/runner.py, docs/testing.md): SEEDS
# seeds from FIRST, STEPS steps each, RANDOM_JOBS workers (each with its own
# simulator; a worker mostly waits on the provisioner's retries, so there
# can be many more than CPUs), plus the regression seeds; on the build of
# the benchmarks.
SEEDS       ?= 100
FIRST       ?= 1
STEPS       ?= 20
RANDOM_JOBS ?= 8
RANDOM_ARGS ?=
random: deps
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCP_SANITIZE=OFF -DCP_TESTS=OFF
	cmake --build $(BENCH_DIR) -j $(JOBS) --target convex-provisioner convex-api-sim
	python3 tests/random/runner.py --build $(BENCH_DIR) --self-test --regress --known --first $(FIRST) \
	    --count $(SEEDS) --steps $(STEPS) --jobs $(RANDOM_JOBS) --keep-going --progress 250 $(RANDOM_ARGS)

# The demo needs the two programs only, not the test suites.
demo: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target convex-provisioner convex-api-sim
	@bash scripts/demo.sh $(BUILD_DIR)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR)

# The Debian package (prefix /usr whatever PREFIX says), in $(BUILD_DIR).
package: build
	cd $(BUILD_DIR) && cpack -G DEB

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR) $(MEMCHECK_DIR)
