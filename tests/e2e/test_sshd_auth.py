#!/usr/bin/python3
"""End-to-end: the ways a user authenticates to a real sshd through pam_fac.

usage: /usr/bin/python3 test_sshd_auth.py /abs/path/to/pam_fac.so [unittest args]

A real sshd on 127.0.0.1 (and ::1) under pam_wrapper + nss_wrapper, one per
case with that case's PAM stack and sshd_config; the FAC simulator; an
OpenSSH client driven by pexpect. Nothing under /etc is touched (checked by
checksum in e2e_common.run_main).

keyboard-interactive:
  a  local password (pam_matrix, pam_wrapper's pam_unix-like module) then
     pam_fac second_factor = code; a wrong local password stops the stack
     before FAC is asked
  b  password and code both checked by FAC (password = yes)
  c  push with Enter; records when the "approve it within" info reaches the
     client (the push is held by the simulator until the test approves it)
  d  AuthenticationMethods publickey,keyboard-interactive: key first, then
     the code; without the key, no prompt and FAC is never asked
  e  autopush: the "A push was sent" text is on screen BEFORE the push is
     approved (held, approved via /_sim/push/<user>/approve only after the
     client showed it), then Enter; and autopush with a typed code while the
     push is still held
PasswordAuthentication (KbdInteractiveAuthentication no) with password = yes
  and otp_append = yes: one answer, password followed by code.
echo_code (the code is visible as typed) and push_message (the template as
  FAC receives it).
"""

import os
import re
import socket
import subprocess
import time

import e2e_common as e2e
from e2e_common import (AUTOPUSH_PROMPT, CODE_OR_PUSH_PROMPT, CODE_PROMPT, PASSWORD_PROMPT, PUSH_INFO_RE, NssUser,
                        SshdTestCase, clean_env, log, totp, wrong_code)

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

USER = "face2e"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
FAC_PASSWORD = "fac-pw-1"
LOCAL_PASSWORD = "local-pw-1"
PREFIX = "(%s@127.0.0.1) " % USER


class SshdAuthMethods(SshdTestCase):
    NSS_USERS = [NssUser(USER, 64242)]
    SIM_USERS = [{"username": USER, "password": FAC_PASSWORD, "totp_secret": SECRET,
                  "push": {"action": "approve", "delay": 0.5}}]

    def auth_requests(self):
        return self.sim.requests("/api/v1/auth/")

    # ---- a: local password, then the code ---------------------------------

    def test_a1_local_password_then_code(self):
        self.start_sshd([self.matrix_line({USER: LOCAL_PASSWORD}, control="requisite"),
                         self.fac_line(second_factor="code")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + PASSWORD_PROMPT)
        client.sendline(LOCAL_PASSWORD)
        self.expect_prompt(client, PREFIX + CODE_PROMPT)
        code = totp(SECRET)
        client.sendline(code)
        self.assert_logged_in(client)
        auths = self.auth_requests()
        self.assertEqual(len(auths), 1, auths)
        body = self.sim.body(auths[0])
        self.assertEqual(body["username"], USER)
        self.assertEqual(body["token_code"], code)
        self.assertNotIn("password", body, "the local password must not be sent to FAC")
        self.assertEqual(auths[0]["status"], 200)
        self.assertEqual(self.sim.requests("/api/v1/pushauth"), [])
        self.record("a1 local password + code", client)

    def test_a2_wrong_local_password_never_reaches_fac(self):
        self.start_sshd([self.matrix_line({USER: LOCAL_PASSWORD}, control="requisite"),
                         self.fac_line(second_factor="code")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + PASSWORD_PROMPT)
        client.sendline("not-the-password")
        i = self.expect(client, [re.escape(CODE_PROMPT)], what="the end")
        self.assertNotEqual(i, 0, "asked for a code after a wrong local password" + self.diagnostics(client))
        self.assert_refused(client)
        self.assertEqual(self.sim.requests("/api/"), [])
        self.record("a2 wrong local password", client)

    # ---- b: password and code at FAC ---------------------------------------

    def test_b1_password_and_code_at_fac(self):
        self.start_sshd([self.fac_line(password="yes", second_factor="code")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + PASSWORD_PROMPT)
        client.sendline(FAC_PASSWORD)
        self.expect_prompt(client, PREFIX + CODE_PROMPT)
        code = totp(SECRET)
        client.sendline(code)
        self.assert_logged_in(client)
        auths = self.auth_requests()
        self.assertEqual(len(auths), 1, auths)
        body = self.sim.body(auths[0])
        self.assertEqual((body["username"], body["password"], body["token_code"]), (USER, FAC_PASSWORD, code))
        self.assertEqual(auths[0]["status"], 200)
        self.record("b1 password + code at FAC", client)

    def test_b2_wrong_password_at_fac_is_refused(self):
        self.start_sshd([self.fac_line(password="yes", second_factor="code")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + PASSWORD_PROMPT)
        client.sendline("wrong-pw")
        prompts = 0
        while True:
            i = self.expect(client, [re.escape(CODE_PROMPT)], what="a code prompt or the end")
            if i != 0:
                break
            prompts += 1
            self.assertLessEqual(prompts, 3, self.diagnostics(client))
            client.sendline(totp(SECRET))
        out = self.assert_refused(client)
        self.assertEqual(prompts, 3, self.diagnostics(client))
        self.assertIn("Incorrect password or code.", out)
        auths = self.auth_requests()
        # The same password+code pair, once rejected, is not sent again
        # (unless the code changed into a new time step meanwhile).
        self.assertIn([a["status"] for a in auths], ([401], [401, 401]), auths)
        self.record("b2 wrong FAC password, right codes", client)

    # ---- c: push with Enter --------------------------------------------------

    def test_c_push_with_enter_and_when_the_info_arrives(self):
        self.start_sshd([self.fac_line()])
        self.sim.set_push(USER, "wait")
        client = self.ssh()
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        enter_at = time.time()
        client.sendline("")
        # Hold the push 2 s and see whether the info gets through meanwhile.
        i = client.expect([PUSH_INFO_RE], timeout=2)
        before_approval = i == 0
        seen_at = time.time() if before_approval else None
        screen_while_held = client.transcript
        self.sim.decide_push(USER, "approve")
        approved_at = time.time()
        if not before_approval:
            i = self.expect(client, [PUSH_INFO_RE], what="the push info after approval")
            self.assertEqual(i, 0, "the push info never reached the client" + self.diagnostics(client))
            seen_at = time.time()
        out = self.assert_logged_in(client)
        self.assertRegex(out, PUSH_INFO_RE)
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        self.assertEqual(pushes[0]["status"], 200)
        self.assertEqual(self.auth_requests(), [])
        log("c push with Enter: the push was held %.2f s; the info 'Sending a push ... approve it within N "
            "seconds.' reached the client %s (%.2f s after Enter, %.2f s %s the approval)"
            % (approved_at - enter_at, "WHILE THE PUSH WAS HELD" if before_approval else "only AFTER the approval",
               seen_at - enter_at, abs(seen_at - approved_at), "before" if seen_at < approved_at else "after"))
        log("c screen while the push was held:\n" + e2e.indent(screen_while_held))
        self.record("c final", client)

    def test_c2_push_with_enter_quiet_client(self):
        # Recorded, not asserted: `ssh -q` (LogLevel QUIET) hides the banner
        # that carries PAM text pending at success.
        self.start_sshd([self.fac_line()])
        self.sim.set_push(USER, "approve", 0.3)
        client = self.ssh(extra=["-q"])
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        client.sendline("")
        self.assert_logged_in(client)
        shown = re.search(PUSH_INFO_RE, client.transcript) is not None
        log("c2 push with Enter, ssh -q: the push info %s" % ("IS shown" if shown else "is NOT shown at all"))
        self.record("c2 ssh -q", client)

    # ---- d: publickey, then the code -----------------------------------------

    def _key(self):
        key = os.path.join(self.tmp, "client_key")
        if not os.path.exists(key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                           check=True, env=clean_env(), timeout=30)
            ssh_dir = os.path.join(self.NSS_USERS[0].home, ".ssh")
            os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
            with open(key + ".pub") as f, open(os.path.join(ssh_dir, "authorized_keys"), "w") as out:
                out.write(f.read())
            for p in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
                os.chown(p, self.NSS_USERS[0].uid, self.NSS_USERS[0].uid)
            os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        return key

    PUBKEY_CONFIG = ["AuthenticationMethods publickey,keyboard-interactive", "PubkeyAuthentication yes"]

    def test_d1_publickey_then_code(self):
        key = self._key()
        sshd = self.start_sshd([self.fac_line()], config=self.PUBKEY_CONFIG)
        client = self.ssh(methods="publickey,keyboard-interactive", identity=key)
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        client.sendline(totp(SECRET))
        self.assert_logged_in(client)
        sshd_log = sshd.log_text()
        self.assertRegex(sshd_log, r"Partial publickey for %s from 127\.0\.0\.1" % USER, sshd_log)
        self.assertRegex(sshd_log, r"Accepted keyboard-interactive/pam for %s from 127\.0\.0\.1" % USER, sshd_log)
        self.assertEqual(len(self.auth_requests()), 1)
        self.record("d1 publickey then code", client)

    def test_d2_without_the_key_fac_is_never_asked(self):
        self._key()
        self.start_sshd([self.fac_line()], config=self.PUBKEY_CONFIG)
        client = self.ssh(methods="publickey,keyboard-interactive")
        i = self.expect(client, [re.escape(CODE_OR_PUSH_PROMPT)], what="the end")
        self.assertNotEqual(i, 0, "code prompt without the public key" + self.diagnostics(client))
        out = self.assert_refused(client)
        self.assertIn("Permission denied (publickey)", out)
        self.assertEqual(self.sim.requests("/api/"), [])

    # ---- e: autopush -------------------------------------------------------------

    def _autopush_screen(self, client):
        """Waits for the autopush prompt; returns when it was seen. The prompt
        is the one notice: no separate push text before it."""
        self.expect_prompt(client, PREFIX + AUTOPUSH_PROMPT)
        seen_at = time.time()
        shown = client.transcript
        self.assertEqual(shown.lower().count("push"), 1, "the push is announced more than once" + self.diagnostics(client))
        return seen_at, shown

    def test_e1_autopush_text_before_approval_then_enter(self):
        self.start_sshd([self.fac_line(autopush="yes")])
        self.sim.set_push(USER, "wait")
        client = self.ssh()
        spawned = time.time()
        seen_at, shown = self._autopush_screen(client)
        # The text is on screen; only now does the phone approve.
        self.sim.decide_push(USER, "approve")
        approved_at = time.time()
        pushes = self.sim.requests_when("/api/v1/pushauth",
                                        lambda es: len(es) == 1 and es[0].get("decided_at") is not None)
        self.assertEqual(len(pushes), 1, pushes)
        self.assertIsNotNone(pushes[0].get("decided_at"), pushes)
        self.assertLess(seen_at, pushes[0]["decided_at"], "text seen only after the push was decided")
        client.sendline("")
        self.assert_logged_in(client)
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual((len(pushes), pushes[0]["status"]), (1, 200), pushes)
        self.assertEqual(self.auth_requests(), [])
        log("e1 autopush: text + prompt on screen %.2f s after ssh started; push request reached FAC %.2f s "
            "%s the text was seen; push approved %.2f s after the text was seen; screen before approval:\n%s"
            % (seen_at - spawned, abs(pushes[0]["time"] - seen_at),
               "before" if pushes[0]["time"] < seen_at else "after", approved_at - seen_at, e2e.indent(shown)))
        self.record("e1 final", client)

    def test_e2_autopush_with_a_typed_code(self):
        self.start_sshd([self.fac_line(autopush="yes")])
        self.sim.set_push(USER, "wait")   # the phone never answers
        client = self.ssh()
        self._autopush_screen(client)
        typed_at = time.monotonic()
        code = totp(SECRET)
        client.sendline(code)
        self.assert_logged_in(client)
        took = time.monotonic() - typed_at
        # Well below push_timeout (20 s): the module did not wait for the held push.
        self.assertLess(took, 12, "the held push delayed the login")
        auths = self.auth_requests()
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual((self.sim.body(auths[0])["token_code"], auths[0]["status"]), (code, 200))
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        self.assertNotEqual(pushes[0]["status"], 200, pushes)
        log("e2 autopush + typed code: logged in %.2f s after the code; the held push ended as outcome=%s status=%s"
            % (took, pushes[0].get("outcome"), pushes[0].get("status")))
        self.record("e2 final", client)

    def test_e3_autopush_that_could_not_be_sent_is_not_claimed(self):
        self.start_sshd([self.fac_line(autopush="yes")])
        self.sim.set_push(USER, "503", 0)   # FAC: "Push server is unreachable"
        client = self.ssh()
        self.expect_prompt(client, CODE_PROMPT)
        shown = client.transcript
        self.assertNotIn(AUTOPUSH_PROMPT, shown, self.diagnostics(client))
        self.assertIn(e2e.PUSH_NOT_SENT_USE_CODE, shown, self.diagnostics(client))
        client.sendline(totp(SECRET))
        self.assert_logged_in(client)
        self.record("e3 autopush not sent", client)

    # ---- PasswordAuthentication with otp_append ---------------------------------------

    PASSWORD_CONFIG = ["PasswordAuthentication yes", "KbdInteractiveAuthentication no",
                       "AuthenticationMethods password"]

    def test_f1_password_authentication_otp_append(self):
        self.start_sshd([self.fac_line(password="yes", otp_append="yes")], config=self.PASSWORD_CONFIG)
        client = self.ssh(methods="password")
        self.expect_prompt(client, "%s@127.0.0.1's password: " % USER)
        code = totp(SECRET)
        client.sendline(FAC_PASSWORD + code)
        out = self.assert_logged_in(client)
        self.assertNotIn(FAC_PASSWORD, out)
        auths = self.auth_requests()
        self.assertEqual(len(auths), 1, auths)
        body = self.sim.body(auths[0])
        self.assertEqual(body["username"], USER)
        self.assertEqual(body["password"], FAC_PASSWORD + code, "FAC's concatenated form")
        self.assertIn(body.get("token_code", ""), ("", None))
        self.assertEqual(auths[0]["status"], 200)
        self.record("f1 PasswordAuthentication, password+code in one answer", client)

    def test_f2_password_authentication_wrong_code(self):
        self.start_sshd([self.fac_line(password="yes", otp_append="yes")], config=self.PASSWORD_CONFIG)
        client = self.ssh(methods="password")
        self.expect_prompt(client, "%s@127.0.0.1's password: " % USER)
        client.sendline(FAC_PASSWORD + wrong_code(SECRET))
        self.assert_refused(client)
        auths = self.auth_requests()
        self.assertTrue(auths and all(a["status"] == 401 for a in auths), repr(auths) + self.diagnostics(client))
        identical = len({repr(self.sim.body(a)) for a in auths}) == 1
        log("f2 PasswordAuthentication, one wrong answer typed once: FAC saw %d failed /auth/ request(s), %s "
            "(sshd's password conversation gives the same answer to every re-prompt of the module)"
            % (len(auths), "all with the identical body" if identical else "with different bodies"))
        self.record("f2 final", client)

    # ---- echo_code, push_message ---------------------------------------------------------

    def test_g_echo_code_shows_the_code(self):
        self.start_sshd([self.fac_line(second_factor="code", echo_code="yes")])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + CODE_PROMPT)
        code = totp(SECRET)
        client.sendline(code)
        out = self.assert_logged_in(client)
        self.assertIn(CODE_PROMPT + code, out, "the code was not echoed" + self.diagnostics(client))
        self.record("g echo_code = yes", client)

    def test_h_push_message_template(self):
        conf = self.write_conf("push_message.conf", [
            "second_factor = code_or_push",
            'push_message = "{service} to {host} as {user} from {rhost} on {tty}"'])
        self.start_sshd([self.fac_line(conf=conf)])
        client = self.ssh()
        self.expect_prompt(client, PREFIX + CODE_OR_PUSH_PROMPT)
        client.sendline("")
        self.assert_logged_in(client)
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        message = self.sim.body(pushes[0])["log_message"]
        self.assertEqual(message, "sshd to %s as %s from 127.0.0.1 on ssh" % (socket.gethostname(), USER))
        log("h push_message: FAC received log_message=%r" % message)


if __name__ == "__main__":
    e2e.run_main("test_sshd_auth")
