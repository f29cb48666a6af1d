#!/usr/bin/python3
"""The documents are tests: every config snippet and PAM stack of README.md
and docs/guide.md, run as documented against the FAC simulator.

    test_docs.py MODULE FACCTL PAM_DEMO CAPTURE_LIB

- ini blocks: the snippet (site keys replaced, doc_snippets.py) becomes a
  config file; `facctl check --conf` must pass, then real logins through the
  module under pam_wrapper (tests/demo/pam_demo) must succeed: with a code,
  and with a push where the snippet offers one. Groups a snippet names
  exist in nss_wrapper files, the user in those not marked "!".
- pam blocks: the README's configuration, with each documented stack:
  `facctl check --service` on the stack as written, then a real login
  through it under pam_wrapper (the common-* files are Debian-shaped stubs
  whose password step always succeeds; tests/e2e/test_docs.py runs the
  stacks with real sshd, sudo and pam_unix).
- the prompts the documents quote are the module's.
Nothing under /etc is touched; everything runs in a temp dir.
"""

import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "sim"))
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import doc_snippets  # noqa: E402
import sim_process  # noqa: E402
from wrapper_lock import wrapper_startup  # noqa: E402

MODULE = FACCTL = PAM_DEMO = CAPTURE = None
API_KEY = "s3cr3t-api-key"
SECRET = "JBSWY3DPEHPK3PXP"
PASSWORD = "alice-pw"
FTC_ID, FTC_SECRET = "docs-ftc-client", "docs-ftc-s3cr3t"
USERS = {
    "api_users": [{"name": "apiadmin", "key": API_KEY, "permission": True}],
    "ftc_clients": [{"client_id": FTC_ID, "client_secret": FTC_SECRET}],
    "lockout_after": 0,
    "reject_replay": False,
    "users": [{"username": "alice", "password": PASSWORD, "totp_secret": SECRET,
               "push": {"action": "approve", "delay": 0.2}}],
}
# Debian's common-* files, their password step replaced by one that always
# succeeds (pam_unix needs real accounts: tests/e2e/test_docs.py has them).
STUBS = {
    "common-auth": "auth [success=1 default=ignore] pam_permit.so\nauth requisite pam_deny.so\n"
                   "auth required pam_permit.so\n",
    "common-account": "account required pam_permit.so\n",
    "common-session": "session required pam_permit.so\n",
    "common-session-noninteractive": "session required pam_permit.so\n",
    "common-password": "password required pam_deny.so\n",
    "other": "auth required pam_deny.so\naccount required pam_deny.so\n",
}


def flow_prompts():
    """The module's prompts, from common/auth/flow.h."""
    with open(os.path.join(SRC, "common", "auth", "flow.h"), encoding="utf-8") as f:
        return dict(re.findall(r'inline constexpr const char\* (k\w+) = "([^"]*)";', f.read()))


def code():
    return subprocess.run(["oathtool", "--totp", "-b", SECRET], check=True, capture_output=True,
                          text=True).stdout.strip()


def find_lib(name):
    for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/usr/lib64"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise unittest.SkipTest(name + " not found")


class Docs(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.pam_wrapper = find_lib("libpam_wrapper.so")
        cls.nss_wrapper = find_lib("libnss_wrapper.so")
        cls.dir = tempfile.mkdtemp(prefix="pamfac-docs-")
        try:
            certs = os.path.join(cls.dir, "certs")
            subprocess.run(["bash", os.path.join(SRC, "tests", "sim", "make_certs.sh"), certs], check=True,
                           capture_output=True)
            cls.ca = os.path.join(certs, "ca.pem")
            users = os.path.join(cls.dir, "users.json")
            with open(users, "w") as f:
                json.dump(USERS, f)
            cls.sims = {}
            for mode in ("fac", "ftc"):
                proc, port = sim_process.start(
                    ["--users", users, "--cert", os.path.join(certs, "server.pem"),
                     "--key", os.path.join(certs, "server.key"), "--port", "0", "--mode", mode])
                cls.sims[mode] = (proc, "https://127.0.0.1:%d" % port)
            cls.pin = cls.pin_of(os.path.join(certs, "server.pem"))
            cls.key_file = cls.secret_file("api.key", API_KEY)
            cls.ftc_secret_file = cls.secret_file("ftc.secret", FTC_SECRET)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for proc, _ in getattr(cls, "sims", {}).values():
            sim_process.stop(proc)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def secret_file(cls, name, text):
        path = os.path.join(cls.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return path

    @staticmethod
    def pin_of(cert):
        pubkey = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                                capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, check=True,
                             capture_output=True).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, check=True,
                                capture_output=True).stdout
        return "sha256//" + base64.b64encode(digest).decode()

    # -- a snippet as a config file --------------------------------------------

    def site_config(self, block, name):
        """The snippet with the test's site: returns (path, settings in force)."""
        settings = doc_snippets.parse_config(block.text)
        backend = settings.get("backend", "fac")
        lines = ["# %s, run by tests/docs/test_docs.py" % block.where,
                 "server = " + self.sims[backend][1], "ca_file = " + self.ca,
                 "state_dir = " + os.path.join(self.dir, "state-" + name)]
        if backend == "ftc":
            lines += ["ftc_client_id = " + FTC_ID, "ftc_client_secret_file = " + self.ftc_secret_file]
        else:
            lines += ["api_user = apiadmin", "api_key_file = " + self.key_file]
        if "pinned_pubkey" in settings:
            lines.append("pinned_pubkey = " + self.pin)
        for key, value in settings.items():
            if key in doc_snippets.SITE_KEYS:
                continue
            if key == "username_map" and "file:" in value:
                value = re.sub(r"file:\S+", "file:" + self.secret_file("names-" + name, "# none"), value)
            lines.append("%s = %s" % (key, value))
        path = self.secret_file(name + ".conf", "\n".join(lines))
        return path, dict(doc_snippets.parse_config("\n".join(lines)))

    def nss_files(self, settings):
        """nss_wrapper files: alice, and every group the settings name."""
        groups = [g.strip() for g in re.split(r"[,\s]+", settings.get("groups", "")) if g.strip()]
        passwd = os.path.join(self.dir, "passwd")
        group = os.path.join(self.dir, "group")
        with open(passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nalice:x:4242:4242:alice:/tmp:/bin/sh\n")
        with open(group, "w") as f:
            f.write("root:x:0:\nalice:x:4242:\n")
            for gid, name in enumerate(groups, 5000):
                f.write("%s:x:%d:%s\n" % (name.lstrip("!"), gid, "" if name.startswith("!") else "alice"))
        return passwd, group

    def login(self, services, service, settings, answers):
        """pam_demo through `service` in the pam_wrapper dir `services`: its
        output, and the module's syslog lines."""
        syslog = os.path.join(self.dir, "syslog")
        open(syslog, "w").close()
        passwd, group = self.nss_files(settings)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C", "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": services,
               "PAM_WRAPPER_USE_SYSLOG": "1", "PAMFAC_TEST_SYSLOG": syslog, "NSS_WRAPPER_PASSWD": passwd,
               "NSS_WRAPPER_GROUP": group,
               "LD_PRELOAD": " ".join([self.pam_wrapper, self.nss_wrapper, CAPTURE])}
        with wrapper_startup():
            r = subprocess.run([PAM_DEMO, service, "alice"] + answers, capture_output=True, text=True, env=env,
                               timeout=120)
        with open(syslog) as f:
            lines = [l for l in f.read().splitlines() if "result=" in l]
        return r, lines

    def set_push(self, action):
        """How alice's phone answers: a typed code must not race an approval."""
        context = ssl.create_default_context(cafile=self.ca)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        body = json.dumps({"username": "alice", "action": action, "delay": 0.2}).encode()
        for _, url in self.sims.values():
            request = urllib.request.Request(url + "/_sim/push", data=body,
                                             headers={"Content-Type": "application/json"})
            opener.open(request, timeout=10).read()

    def assert_login(self, what, services, service, settings, variant, answers, in_grace=False):
        self.set_push("approve" if variant == "push" else "never")
        r, lines = self.login(services, service, settings, answers if not in_grace else [])
        shown = r.stdout + r.stderr + "\n".join(lines)
        self.assertEqual(r.returncode, 0, "%s (%s): the documented login failed\n%s" % (what, variant, shown))
        self.assertEqual(len(lines), 1, "%s: one log line expected\n%s" % (what, shown))
        if in_grace:
            self.assertIn("result=ignored", lines[0], shown)
            self.assertIn("within grace_period", lines[0], shown)
            return r
        self.assertIn("result=success", lines[0], "%s (%s)\n%s" % (what, variant, shown))
        method = {"code": r"(password\+)?code", "push": r"(password\+)?push", "password+code": "otp_append",
                  "none": "password"}[variant]
        self.assertRegex(lines[0], r"method=%s\b" % method, "%s (%s)\n%s" % (what, variant, shown))
        if doc_snippets.is_true(settings.get("autopush", "no")) and \
                settings.get("second_factor", "code_or_push") == "code_or_push":
            self.assertIn("prompt  " + flow_prompts()["kPushSent"], r.stdout, what)
        return r

    def services_dir(self, name, files):
        d = os.path.join(self.dir, "services-" + name)
        shutil.rmtree(d, ignore_errors=True)
        os.mkdir(d)
        for file, text in files.items():
            with open(os.path.join(d, file), "w") as f:
                f.write(text)
        return d

    # -- the tests -----------------------------------------------------------------

    def test_every_block_is_tagged_and_placed(self):
        blocks = doc_snippets.blocks()
        self.assertGreater(len(blocks), 20)
        for b in blocks:
            self.assertIn(b.tag, doc_snippets.TAGS, "%s: untagged or unknown block (see doc_snippets.py)" % b)
            if b.tag == "pam":
                doc_snippets.stack_service(b)
            if b.tag == "sshd_config":
                self.assertEqual(b.header(), "/etc/ssh/sshd_config.d/pam_fac.conf",
                                 "%s: sshd settings belong in the drop-in" % b)

    def test_config_snippets_log_in(self):
        snippets = doc_snippets.of_tag("ini")
        self.assertGreater(len(snippets), 8)
        for n, block in enumerate(snippets):
            with self.subTest(block=block.where):
                name = "ini%d" % n
                conf, settings = self.site_config(block, name)
                check = subprocess.run([FACCTL, "check", "--conf", conf], capture_output=True, text=True,
                                       timeout=120)
                self.assertEqual(check.returncode, 0, "%s: facctl check\n%s%s\n%s"
                                 % (block.where, check.stdout, check.stderr, block.text))
                # Debian's shape: the password step, then pam_fac (section 7).
                services = self.services_dir(name, {
                    "docs": STUBS["common-auth"] + "auth required %s conf=%s\n" % (MODULE, conf),
                    "other": STUBS["other"]})
                grace = float(settings.get("grace_period", "0")) > 0
                for i, (variant, answers) in enumerate(doc_snippets.answers(settings, code(), PASSWORD)):
                    # After a success, grace_period lets the next login through unasked.
                    self.assert_login(block.where, services, "docs", settings, variant, answers, grace and i > 0)

    def readme_config(self):
        block = next(b for b in doc_snippets.of_tag("ini") if b.document == "README.md")
        return self.site_config(block, "readme")

    def test_stacks_check_and_log_in(self):
        conf, file_settings = self.readme_config()
        stacks = doc_snippets.of_tag("pam")
        self.assertGreater(len(stacks), 6)
        for n, block in enumerate(stacks):
            with self.subTest(block=block.where):
                service = doc_snippets.stack_service(block)
                as_written = self.services_dir("written%d" % n, dict(STUBS, **{service: block.text + "\n"}))
                check = subprocess.run([FACCTL, "check", "--service", service, "--pam-dir", as_written, "--conf",
                                        conf], capture_output=True, text=True, timeout=120)
                self.assertEqual(check.returncode, 0, "%s: facctl check --service\n%s%s"
                                 % (block.where, check.stdout, check.stderr))
                # Under pam_wrapper: the built module, the test's config; we
                # run as root, so su's pam_rootok would skip pam_fac.
                # @include is expanded here as Debian's libpam does (pam_wrapper
                # would read the real /etc/pam.d/common-*).
                text = re.sub(r"^@include\s+(\S+)\s*$", lambda m: STUBS[m.group(1)].rstrip("\n"), block.text,
                              flags=re.M)
                text = re.sub(r"(?<![\w/])pam_fac\.so", "%s conf=%s" % (MODULE, conf), text)
                text = text.replace("pam_rootok.so", "pam_deny.so")
                services = self.services_dir("run%d" % n, dict(STUBS, **{service: text + "\n"}))
                settings = dict(file_settings, **doc_snippets.fac_arguments(block))
                for variant, answers in doc_snippets.answers(settings, code(), PASSWORD):
                    self.assert_login(block.where, services, service, settings, variant, answers)

    def test_readme_config_with_a_push_only_line(self):
        # The first day's blocker: the README's file (autopush = yes) under a
        # sudo line with second_factor=push is no configuration error.
        conf, file_settings = self.readme_config()
        self.assertTrue(doc_snippets.is_true(file_settings.get("autopush")))
        services = self.services_dir("pushonly", {
            "sudo": "auth required %s conf=%s second_factor=push\n" % (MODULE, conf), "other": STUBS["other"]})
        self.assert_login("README config, second_factor=push line", services, "sudo",
                          dict(file_settings, second_factor="push"), "push", [])

    def test_abandoned_login_leaves_its_line(self):
        # Guide section 15: the conversation fails at the autopush prompt
        # (Ctrl-C at a console, a client gone): the push is abandoned and the
        # line is written all the same.
        conf, file_settings = self.readme_config()
        services = self.services_dir("abandoned", {"login": "auth required %s conf=%s\n" % (MODULE, conf),
                                                   "other": STUBS["other"]})
        self.set_push("never")
        r, lines = self.login(services, "login", file_settings, [])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(flow_prompts()["kPushSent"], r.stdout)
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn("result=aborted", lines[0])
        self.assertIn("conversation failed while asking for the code", lines[0])

    def test_quoted_prompts_are_the_modules(self):
        prompts = set(flow_prompts().values())
        others = {"Password: ", "[sudo] password for alice: "}
        quoted = 0
        for block in doc_snippets.of_tag("text"):
            for line in block.lines():
                line = re.sub(r"^\(\w+@\w+\) ", "", line)
                if line.endswith(":") and not line.startswith("$"):
                    quoted += 1
                    self.assertIn(line + " ", prompts | others, "%s: %r is no prompt of the module" % (block, line))
        self.assertGreater(quoted, 3)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    MODULE, FACCTL, PAM_DEMO, CAPTURE = (os.path.abspath(a) for a in sys.argv[1:5])
    del sys.argv[1:5]
    unittest.main(verbosity=2)
