"""End-to-end: a real sshd through pam_fac with backend = ftc, the simulator
playing FortiToken Cloud (bearer-token login, codes, pushes polled by authid).

usage: /usr/bin/python3 test_sshd_ftc.py /abs/path/to/pam_fac.so [unittest args]

Cases: a code logs in; Enter sends a push that the test approves while it is
held, and the login completes once the poll sees it; autopush approved, then
Enter. Nothing under /etc is touched (checked by checksum in run_main).
"""

import re

import e2e_common as e2e
from e2e_common import AUTOPUSH_PROMPT, CODE_OR_PUSH_PROMPT, NssUser, SshdTestCase, totp

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

USER = "faceftc"
SECRET = "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"
PREFIX = "(%s@127.0.0.1) " % USER


class SshdFortiTokenCloud(SshdTestCase):
    SIM_MODE = "ftc"
    NSS_USERS = [NssUser(USER, 64250)]
    SIM_USERS = [{"username": USER, "totp_secret": SECRET, "push": {"action": "approve", "delay": 0.3}}]

    def ftc_requests(self, method, path):
        return [e for e in self.sim.requests() if e["method"] == method and e["path"] == path]

    def test_1_code_logs_in(self):
        self.start_sshd([self.fac_line()])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        client.sendline(totp(SECRET))
        self.assert_logged_in(client)
        codes = self.ftc_requests("POST", "/api/v1/auth")
        self.assertEqual(len(codes), 1, codes)
        self.assertEqual(codes[0]["status"], 200)
        self.assertEqual(self.sim.body(codes[0])["username"], USER)
        self.assertEqual(codes[0]["auth"], "bearer")

    def test_2_push_with_enter_is_polled_until_approved(self):
        self.start_sshd([self.fac_line()])
        self.sim.set_push(USER, "wait")
        client = self.ssh()
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        client.sendline("")
        # The push is pending at FTC: approve it as the phone would.
        self.sim.decide_push(USER, "approve")
        self.assert_logged_in(client)
        starts = self.ftc_requests("POST", "/api/v1/auth")
        self.assertEqual(len(starts), 1, starts)
        self.assertNotIn("token", self.sim.body(starts[0]))
        self.assertEqual(self.sim.body(starts[0]).get("user_ip"), "127.0.0.1")
        polls = [e for e in self.sim.requests() if e["method"] == "GET" and e["path"].startswith("/api/v1/auth/")]
        self.assertGreaterEqual(len(polls), 1, polls)

    def test_3_autopush_approved_then_enter(self):
        self.start_sshd([self.fac_line(autopush="yes")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + AUTOPUSH_PROMPT)
        self.sim.requests_when("/api/v1/auth", lambda entries: any(e["method"] == "POST" for e in entries))
        client.sendline("")
        self.assert_logged_in(client)


if __name__ == "__main__":
    e2e.run_main("test_sshd_ftc")
