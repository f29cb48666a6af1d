#!/usr/bin/python3
"""The Debian package, end to end, on this machine (root only).

Builds libpam-fac with tests/deb/build-deb.sh, runs lintian (no error, no
warning), installs it with dpkg, checks the files, their modes and that no
PAM stack was enabled, logs in through the INSTALLED pam_fac.so with
pamtester under pam_wrapper (service files in a temporary directory, so
/etc is never written by the test) against the FAC simulator on loopback,
then purges the package and proves that /etc, /usr/share/pam-configs and
the PAM module directories are exactly as before.

dpkg's frontend lock is held from the first snapshot to the last, so no
apt or dpkg run of someone else's changes /etc in between.
"""
import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SIM_DIR = os.path.join(SRC, "tests", "sim")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, SIM_DIR)
import sim_process  # noqa: E402

sys.path.insert(0, os.path.join(SRC, "tests", "support"))
from dpkg_lock import FrontendLock  # noqa: E402
from wrapper_lock import wrapper_startup  # noqa: E402
PACKAGE = "libpam-fac"
ALICE_SECRET = "JBSWY3DPEHPK3PXP"
SKIP = 77


def log(message):
    print(f"test_deb: {message}", flush=True)


def run(argv, check=True, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(argv, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def multiarch():
    return run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()


def watched_roots():
    return ["/etc", "/usr/share/pam-configs"] + sorted(glob.glob("/lib/*/security"))


def snapshot():
    """Every file, link and directory under the watched roots: type, mode, owner, content hash."""
    state = {}
    for root in watched_roots():
        if not os.path.lexists(root):
            state[root] = "absent"
            continue
        for top, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(top, name)
                st = os.lstat(path)
                entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
                if stat.S_ISLNK(st.st_mode):
                    entry += (os.readlink(path),)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        entry += (hashlib.sha256(f.read()).hexdigest(),)
                state[path] = entry
    return state


def differences(before, after):
    changed = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            changed.append(path)
    return changed


def dpkg(*args):
    env = dict(os.environ, DPKG_FRONTEND_LOCKED="1", DEBIAN_FRONTEND="noninteractive")
    return run(["dpkg", *args], env=env)


def package_status():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", PACKAGE], check=False)
    return r.stdout.strip() if r.returncode == 0 else "not-installed"


class Simulator:
    def __init__(self, workdir):
        users = os.path.join(workdir, "users.json")
        with open(users, "w", encoding="utf-8") as f:
            json.dump({"api_users": [{"name": "apiadmin", "key": "s3cr3t-api-key"}],
                       "users": [{"username": "alice", "totp_secret": ALICE_SECRET}]}, f)
        certs = os.path.join(workdir, "certs")
        self.log = os.path.join(workdir, "sim.jsonl")
        self.proc, port = sim_process.start(
            ["--users", users, "--cert", os.path.join(certs, "server.pem"),
             "--key", os.path.join(certs, "server.key"), "--port", "0", "--log", self.log])
        self.url = f"https://127.0.0.1:{port}"

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        sim_process.stop(self.proc)


def totp():
    return run(["oathtool", "--totp", "-b", ALICE_SECRET]).stdout.strip()


def wrong_code():
    now = int(time.time())
    near = {run(["oathtool", "--totp", "-b", f"--now=@{now + 30 * k}", ALICE_SECRET]).stdout.strip()
            for k in (-1, 0, 1)}
    return next(c for c in ("123456", "234567", "345678", "456789") if c not in near)


def build_and_lint(workdir):
    start = time.monotonic()
    env = dict(os.environ, DEB_BUILD_OPTIONS="noddebs nocheck")
    out = os.path.join(workdir, "out")
    deb = run(["bash", os.path.join(HERE, "build-deb.sh"), out], env=env).stdout.strip().splitlines()[-1]
    log(f"built {os.path.basename(deb)} in {time.monotonic() - start:.0f} s")
    start = time.monotonic()
    lint = run(["lintian", "--fail-on", "error,warning", "--display-info", deb], check=False)
    tags = "".join(line + "\n" for line in (lint.stdout + lint.stderr).splitlines()
                   if "running with root privileges" not in line)
    expect(lint.returncode == 0, f"lintian found problems:\n{tags}")
    log(f"lintian: no errors or warnings ({time.monotonic() - start:.0f} s){': ' + tags if tags else ''}")
    return deb


def check_installed(files, before):
    for path, mode in files.items():
        st = os.lstat(path)
        expect(stat.S_ISREG(st.st_mode), f"{path} is not a regular file")
        expect(stat.S_IMODE(st.st_mode) == mode, f"{path} has mode {stat.S_IMODE(st.st_mode):04o}, not {mode:04o}")
        expect(st.st_uid == 0 and st.st_gid == 0, f"{path} is not owned by root:root")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE]).stdout
    expect("/etc/security/pam_fac.conf" in conffiles, f"pam_fac.conf is not a conffile: {conffiles!r}")
    with open("/usr/share/pam-configs/fac", encoding="utf-8") as f:
        profile = f.read()
    expect("Default: no" in profile and "pam_fac.so" in profile, f"unexpected profile:\n{profile}")
    # Installing added the package's files and changed nothing else: above
    # all, no PAM stack (/etc/pam.d/common-*) enabled pam_fac.
    changed = differences(before, snapshot())
    ours = sorted(p for p in files if p.startswith(tuple(root + "/" for root in watched_roots())))
    expect(changed == ours, f"installing should add exactly {ours}; it changed {changed}")
    for common in glob.glob("/etc/pam.d/common-*"):
        with open(common, encoding="utf-8") as f:
            expect("pam_fac" not in f.read(), f"{common} enables pam_fac after installation")
    # The packaged binaries were built with dpkg-buildflags on top of ours:
    # the same exports and hardening as the tree's own build.
    module = next(p for p in files if p.endswith("/pam_fac.so"))
    binaries = run([sys.executable, os.path.join(SRC, "tests", "lint", "check_binaries.py"), module,
                    "/usr/sbin/facctl"], check=False)
    expect(binaries.returncode == 0, f"installed binaries:\n{binaries.stdout}{binaries.stderr}")
    for page in ("man8/pam_fac.8.gz", "man5/pam_fac.conf.5.gz", "man8/facctl.8.gz"):
        text = run(["zcat", "/usr/share/man/" + page]).stdout
        expect("/usr/share/doc/libpam\\-fac/guide.md" in text, f"{page} does not point to the installed guide")
    # make deb installs the package's build dependencies, not the test tools.
    plan = run(["make", "-n", "-C", SRC, "deb"]).stdout
    expect("install-build-deps.sh" in plan and "install-deps.sh" not in plan.replace("install-build-deps", ""),
           f"make deb installs more than the build dependencies:\n{plan}")
    log("installed: files, modes, conffile, disabled profile, PAM stacks untouched, binaries hardened, "
        "the guide, README and example where the man pages say")


def check_login(workdir, module):
    """A real PAM login through the installed module: pamtester, pam_wrapper, the simulator."""
    run(["bash", os.path.join(SIM_DIR, "make_certs.sh"), os.path.join(workdir, "certs")])
    sim = Simulator(workdir)
    try:
        conf = os.path.join(workdir, "fac.conf")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"server = {sim.url}\napi_user = apiadmin\napi_key = s3cr3t-api-key\n"
                    f"ca_file = {workdir}/certs/ca.pem\nsecond_factor = code\ntries = 1\n")
        services = os.path.join(workdir, "services")
        os.mkdir(services)
        with open(os.path.join(services, "fac-deb-test"), "w", encoding="utf-8") as f:
            f.write(f"auth required {module} conf={conf}\naccount required pam_permit.so\n")
        with open(os.path.join(services, "other"), "w", encoding="utf-8") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        wrapper = sorted(glob.glob("/usr/lib/*/libpam_wrapper.so"))[0]
        env = dict(os.environ, LD_PRELOAD=wrapper, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services)

        def pamtester(answer):
            with wrapper_startup():
                return run(["pamtester", "-v", "fac-deb-test", "alice", "authenticate"], check=False, env=env,
                           input=answer + "\n", timeout=60)

        code = totp()
        ok = pamtester(code)
        expect(ok.returncode == 0 and "successfully authenticated" in ok.stderr + ok.stdout,
               f"the installed module refused a good code:\n{ok.stdout}{ok.stderr}")
        bad = pamtester(wrong_code())
        expect(bad.returncode != 0 and "Authentication failure" in bad.stderr + bad.stdout,
               f"the installed module accepted a wrong code:\n{bad.stdout}{bad.stderr}")
        auths = [r for r in sim.requests() if r["path"] == "/api/v1/auth/"]
        expect(len(auths) == 2 and auths[0]["json"] == {"username": "alice", "token_code": code},
               f"the simulator did not see the two logins: {auths}")
        log("pamtester: the installed pam_fac.so accepted the oathtool code and refused a wrong one")

        facctl = "/usr/sbin/facctl"
        expect(run([facctl, "version"]).stdout.startswith("facctl "), "facctl version")
        run([facctl, "check", "--conf", conf])
        run([facctl, "auth", "alice", "--code", totp(), "--conf", conf])
        log("the installed facctl: version, check and auth work")
    finally:
        sim.stop()


def check_purged(files, before):
    expect(package_status() == "not-installed", f"{PACKAGE} is still known to dpkg: {package_status()}")
    # The module's default state_dir (the pamtester login used it) goes too.
    leftovers = [p for p in list(files) + ["/usr/share/doc/libpam-fac", "/run/pam_fac"] if os.path.lexists(p)]
    expect(not leftovers, f"left behind after purge: {leftovers}")
    changed = differences(before, snapshot())
    expect(not changed, f"install + purge changed: {changed}")
    log("purged: nothing left, /etc, /usr/share/pam-configs and the module dirs are as before")


def main():
    if os.geteuid() != 0:
        # Under CI and in `make check` a package test that cannot run fails.
        if os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("PAMFAC_NO_SKIP") == "1":
            print("test_deb: FAIL: installs a package, so it needs root (skips fail under CI and make check)")
            return 1
        print("test_deb: SKIP: installs a package, so it needs root")
        return SKIP
    started = time.monotonic()
    arch = multiarch()
    module = f"/lib/{arch}/security/pam_fac.so"
    files = {
        module: 0o644,
        "/usr/sbin/facctl": 0o755,
        "/etc/security/pam_fac.conf": 0o600,
        "/usr/share/pam-configs/fac": 0o644,
        "/usr/share/man/man8/facctl.8.gz": 0o644,
        # The documents the man pages point to, where they say.
        "/usr/share/doc/libpam-fac/guide.md": 0o644,
        "/usr/share/doc/libpam-fac/README.md": 0o644,
        "/usr/share/doc/libpam-fac/pam_fac.conf.example": 0o644,
    }
    # Refuse to touch an existing installation, or a "make install" copy
    # that dpkg would silently overwrite and purge would then remove.
    expect(package_status() == "not-installed", f"{PACKAGE} is already installed here; remove it first")
    present = [p for p in files if os.path.lexists(p)]
    expect(not present, f"already present (make install?): {present}; remove them first")

    workdir = tempfile.mkdtemp(prefix="pamfac-deb-")
    lock = None
    installed = False
    try:
        deb = build_and_lint(workdir)
        lock = FrontendLock(300)
        before = snapshot()
        dpkg("-i", deb)
        installed = True
        check_installed(files, before)
        check_login(workdir, module)
        dpkg("--purge", PACKAGE)
        installed = False
        check_purged(files, before)
    finally:
        if installed:
            subprocess.run(["dpkg", "--purge", PACKAGE], env=dict(os.environ, DPKG_FRONTEND_LOCKED="1"),
                           capture_output=True)
        if lock is not None:
            lock.release()
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"test_deb: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
