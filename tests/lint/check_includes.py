#!/usr/bin/env python3
"""Fails when an include goes against the direction of the layout.

common/ is layered: core holds the value types and the seams and includes
nothing above it; each folder above may include only the folders listed for
it below. Nothing in common/ includes PAM's headers (<security/...>): the
library has no libpam dependency. In pam_fac/, only module/ includes them,
and facctl/ never includes module/ code. docs/architecture.md draws the
same picture.
"""
import pathlib
import re
import sys

ALLOWED = {
    "core": {"core"},
    "http": {"core", "http"},
    "config": {"core", "http", "config"},
    "state": {"core", "http", "state"},
    "fac": {"core", "http", "config", "state", "fac"},
    "ftc": {"core", "http", "config", "state", "fac", "ftc"},
    "auth": {"core", "http", "config", "state", "fac", "ftc", "auth"},
}
COMMON = set(ALLOWED)
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check(root: pathlib.Path) -> list[str]:
    problems = []
    for path in sorted((root / "common").rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        folder = path.relative_to(root / "common").parts[0]
        if folder not in ALLOWED:
            problems.append(f"{path.relative_to(root)}: common/{folder}/ is not a known layer")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            kind, name = match.groups()
            where = f"{path.relative_to(root)}:{number}"
            if name.startswith("security/"):
                problems.append(f"{where}: common/ must not include PAM's <{name}>")
            elif kind == '"':
                target = name.split("/")[0]
                if "/" not in name or target not in COMMON:
                    problems.append(f'{where}: "{name}" is not a path below common/')
                elif target not in ALLOWED[folder]:
                    problems.append(f'{where}: common/{folder}/ may not include "{name}"')
    for path in sorted((root / "pam_fac").rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        folder = path.relative_to(root / "pam_fac").parts[0]
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            kind, name = match.groups()
            where = f"{path.relative_to(root)}:{number}"
            if folder == "facctl" and name.startswith("module/"):
                problems.append(f'{where}: facctl/ may not include the module\'s "{name}"')
            if folder == "facctl" and name.startswith("security/") and name != "security/_pam_types.h":
                problems.append(f"{where}: facctl/ does not link libpam; <{name}> belongs in module/")
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("includes: every folder includes only what its layer allows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
