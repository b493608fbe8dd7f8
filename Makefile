# tcpwave: `make demo` and `make test` are the two commands (README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
PORTABLE_BUILD ?= build-portable
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build demo test test-normal test-asan test-portable install clean soak bench fuzz deps

all: build

deps-%:
	@scripts/deps.sh $*

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: deps-build $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: deps-demo build
	$(BUILD)/tcpwave demo

test: deps-test
	$(MAKE) test-normal
	$(MAKE) test-asan
	$(MAKE) test-portable

test-normal: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTW_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE no-asan

# The portable C forms beside the x86-64 asm and AVX2/AES-NI code (src/core/arch.h), which
# an x86-64 build never runs otherwise: every test but the namespace and tool ones (the
# same core behind them), optimised with its asserts checked by tests/bench_smoke.
test-portable:
	cmake -S . -B $(PORTABLE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTW_PORTABLE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(PORTABLE_BUILD) -j $(JOBS)
	cd $(PORTABLE_BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'no-asan|interop|tool'

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

soak: deps-build build
	$(BUILD)/tests/sim_soak --runs 10000
	scripts/sim_random.sh $(BUILD)/tcpwave 200 10 $(or $(SEED),1)

bench: deps-bench build
	$(MAKE) -C bench BUILD=$(abspath $(BUILD)) QUICK=$(QUICK)

fuzz: deps-fuzz
	$(MAKE) -C fuzz SECONDS=$(or $(SECONDS),600)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(PORTABLE_BUILD)
