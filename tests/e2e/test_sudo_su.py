#!/usr/bin/python3
"""End-to-end: sudo and su (setuid, the real /etc/pam.d) through pam_fac.

usage: /usr/bin/python3 test_sudo_su.py /abs/path/to/pam_fac.so [unittest args]

sudo and su are setuid: run by a non-root user the kernel sets AT_SECURE and
ignores LD_PRELOAD, so pam_wrapper cannot give them a private stack. This
test therefore, for its duration only:
  - makes a real throwaway account pamfac-e2e-<random> (useradd -m);
  - puts in front of /etc/pam.d/sudo and /etc/pam.d/su lines that apply only
    when PAM_RUSER is that account (pam_succeed_if), followed by the
    original file unchanged, so nobody else's sudo or su changes;
  - adds /etc/sudoers.d/pamfac-e2e (that account may run anything as root);
then restores every byte (userdel -r, then the account databases, the two
PAM files and the sudoers file from backups) and e2e_common.run_main
proves /etc is exactly as before by checksum. The simulator runs on
127.0.0.1.

Cases:
- sudo -S, code typed on stdin (second_factor = code); a wrong code fails
- sudo, second_factor = push: approved (no input at all) and rejected
- su to root, code typed under a pty (pexpect); FAC is asked about root
  (su authenticates the target account)
"""

import os
import re
import subprocess
import time

import e2e_common as e2e
from e2e_common import CODE_PROMPT, ETC, ETC_MARKER, Client, RealUserTestCase, clean_env, indent, log, totp

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

ROOT_SECRET = "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"
SUDOERS = "/etc/sudoers.d/pamfac-e2e"
SUDO_CMD = ["/bin/sh", "-c", "id -un; echo sudo-ok-$((40+2))"]


class SudoSu(RealUserTestCase):
    TOOLS = ("sudo", "su", "runuser", "visudo")
    EXTRA_SIM_USERS = [{"username": "root", "totp_secret": ROOT_SECRET}]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.path.isdir("/etc/sudoers.d"):
            raise AssertionError("/etc/sudoers.d missing")
        cls.write_sudoers()
        cls.addClassCleanup(cls._remove_sudo_timestamp)

    @classmethod
    def write_sudoers(cls, *extra):
        text = "\n".join([
            ETC_MARKER,
            "Defaults:%s !mail_badpass, !lecture" % cls.user,
        ] + list(extra) + [
            "%s ALL=(root) ALL" % cls.user,
            ""])
        ETC.write(SUDOERS, text, mode=0o440)
        check = subprocess.run(["visudo", "-c", "-q", "-f", SUDOERS], capture_output=True, text=True,
                               env=clean_env())
        if check.returncode != 0:
            raise AssertionError("visudo rejected the test's sudoers file: " + check.stderr)

    @classmethod
    def _remove_sudo_timestamp(cls):
        # sudo -k never writes one; tidy up anyway (only this account's record).
        p = os.path.join("/run/sudo/ts", cls.user)
        if os.path.isfile(p):
            os.unlink(p)

    def sudo_stack(self, **overrides):
        ETC.scoped_pam_service("sudo", "ruser", self.user, self.fac_line(**overrides))

    def run_sudo(self, stdin_text):
        t = time.monotonic()
        r = subprocess.run(["runuser", "-u", self.user, "--", "sudo", "-S", "-k", "--"] + SUDO_CMD,
                           input=stdin_text, capture_output=True, text=True, env=clean_env(), timeout=60)
        return r, time.monotonic() - t

    # ---- sudo --------------------------------------------------------------

    def test_sudo_code(self):
        self.sudo_stack(second_factor="code")
        code = self.code()
        r, took = self.run_sudo(code + "\n")
        log("sudo -S with a code: exit %d in %.2f s; stderr:\n%s\nstdout:\n%s"
            % (r.returncode, took, indent(r.stderr), indent(r.stdout)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "root\nsudo-ok-42\n")
        self.assertIn(CODE_PROMPT, r.stderr)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual((self.sim.body(auths[0])["username"], self.sim.body(auths[0])["token_code"]),
                         (self.user, code))
        self.assertEqual(auths[0]["status"], 200)

    def test_sudo_wrong_code(self):
        self.sudo_stack(second_factor="code")
        wrong = e2e.wrong_code(self.USER_SECRET)
        r, took = self.run_sudo("\n".join([wrong] * 3) + "\n")
        log("sudo -S with wrong codes: exit %d in %.2f s; stderr:\n%s" % (r.returncode, took, indent(r.stderr)))
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("sudo-ok-42", r.stdout)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertTrue(auths and all(a["status"] == 401 for a in auths), auths)

    def test_sudo_push_approved(self):
        self.sudo_stack(second_factor="push")
        r, took = self.run_sudo("")
        log("sudo, second_factor = push (approved after 0.3 s): exit %d in %.2f s; stderr:\n%s"
            % (r.returncode, took, indent(r.stderr)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "root\nsudo-ok-42\n")
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        body = self.sim.body(pushes[0])
        self.assertEqual((body["username"], body["account"], pushes[0]["status"]), (self.user, self.user, 200))
        self.assertIn("sudo", body["log_message"])
        self.assertNotIn("user_ip", body, "sudo sets no address as PAM_RHOST")
        self.assertEqual(self.sim.requests("/api/v1/auth/"), [])
        # sudo 1.9.13 calls pam_authenticate with PAM_SILENT (the sudoers
        # option pam_silent to turn that off came in 1.9.14), so the module's
        # "Sending a push ..." text is not shown: recorded, not asserted.
        log("sudo push: the module's push info %s on sudo's stderr"
            % ("IS shown" if re.search(e2e.PUSH_INFO_RE, r.stderr) else "is NOT shown (PAM_SILENT)"))

    def test_sudo_push_rejected(self):
        self.sudo_stack(second_factor="push")
        self.sim.set_push(self.user, "reject", 0.3)
        r, took = self.run_sudo("")
        log("sudo, second_factor = push (rejected): exit %d in %.2f s; stderr:\n%s"
            % (r.returncode, took, indent(r.stderr)))
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("sudo-ok-42", r.stdout)
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertTrue(pushes and all(p["status"] == 401 for p in pushes), pushes)
        # sudo calls pam_authenticate up to passwd_tries (3) times: one push each.
        log("sudo, rejected push: %d push(es) sent (sudo's passwd_tries retries pam_authenticate)" % len(pushes))

    # ---- su ------------------------------------------------------------------

    def test_su_code(self):
        ETC.scoped_pam_service("su", "ruser", self.user, self.fac_line(second_factor="code"))
        client = Client(["/usr/sbin/runuser", "-u", self.user, "--", "/bin/su", "-c",
                         "id -un; echo su-ok-$((40+2))", "root"],
                        clean_env(TERM="dumb"), timeout=30, cleanup=self.addCleanup)
        i = client.expect([CODE_PROMPT])
        self.assertEqual(i, 0, "no code prompt:\n" + client.transcript)
        code = totp(ROOT_SECRET)
        client.sendline(code)
        self.assertTrue(client.wait_eof(), client.transcript)
        out = client.transcript
        log("su to root with a code; terminal showed:\n" + indent(out))
        self.assertIn("root\r\nsu-ok-42", out)
        self.assertNotIn(code, out, "the code was echoed")
        self.assertEqual(client.exitstatus, 0, out)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual((self.sim.body(auths[0])["username"], auths[0]["status"]), ("root", 200))


if __name__ == "__main__":
    e2e.run_main("test_sudo_su")
