#!/usr/bin/python3
"""End-to-end: a console login (/bin/login under a pty) through pam_fac.

usage: /usr/bin/python3 test_login.py /abs/path/to/pam_fac.so [unittest args]

login needs a real account and reads /etc/pam.d/login, so for this test's
duration only: a throwaway account pamfac-e2e-<random> (useradd -m), and in
front of /etc/pam.d/login lines that apply only to that account
(pam_succeed_if user = ...): pam_fac for auth, pam_permit for account and
session; the original file follows unchanged for everybody else. Then
userdel -r, and every file restored byte for byte; e2e_common.run_main
proves /etc is exactly as before by checksum. The simulator runs on
127.0.0.1. login is run as root under a pty (pexpect), as getty would.

Cases:
- code: the code prompt, then a shell command proves the login
- wrong code three times: "Login incorrect", no shell
- push with Enter (code_or_push), the push held by the simulator: the
  console shows "Sending a push ... approve it within N seconds." BEFORE the
  push is approved (unlike sshd, login's conversation prints info at once)
- autopush: the "A push was sent" text and the prompt, then a typed code
"""

import re
import time

import e2e_common as e2e
from e2e_common import (AUTOPUSH_PROMPT, CODE_OR_PUSH_PROMPT, CODE_PROMPT, ETC, PUSH_INFO_RE, Client,
                        RealUserTestCase, clean_env, indent, log)

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

LOGIN = "/bin/login"
SHELL_PROOF = "echo login-ok-$((40+2)); id -un"


class ConsoleLogin(RealUserTestCase):
    TOOLS = (LOGIN,)

    def login_stack(self, **overrides):
        ETC.scoped_pam_service("login", "user", self.user, self.fac_line(**overrides))

    def spawn_login(self):
        return Client([LOGIN, "-p", self.user], clean_env(TERM="dumb"), timeout=30, cleanup=self.addCleanup)

    def expect_or_fail(self, client, patterns, what):
        if isinstance(patterns, str):
            patterns = [patterns]
        i = client.expect(patterns)
        if i >= len(patterns):
            self.fail("%s: %s\n--- console ---\n%s" % (what, "login ended" if i == len(patterns) else "timed out",
                                                       client.transcript))
        return i

    def prove_shell(self, client):
        """The shell is running as the user: a command's output, then exit."""
        client.sendline(SHELL_PROOF)
        self.expect_or_fail(client, "login-ok-42\r\n%s" % re.escape(self.user), "no shell after the login")
        client.sendline("exit")
        client.wait_eof(10)

    def test_code(self):
        self.login_stack(second_factor="code")
        client = self.spawn_login()
        self.expect_or_fail(client, re.escape(CODE_PROMPT), "no code prompt")
        code = self.code()
        client.sendline(code)
        self.prove_shell(client)
        self.assertNotIn(code, client.transcript, "the code was echoed")
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual((self.sim.body(auths[0])["username"], auths[0]["status"]), (self.user, 200))
        log("console login with a code; console showed:\n" + indent(client.transcript))

    def test_wrong_code(self):
        self.login_stack(second_factor="code")
        client = self.spawn_login()
        wrong = e2e.wrong_code(self.USER_SECRET)
        prompts = 0
        while True:
            i = self.expect_or_fail(client, [re.escape(CODE_PROMPT), "Login incorrect"], "no answer")
            if i == 1:
                break
            prompts += 1
            self.assertLessEqual(prompts, 3, client.transcript)
            client.sendline(wrong)
        self.assertEqual(prompts, 3, client.transcript)
        self.assertIn("Incorrect code.", client.transcript)
        client.close()
        auths = self.sim.requests("/api/v1/auth/")
        # Three prompts, one request: a rejected code is never sent again.
        self.assertEqual([a["status"] for a in auths], [401], auths)
        log("console login with wrong codes; console showed:\n" + indent(client.transcript))

    def test_push_with_enter_info_shown_before_approval(self):
        self.login_stack(second_factor="code_or_push")
        self.sim.set_push(self.user, "wait")
        client = self.spawn_login()
        self.expect_or_fail(client, re.escape(CODE_OR_PUSH_PROMPT), "no code prompt")
        client.sendline("")
        enter = time.monotonic()
        self.expect_or_fail(client, PUSH_INFO_RE, "the push info was not shown while the push was held")
        seen = time.monotonic()
        self.sim.decide_push(self.user, "approve")
        self.prove_shell(client)
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual((len(pushes), pushes[0]["status"]), (1, 200), pushes)
        log("console login, push with Enter: the info was on the console %.2f s after Enter, before the approval; "
            "console showed:\n%s" % (seen - enter, indent(client.transcript)))

    def test_autopush_then_typed_code(self):
        self.login_stack(second_factor="code_or_push", autopush="yes")
        self.sim.set_push(self.user, "wait")
        client = self.spawn_login()
        self.expect_or_fail(client, re.escape(AUTOPUSH_PROMPT), "no autopush prompt")
        client.sendline(self.code())
        self.prove_shell(client)
        self.assertEqual(len(self.sim.requests("/api/v1/pushauth")), 1)
        auths = self.sim.requests("/api/v1/auth/")
        self.assertEqual([a["status"] for a in auths], [200], auths)
        log("console login, autopush then a code; console showed:\n" + indent(client.transcript))


if __name__ == "__main__":
    e2e.run_main("test_login")
