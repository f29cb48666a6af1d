# Thin wrapper over CMake. `make check` and `make demo` install what they
# need first, so each works alone on a fresh Debian 12 machine as root.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
CLANG_BUILD ?= build-clang
VALGRIND ?= valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99

.PHONY: all build deps check check-asan check-tsan check-valgrind check-clang lint demo install clean

all: build

deps:
	@bash tests/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The sanitizer and valgrind lanes run first, so the output ends with the
# summary of the full test run. PAMFAC_NO_SKIP=1: a test that cannot run
# (no root, a missing tool) fails instead of being reported as skipped.
check: deps
	$(MAKE) build
	$(MAKE) check-clang
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-valgrind
	cd $(BUILD) && PAMFAC_NO_SKIP=1 ctest --output-on-failure -j $(JOBS)

# A second compiler: clang builds everything (its -Wconversion is stricter
# than gcc's) and runs the unit tests.
check-clang:
	CC=clang CXX=clang++ cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(CLANG_BUILD) -j $(JOBS)
	cd $(CLANG_BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

# Unit and integration tests built with AddressSanitizer and UBSan.
check-asan:
	cmake -S . -B $(ASAN_BUILD) -DPAMFAC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest -L "unit|integration" --output-on-failure -j $(JOBS)

# ThreadSanitizer over the unit tests and the integration suites that run
# threads (autopush, FTC, 32 logins at once): with autopush a backend's
# push() and check() run on two threads at once.
TSAN_SUITES = itest_push itest_ftc itest_threads
check-tsan:
	cmake -S . -B $(TSAN_BUILD) -DPAMFAC_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target unit_tests $(TSAN_SUITES)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1 ctest -R '^(unit_.*|integration_(push|ftc|threads))$$' \
	  --output-on-failure -j $(JOBS)

# The integration tests (the real module under pam_wrapper) under valgrind.
check-valgrind: build
	cd $(BUILD) && PAMFAC_TEST_RUNNER="$(VALGRIND)" ctest -L integration --output-on-failure -j $(JOBS)

# clang-format and clang-tidy (slow: minutes), with the checks of .clang-tidy.
lint: build
	tests/lint/check_format.sh $(CURDIR)
	tests/lint/run_clang_tidy.sh $(CURDIR) $(CURDIR)/$(BUILD)

demo: deps
	$(MAKE) build
	bash tests/demo/demo.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CLANG_BUILD)

# The Debian package (debian/), built by dpkg-buildpackage -us -uc -b from a
# copy of the working tree, so the .deb and its .changes land in
# $(DEB_BUILD)/ and neither the repository nor its parent gets build files.
# It installs only the package's build dependencies, not the test tools.
DEB_BUILD ?= build-deb
.PHONY: deb clean-deb
deb:
	bash tests/deb/install-build-deps.sh
	bash tests/deb/build-deb.sh $(DEB_BUILD)

clean-deb:
	rm -rf $(DEB_BUILD)
clean: clean-deb

# Performance figures (tests/bench/bench.py) against the simulator on
# loopback, written to docs/performance.md. Not part of `make check`. Its
# own build directory, and only the targets it needs.
BENCH_BUILD ?= build-bench
BENCH_TARGETS = pam_fac bench_login bench_dlopen curl_timing_shim pam_curl_floor
.PHONY: bench clean-bench
bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target $(BENCH_TARGETS)
	/usr/bin/python3 tests/bench/bench.py --build $(BENCH_BUILD) --out docs/performance.md \
	  --json $(BENCH_BUILD)/bench-results.json

clean-bench:
	rm -rf $(BENCH_BUILD)
clean: clean-bench

# libFuzzer targets (tests/fuzz/, built with clang in $(BUILD)/tests/fuzz/),
# each run for FUZZ_SECONDS over its seed corpus; `make check` runs each for
# 10 s through ctest (label fuzz). New corpus entries and any crashing input
# land in $(BUILD)/tests/fuzz/work/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = config answer json clients flow
.PHONY: fuzz
fuzz: build
	@status=0; for t in $(FUZZ_TARGETS); do \
	  bash tests/fuzz/run_fuzz.sh $(BUILD)/tests/fuzz/clang-build/fuzz_$$t $(FUZZ_SECONDS) \
	    tests/fuzz/corpus/$$t $(BUILD)/tests/fuzz/work/$$t || status=1; \
	done; exit $$status

# Mutation testing (tests/mutants/): each mutant breaks one decision that
# lets a login through or keeps a secret; its tests must notice. Prints
# "N of M mutants killed". Not part of `make check` (minutes). Its own
# scratch tree and build directory, reused between runs.
MUTANTS_WORK ?= build-mutants
.PHONY: mutants clean-mutants
mutants: deps
	/usr/bin/python3 tests/mutants/run_mutants.py --work $(MUTANTS_WORK) --jobs $(JOBS)

clean-mutants:
	rm -rf $(MUTANTS_WORK)
clean: clean-mutants

# Line and branch coverage (lcov) of common/ and pam_fac/ by the unit,
# integration and facctl tests, in its own build directory built with
# --coverage (unoptimised, so without _FORTIFY_SOURCE). Prints the
# summary; the HTML report is $(COVERAGE_BUILD)/html/index.html. Not part
# of `make check`; installs lcov and gcovr if they are missing. Two branch
# figures per part: lcov's counts every edge gcc made, among them the
# exception edge of each call that may throw; gcovr's ("decisions") leaves
# those out (--exclude-throw-branches), which is what the code decides.
COVERAGE_BUILD ?= build-coverage
COVERAGE_FLAGS = --coverage -U_FORTIFY_SOURCE
LCOV = lcov --quiet --rc lcov_branch_coverage=1
LCOV_SUMMARY = lcov --rc lcov_branch_coverage=1 --summary
GCOVR_DECISIONS = gcovr -r $(CURDIR) --object-directory $(COVERAGE_BUILD) --exclude-throw-branches \
  --exclude-unreachable-branches --print-summary -o $(COVERAGE_BUILD)/decisions.txt
.PHONY: coverage clean-coverage
coverage:
	@bash tests/install-deps.sh lcov gcovr
	cmake -S . -B $(COVERAGE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$(COVERAGE_FLAGS)" \
	  -DCMAKE_CXX_FLAGS="$(COVERAGE_FLAGS)" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
	  -DCMAKE_SHARED_LINKER_FLAGS=--coverage -DCMAKE_MODULE_LINKER_FLAGS=--coverage
	cmake --build $(COVERAGE_BUILD) -j $(JOBS) --target unit_tests integration_tests facctl_tests
	$(LCOV) --zerocounters --directory $(COVERAGE_BUILD)
	cd $(COVERAGE_BUILD) && ctest -L 'unit|integration|facctl' --output-on-failure -j $(JOBS)
	$(LCOV) --capture --directory $(COVERAGE_BUILD) --output-file $(COVERAGE_BUILD)/all.info
	$(LCOV) --extract $(COVERAGE_BUILD)/all.info '$(CURDIR)/common/*' '$(CURDIR)/pam_fac/*' \
	  --output-file $(COVERAGE_BUILD)/coverage.info
	genhtml --quiet --branch-coverage --output-directory $(COVERAGE_BUILD)/html $(COVERAGE_BUILD)/coverage.info
	$(LCOV) --list $(COVERAGE_BUILD)/coverage.info
	@for part in common pam_fac/module pam_fac/facctl; do \
	  printf '%s: ' $$part; \
	  $(LCOV) --extract $(COVERAGE_BUILD)/coverage.info '$(CURDIR)/'$$part'/*' --output-file $(COVERAGE_BUILD)/part.info; \
	  $(LCOV_SUMMARY) $(COVERAGE_BUILD)/part.info 2>&1 | grep -E 'lines|branches' | tr -s ' .' | tr '\n' ' '; \
	  $(GCOVR_DECISIONS) -f '$(CURDIR)/'$$part'/' 2>/dev/null | sed -n 's/^branches: /decisions: /p'; \
	done
	@printf 'total: '; $(LCOV_SUMMARY) $(COVERAGE_BUILD)/coverage.info 2>&1 | grep -E 'lines|branches' | tr -s ' .' | tr '\n' ' '; \
	  $(GCOVR_DECISIONS) -f '$(CURDIR)/common/' -f '$(CURDIR)/pam_fac/' 2>/dev/null | sed -n 's/^branches: /decisions: /p'

clean-coverage:
	rm -rf $(COVERAGE_BUILD)
clean: clean-coverage
