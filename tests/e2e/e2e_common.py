#!/usr/bin/python3
"""Shared parts of the end-to-end tests (tests/e2e/test_*.py).

- run_main(): the entry point of every test module. Needs root (else exit
  77, ctest's SKIP_RETURN_CODE; under CI=true or PAMFAC_NO_SKIP=1, as in
  `make check`, any skip, also of a single test, exits 1 instead). It holds dpkg's frontend lock for the whole
  run (so no apt/dpkg run, and not tests/deb, changes /etc meanwhile), takes
  a checksum of every file, link and directory under /etc (type, mode,
  owner, content), runs the tests, puts back whatever the tests changed
  (backups kept by ETC, also journalled under /var/tmp so that a run that was
  killed is repaired by the next one), and fails when /etc is not exactly as
  it was.
- Simulator: tests/sim/fac_sim.py on 127.0.0.1, started with a clean
  environment (no LD_PRELOAD of the wrappers).
- SshdTestCase: a unittest base class for tests against a real sshd on
  loopback under pam_wrapper + nss_wrapper (nothing under /etc touched):
  users and groups exist only in nss_wrapper files in the temp dir, PAM
  stacks live in a service dir there, and each test can start an sshd with
  its own stack and sshd_config.
- RealUserTestCase: for setuid programs and login (sudo, su, /bin/login),
  which need a real account and the real /etc/pam.d: a throwaway account
  (useradd -m, then userdel -r and a byte-for-byte restore of the account
  databases) and EtcGuard.scoped_pam_service(), which puts lines that apply
  only to that account in front of the original PAM file.

Nothing outlives a run: cleanups stop every process; if the run is cut short
(SIGTERM/SIGHUP, or the internal watchdog at 270 s, below ctest's TIMEOUT)
run_main still stops everything and restores /etc; children get
PR_SET_PDEATHSIG, so even a SIGKILL of the test leaves no simulator or sshd;
the next run removes temp dirs and repairs /etc left by a killed run.
"""

import base64
import grp
import hashlib
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

try:
    import pexpect
except ImportError:  # reported as a skip by run_main
    pexpect = None

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.normpath(os.path.join(HERE, "..", "sim"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, SIM_DIR)
import sim_process  # noqa: E402

sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "support")))
from dpkg_lock import FRONTEND_LOCK, FrontendLock  # noqa: E402
from wrapper_lock import wrapper_startup  # noqa: E402

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/usr/lib64")
SKIP = 77

API_USER = "apiadmin"
API_KEY = "s3cr3t-api-key"

COMMAND = "echo e2e-ok-$((40+2))"
EXPECTED_OUTPUT = "e2e-ok-42"

# Prompts and messages of the module (pam_fac(8), THE CONVERSATION, common/auth/flow.cpp).
CODE_OR_PUSH_PROMPT = "FortiToken code (press Enter for push): "
CODE_PROMPT = "FortiToken code: "
PASSWORD_PROMPT = "Password: "
APPEND_PROMPT = "Password and FortiToken code: "
AUTOPUSH_PROMPT = "Push sent: approve it and press Enter, or type a FortiToken code: "
PUSH_NOT_SENT_USE_CODE = "The push could not be sent. Enter a code instead."
PUSH_INFO_RE = r"Sending a push to FortiToken Mobile: approve it within \d+ seconds\."

# The marker line of every file the tests write under /etc.
ETC_MARKER = "# pam_fac end-to-end test: temporary, restored byte for byte by tests/e2e"
JOURNAL_ROOT = "/var/tmp/pamfac-e2e-journal"
WATCHDOG_SECONDS = 270          # below ctest's TIMEOUT 300: finally blocks run before a SIGKILL
LOCK_WAIT_SECONDS = 200

MODULE = os.environ.get("PAM_FAC_MODULE", "")


class Watchdog(KeyboardInterrupt):
    """Raised by SIGALRM/SIGTERM/SIGHUP: unittest stops (as for Ctrl-C) and
    run_main's finally blocks stop every process and restore /etc."""


# Everything started here, for run_main to stop if the tests were cut short
# (an interrupted unittest run skips the class cleanups).
_PROCESSES = []     # subprocess.Popen
_CLIENTS = []       # Client
_TMP_DIRS = []


def _stop_everything():
    for c in list(_CLIENTS):
        c.close()
    for p in list(_PROCESSES):
        try:
            stop_process(p)
        except Exception:
            pass
    for d in list(_TMP_DIRS):
        remove_pam_wrapper_dirs(d + "/")
        if os.path.isdir(d) and not os.environ.get("PAMFAC_E2E_KEEP_TMP"):
            shutil.rmtree(d, ignore_errors=True)


def _die_with_parent():
    """preexec_fn: SIGTERM this child when the test process dies, even by
    SIGKILL (e.g. a ctest timeout), so no simulator or sshd is left behind."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG


def make_tmp():
    d = tempfile.mkdtemp(prefix="pamfac-e2e-%d-" % os.getpid(), dir="/tmp")
    _TMP_DIRS.append(d)
    return d


def remove_stale_tmp_dirs():
    """Temp dirs (and their /tmp/pam.X copies) of earlier runs that were killed."""
    for name in os.listdir("/tmp"):
        m = re.fullmatch(r"pamfac-e2e-(\d+)-\w+", name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue   # that run is still going
        except ProcessLookupError:
            pass
        except OSError:
            continue
        d = os.path.join("/tmp", name)
        remove_pam_wrapper_dirs(d + "/")
        shutil.rmtree(d, ignore_errors=True)
        log("removed %s, left by a run that was killed" % d)


def module_from_argv(doc):
    """Takes the module path from argv[1] (leaving unittest's args)."""
    global MODULE
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".so"):
        print(doc, file=sys.stderr)
        sys.exit(2)
    MODULE = os.path.abspath(sys.argv.pop(1))
    return MODULE


def log(text):
    print("[e2e] " + text, file=sys.stderr, flush=True)


def indent(text):
    return "\n".join("    | " + l for l in text.replace("\r", "").splitlines())


def find_lib(name, subdir=""):
    for d in LIB_DIRS:
        p = os.path.join(d, subdir, name)
        if os.path.exists(p):
            return p
    raise unittest.SkipTest(name + " not found (install libpam-wrapper / libnss-wrapper)")


def require_tools(*tools):
    for tool in tools:
        path = tool if os.path.isabs(tool) else shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if path is None or not os.access(path, os.X_OK):
            raise unittest.SkipTest(tool + " missing")
    if pexpect is None:
        raise unittest.SkipTest("python3-pexpect missing")


def totp(secret, offset_steps=0):
    """The current TOTP code of a base32 secret (oathtool), optionally a step away."""
    args = ["oathtool", "--totp", "-b", secret]
    if offset_steps:
        args.insert(1, "--now=@%d" % int(time.time() + 30 * offset_steps))
    return subprocess.run(args, check=True, capture_output=True, text=True, env=clean_env()).stdout.strip()


def wrong_code(secret):
    valid = {totp(secret, s) for s in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def clean_env(**extra):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


def write_secure(path, text):
    """A pam_fac config file: regular, owner root, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chown(path, 0, 0)
    os.chmod(path, 0o600)


def stop_process(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def remove_pam_wrapper_dirs(marker):
    """Every process that loads libpam_wrapper.so copies the service dir to
    /tmp/pam.<one char>; sshd's per-connection processes never remove theirs.
    Remove only those holding a service file that mentions `marker` (this
    run's temp dir) whose process is gone."""
    for name in os.listdir("/tmp"):
        d = os.path.join("/tmp", name)
        if not re.fullmatch(r"pam\.[0-9A-Za-z]", name) or os.path.islink(d) or not os.path.isdir(d):
            continue
        try:
            ours = False
            for entry in os.listdir(d):
                p = os.path.join(d, entry)
                if os.path.isfile(p) and not os.path.islink(p) and entry != "pid":
                    with open(p, errors="replace") as f:
                        if marker in f.read():
                            ours = True
                            break
            if not ours:
                continue
            try:
                with open(os.path.join(d, "pid")) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 0)
                continue  # still alive
            except ProcessLookupError:
                pass
            except (OSError, ValueError):
                pass
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


# ---------------------------------------------------------------------------
# /etc: checksum, backups, restore
# ---------------------------------------------------------------------------

def etc_snapshot(root="/etc"):
    """Every file, link and directory under /etc: type, mode, owner, and the
    content's sha256 (files) or target (links)."""
    state = {}
    st = os.lstat(root)
    state[root] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(path),)
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 16), b""):
                        h.update(chunk)
                entry += (h.hexdigest(),)
            state[path] = entry
    return state


def snapshot_digest(state):
    return hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()


def snapshot_differences(before, after):
    return [p for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]


# Files useradd/userdel rewrite (and their "-" backups).
USER_DB_FILES = [p + s for p in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow",
                                 "/etc/subuid", "/etc/subgid") for s in ("", "-")] + ["/etc/.pwd.lock"]


class EtcGuard:
    """Byte-for-byte backups of what the tests change under /etc, journalled
    under /var/tmp so that the next run repairs a run that was killed."""

    def __init__(self):
        self.backups = {}   # path -> dict(existed, data, mode, uid, gid)
        self.users = []     # throwaway accounts made by add_user
        self.journal = None

    def _journal_dir(self):
        if self.journal is None:
            os.makedirs(JOURNAL_ROOT, mode=0o700, exist_ok=True)
            os.chmod(JOURNAL_ROOT, 0o700)
            self.journal = os.path.join(JOURNAL_ROOT, str(os.getpid()))
            shutil.rmtree(self.journal, ignore_errors=True)
            os.mkdir(self.journal, 0o700)
        return self.journal

    def _write_manifest(self):
        d = self._journal_dir()
        manifest = {"pid": os.getpid(), "users": self.users, "files": {}}
        for i, (path, b) in enumerate(sorted(self.backups.items())):
            name = "%03d.bak" % i
            if b["existed"]:
                with open(os.path.join(d, name), "wb") as f:
                    f.write(b["data"])
            manifest["files"][path] = {"existed": b["existed"], "mode": b["mode"], "uid": b["uid"],
                                       "gid": b["gid"], "backup": name if b["existed"] else None}
        tmp = os.path.join(d, "manifest.json.tmp")
        with open(tmp, "w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(d, "manifest.json"))

    def backup(self, path):
        if path in self.backups:
            return
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self.backups[path] = {"existed": False, "data": None, "mode": None, "uid": None, "gid": None}
        else:
            if not stat.S_ISREG(st.st_mode):
                raise AssertionError("%s is not a regular file; the tests will not touch it" % path)
            with open(path, "rb") as f:
                data = f.read()
            self.backups[path] = {"existed": True, "data": data, "mode": stat.S_IMODE(st.st_mode),
                                  "uid": st.st_uid, "gid": st.st_gid}
        self._write_manifest()

    def write(self, path, text, mode=None):
        """Replaces `path` (atomically) with `text`, after a backup; mode and
        owner of the original unless `mode` is given (then root:root)."""
        self.backup(path)
        b = self.backups[path]
        if mode is None and b["existed"]:
            _atomic_write(path, text.encode(), b["mode"], b["uid"], b["gid"])
        else:
            _atomic_write(path, text.encode(), 0o644 if mode is None else mode, 0, 0)

    def original_text(self, path):
        self.backup(path)
        b = self.backups[path]
        return b["data"].decode() if b["existed"] else ""

    def scoped_pam_service(self, service, field, value, auth_line):
        """/etc/pam.d/<service> = lines that apply only when the PAM item
        `field` (pam_succeed_if: user, ruser) is `value` -- `auth_line` then
        pam_permit for account and session -- followed by the original file,
        unchanged, for everybody else."""
        path = "/etc/pam.d/" + service
        original = self.original_text(path)
        cond = "[success=ignore default=1] pam_succeed_if.so quiet %s = %s" % (field, value)
        text = "\n".join([
            ETC_MARKER,
            "auth    " + cond,
            auth_line,
            "account " + cond,
            "account [success=done default=die] pam_permit.so",
            "session " + cond,
            "session [success=done default=die] pam_permit.so",
            "# --- the original /etc/pam.d/%s follows ---" % service,
            "",
        ]) + original
        self.write(path, text)
        return text

    def restore(self, path):
        b = self.backups.get(path)
        if b is None:
            return
        if b["existed"]:
            _atomic_write(path, b["data"], b["mode"], b["uid"], b["gid"])
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def add_user(self, name):
        """useradd -m; the account databases are backed up first."""
        for p in USER_DB_FILES:
            self.backup(p)
        self.users.append(name)
        self._write_manifest()
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-c", "pam_fac e2e (temporary)", name],
                       check=True, capture_output=True, env=clean_env(), timeout=60)
        return pwd.getpwnam(name)

    def remove_user(self, name):
        if name not in self.users:
            return
        try:
            home = pwd.getpwnam(name).pw_dir
        except KeyError:
            home = None
        r = subprocess.run(["userdel", "-r", name], capture_output=True, text=True, env=clean_env(), timeout=60)
        if r.returncode not in (0, 12) and home is not None:  # 12: could not remove home (mail spool)
            log("userdel -r %s exited %d: %s" % (name, r.returncode, r.stderr.strip()))
        if home and home.startswith("/home/pamfac-e2e-") and os.path.isdir(home):
            shutil.rmtree(home, ignore_errors=True)
        self.users.remove(name)
        self._write_manifest()

    def restore_all(self):
        errors = []
        for name in list(self.users):
            try:
                self.remove_user(name)
            except Exception as e:  # keep restoring
                errors.append("userdel %s: %s" % (name, e))
        for path in sorted(self.backups):
            try:
                self.restore(path)
            except Exception as e:
                errors.append("restore %s: %s" % (path, e))
        if not errors:
            self.backups.clear()
            if self.journal:
                shutil.rmtree(self.journal, ignore_errors=True)
                self.journal = None
                try:
                    os.rmdir(JOURNAL_ROOT)
                except OSError:
                    pass
        return errors


def _atomic_write(path, data, mode, uid, gid):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".pamfac-e2e-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def recover_stale_journals():
    """Repairs /etc after an earlier run that was killed before its finally
    blocks ran: removes its throwaway users, puts back the files it had
    written (only those still carrying ETC_MARKER), and the account
    databases if nothing but its users changed them."""
    if not os.path.isdir(JOURNAL_ROOT):
        return
    for pid in os.listdir(JOURNAL_ROOT):
        d = os.path.join(JOURNAL_ROOT, pid)
        try:
            if int(pid) != os.getpid():
                os.kill(int(pid), 0)
                continue  # that run is alive (it cannot be: we hold the lock; be careful anyway)
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        try:
            with open(os.path.join(d, "manifest.json")) as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            shutil.rmtree(d, ignore_errors=True)
            continue
        log("repairing /etc after an interrupted run (journal %s)" % d)
        for name in manifest.get("users", []):
            if name.startswith("pamfac-e2e-"):
                subprocess.run(["userdel", "-r", name], capture_output=True, env=clean_env(), timeout=60)
        files = manifest.get("files", {})

        def backup_bytes(info):
            with open(os.path.join(d, info["backup"]), "rb") as f:
                return f.read()

        db_clean = all(
            (not files[p]["existed"] and not os.path.exists(p)) or
            (files[p]["existed"] and os.path.exists(p) and open(p, "rb").read() == backup_bytes(files[p]))
            for p in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow") if p in files)
        for path, info in files.items():
            if path in USER_DB_FILES:
                if not db_clean:
                    log("  %s: changed by someone else too; not restored" % path)
                    continue
            else:
                try:
                    with open(path, errors="replace") as f:
                        if ETC_MARKER not in f.read():
                            continue  # not ours any more
                except FileNotFoundError:
                    if not info["existed"]:
                        continue
            if info["existed"]:
                _atomic_write(path, backup_bytes(info), info["mode"], info["uid"], info["gid"])
            else:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            log("  restored " + path)
        shutil.rmtree(d, ignore_errors=True)


ETC = EtcGuard()


def _raise_watchdog(signum, frame):
    raise Watchdog("signal %d (watchdog or termination): stopping, restoring /etc" % signum)


def skips_fail():
    """Under CI (CI=true) and in `make check` (PAMFAC_NO_SKIP=1) a test that
    cannot run fails: a skip there would hide a whole missing suite."""
    return os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("PAMFAC_NO_SKIP") == "1"


def skip_or_fail(name, why):
    """Exits 77 (ctest's SKIP_RETURN_CODE), or 1 when skips_fail()."""
    if skips_fail():
        print("%s: FAIL: cannot run (%s), and skips are failures here (CI or make check)" % (name, why),
              file=sys.stderr)
        sys.exit(1)
    print("%s: %s; skipped" % (name, why), file=sys.stderr)
    sys.exit(SKIP)


def run_main(name):
    """Runs the unittest cases of __main__ between two /etc checksums."""
    if os.geteuid() != 0:
        skip_or_fail(name, "needs root")
    t0 = time.monotonic()
    lock = FrontendLock(LOCK_WAIT_SECONDS, on_wait=lambda: log(
        "waiting for %s (apt, dpkg or tests/deb is running)" % FRONTEND_LOCK))
    ok = False
    result = None
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, _raise_watchdog)
    # Counted from the start (ctest's TIMEOUT includes the wait for the lock).
    signal.alarm(max(30, int(WATCHDOG_SECONDS - (time.monotonic() - t0))))
    try:
        recover_stale_journals()
        remove_stale_tmp_dirs()
        before = etc_snapshot()
        log("%s: /etc before: %d entries, sha256 %s" % (name, len(before), snapshot_digest(before)))
        interrupted = None
        try:
            result = unittest.main(verbosity=2, exit=False).result
        except Watchdog as e:
            interrupted = e
        finally:
            signal.alarm(0)
            for s in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(s, signal.SIG_IGN)   # nothing may cut the restore short
            _stop_everything()           # normally nothing left: the cleanups stopped it all
            errors = ETC.restore_all()   # normally nothing left: the class cleanups restored it
            for e in errors:
                log("restore error: " + e)
        after = etc_snapshot()
        changed = snapshot_differences(before, after)
        log("%s: /etc after:  %d entries, sha256 %s" % (name, len(after), snapshot_digest(after)))
        if changed:
            for p in changed[:50]:
                log("  /etc CHANGED: %s before=%r after=%r" % (p, before.get(p), after.get(p)))
            log("%s: FAIL: /etc differs from before the run" % name)
        else:
            log("%s: /etc is exactly as before (content, mode, owner of every entry)" % name)
        ok = not changed and not errors and interrupted is None
        if interrupted is not None:
            log("%s: INTERRUPTED (%s); everything stopped and restored" % (name, interrupted))
    finally:
        signal.alarm(0)
        lock.release()
        log("%s: %.1f s" % (name, time.monotonic() - t0))
    if result is None or not result.wasSuccessful() or not ok:
        sys.exit(1)
    if result.testsRun == 0:
        skip_or_fail(name, "no test ran")
    if result.skipped:
        reasons = "; ".join(sorted({str(reason) for _, reason in result.skipped}))
        if skips_fail() or len(result.skipped) == result.testsRun:
            skip_or_fail(name, "%d of %d tests skipped: %s" % (len(result.skipped), result.testsRun, reasons))
    sys.exit(0)


# ---------------------------------------------------------------------------
# The FAC simulator
# ---------------------------------------------------------------------------

FTC_CLIENT_ID = "e2e-ftc-client"
FTC_CLIENT_SECRET = "e2e-ftc-s3cr3t"


class Simulator:
    def __init__(self, tmp, users, api_users=None, mode="fac"):
        self.tmp = tmp
        self.mode = mode
        self.proc = None
        self.port = None
        self.certs = os.path.join(tmp, "certs")
        subprocess.run(["bash", os.path.join(SIM_DIR, "make_certs.sh"), self.certs],
                       check=True, env=clean_env(), timeout=60, capture_output=True)
        self.ca = os.path.join(self.certs, "ca.pem")
        self.users_file = os.path.join(tmp, "users.json")
        with open(self.users_file, "w") as f:
            json.dump({"api_users": api_users or [{"name": API_USER, "key": API_KEY, "permission": True}],
                       "ftc_clients": [{"client_id": FTC_CLIENT_ID, "client_secret": FTC_CLIENT_SECRET}],
                       "lockout_after": 0, "reject_replay": False, "users": users}, f)
        self.log_file = os.path.join(tmp, "sim.stderr")

    def start(self):
        with open(self.log_file, "w") as err:
            try:
                self.proc, self.port = sim_process.start(
                    ["--users", self.users_file,
                     "--cert", os.path.join(self.certs, "server.pem"),
                     "--key", os.path.join(self.certs, "server.key"),
                     "--host", "127.0.0.1", "--port", "0", "--mode", self.mode,
                     "--log", os.path.join(self.tmp, "sim.jsonl")],
                    stderr=err, timeout=30, env=clean_env(), start_new_session=True, preexec_fn=_die_with_parent)
            except RuntimeError as e:
                raise AssertionError("%s\n%s" % (e, tail(self.log_file)))
        _PROCESSES.append(self.proc)
        ctx = ssl.create_default_context(cafile=self.ca)
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                urllib.request.HTTPSHandler(context=ctx))

    def stop(self):
        if self.proc is not None:
            sim_process.stop(self.proc, grace=5)
        self.proc = None

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def post(self, path, body=None):
        req = urllib.request.Request(self.url(path), data=json.dumps(body or {}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with self.http.open(req, timeout=15) as resp:
            return json.loads(resp.read() or b"null")

    def reset(self):
        self.post("/_sim/reset")

    def set_push(self, user, action, delay=0.5):
        self.post("/_sim/push", {"username": user, "action": action, "delay": delay})

    def decide_push(self, user, decision="approve", wait=5):
        return self.post("/_sim/push/%s/%s" % (user, decision), {"wait": wait})

    def requests(self, path_prefix=None):
        with self.http.open(self.url("/_sim/requests"), timeout=15) as resp:
            data = json.loads(resp.read())
        entries = data["requests"] if isinstance(data, dict) else data
        if path_prefix is not None:
            entries = [e for e in entries if e["path"].startswith(path_prefix)]
        return entries

    def requests_when(self, path_prefix, condition, timeout=10):
        """The request log once condition(entries) holds (the log of a push
        is completed a moment after the control API answered), or as it is
        at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.requests(path_prefix)
            if condition(entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)

    @staticmethod
    def body(entry):
        if entry.get("json") is not None:
            return entry["json"]
        return json.loads(base64.b64decode(entry["body_b64"] or b"") or b"null")

    def config_text(self, state_dir, extra=()):
        if self.mode == "ftc":
            credentials = ["backend = ftc", "ftc_client_id = " + FTC_CLIENT_ID,
                           "ftc_client_secret = " + FTC_CLIENT_SECRET, "poll_interval = 0.2"]
        else:
            credentials = ["api_user = " + API_USER, "api_key = " + API_KEY]
        return "\n".join([
            "# pam_fac end-to-end test config",
            "server = https://127.0.0.1:%d" % self.port,
        ] + credentials + [
            "ca_file = " + self.ca,
            # Generous: these tests are not about timeouts, and must pass on a
            # loaded 2-core machine (a TLS handshake took over 2 s at load 80).
            "connect_timeout = 10",
            "timeout = 20",
            "push_timeout = 20",
            "state_dir = " + state_dir,
        ] + list(extra) + [""])


# ---------------------------------------------------------------------------
# A pexpect-driven client with a full transcript
# ---------------------------------------------------------------------------

class Client:
    """A pexpect child whose whole output is kept (transcript) with the time
    each piece arrived (events), for the info-message timing records."""

    def __init__(self, argv, env, timeout=30, cleanup=None):
        self.log = io.StringIO()
        self.t0 = time.monotonic()
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=timeout,
                                   encoding="utf-8", codec_errors="replace")
        self.child.logfile_read = self.log
        _CLIENTS.append(self)
        if cleanup is not None:
            cleanup(self.close)

    @property
    def transcript(self):
        return self.log.getvalue()

    def expect(self, patterns, timeout=-1):
        """Index of the pattern matched; EOF and TIMEOUT are appended to the
        list, so their indexes are len(patterns) and len(patterns)+1."""
        if isinstance(patterns, str):
            patterns = [patterns]
        return self.child.expect(list(patterns) + [pexpect.EOF, pexpect.TIMEOUT], timeout=timeout)

    def sendline(self, text):
        self.child.sendline(text)

    def wait_eof(self, timeout=30):
        i = self.child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=timeout)
        if i == 0:
            self.child.close()
            return True
        return False

    @property
    def exitstatus(self):
        return self.child.exitstatus

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        try:
            self.child.close(force=True)
        except Exception:
            pass


# ---------------------------------------------------------------------------
# sshd under pam_wrapper + nss_wrapper
# ---------------------------------------------------------------------------

class NssUser:
    def __init__(self, name, uid, groups=()):
        self.name = name
        self.uid = uid
        self.groups = list(groups)   # extra groups (names) defined by the test
        self.home = None


class SshdProcess:
    def __init__(self, name, port, proc, log, addresses):
        self.name = name
        self.port = port
        self.proc = proc
        self.log = log
        self.addresses = addresses

    def log_text(self):
        return tail(self.log, 200)

    def stop(self):
        stop_process(self.proc)
        self.proc = None


class SshdTestCase(unittest.TestCase):
    """Fixture: a temp dir, the simulator, nss_wrapper files with the test
    users, a host key and a base pam_fac config. Subclasses set NSS_USERS,
    NSS_GROUPS (name -> members) and SIM_USERS, and start sshd(s) with
    start_sshd()."""

    NSS_USERS = []      # [NssUser]
    NSS_GROUPS = {}     # group name -> [member names]
    SIM_USERS = []      # simulator users file entries
    SIM_MODE = "fac"    # or "ftc": the simulator plays FortiToken Cloud
    BASE_CONF = ["second_factor = code_or_push"]

    tmp = None
    sim = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to run sshd")
        require_tools(SSHD, SSH, "oathtool", "ssh-keygen")
        if not os.path.isfile(MODULE):
            raise AssertionError("module not found: %r" % MODULE)
        cls.pam_wrapper = find_lib("libpam_wrapper.so")
        cls.nss_wrapper = find_lib("libnss_wrapper.so")
        cls.pam_matrix = find_lib("pam_matrix.so", "pam_wrapper")
        cls.t0 = time.monotonic()
        cls.tmp = make_tmp()
        cls.addClassCleanup(cls._remove_tmp)
        os.chmod(cls.tmp, 0o711)   # the test users' processes must reach their homes
        cls.sim = Simulator(cls.tmp, cls.SIM_USERS, mode=cls.SIM_MODE)
        cls.addClassCleanup(cls.sim.stop)
        cls.sim.start()
        cls.conf = cls.write_conf("fac.conf", cls.BASE_CONF)
        cls._write_nss_files()
        cls.hostkey = os.path.join(cls.tmp, "hostkey")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", cls.hostkey],
                       check=True, env=clean_env(), timeout=30)
        # Every test sshd has this host key, on any port: the client checks it
        # (StrictHostKeyChecking yes) and has nothing to add.
        cls.known_hosts = os.path.join(cls.tmp, "known_hosts")
        with open(cls.hostkey + ".pub") as f, open(cls.known_hosts, "w") as out:
            out.write("* " + " ".join(f.read().split()[:2]) + "\n")
        cls.made_run_sshd = False
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
            os.chmod("/run/sshd", 0o755)
            cls.made_run_sshd = True
        cls.sshd_count = 0

    @classmethod
    def _remove_tmp(cls):
        remove_pam_wrapper_dirs(cls.tmp + "/")
        if os.environ.get("PAMFAC_E2E_KEEP_TMP"):
            log("kept " + cls.tmp)
        elif cls.tmp and os.path.isdir(cls.tmp):
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if getattr(cls, "made_run_sshd", False):
            try:
                os.rmdir("/run/sshd")  # only if we made it and it is empty
            except OSError:
                pass

    @classmethod
    def write_conf(cls, name, extra_lines, state_dir=None):
        path = os.path.join(cls.tmp, name)
        state = state_dir or os.path.join(cls.tmp, "state-" + name.replace(".", "-"))
        write_secure(path, cls.sim.config_text(state, extra_lines))
        return path

    @classmethod
    def _write_nss_files(cls):
        """passwd/group for nss_wrapper: root, sshd's privsep user, nobody
        (copied from the system's entries) and the test users."""
        homes = os.path.join(cls.tmp, "home")
        os.mkdir(homes, 0o755)
        passwd_lines, group_lines, gids = [], [], set()
        for name in ("root", "sshd", "nobody"):
            try:
                p = pwd.getpwnam(name)
            except KeyError:
                continue
            passwd_lines.append("%s:x:%d:%d:%s:%s:%s" % (p.pw_name, p.pw_uid, p.pw_gid, p.pw_gecos,
                                                         p.pw_dir, p.pw_shell))
            gids.add(p.pw_gid)
        for u in cls.NSS_USERS:
            u.home = os.path.join(homes, u.name)
            os.mkdir(u.home, 0o755)
            os.chown(u.home, u.uid, u.uid)
            passwd_lines.append("%s:x:%d:%d:pam_fac e2e:%s:/bin/sh" % (u.name, u.uid, u.uid, u.home))
        for gid in sorted(gids):
            try:
                g = grp.getgrgid(gid)
            except KeyError:
                continue
            group_lines.append("%s:x:%d:" % (g.gr_name, g.gr_gid))
        for u in cls.NSS_USERS:
            group_lines.append("%s:x:%d:" % (u.name, u.uid))
        for i, (gname, members) in enumerate(sorted(cls.NSS_GROUPS.items())):
            group_lines.append("%s:x:%d:%s" % (gname, 64900 + i, ",".join(members)))
        cls.nss_passwd = os.path.join(cls.tmp, "passwd")
        cls.nss_group = os.path.join(cls.tmp, "group")
        with open(cls.nss_passwd, "w") as f:
            f.write("\n".join(passwd_lines) + "\n")
        with open(cls.nss_group, "w") as f:
            f.write("\n".join(group_lines) + "\n")
        os.chmod(cls.nss_passwd, 0o644)
        os.chmod(cls.nss_group, 0o644)

    # ---- stacks ----------------------------------------------------------

    @classmethod
    def fac_line(cls, control="required", conf=None, **overrides):
        args = ["conf=" + (conf or cls.conf)] + ["%s=%s" % kv for kv in overrides.items()]
        return "auth %s %s %s" % (control, MODULE, " ".join(args))

    @classmethod
    def matrix_line(cls, passwords, control="required"):
        """pam_matrix (pam_wrapper's password module): a local password
        check in the pam_wrapper world, like pam_unix."""
        cls.passdb_count = getattr(cls, "passdb_count", 0) + 1
        path = os.path.join(cls.tmp, "passdb%d" % cls.passdb_count)
        with open(path, "w") as f:
            for user, pw in passwords.items():
                f.write("%s:%s:sshd\n" % (user, pw))
        os.chmod(path, 0o600)
        return "auth %s %s passdb=%s" % (control, cls.pam_matrix, path)

    # ---- sshd ------------------------------------------------------------

    @classmethod
    def launch_sshd(cls, auth_lines, config=(), addresses=("127.0.0.1",)):
        """Starts an sshd with this auth stack (account/session pam_permit)
        and sshd_config lines (after the defaults, so they override them).
        The caller stops it (SshdProcess.stop)."""
        cls.sshd_count += 1
        d = os.path.join(cls.tmp, "sshd%d" % cls.sshd_count)
        os.mkdir(d, 0o755)
        pamsvc = os.path.join(d, "pamsvc")
        os.mkdir(pamsvc, 0o755)
        # pam_wrapper copies this dir when it is loaded: write it before sshd starts.
        with open(os.path.join(pamsvc, "sshd"), "w") as f:
            f.write("# %s/\n" % cls.tmp)   # marker for remove_pam_wrapper_dirs
            for line in auth_lines:
                f.write(line + "\n")
            f.write("account required pam_permit.so\n")
            f.write("session required pam_permit.so\n")
            f.write("password required pam_deny.so\n")
        with open(os.path.join(pamsvc, "other"), "w") as f:
            f.write("# %s/\n" % cls.tmp)
            for kind in ("auth", "account", "session", "password"):
                f.write("%s required pam_deny.so\n" % kind)
        log_path = os.path.join(d, "sshd.log")
        last_error = ""
        for _ in range(5):
            port = free_port()
            config_path = os.path.join(d, "sshd_config")
            # sshd uses the first value of a keyword: the test's lines come first.
            with open(config_path, "w") as f:
                f.write("\n".join(list(config) + [
                    "Port %d" % port,
                ] + ["ListenAddress %s" % a for a in addresses] + [
                    "HostKey " + cls.hostkey,
                    "PidFile " + os.path.join(d, "sshd.pid"),
                    "UsePAM yes",
                    "KbdInteractiveAuthentication yes",
                    "PasswordAuthentication no",
                    "PubkeyAuthentication no",
                    "AuthenticationMethods keyboard-interactive",
                    "PermitRootLogin no",
                    "StrictModes no",
                    "UseDNS no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "LoginGraceTime 60",
                    "MaxStartups 50",
                    "LogLevel VERBOSE",
                    "",
                ]))
            env = clean_env(
                LD_PRELOAD="%s %s" % (cls.pam_wrapper, cls.nss_wrapper),
                PAM_WRAPPER="1",
                PAM_WRAPPER_SERVICE_DIR=pamsvc,
                NSS_WRAPPER_PASSWD=cls.nss_passwd,
                NSS_WRAPPER_GROUP=cls.nss_group,
            )
            # -r: connections are forks of this sshd, not new processes that
            # would each load pam_wrapper outside the startup lock.
            with open(log_path, "w") as logf, wrapper_startup():
                proc = subprocess.Popen([SSHD, "-D", "-e", "-r", "-f", config_path], stdin=subprocess.DEVNULL,
                                        stdout=logf, stderr=logf, env=env, start_new_session=True,
                                        preexec_fn=_die_with_parent)
                _PROCESSES.append(proc)
                wanted = ["Server listening on %s port %d" % (a, port) for a in addresses]
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and proc.poll() is None:
                    text = tail(log_path, 200)
                    if all(w in text for w in wanted):
                        return SshdProcess("sshd%d" % cls.sshd_count, port, proc, log_path, addresses)
                    time.sleep(0.03)
            last_error = tail(log_path)
            stop_process(proc)
            if "Address already in use" not in last_error:
                break
        raise AssertionError("sshd did not start:\n" + last_error)

    def start_sshd(self, auth_lines, config=(), addresses=("127.0.0.1",)):
        sshd = self.launch_sshd(auth_lines, config, addresses)
        self.addCleanup(sshd.stop)
        self.sshd = sshd
        return sshd

    # ---- per test --------------------------------------------------------

    def setUp(self):
        self.sim.reset()
        self.started = time.monotonic()
        self.clients = []

    def tearDown(self):
        log("%s: %.2f s" % (self._testMethodName, time.monotonic() - self.started))

    def ssh(self, sshd=None, user=None, host="127.0.0.1", methods="keyboard-interactive",
            identity=None, command=COMMAND, extra=()):
        sshd = sshd or self.sshd
        user = user or self.NSS_USERS[0].name
        args = [SSH, "-F", "/dev/null", "-p", str(sshd.port),
                "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + self.known_hosts,
                "-o", "PreferredAuthentications=" + methods,
                "-o", "NumberOfPasswordPrompts=1",
                "-o", "ConnectTimeout=10",
                "-o", "BatchMode=no"]
        # LogLevel stays at its default (INFO): below it the client hides
        # SSH2_MSG_USERAUTH_BANNER, which is how sshd delivers PAM text that
        # is still pending when authentication succeeds.
        args += ["-o", "IdentitiesOnly=yes"]   # HOME is the temp dir: no ~/.ssh keys
        if identity:
            args += ["-i", identity]
        args += list(extra) + ["%s@%s" % (user, host), command]
        client = Client(args, clean_env(HOME=self.tmp), cleanup=self.addCleanup)
        client.sshd = sshd
        self.clients.append(client)
        return client

    def diagnostics(self, client=None):
        parts = []
        if client is not None:
            parts.append("--- ssh transcript ---\n" + client.transcript)
        sshd = getattr(self, "sshd", None)
        if client is not None and getattr(client, "sshd", None) is not None:
            sshd = client.sshd
        if sshd is not None:
            parts.append("--- sshd log ---\n" + sshd.log_text()[-6000:])
        parts.append("--- simulator stderr ---\n" + tail(self.sim.log_file, 20))
        return "\n" + "\n".join(parts)

    def expect(self, client, patterns, timeout=-1, what="output"):
        """Like Client.expect, but fails the test on TIMEOUT."""
        if isinstance(patterns, str):
            patterns = [patterns]
        i = client.expect(patterns, timeout=timeout)
        if i == len(patterns) + 1:
            self.fail("timed out waiting for %s" % what + self.diagnostics(client))
        return i

    def expect_prompt(self, client, prompt, timeout=-1):
        """Waits for `prompt`; fails if ssh ended or timed out instead."""
        i = self.expect(client, [re.escape(prompt)], timeout, what=repr(prompt))
        if i != 0:
            self.fail("ssh ended instead of showing %r" % prompt + self.diagnostics(client))

    def finish(self, client, timeout=30):
        if not client.wait_eof(timeout):
            self.fail("ssh did not finish" + self.diagnostics(client))
        return client.exitstatus, client.transcript

    def assert_logged_in(self, client, timeout=30):
        status, out = self.finish(client, timeout)
        self.assertIn(EXPECTED_OUTPUT, out, "command did not run" + self.diagnostics(client))
        self.assertEqual(status, 0, self.diagnostics(client))
        self.assertNotIn("Permission denied", out)
        return out

    def assert_refused(self, client, timeout=30):
        status, out = self.finish(client, timeout)
        self.assertNotIn(EXPECTED_OUTPUT, out, self.diagnostics(client))
        self.assertNotEqual(status, 0, self.diagnostics(client))
        self.assertIn("Permission denied", out, self.diagnostics(client))
        return out

    def record(self, title, client):
        log("%s; ssh client showed:\n%s" % (title, indent(client.transcript)))


# ---------------------------------------------------------------------------
# Real programs with a real throwaway account (sudo, su, login)
# ---------------------------------------------------------------------------

class RealUserTestCase(unittest.TestCase):
    """Fixture: a temp dir, the simulator, a base pam_fac config, and a real
    throwaway account `cls.user` (useradd -m; userdel -r and byte-for-byte
    restore of the account databases afterwards). Files under /etc are
    changed only through ETC (backed up, journalled, restored in the class
    cleanup; run_main checks /etc by checksum)."""

    TOOLS = ()
    USER_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    EXTRA_SIM_USERS = []
    BASE_CONF = ["second_factor = code"]

    tmp = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        require_tools("oathtool", "useradd", "userdel", *cls.TOOLS)
        if not os.path.isfile(MODULE):
            raise AssertionError("module not found: %r" % MODULE)
        cls.t0 = time.monotonic()
        cls.tmp = make_tmp()
        cls.addClassCleanup(cls._remove_tmp)
        cls.user = "pamfac-e2e-" + os.urandom(3).hex()
        cls.sim = Simulator(cls.tmp, [{"username": cls.user, "totp_secret": cls.USER_SECRET,
                                       "push": {"action": "approve", "delay": 0.3}}] + cls.EXTRA_SIM_USERS)
        cls.addClassCleanup(cls.sim.stop)
        cls.sim.start()
        cls.conf = os.path.join(cls.tmp, "fac.conf")
        write_secure(cls.conf, cls.sim.config_text(os.path.join(cls.tmp, "state"), cls.BASE_CONF))
        cls.addClassCleanup(cls._restore_etc)
        cls.pw = ETC.add_user(cls.user)

    @classmethod
    def _restore_etc(cls):
        errors = ETC.restore_all()
        if errors:
            raise AssertionError("could not restore /etc: %s" % errors)

    @classmethod
    def _remove_tmp(cls):
        if cls.tmp and os.path.isdir(cls.tmp):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def fac_line(cls, control="[success=done default=die]", **overrides):
        args = ["conf=" + cls.conf] + ["%s=%s" % kv for kv in overrides.items()]
        return "auth    %s %s %s" % (control, MODULE, " ".join(args))

    def setUp(self):
        self.sim.reset()
        self.started = time.monotonic()

    def tearDown(self):
        log("%s: %.2f s" % (self._testMethodName, time.monotonic() - self.started))

    def code(self):
        return totp(self.USER_SECRET)
