#!/usr/bin/python3
"""Checks the built pam_fac.so and facctl for the properties docs/architecture.md ("Build rules")
asks of them, read from the ELF files with readelf (binutils):

  check_binaries.py MODULE FACCTL

- the module exports exactly the six pam_sm_* entry points (hidden
  visibility plus exports.map); nothing of common/ or of the C++ runtime;
- both are hardened: full RELRO (GNU_RELRO and BIND_NOW), a stack that is
  not executable, -fstack-protector-strong (__stack_chk_fail is called)
  and _FORTIFY_SOURCE (at least one __*_chk function is called);
- facctl is position independent (PIE);
- the module registers nothing to run at exit (no __cxa_atexit: no static
  object with a destructor), since a host thread may still be in
  pam_authenticate when another thread calls exit();
- the module is NODELETE: libpam dlclose()s it at every pam_end(), but
  libcurl, once the module initialised it with its own allocator
  (common/http/curl_library.cpp), calls into the module for the life of
  the process;
- the module does not link libcurl (no NEEDED entry for it): it loads
  libcurl.so.4 at the first login that sends a request
  (common/http/curl_library.cpp), so that the others never pay for it.
Only meaningful for the optimised build (_FORTIFY_SOURCE needs -O), so
ctest runs it in the full run, not in the sanitizer lanes."""
import subprocess
import sys

ENTRY_POINTS = {
    "pam_sm_authenticate",
    "pam_sm_setcred",
    "pam_sm_acct_mgmt",
    "pam_sm_open_session",
    "pam_sm_close_session",
    "pam_sm_chauthtok",
}

problems = []


def readelf(*args):
    return subprocess.run(["readelf", "--wide", *args], check=True, capture_output=True, text=True).stdout


def dynamic_symbols(path):
    """(defined, undefined) names of the dynamic symbol table, versions cut."""
    defined, undefined = set(), set()
    for line in readelf("--dyn-syms", path).splitlines():
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(fields) < 8 or not fields[0].endswith(":") or fields[4] not in ("GLOBAL", "WEAK"):
            continue
        name = fields[7].split("@")[0]
        (undefined if fields[6] == "UND" else defined).add(name)
    return defined, undefined


def check_hardening(path, pie):
    segments = readelf("--program-headers", path)
    dynamic = readelf("--dynamic", path)
    header = readelf("--file-header", path)
    _, imports = dynamic_symbols(path)
    if "GNU_RELRO" not in segments:
        problems.append(f"{path}: no GNU_RELRO segment (link with -z relro)")
    if "BIND_NOW" not in dynamic and " NOW" not in dynamic:
        problems.append(f"{path}: not BIND_NOW (link with -z now)")
    stack = [line for line in segments.splitlines() if "GNU_STACK" in line]
    if not stack or "RWE" in stack[0]:
        problems.append(f"{path}: executable or missing GNU_STACK")
    if "__stack_chk_fail" not in imports:
        problems.append(f"{path}: does not call __stack_chk_fail (build with -fstack-protector-strong)")
    if not any(name.startswith("__") and name.endswith("_chk") and name != "__stack_chk_fail" for name in imports):
        problems.append(f"{path}: calls no __*_chk function (build with -D_FORTIFY_SOURCE=2 and -O)")
    if pie and "DYN (" not in header:
        problems.append(f"{path}: not position independent (PIE)")
    return dynamic


def main():
    module, facctl = sys.argv[1], sys.argv[2]
    exported, _ = dynamic_symbols(module)
    if exported != ENTRY_POINTS:
        extra = sorted(exported - ENTRY_POINTS)
        missing = sorted(ENTRY_POINTS - exported)
        problems.append(f"{module}: exports {len(exported)} symbols; extra {extra[:10]}, missing {missing}")
    dynamic = check_hardening(module, pie=False)
    _, module_imports = dynamic_symbols(module)
    if "__cxa_atexit" in module_imports:
        problems.append(f"{module}: registers destructors to run at exit (__cxa_atexit); "
                        "objects with static storage must never be destroyed")
    flags_1 = [line for line in dynamic.splitlines() if "FLAGS_1" in line]
    if not flags_1 or "NODELETE" not in flags_1[0]:
        problems.append(f"{module}: not NODELETE (link with -z nodelete)")
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    if any("libcurl" in line for line in needed):
        problems.append(f"{module}: links libcurl (NEEDED); it must load it with dlopen at the first request")
    check_hardening(facctl, pie=True)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{module}: exports only the pam_sm_* entry points; hardened; NODELETE; nothing run at exit; "
              "libcurl not linked")
        print(f"{facctl}: hardened PIE")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
