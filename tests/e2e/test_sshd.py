#!/usr/bin/python3
"""End-to-end test: a real sshd on loopback authenticates through pam_fac.

usage: /usr/bin/python3 test_sshd.py /abs/path/to/pam_fac.so [unittest args]

Nothing under /etc is touched (and e2e_common.run_main proves it by
checksum):
  - sshd runs with libpam_wrapper.so (PAM stack from a service dir in the
    temp dir) and libnss_wrapper.so (passwd/group files in the temp dir that
    define the test user, so no real account is created) preloaded;
  - the FAC simulator (tests/sim/fac_sim.py) serves HTTPS on 127.0.0.1 with
    certificates made by tests/sim/make_certs.sh in the temp dir;
  - the ssh client runs with -F /dev/null and a known-hosts file in the
    temp dir, driven by pexpect.

Cases: code, wrong code (3 tries), push approved, push rejected; the stack
is pam_fac alone with second_factor = code_or_push.

Every process started here (simulator, sshd, ssh) is stopped and the temp
dir removed, even when a test fails. Needs root (sshd), openssh-server,
openssh-client, oathtool, python3-pexpect, libpam-wrapper, libnss-wrapper.
"""

import re
import time

import e2e_common as e2e
from e2e_common import (CODE_OR_PUSH_PROMPT, EXPECTED_OUTPUT, API_USER, NssUser, SshdTestCase,
                        indent, log, totp, wrong_code)

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

USER = "face2e"          # local (nss_wrapper) account, and the FAC username
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
PREFIX = "(%s@127.0.0.1) " % USER   # how OpenSSH's client shows keyboard-interactive prompts


class SshdEndToEnd(SshdTestCase):
    """One simulator and one sshd for all cases."""

    NSS_USERS = [NssUser(USER, 64242)]
    SIM_USERS = [{"username": USER, "password": "unused-pw", "totp_secret": SECRET,
                  "push": {"action": "approve", "delay": 0.5}}]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sshd = cls.launch_sshd([cls.fac_line()])
        cls.addClassCleanup(cls.sshd.stop)
        log("fixture ready in %.2f s (sim port %d, sshd port %d)"
            % (time.monotonic() - cls.t0, cls.sim.port, cls.sshd.port))

    def first_prompt(self, client):
        """Waits for the code prompt; returns the displayed prompt line, or
        None if ssh ended instead."""
        i = self.expect(client, [re.escape(CODE_OR_PUSH_PROMPT)], what="the code prompt")
        if i != 0:
            return None
        line_start = client.child.before.rsplit("\n", 1)[-1].lstrip("\r")
        return line_start + CODE_OR_PUSH_PROMPT

    def test_1_correct_code_logs_in(self):
        client = self.ssh()
        displayed = self.first_prompt(client)
        self.assertEqual(displayed, PREFIX + CODE_OR_PUSH_PROMPT, "unexpected prompt" + self.diagnostics(client))
        code = totp(SECRET)
        client.sendline(code)
        out = self.assert_logged_in(client)
        self.assertNotIn(code, out, "the code was echoed (echo_code is off)")
        auths = self.sim.requests("/api/v1/auth")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual(auths[0]["status"], 200)
        self.assertEqual(auths[0]["api_user"], API_USER)
        self.assertEqual(self.sim.body(auths[0])["username"], USER)
        self.assertEqual(self.sim.requests("/api/v1/pushauth"), [])

    def test_2_wrong_code_is_refused(self):
        wrong = wrong_code(SECRET)
        client = self.ssh()
        prompts = []
        while True:
            displayed = self.first_prompt(client)
            if displayed is None:
                break
            prompts.append(displayed)
            self.assertLessEqual(len(prompts), 3, "more than 3 prompts" + self.diagnostics(client))
            client.sendline(wrong)
        out = self.assert_refused(client)
        self.assertEqual(prompts[0], PREFIX + CODE_OR_PUSH_PROMPT)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual(len(prompts), 3, "expected tries = 3 prompts" + self.diagnostics(client))
        # The same wrong code three times reaches FAC once: a rejected answer
        # is never sent again.
        self.assertEqual(len(auths), 1, auths)
        for entry in auths:
            body = self.sim.body(entry)
            self.assertEqual(body["username"], USER)
            self.assertEqual(body.get("token_code"), wrong)
            self.assertEqual(entry["status"], 401)
            self.assertEqual(entry["api_user"], API_USER)
        self.assertEqual(self.sim.requests("/api/v1/pushauth"), [])
        log("wrong code: %d prompts; client output:\n%s" % (len(prompts), indent(out)))

    def _push_login(self, action):
        self.sim.set_push(USER, action, 0.5)
        client = self.ssh()
        displayed = self.first_prompt(client)
        self.assertEqual(displayed, PREFIX + CODE_OR_PUSH_PROMPT, "unexpected prompt" + self.diagnostics(client))
        sent = time.time()
        client.sendline("")
        # Note when the "approve it within" info reaches the client, then wait
        # for the end. A rejected push must not lead to another prompt; if one
        # comes, it is not answered.
        info_at = None
        while True:
            i = self.expect(client, [e2e.PUSH_INFO_RE, re.escape(CODE_OR_PUSH_PROMPT)], what="the end")
            if i == 0:
                info_at = time.time()
                continue
            break
        reprompted = i == 1
        if reprompted:
            client.child.sendcontrol("c")
        client.wait_eof(10)
        ended = time.time()
        out = client.transcript
        pushes = self.sim.requests("/api/v1/pushauth")
        if info_at is None:
            when = "did NOT reach the ssh client"
        else:
            when = "reached the ssh client %.2f s after Enter" % (info_at - sent)
            if pushes and pushes[0].get("decided_at") is not None:
                when += (", %.2f s %s the simulator answered the push"
                         % (abs(info_at - pushes[0]["decided_at"]),
                            "BEFORE" if info_at < pushes[0]["decided_at"] else "after"))
        log("push %s: PAM_TEXT_INFO 'approve it within ... seconds' %s; ssh ended %.2f s after "
            "Enter; client output:\n%s" % (action, when, ended - sent, indent(out)))
        return client.exitstatus, out, reprompted

    def check_push_request(self):
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        body = self.sim.body(pushes[0])
        self.assertEqual(pushes[0]["api_user"], API_USER)
        self.assertEqual(body["username"], USER)
        self.assertEqual(body["account"], USER)
        self.assertEqual(body["user_ip"], "127.0.0.1")
        self.assertRegex(body["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
        self.assertTrue(body["user_agent"].startswith("pam_fac/"), body["user_agent"])
        self.assertIsInstance(body["log_message"], str)
        self.assertIn("sshd", body["log_message"])
        self.assertIn(USER, body["log_message"])
        self.assertIn("127.0.0.1", body["log_message"])
        self.assertNotIn("realm", body)
        self.assertEqual(self.sim.requests("/api/v1/auth/"), [])
        return pushes[0]

    def test_3_push_approved_logs_in(self):
        status, out, reprompted = self._push_login("approve")
        self.assertFalse(reprompted, "prompted again after an approved push\n" + out)
        self.assertIn(EXPECTED_OUTPUT, out, "command did not run\n" + out)
        self.assertEqual(status, 0, out)
        entry = self.check_push_request()
        self.assertEqual(entry["status"], 200)

    def test_4_push_rejected_is_refused(self):
        status, out, reprompted = self._push_login("reject")
        self.assertFalse(reprompted, "prompted again after a rejected push\n" + out)
        self.assertNotEqual(status, 0, out)
        self.assertIn("Permission denied", out)
        self.assertNotIn(EXPECTED_OUTPUT, out)
        entry = self.check_push_request()
        self.assertEqual(entry["status"], 401)


if __name__ == "__main__":
    e2e.run_main("test_sshd")
