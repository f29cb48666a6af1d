#!/usr/bin/python3
"""End-to-end: the real su with fac_username = ruser, and a rescue code.

usage: /usr/bin/python3 test_su_ruser.py /abs/path/to/pam_fac.so [unittest args]

su authenticates the target account, and sets PAM_RUSER to the account
that runs it. With fac_username = ruser, FortiAuthenticator must be asked
about that person, not the target. For this test's duration only (as in
test_sudo_su.py): two real throwaway accounts pamfac-e2e-<random>, the
person and the target (useradd -m), and in front of /etc/pam.d/su lines
that apply only when PAM_RUSER is the person (pam_succeed_if), followed by
the original file unchanged; then userdel -r and a byte-for-byte restore,
and e2e_common.run_main proves /etc is exactly as before by checksum.

The module's syslog line is read from a datagram socket this test binds at
/dev/log when the machine has none (removed afterwards; a socket left by
a killed run is recognised by its marker under /var/tmp and replaced); on
a machine with a system logger, from journalctl, where a missing line is
recorded but not asserted.

Cases:
- su to the target, fac_username = ruser: the FortiToken prompt, the
  person's code; the simulator saw one /api/v1/auth/ request for the
  person; the syslog line names both (user=<target> fac_user=<person>)
- rescue_codes = yes: a code from `facctl rescue issue <person>` (facctl is
  found next to the module in the build tree) lets su in without any
  request to the simulator, leaves one code, logs a warning without the
  code; the same code a second time is refused
"""

import atexit
import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time

import e2e_common as e2e
from e2e_common import CODE_PROMPT, ETC, Client, RealUserTestCase, clean_env, indent, log

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

TARGET_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SU_CMD = "id -un; echo su-ok-$((40+2))"
DEV_LOG = "/dev/log"
DEV_LOG_MARKER = "/var/tmp/pamfac-e2e-devlog"   # inode of a /dev/log this test bound


class SyslogSink:
    """The lines syslog(3) writes while the test runs."""

    def __init__(self):
        self.sock = None
        self.inode = None
        self.since = time.time()
        self.received = []
        self.lock = threading.Lock()
        self.reader = None
        self._remove_stale()
        if os.path.lexists(DEV_LOG):
            log("%s exists (a system logger): the syslog line is read with journalctl" % DEV_LOG)
            return
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(DEV_LOG)
        os.chmod(DEV_LOG, 0o666)
        self.inode = os.lstat(DEV_LOG).st_ino
        with open(DEV_LOG_MARKER, "w") as f:
            f.write(str(self.inode))
        self.sock.settimeout(0.2)
        # Read at once: a datagram socket holds only net.unix.max_dgram_qlen
        # (10) unread messages, then every syslog() on the machine blocks.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        atexit.register(self.close)   # also when unittest was interrupted before the class cleanups

    def _read(self):
        sock = self.sock
        while self.sock is sock:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.received.append(data.decode("utf-8", "replace"))

    @staticmethod
    def _remove_stale():
        """A /dev/log bound by a run that was killed: nobody reads it."""
        try:
            with open(DEV_LOG_MARKER) as f:
                inode = int(f.read().strip())
        except (OSError, ValueError):
            return
        try:
            st = os.lstat(DEV_LOG)
            if stat.S_ISSOCK(st.st_mode) and st.st_ino == inode:
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                try:
                    probe.connect(DEV_LOG)
                    return   # someone reads it: not ours to remove
                except ConnectionRefusedError:
                    os.unlink(DEV_LOG)
                    log("removed %s, left by a run that was killed" % DEV_LOG)
                finally:
                    probe.close()
        except FileNotFoundError:
            pass
        os.unlink(DEV_LOG_MARKER)

    @property
    def own_socket(self):
        return self.sock is not None

    def lines(self):
        if self.sock is None:
            if shutil.which("journalctl") is None:
                return []
            r = subprocess.run(["journalctl", "--no-pager", "-o", "cat", "--since", "@%d" % int(self.since)],
                               capture_output=True, text=True, env=clean_env(), timeout=30)
            return r.stdout.splitlines()
        with self.lock:
            return list(self.received)

    def pam_fac_lines(self, wait_for=None, timeout=5):
        """pam_fac's lines (from `pam_fac(` on); waits up to `timeout` s
        until one contains `wait_for`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [l[l.index("pam_fac("):] for l in self.lines() if "pam_fac(" in l]
            if wait_for is None or any(wait_for in l for l in found) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def close(self):
        if self.sock is None:
            return
        try:
            if os.lstat(DEV_LOG).st_ino == self.inode:
                os.unlink(DEV_LOG)
        except FileNotFoundError:
            pass
        try:
            os.unlink(DEV_LOG_MARKER)
        except FileNotFoundError:
            pass
        sock, self.sock = self.sock, None
        self.reader.join(timeout=5)
        sock.close()


class SuRuser(RealUserTestCase):
    TOOLS = ("su", "runuser")

    @classmethod
    def setUpClass(cls):
        cls.target = "pamfac-e2e-" + os.urandom(3).hex()
        # The target has a token of its own at FAC: a module that asked
        # about the target would see the person's code refused.
        cls.EXTRA_SIM_USERS = [{"username": cls.target, "totp_secret": TARGET_SECRET}]
        super().setUpClass()
        ETC.add_user(cls.target)
        cls.syslog = SyslogSink()
        cls.addClassCleanup(cls.syslog.close)
        cls.facctl = os.path.join(os.path.dirname(e2e.MODULE), "facctl")

    def su_stack(self, conf, **overrides):
        args = ["conf=" + conf, "fac_username=ruser"] + ["%s=%s" % kv for kv in overrides.items()]
        line = "auth    [success=done default=die] %s %s" % (e2e.MODULE, " ".join(args))
        ETC.scoped_pam_service("su", "ruser", self.user, line)

    def run_su(self, answer):
        """su to the target as the person; `answer` typed at the code prompt.
        Returns (exit status, terminal transcript)."""
        client = Client(["/usr/sbin/runuser", "-u", self.user, "--", "/bin/su", "-c", SU_CMD, self.target],
                        clean_env(TERM="dumb"), timeout=30, cleanup=self.addCleanup)
        i = client.expect([re.escape(CODE_PROMPT)])
        self.assertEqual(i, 0, "no code prompt:\n" + client.transcript)
        client.sendline(answer)
        self.assertTrue(client.wait_eof(), client.transcript)
        return client.exitstatus, client.transcript

    def assert_logged(self, text, lines):
        if any(text in l for l in lines):
            return
        if self.syslog.own_socket:
            self.fail("no syslog line with %r; pam_fac's lines:\n%s" % (text, indent("\n".join(lines))))
        log("journalctl has no line with %r (the system logger may not keep authpriv): not asserted" % text)

    def test_su_asks_fac_about_the_person(self):
        self.su_stack(self.conf, second_factor="code")
        code = self.code()
        status, out = self.run_su(code)
        log("su to %s by %s, fac_username = ruser; terminal showed:\n%s" % (self.target, self.user, indent(out)))
        self.assertIn("%s\r\nsu-ok-42" % self.target, out)
        self.assertNotIn(code, out, "the code was echoed")
        self.assertEqual(status, 0, out)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual((self.sim.body(auths[0])["username"], auths[0]["status"]), (self.user, 200))
        expected = "pam_fac(su:auth): result=success user=%s fac_user=%s rhost=- method=code " % (
            self.target, self.user)
        lines = self.syslog.pam_fac_lines(wait_for=expected)
        log("syslog:\n" + indent("\n".join(lines[-3:])))
        self.assert_logged(expected, lines)
        self.assertFalse(any(code in l for l in lines), "the code is in syslog")

    def test_rescue_code_works_once(self):
        if not os.access(self.facctl, os.X_OK):
            self.fail("facctl not found next to the module: %s" % self.facctl)
        rescue_dir = os.path.join(self.tmp, "rescue")
        conf = os.path.join(self.tmp, "fac-rescue.conf")
        e2e.write_secure(conf, self.sim.config_text(os.path.join(self.tmp, "state-rescue"), [
            "second_factor = code", "rescue_codes = yes", "rescue_dir = " + rescue_dir]))
        issued = subprocess.run([self.facctl, "rescue", "issue", self.user, "--count", "2", "--conf", conf],
                                capture_output=True, text=True, env=clean_env(), timeout=60)
        self.assertEqual(issued.returncode, 0, issued.stderr)
        codes = issued.stdout.split()
        self.assertEqual(len(codes), 2, issued.stdout)
        self.su_stack(conf, tries="1")

        status, out = self.run_su(codes[0].lower())   # letter case does not matter
        log("su with a rescue code (rescue_codes = yes); terminal showed:\n" + indent(out))
        self.assertIn("%s\r\nsu-ok-42" % self.target, out)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.sim.requests("/api/v1/auth/"), [], "a rescue code was sent to FAC")
        left = subprocess.run([self.facctl, "rescue", "list", self.user, "--conf", conf],
                              capture_output=True, text=True, env=clean_env(), timeout=60)
        self.assertEqual(left.stdout, "%s 1\n" % self.user, left.stderr)

        status, out = self.run_su(codes[0])
        log("the same rescue code again; terminal showed:\n" + indent(out))
        self.assertNotIn("su-ok-42", out)
        self.assertNotEqual(status, 0, out)
        self.assertIn("Incorrect rescue code.", out)
        self.assertEqual(self.sim.requests("/api/v1/auth/"), [], "a rescue code was sent to FAC")

        lines = self.syslog.pam_fac_lines(wait_for="result=denied user=%s" % self.target)
        log("syslog:\n" + indent("\n".join(lines[-4:])))
        self.assert_logged("rescue code used by %s (rescue_codes = yes); 1 rescue code left" % self.user, lines)
        self.assert_logged("result=success user=%s fac_user=%s rhost=- method=rescue " % (self.target, self.user),
                           lines)
        self.assert_logged("result=denied user=%s fac_user=%s" % (self.target, self.user), lines)
        for c in codes:
            self.assertFalse(any(c in l.upper() for l in lines), "a rescue code is in syslog")


if __name__ == "__main__":
    e2e.run_main("test_su_ruser")
