#!/usr/bin/python3
"""End-to-end: pam_fac's policy keys as seen from a real sshd.

usage: /usr/bin/python3 test_sshd_policy.py /abs/path/to/pam_fac.so [unittest args]

A real sshd on 127.0.0.1 and ::1 under pam_wrapper + nss_wrapper (users and
groups exist only in nss_wrapper files), the FAC simulator, an OpenSSH
client driven by pexpect. Nothing under /etc is touched (checked by
checksum in e2e_common.run_main).

- trusted_networks: the login from inside goes through without a code
  prompt and FAC is never asked, both with pam_matrix (a local password)
  deciding and with `[success=ok ignore=ignore default=die] pam_fac` +
  pam_permit; IPv4 and IPv6 (::1); a network that does not contain the
  client still asks; pam_fac alone in the stack does NOT let a trusted
  network in (PAM_IGNORE is not a success).
- grace_period: after a success, the next login of the same user from the
  same address to sshd has no code prompt; from ::1 it is asked again.
- groups: `!group` exempts a member; a listed group selects its member; a
  listed group the user is not in leaves the user to the other modules.
- username_map: local `Face2eMap@corp` is `face2emap` at FAC (code and push;
  the push's `account` is the local name).
"""

import re

import e2e_common as e2e
from e2e_common import (CODE_OR_PUSH_PROMPT, CODE_PROMPT, PASSWORD_PROMPT, NssUser, SshdTestCase, log,
                        totp)

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

USER = "face2e"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
MAP_USER = "Face2eMap@corp"
MAP_FAC_USER = "face2emap"
MAP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
LOCAL_PASSWORD = "local-pw-1"


class SshdPolicy(SshdTestCase):
    NSS_USERS = [NssUser(USER, 64242), NssUser(MAP_USER, 64243)]
    NSS_GROUPS = {"fac-exempt": [USER], "fac-users": [USER], "fac-others": []}
    SIM_USERS = [{"username": USER, "totp_secret": SECRET, "push": {"action": "approve", "delay": 0.3}},
                 {"username": MAP_FAC_USER, "totp_secret": MAP_SECRET, "push": {"action": "approve", "delay": 0.3}}]

    def prefix(self, host="127.0.0.1", user=USER):
        return "(%s@%s) " % (user, host)

    def matrix(self):
        return self.matrix_line({USER: LOCAL_PASSWORD, MAP_USER: LOCAL_PASSWORD}, control="requisite")

    def login_password_only(self, host="127.0.0.1", what=""):
        """Local password, then NO code prompt: logged in without FAC."""
        client = self.ssh(host=host)
        self.expect_prompt(client, self.prefix(host) + PASSWORD_PROMPT)
        client.sendline(LOCAL_PASSWORD)
        i = self.expect(client, [re.escape(CODE_PROMPT), re.escape(CODE_OR_PUSH_PROMPT)], what="the end")
        self.assertGreater(i, 1, "%s: asked for a code" % what + self.diagnostics(client))
        self.assert_logged_in(client)
        return client

    def login_password_and_code(self, host="127.0.0.1", prompt=CODE_OR_PUSH_PROMPT, what=""):
        client = self.ssh(host=host)
        self.expect_prompt(client, self.prefix(host) + PASSWORD_PROMPT)
        client.sendline(LOCAL_PASSWORD)
        self.expect_prompt(client, self.prefix(host) + prompt)
        client.sendline(totp(SECRET))
        self.assert_logged_in(client)
        return client

    # ---- trusted_networks ------------------------------------------------------

    def test_trusted_network_with_local_password(self):
        self.start_sshd([self.matrix(), self.fac_line(trusted_networks="127.0.0.0/8,::1/128")],
                        addresses=("127.0.0.1", "::1"))
        c4 = self.login_password_only("127.0.0.1", "trusted 127.0.0.0/8")
        c6 = self.login_password_only("::1", "trusted ::1/128")
        self.assertEqual(self.sim.requests("/api/"), [], "FAC was asked for a trusted network")
        self.record("trusted network, IPv4", c4)
        self.record("trusted network, IPv6", c6)

    def test_trusted_network_only_ipv6_listed(self):
        self.start_sshd([self.matrix(), self.fac_line(trusted_networks="::1/128,192.0.2.0/24")],
                        addresses=("127.0.0.1", "::1"))
        self.login_password_only("::1", "trusted ::1")
        self.assertEqual(self.sim.requests("/api/"), [])
        self.login_password_and_code("127.0.0.1", what="127.0.0.1 is not trusted")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 1)

    def test_trusted_network_with_pam_permit_deciding(self):
        self.start_sshd([self.fac_line("[success=ok ignore=ignore default=die]", trusted_networks="127.0.0.1/32"),
                         "auth required pam_permit.so"])
        client = self.ssh()
        i = self.expect(client, [re.escape(CODE_OR_PUSH_PROMPT), re.escape(PASSWORD_PROMPT)], what="the end")
        self.assertEqual(i, 2, "a prompt from a trusted network" + self.diagnostics(client))
        self.assert_logged_in(client)
        self.assertEqual(self.sim.requests("/api/"), [])
        self.record("trusted network, [ignore=ignore] pam_fac + pam_permit (no prompt at all)", client)

    def test_trusted_network_alone_in_the_stack_is_refused(self):
        # PAM_IGNORE from every module is not a success: the login fails.
        self.start_sshd([self.fac_line(trusted_networks="127.0.0.0/8")])
        client = self.ssh()
        i = self.expect(client, [re.escape(CODE_OR_PUSH_PROMPT)], what="the end")
        self.assertNotEqual(i, 0, self.diagnostics(client))
        self.assert_refused(client)
        self.assertEqual(self.sim.requests("/api/"), [])

    # ---- grace_period ---------------------------------------------------------------

    def test_grace_period(self):
        state = "state-grace-%s" % self._testMethodName
        conf = self.write_conf("grace.conf", ["second_factor = code_or_push", "grace_period = 120"],
                               state_dir="%s/%s" % (self.tmp, state))
        self.start_sshd([self.matrix(), self.fac_line(conf=conf)], addresses=("127.0.0.1", "::1"))
        first = self.login_password_and_code("127.0.0.1", what="first login")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 1)
        second = self.login_password_only("127.0.0.1", "second login within grace_period")
        self.assertEqual(len(self.sim.requests("/api/")), 1, "FAC was asked again within the grace period")
        third = self.login_password_and_code("::1", what="another address (::1)")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 2)
        self.record("grace: first login (127.0.0.1)", first)
        self.record("grace: second login (127.0.0.1, within grace_period)", second)
        self.record("grace: third login (::1, not covered)", third)

    def test_no_grace_without_grace_period(self):
        self.start_sshd([self.matrix(), self.fac_line()])
        self.login_password_and_code(what="first")
        self.login_password_and_code(what="second (grace_period = 0)")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 2)

    # ---- groups ------------------------------------------------------------------

    def test_group_exemption(self):
        self.start_sshd([self.matrix(), self.fac_line(groups="!fac-exempt")])
        client = self.login_password_only(what="member of the exempt group")
        self.assertEqual(self.sim.requests("/api/"), [])
        self.record("groups = !fac-exempt (user is a member)", client)

    def test_group_selection(self):
        self.start_sshd([self.matrix(), self.fac_line(groups="fac-users")])
        self.login_password_and_code(what="member of the listed group")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 1)

    def test_group_not_selected(self):
        self.start_sshd([self.matrix(), self.fac_line(groups="fac-others")])
        self.login_password_only(what="not a member of the listed group")
        self.assertEqual(self.sim.requests("/api/"), [])

    def test_group_exemption_of_another_group_still_asks(self):
        self.start_sshd([self.matrix(), self.fac_line(groups="!fac-others")])
        self.login_password_and_code(what="not in the exempt group")
        self.assertEqual(len(self.sim.requests("/api/v1/auth/")), 1)

    # ---- username_map -------------------------------------------------------------

    def test_username_map(self):
        self.start_sshd([self.fac_line(username_map="strip_domain,lowercase")])
        prefix = self.prefix(user=MAP_USER)
        client = self.ssh(user=MAP_USER)
        self.expect_prompt(client, prefix + CODE_OR_PUSH_PROMPT)
        client.sendline(totp(MAP_SECRET))
        self.assert_logged_in(client)
        client = self.ssh(user=MAP_USER)
        self.expect_prompt(client, prefix + CODE_OR_PUSH_PROMPT)
        client.sendline("")
        self.assert_logged_in(client)
        auths = self.sim.requests("/api/v1/auth/")
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual([self.sim.body(a)["username"] for a in auths], [MAP_FAC_USER])
        self.assertEqual(len(pushes), 1, pushes)
        body = self.sim.body(pushes[0])
        self.assertEqual((body["username"], body["account"]), (MAP_FAC_USER, MAP_USER))
        log("username_map: local %r -> FAC %r (push account=%r)" % (MAP_USER, body["username"], body["account"]))


if __name__ == "__main__":
    e2e.run_main("test_sshd_policy")
