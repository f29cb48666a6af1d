# Thin wrapper over CMake. `make check` and `make demo` install what they
# need first, so each works alone on a fresh Debian 12 machine as root.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

ASAN_BUILD ?= build-asan
VALGRIND ?= valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99

.PHONY: all build deps check check-asan check-valgrind demo install clean

all: build

deps:
	@bash tests/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The sanitizer and valgrind lanes run first, so the output ends with the
# summary of the full test run.
check: deps
	$(MAKE) build
	$(MAKE) check-asan
	$(MAKE) check-valgrind
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Unit and integration tests built with AddressSanitizer and UBSan.
check-asan:
	cmake -S . -B $(ASAN_BUILD) -DPAMFAC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest -L "unit|integration" --output-on-failure -j $(JOBS)

# The integration tests (the real module under pam_wrapper) under valgrind.
check-valgrind: build
	cd $(BUILD) && PAMFAC_TEST_RUNNER="$(VALGRIND)" ctest -L integration --output-on-failure -j $(JOBS)

demo: deps
	$(MAKE) build
	bash tests/demo/demo.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
