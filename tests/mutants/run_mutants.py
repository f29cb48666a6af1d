#!/usr/bin/python3
"""Mutation testing of the decisions that let a login through or keep a
secret (`make mutants`; see tests/mutants/README.md).

Each tests/mutants/*.mutant file names one source file, an exact snippet
that must occur exactly once in it, its replacement, the behaviour the
change breaks, and a ctest regex of the tests expected to catch it. This
script copies the repository's files (tracked and untracked, not ignored)
to a scratch tree, configures one build directory there (reused between
mutants and between runs, so each mutant rebuilds only what its file
touches), checks that the selected tests pass on the unchanged tree, then
for each mutant: applies it, builds the targets of its tests, runs them
(stopping at the first failure), and puts the file back.

    run_mutants.py [--work DIR] [--jobs N] [--no-baseline] [--list] [NAME ...]

Prints one line per mutant and `N of M mutants killed`; exits 0 only when
every mutant was killed. A mutant whose snippet no longer matches, that
does not compile, or whose regex selects no test counts as not killed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIELDS = ("file", "breaks", "tests")


class Mutant:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[: -len(".mutant")]
        self.fields = {}
        self.find = None
        self.replace = None
        self.problem = None
        self._parse()

    def _parse(self):
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        section, blocks = None, {"find": [], "replace": []}
        for line in lines:
            if line in ("@@ find", "@@ replace", "@@ end"):
                section = line[3:]
                continue
            if section in ("find", "replace"):
                blocks[section].append(line)
            elif section is None and line and not line.startswith("#"):
                key, sep, value = line.partition(":")
                if not sep or key.strip() not in FIELDS:
                    self.problem = "unknown line %r" % line
                    return
                self.fields[key.strip()] = value.strip()
        missing = [k for k in FIELDS if not self.fields.get(k)]
        if missing or section != "end" or not blocks["find"]:
            self.problem = "needs %s, '@@ find', '@@ replace' and '@@ end'" % ", ".join(FIELDS)
            return
        self.find = "\n".join(blocks["find"])
        self.replace = "\n".join(blocks["replace"])
        if self.find == self.replace:
            self.problem = "the replacement equals the snippet"


def log(message):
    print(message, flush=True)


def run(argv, cwd=None, quiet=True):
    return subprocess.run(argv, cwd=cwd, text=True, stdout=subprocess.PIPE if quiet else None,
                          stderr=subprocess.STDOUT if quiet else None)


def sync_tree(src):
    """Copies the repository's files into src, rewriting only those that
    differ, so the build directory stays incremental."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    copied = 0
    for rel in filter(None, listed):
        origin = os.path.join(ROOT, rel)
        if not os.path.isfile(origin) or os.path.islink(origin):
            continue
        target = os.path.join(src, rel)
        with open(origin, "rb") as f:
            data = f.read()
        if os.path.exists(target):
            with open(target, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(origin, target)
        copied += 1
    return copied


def tests_matching(build, regex):
    out = run(["ctest", "-N", "-R", regex], cwd=build).stdout
    return re.findall(r"Test +#\d+: (\S+)", out)


def targets_of(tests):
    """The build targets a set of ctest tests needs (CMake adds their
    dependencies: the module and the syslog capture for itest_*)."""
    targets = set()
    for t in tests:
        if t.startswith(("e2e_", "deb_")):
            raise SystemExit("mutants: %s changes /etc or installs a package; not run here" % t)
        if t.startswith("unit_"):
            targets.add("test_" + t[len("unit_"):])
        elif t.startswith("integration_"):
            targets.add("itest_" + t[len("integration_"):])
        elif t == "facctl_cli":
            targets.add("facctl")
        elif t.startswith("facctl_"):
            targets.add("test_" + t)
        elif t == "lint_binaries":
            targets.update(("pam_fac", "facctl"))
        elif t.startswith("fuzz_"):
            targets.add("pamfac_fuzzers")
    return sorted(targets)


def build(build_dir, targets, jobs):
    if not targets:
        return True, ""
    r = run(["cmake", "--build", build_dir, "-j", str(jobs), "--target"] + targets)
    return r.returncode == 0, r.stdout


def run_tests(build_dir, regex, jobs):
    r = run(["ctest", "-R", regex, "-j", str(jobs), "--stop-on-failure", "--output-on-failure"],
            cwd=build_dir)
    failed = re.findall(r"^\s*\d+ - (\S+) \(", r.stdout, re.M)
    return r.returncode == 0, failed, r.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default=os.path.join(ROOT, "build-mutants"),
                        help="scratch tree and build directory (default: build-mutants/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the selected tests on the unchanged tree")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("names", nargs="*", help="run only these mutants")
    args = parser.parse_args()

    mutants = [Mutant(os.path.join(HERE, f)) for f in sorted(os.listdir(HERE)) if f.endswith(".mutant")]
    if args.names:
        unknown = set(args.names) - {m.name for m in mutants}
        if unknown:
            raise SystemExit("mutants: no such mutant: " + ", ".join(sorted(unknown)))
        mutants = [m for m in mutants if m.name in args.names]
    if args.list:
        for m in mutants:
            log("%-40s %s  [%s]" % (m.name, m.fields.get("breaks", m.problem), m.fields.get("tests", "")))
        return 0

    work = os.path.abspath(args.work)
    src, bld = os.path.join(work, "src"), os.path.join(work, "build")
    os.makedirs(src, exist_ok=True)
    log("mutants: %d files refreshed in %s" % (sync_tree(src), src))
    # Configured every run, not only the first: ctest -N below lists only
    # the tests the last configure saw, and a test added since would make
    # its mutants look stale.
    r = run(["cmake", "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        raise SystemExit("mutants: cmake configure failed")

    # Every mutant is checked before anything is built: a stale snippet is
    # reported, not silently skipped.
    for m in mutants:
        if m.problem:
            continue
        target = os.path.join(src, m.fields["file"])
        if not os.path.isfile(target):
            m.problem = "no file %s" % m.fields["file"]
            continue
        with open(target, encoding="utf-8") as f:
            count = f.read().count(m.find)
        if count != 1:
            m.problem = "the snippet occurs %d times in %s (must be once)" % (count, m.fields["file"])
            continue
        m.tests = tests_matching(bld, m.fields["tests"])
        if not m.tests:
            m.problem = "the regex %r selects no test" % m.fields["tests"]

    runnable = [m for m in mutants if not m.problem]
    if runnable and not args.no_baseline:
        regex = "|".join("(%s)" % m.fields["tests"] for m in runnable)
        tests = sorted({t for m in runnable for t in m.tests})
        log("mutants: baseline: %d tests on the unchanged tree" % len(tests))
        ok, out = build(bld, targets_of(tests), args.jobs)
        if not ok:
            sys.stdout.write(out[-4000:])
            raise SystemExit("mutants: the unchanged tree does not build")
        ok, failed, out = run_tests(bld, regex, args.jobs)
        if not ok:
            sys.stdout.write(out[-4000:])
            raise SystemExit("mutants: tests fail on the unchanged tree: %s" % ", ".join(failed))

    killed = 0
    for m in mutants:
        if m.problem:
            log("STALE     %-36s %s" % (m.name, m.problem))
            continue
        start = time.monotonic()
        target = os.path.join(src, m.fields["file"])
        with open(target, encoding="utf-8") as f:
            original = f.read()
        try:
            with open(target, "w", encoding="utf-8") as f:
                f.write(original.replace(m.find, m.replace, 1))
            ok, out = build(bld, targets_of(m.tests), args.jobs)
            if not ok:
                log("INVALID   %-36s does not compile:\n%s" % (m.name, out[-2000:]))
                continue
            passed, failed, _ = run_tests(bld, m.fields["tests"], args.jobs)
        finally:
            with open(target, "w", encoding="utf-8") as f:
                f.write(original)
        seconds = time.monotonic() - start
        if passed:
            log("SURVIVED  %-36s %s; no test failed of: %s (%.0f s)" %
                (m.name, m.fields["breaks"], " ".join(m.tests), seconds))
        else:
            killed += 1
            log("KILLED    %-36s by %s (%.0f s)" % (m.name, " ".join(failed) or "ctest", seconds))
    log("%d of %d mutants killed" % (killed, len(mutants)))
    return 0 if killed == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
