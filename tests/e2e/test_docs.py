#!/usr/bin/python3
"""End-to-end: the README's and the guide's stacks and sshd settings, with a
real sshd and a real sudo, as the documents say to set them up.

usage: /usr/bin/python3 test_docs.py /abs/path/to/pam_fac.so [unittest args]

The blocks come from tests/docs/doc_snippets.py; the pam_fac config is the
README's (its site keys pointed at the simulator).

- sshd: a copy of Debian's default sshd_config (/usr/share/openssh/
  sshd_config, as openssh-server installs it) whose Include points at a
  temp sshd_config.d; the documented drop-in goes there as pam_fac.conf.
  The safe procedure is checked on it: appending the lines instead makes
  `sshd -t` fail; the drop-in passes `sshd -t` and shows in `sshd -T`;
  removing it (the rollback) restores Debian's values. Every documented
  sshd stack then logs in through that sshd (pam_wrapper + nss_wrapper,
  nothing under /etc touched): with a code and with a push; the local
  password (Debian's @include common-auth) is pam_matrix here.
- sudo: every documented sudo stack, scoped to a throwaway account in front
  of the real /etc/pam.d/sudo (restored byte for byte), its @include
  common-auth the real one with pam_unix and the account's real password,
  under a pty: the password prompt, then the module's prompt, a code or a
  push. Also the first day's blocker: the README's file under a sudo line
  with second_factor=push.
"""

import os
import re
import shutil
import subprocess
import sys
import time

import e2e_common as e2e
from e2e_common import (AUTOPUSH_PROMPT, ETC, ETC_MARKER, Client, NssUser, RealUserTestCase, SshdTestCase,
                        clean_env, log, totp)

if __name__ == "__main__":
    e2e.module_from_argv(__doc__)

sys.path.insert(0, os.path.join(e2e.HERE, "..", "docs"))
import doc_snippets  # noqa: E402

DEBIAN_SSHD_CONFIG = "/usr/share/openssh/sshd_config"
USER = "facdocs"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
FAC_PASSWORD = "fac-pw-docs"
LOCAL_PASSWORD = "local-pw-docs"
PREFIX = "(%s@127.0.0.1) " % USER


def readme_settings():
    """The README's configuration without its site keys (the fixture adds the simulator's)."""
    block = next(b for b in doc_snippets.of_tag("ini") if b.document == "README.md")
    settings = doc_snippets.parse_config(block.text)
    return ["%s = %s" % kv for kv in settings.items() if kv[0] not in doc_snippets.SITE_KEYS]


def dropin_lines(block):
    return [l for l in block.lines() if l.strip() and not l.lstrip().startswith("#")]


def dropins():
    return doc_snippets.of_tag("sshd_config")


def dropin_for(stack):
    """The documented drop-in that goes with a stack: key first for a stack
    without the local password, one question for otp_append, else the plain one."""
    text = stack.text
    active = [l for l in stack.lines() if not l.lstrip().startswith("#")]
    if "otp_append=yes" in text:
        want = "AuthenticationMethods password"
    elif not any(l.startswith("@include common-auth") for l in active):
        want = "AuthenticationMethods publickey,keyboard-interactive"
    else:
        want = "AuthenticationMethods keyboard-interactive"
    for block in dropins():
        if want in block.lines() and not any(l.startswith("Match") for l in block.lines()):
            return block
    raise AssertionError("%s: no documented drop-in with %r" % (stack.where, want))


class DebianSshd(SshdTestCase):
    NSS_USERS = [NssUser(USER, 64343), NssUser("robot", 64344, groups=["automation"])]
    NSS_GROUPS = {"automation": ["robot"]}
    SIM_USERS = [{"username": USER, "password": FAC_PASSWORD, "totp_secret": SECRET,
                  "push": {"action": "approve", "delay": 0.5}}]
    BASE_CONF = readme_settings()

    def debian_config(self, name, dropin=None, appended=None):
        """A copy of Debian's sshd_config in its own dir; returns its path."""
        if not os.path.isfile(DEBIAN_SSHD_CONFIG):
            self.skipTest(DEBIAN_SSHD_CONFIG + " missing (openssh-server)")
        d = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(d, "sshd_config.d"))
        with open(DEBIAN_SSHD_CONFIG) as f:
            text = f.read()
        self.assertIn("Include /etc/ssh/sshd_config.d/*.conf", text, "Debian's sshd_config changed")
        text = text.replace("/etc/ssh/sshd_config.d", os.path.join(d, "sshd_config.d"))
        if appended:
            text += "\n".join(appended) + "\n"
        main = os.path.join(d, "sshd_config")
        with open(main, "w") as f:
            f.write(text)
        if dropin is not None:
            with open(os.path.join(d, "sshd_config.d", "pam_fac.conf"), "w") as f:
                f.write(dropin)
        return main

    def sshd_test(self, main, *extra):
        env = clean_env(LD_PRELOAD=self.nss_wrapper, NSS_WRAPPER_PASSWD=self.nss_passwd,
                        NSS_WRAPPER_GROUP=self.nss_group)
        return subprocess.run([e2e.SSHD, "-f", main, "-h", self.hostkey] + list(extra), capture_output=True,
                              text=True, env=env, timeout=30)

    def effective(self, main, user=USER):
        r = self.sshd_test(main, "-T", "-C", "user=%s,host=client,addr=127.0.0.1" % user)
        self.assertEqual(r.returncode, 0, r.stderr)
        return dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)

    # ---- the safe procedure (guide 8.1, 8.6) -----------------------------------

    def test_1_appending_fails_the_drop_in_works_and_rolls_back(self):
        block = next(b for b in dropins() if "AuthenticationMethods keyboard-interactive" in b.lines())
        lines = dropin_lines(block)
        appended = self.debian_config("appended", appended=lines)
        r = self.sshd_test(appended, "-t")
        self.assertNotEqual(r.returncode, 0, "appending to Debian's sshd_config was expected to fail sshd -t")
        self.assertIn("cannot be satisfied", r.stderr)
        log("1 appended to sshd_config: sshd -t exits %d: %s" % (r.returncode, r.stderr.strip()))

        main = self.debian_config("dropin", dropin=block.text + "\n")
        r = self.sshd_test(main, "-t")
        self.assertEqual((r.returncode, r.stderr), (0, ""), "sshd -t on the documented drop-in")
        values = self.effective(main)
        self.assertEqual((values["kbdinteractiveauthentication"], values["authenticationmethods"],
                          values["logingracetime"], values["usepam"]),
                         ("yes", "keyboard-interactive", "180", "yes"))
        # Rollback: the drop-in removed, Debian's values are back.
        os.unlink(os.path.join(os.path.dirname(main), "sshd_config.d", "pam_fac.conf"))
        self.assertEqual(self.sshd_test(main, "-t").returncode, 0)
        values = self.effective(main)
        self.assertEqual((values["kbdinteractiveauthentication"], values["authenticationmethods"]), ("no", "any"))

    def test_2_every_drop_in_passes_sshd_t(self):
        for block in dropins():
            with self.subTest(block=block.where):
                main = self.debian_config("t%d" % block.line, dropin=block.text + "\n")
                r = self.sshd_test(main, "-t")
                self.assertEqual((r.returncode, r.stderr), (0, ""), block.where)
                values = self.effective(main)
                for line in dropin_lines(block):
                    if line.startswith(("Match", " ", "\t")):
                        break
                    key, value = line.split(None, 1)
                    self.assertEqual(values[key.lower()], value, "%s: %s is not in force" % (block.where, key))
                if any(l.startswith("Match Group automation") for l in block.lines()):
                    # Service accounts (guide 10.1): keys alone for the group, the rest unchanged.
                    self.assertEqual(self.effective(main, "robot")["authenticationmethods"], "publickey")
                    self.assertEqual(values["authenticationmethods"], "keyboard-interactive")
                    self.assertEqual(values["x11forwarding"], "yes", "the Match block swallowed Debian's lines")

    # ---- every documented sshd stack, through Debian's config + drop-in ---------

    def launch_debian(self, name, stack_lines, dropin_block):
        """sshd -D on the Debian copy: the test's own settings (port, host key)
        in a 00- drop-in that sorts first and touches none of the documented keywords."""
        main = self.debian_config(name, dropin=dropin_block.text + "\n")
        d = os.path.dirname(main)
        pamsvc = os.path.join(d, "pamsvc")
        os.mkdir(pamsvc, 0o755)
        with open(os.path.join(pamsvc, "sshd"), "w") as f:
            f.write("# %s/\n" % self.tmp)   # marker for remove_pam_wrapper_dirs
            f.write("\n".join(stack_lines) + "\n")
            f.write("account required pam_permit.so\nsession required pam_permit.so\n"
                    "password required pam_deny.so\n")
        with open(os.path.join(pamsvc, "other"), "w") as f:
            f.write("# %s/\n" % self.tmp)
            f.write("".join("%s required pam_deny.so\n" % k for k in ("auth", "account", "session", "password")))
        port = e2e.free_port()
        with open(os.path.join(d, "sshd_config.d", "00-e2e.conf"), "w") as f:
            f.write("\n".join(["Port %d" % port, "ListenAddress 127.0.0.1", "HostKey " + self.hostkey,
                               "PidFile " + os.path.join(d, "sshd.pid"), "StrictModes no", "PrintLastLog no",
                               "PermitRootLogin no", "LogLevel VERBOSE", ""]))
        r = self.sshd_test(main, "-t")
        self.assertEqual(r.returncode, 0, r.stderr)
        log_path = os.path.join(d, "sshd.log")
        # pam_wrapper writes the module's syslog lines to stderr: into sshd.log (-e).
        env = clean_env(LD_PRELOAD="%s %s" % (self.pam_wrapper, self.nss_wrapper), PAM_WRAPPER="1",
                        PAM_WRAPPER_SERVICE_DIR=pamsvc, NSS_WRAPPER_PASSWD=self.nss_passwd,
                        NSS_WRAPPER_GROUP=self.nss_group)
        # -r and the startup lock: see launch_sshd() in e2e_common.py.
        with open(log_path, "w") as logf, e2e.wrapper_startup():
            proc = subprocess.Popen([e2e.SSHD, "-D", "-e", "-r", "-f", main], stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=logf, env=env, start_new_session=True, preexec_fn=e2e._die_with_parent)
            e2e._PROCESSES.append(proc)
            sshd = e2e.SshdProcess(name, port, proc, log_path, ("127.0.0.1",))
            self.addCleanup(sshd.stop)
            deadline = time.monotonic() + 30
            while "Server listening on 127.0.0.1 port %d" % port not in e2e.tail(log_path, 200):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.fail("sshd did not start:\n" + e2e.tail(log_path))
                time.sleep(0.03)
        self.sshd = sshd
        return sshd

    def key(self):
        key = os.path.join(self.tmp, "client_key")
        if not os.path.exists(key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True, env=clean_env(),
                           timeout=30)
            ssh_dir = os.path.join(self.NSS_USERS[0].home, ".ssh")
            os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
            shutil.copy(key + ".pub", os.path.join(ssh_dir, "authorized_keys"))
            for p in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
                os.chown(p, self.NSS_USERS[0].uid, self.NSS_USERS[0].uid)
        return key

    def stack_lines(self, block):
        lines = []
        for line in block.lines():
            if line.strip() == "@include common-auth":
                lines.append(self.matrix_line({USER: LOCAL_PASSWORD}, control="requisite"))
            elif not line.lstrip().startswith("#"):
                lines.append(re.sub(r"(?<![\w/])pam_fac\.so", "%s conf=%s" % (e2e.MODULE, self.conf), line))
        return lines

    def test_3_documented_sshd_stacks_log_in(self):
        stacks = [b for b in doc_snippets.of_tag("pam") if doc_snippets.stack_service(b) == "sshd"]
        self.assertGreaterEqual(len(stacks), 5)
        for n, block in enumerate(stacks):
            dropin = dropin_for(block)
            methods = next(l for l in dropin.lines() if l.startswith("AuthenticationMethods")).split()[1]
            self.launch_debian("stack%d" % n, self.stack_lines(block), dropin)
            for variant in ("code", "push"):
                with self.subTest(block=block.where, dropin=dropin.where, variant=variant):
                    self.sim.reset()
                    self.sim.set_push(USER, "wait" if variant == "code" else "approve", 0.5)
                    if methods == "password":
                        if variant == "push":
                            continue   # otp_append: one answer, password and code
                        client = self.ssh(methods="password")
                        self.expect_prompt(client, "%s@127.0.0.1's password: " % USER)
                        client.sendline(FAC_PASSWORD + totp(SECRET))
                    else:
                        identity = self.key() if methods.startswith("publickey") else None
                        client = self.ssh(methods=methods, identity=identity)
                        if "@include common-auth" in [l.strip() for l in block.lines()]:
                            self.expect_prompt(client, PREFIX + e2e.PASSWORD_PROMPT)
                            client.sendline(LOCAL_PASSWORD)
                        self.expect_prompt(client, AUTOPUSH_PROMPT)
                        client.sendline(totp(SECRET) if variant == "code" else "")
                    self.assert_logged_in(client)
                    self.record("%s %s with %s (%s)" % (block.where, variant, dropin.where, methods), client)
            self.sshd.stop()


    def test_4_abandoned_login(self):
        # Guide section 16, "Aborted": Ctrl-C at the autopush prompt. sshd
        # notices the closed connection and ends its PAM process with
        # SIGTERM (OpenSSH's sshpam_thread_cleanup), so the module cannot
        # write its line; sshd's own line is the record. (The module's line
        # for a conversation that fails is tests/docs' abandoned-login test.)
        stack = next(b for b in doc_snippets.of_tag("pam") if b.document == "README.md")
        sshd = self.launch_debian("abandoned", self.stack_lines(stack), dropin_for(stack))
        self.sim.set_push(USER, "wait")
        client = self.ssh()
        self.expect_prompt(client, PREFIX + e2e.PASSWORD_PROMPT)
        client.sendline(LOCAL_PASSWORD)
        self.expect_prompt(client, AUTOPUSH_PROMPT)
        self.sim.requests_when("/api/v1/pushauth", lambda es: len(es) == 1)
        client.child.sendintr()   # Ctrl-C: the ssh client ends, its connection closes
        client.wait_eof(10)
        wanted = "Connection closed by authenticating user %s 127.0.0.1" % USER
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and wanted not in sshd.log_text():
            time.sleep(0.1)
        log("4 Ctrl-C at the autopush prompt: sshd logged %r"
            % [l for l in sshd.log_text().splitlines() if "closed" in l.lower()])
        self.assertIn(wanted, sshd.log_text())
        pushes = self.sim.requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)


    def test_5_enter_push_notice_without_autopush(self):
        # Guide 8.5: without autopush, the notice of a push sent by Enter
        # reaches an interactive ssh login only after the push, and twice
        # (sshd's banner at the end of authentication, then its login
        # messages). The reason the guide says: use autopush with sshd.
        self.start_sshd([self.fac_line(autopush="no")])
        self.sim.set_push(USER, "approve", 1.0)
        args = [e2e.SSH, "-F", "/dev/null", "-tt", "-p", str(self.sshd.port), "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + self.known_hosts, "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "IdentitiesOnly=yes", "%s@127.0.0.1" % USER]
        client = Client(args, clean_env(HOME=self.tmp), cleanup=self.addCleanup)
        self.expect_prompt(client, e2e.CODE_OR_PUSH_PROMPT)
        client.sendline("")
        self.assertEqual(client.expect([r"\$ "], timeout=20), 0, client.transcript)
        client.sendline("exit")
        client.wait_eof(10)
        log("5 Enter-push, interactive login, no autopush; ssh showed:\n" + e2e.indent(client.transcript))
        self.assertEqual(len(re.findall(e2e.PUSH_INFO_RE, client.transcript)), 2, client.transcript)


class DocumentedSudo(RealUserTestCase):
    TOOLS = ("sudo", "runuser", "visudo", "chpasswd")
    BASE_CONF = readme_settings()
    UNIX_PASSWORD = "unix-pw-" + os.urandom(4).hex()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        subprocess.run(["chpasswd"], input="%s:%s\n" % (cls.user, cls.UNIX_PASSWORD), text=True, check=True,
                       env=clean_env(), timeout=30)
        ETC.write("/etc/sudoers.d/pamfac-e2e-docs", "\n".join([
            ETC_MARKER, "Defaults:%s !lecture, !mail_badpass" % cls.user, "%s ALL=(root) ALL" % cls.user, ""]),
            mode=0o440)

    def scoped_stack(self, block, extra_args=""):
        """The documented auth lines, in front of the real /etc/pam.d/sudo,
        for this account only; @include common-auth stays the real one."""
        auth = [l for l in block.lines() if l.strip() == "@include common-auth" or l.startswith("auth")]
        count = 0
        for line in auth:
            if line.startswith("@include"):
                with open("/etc/pam.d/common-auth") as f:
                    count += sum(1 for l in f if l.strip().startswith(("auth", "-auth")))
            else:
                count += 1
        auth = [re.sub(r"(?<![\w/])pam_fac\.so", "%s conf=%s%s" % (e2e.MODULE, self.conf, extra_args), l)
                for l in auth]
        original = ETC.original_text("/etc/pam.d/sudo")
        cond = "pam_succeed_if.so quiet ruser = " + self.user
        ETC.write("/etc/pam.d/sudo", "\n".join(
            [ETC_MARKER, "auth [success=ignore default=%d] %s" % (count, cond)] + auth +
            ["auth [success=done default=die] pam_permit.so",
             "account [success=ignore default=1] " + cond, "account [success=done default=die] pam_permit.so",
             "session [success=ignore default=1] " + cond, "session [success=done default=die] pam_permit.so",
             "# --- the original /etc/pam.d/sudo follows ---", ""]) + original)

    def sudo(self):
        return Client(["/usr/sbin/runuser", "-u", self.user, "--", "/usr/bin/sudo", "-k", "--", "/bin/sh", "-c",
                       "id -un; echo sudo-ok-$((40+2))"], clean_env(TERM="dumb"), timeout=60,
                      cleanup=self.addCleanup)

    def login(self, what, variant, prompt=True):
        self.sim.reset()
        self.sim.set_push(self.user, "wait" if variant == "code" else "approve", 0.5)
        client = self.sudo()
        self.assertEqual(client.expect([re.escape("[sudo] password for %s: " % self.user)]), 0, client.transcript)
        client.sendline(self.UNIX_PASSWORD)
        if prompt:
            self.assertEqual(client.expect([re.escape(AUTOPUSH_PROMPT)]), 0, client.transcript)
            client.sendline(self.code() if variant == "code" else "")
        self.assertTrue(client.wait_eof(), client.transcript)
        out = client.transcript
        log("%s, %s; the terminal showed:\n%s" % (what, variant, e2e.indent(out)))
        self.assertIn("root\r\nsudo-ok-42", out)
        self.assertEqual(client.exitstatus, 0, out)

    def test_documented_sudo_stacks(self):
        stacks = [b for b in doc_snippets.of_tag("pam") if doc_snippets.stack_service(b) == "sudo"]
        self.assertGreaterEqual(len(stacks), 3)
        for block in stacks:
            self.scoped_stack(block)
            for variant in ("code", "push"):
                with self.subTest(block=block.where, variant=variant):
                    self.login(block.where, variant)

    def test_readme_file_with_a_push_only_sudo_line(self):
        # The first day's blocker: autopush = yes in the file, second_factor=push
        # on the line. No PAM_SERVICE_ERR; sudo shows nothing while the push waits.
        block = next(b for b in doc_snippets.of_tag("pam")
                     if b.document == "README.md" and doc_snippets.stack_service(b) == "sudo")
        self.scoped_stack(block, " second_factor=push")
        self.login("README file, second_factor=push line", "push", prompt=False)


if __name__ == "__main__":
    e2e.run_main("test_docs")
