#!/usr/bin/python3
"""facctl against the FAC simulator on loopback.

    test_facctl.py FACCTL VERSION

Starts two simulators (a good certificate, an expired one) with their own
users file and certificates in a temporary directory, writes 0600 config
files there, and runs every facctl command the way an administrator would.
Stops everything it started and removes the directory.
"""
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SIM_DIR = os.path.join(SRC, "tests", "sim")
sys.path.insert(0, SIM_DIR)
import fac_sim  # noqa: E402  (for its definition of the generated tokens)
import sim_process  # noqa: E402

FACCTL = None
# facctl runs with this environment only: nothing of the test runner's leaks in.
FACCTL_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
VERSION = None
API_KEY = "s3cr3t-api-key"
ALICE_SECRET = "JBSWY3DPEHPK3PXP"
GENERATED = 2500
HAND_TOKENS = [
    {"serial": "FTKMOB44142CCBF3", "type": "ftm", "status": "available"},
    {"serial": "MixedCase0001", "type": "FTM", "status": "Assigned"},
    {"serial": "FTK200HAND0002", "type": "ftk", "status": "new"},
]
USERS = {
    "api_users": [
        {"name": "apiadmin", "key": API_KEY, "permission": True},
        {"name": "noperm", "key": "noperm-key", "permission": False},
    ],
    "users": [
        {"username": "alice", "password": "alice-pw", "totp_secret": ALICE_SECRET,
         "push": {"action": "approve", "delay": 0.2}},
        {"username": "grace", "password": "grace-pw", "totp_secret": "NBSWY3DPEB3W64TM",
         "push": {"action": "reject", "delay": 0.2}},
    ],
    "tokens": HAND_TOKENS,
    "generate_tokens": GENERATED,
    "ftc_clients": [{"client_id": "ftc-client", "client_secret": "ftc-s3cr3t"}],
}


def all_tokens():
    """What the simulator serves, in its order: the hand-written tokens, then the generated."""
    tokens = [dict(t) for t in HAND_TOKENS]
    for i in range(GENERATED):
        t = fac_sim.synthetic_token(i)
        tokens.append({"serial": t.serial, "type": t.type, "status": t.status})
    return tokens


def totp(offset=0):
    now = int(time.time()) + 30 * offset
    return subprocess.run(["oathtool", "--totp", "-b", f"--now=@{now}", ALICE_SECRET],
                          check=True, capture_output=True, text=True).stdout.strip()


def wrong_code():
    near = {totp(-1), totp(0), totp(1)}
    code = 123456
    while f"{code:06d}" in near:
        code += 1
    return f"{code:06d}"


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Simulator:
    def __init__(self, workdir, name, cert, mode="fac"):
        self.ca = os.path.join(workdir, "certs", "ca.pem")
        users = os.path.join(workdir, f"{name}-users.json")
        with open(users, "w", encoding="utf-8") as f:
            json.dump(USERS, f)
        self.proc, self.port = sim_process.start(
            ["--users", users, "--cert", os.path.join(workdir, "certs", f"{cert}.pem"),
             "--key", os.path.join(workdir, "certs", f"{cert}.key"), "--port", "0", "--mode", mode])
        self.url = f"https://127.0.0.1:{self.port}"
        context = ssl.create_default_context(cafile=self.ca)
        if cert == "expired":
            # The control API is the test's own channel to its simulator.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPSHandler(context=context))

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with self.opener.open(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    def requests(self, prefix="/api/"):
        return [r for r in self.control("/_sim/requests") if r["path"].startswith(prefix)]

    def stop(self):
        sim_process.stop(self.proc)


class FacctlTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pamfac-facctl-")
        try:
            subprocess.run(["bash", os.path.join(SIM_DIR, "make_certs.sh"), os.path.join(cls.dir, "certs")],
                           check=True)
            cls.sim = Simulator(cls.dir, "good", "server")
            cls.expired = Simulator(cls.dir, "expired", "expired")
            cls.ftc = Simulator(cls.dir, "ftc", "server", mode="ftc")
        except BaseException:
            cls.tearDownClass()
            raise
        cls.ca = cls.sim.ca

    @classmethod
    def tearDownClass(cls):
        for name in ("sim", "expired", "ftc"):
            if hasattr(cls, name):
                getattr(cls, name).stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.sim.control("/_sim/reset", {})

    # -- helpers -----------------------------------------------------------

    def conf(self, extra="", name="fac.conf", server=None, api_user="apiadmin", api_key=API_KEY, mode=0o600):
        path = os.path.join(self.dir, name)
        text = (f"# written by test_facctl.py\n"
                f"server = {server or self.sim.url}\n"
                f"api_user = {api_user}\n"
                f"api_key = {api_key}\n"
                f"ca_file = {self.ca}\n"
                f"connect_timeout = 2\n"
                f"timeout = 5\n" + extra)
        if os.path.exists(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def facctl(self, *args, stdin="", secrets=()):
        result = subprocess.run([FACCTL, *args], input=stdin, capture_output=True, text=True, timeout=60,
                                env=FACCTL_ENV)
        for secret in (API_KEY, "noperm-key", "alice-pw", *secrets):
            self.assertNotIn(secret, result.stdout, "a secret was printed")
            self.assertNotIn(secret, result.stderr, "a secret was printed")
        return result

    def assert_one_line_error(self, result, code, *words):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr: {result.stderr!r}")
        for w in words:
            self.assertIn(w, lines[0])

    # -- version and help ----------------------------------------------------

    def test_version(self):
        for args in (["version"], ["--version"]):
            r = self.facctl(*args)
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, f"facctl {VERSION}\n")

    def test_help_everywhere(self):
        for args in (["--help"], ["-h"], ["help"]):
            r = self.facctl(*args)
            self.assertEqual(r.returncode, 0)
            self.assertIn("Usage: facctl COMMAND", r.stdout)
            for command in ("check", "auth", "tokens", "version"):
                self.assertIn(command, r.stdout)
        for command in ("check", "auth", "tokens", "version"):
            for flag in ("--help", "-h"):
                r = self.facctl(command, flag)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(f"Usage: facctl {command}"), r.stdout)
                self.assertEqual(r.stderr, "")

    def test_help_is_whole(self):
        r = self.facctl("--help")
        self.assertTrue(r.stdout.endswith("shows a command's\n               options\n"), r.stdout)
        self.assertIn("--service NAME", self.facctl("check", "--help").stdout)
        self.assertIn("--pam-dir DIR", self.facctl("check", "--help").stdout)

    def test_usage_errors(self):
        self.assert_one_line_error(self.facctl(), 2, "missing command")
        self.assert_one_line_error(self.facctl("frobnicate"), 2, "unknown command 'frobnicate'")
        self.assert_one_line_error(self.facctl("--frobnicate"), 2, "unknown option '--frobnicate'")
        for command in ("check", "auth", "tokens", "version"):
            self.assert_one_line_error(self.facctl(command, "--bogus"), 2, "unknown option '--bogus'")
        self.assert_one_line_error(self.facctl("check", "--conf"), 2, "--conf needs a value")
        self.assert_one_line_error(self.facctl("check", "extra"), 2, "unexpected argument 'extra'")
        self.assert_one_line_error(self.facctl("version", "extra"), 2, "unexpected argument")

    # -- check ---------------------------------------------------------------

    def test_check_good_server(self):
        r = self.facctl("check", "--conf", self.conf())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout
        self.assertIn(f"config {self.dir}/fac.conf: ok", out)
        self.assertIn("subject CN = localhost", out)
        self.assertIn("issuer CN = pam_fac test CA", out)
        self.assertRegex(out, r"cert +ok +.*expires \d{4}-\d\d-\d\d \(\d+ days\)")
        self.assertRegex(out, r"dns +ok +127\.0\.0\.1 \(\d+ ms\)")
        self.assertRegex(out, rf"tcp +ok +connected to 127\.0\.0\.1 port {self.sim.port} \(\d+ ms\)")
        self.assertRegex(out, r"tls +ok +handshake done, certificate verified")
        self.assertRegex(out, r"pin +- +not configured")
        self.assertRegex(out, r"api +ok +apiadmin accepted")
        self.assertRegex(out, r"rtt +ok +.*\(\d+ ms\)")
        self.assertIn("=> usable", out)
        self.assertIn("1 of 1 server usable", out)
        # The credential check is one cheap read.
        reads = self.sim.requests()
        self.assertEqual([(q["method"], q["path"], q["query"]) for q in reads],
                         [("GET", "/api/v1/fortitokens/", "limit=1")])

    def test_check_closed_port(self):
        port = closed_port()
        r = self.facctl("check", "--conf", self.conf(server=f"https://127.0.0.1:{port}"))
        self.assert_one_line_error(r, 1, "no server is usable", f"127.0.0.1 port {port}", "refused")
        self.assertRegex(r.stdout, r"tcp +FAIL")
        self.assertIn("0 of 1 server usable", r.stdout)

    def test_check_name_that_does_not_resolve(self):
        """In a network namespace of its own (no interface up, so the
        resolver's servers are unreachable and no query leaves the machine),
        a server name cannot be resolved: the dns step says so by name."""
        conf = self.conf(server="https://pamfac-check.invalid")
        unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
        r = subprocess.run([*unshare, FACCTL, "check", "--conf", conf], capture_output=True, text=True, timeout=60,
                           env=FACCTL_ENV)
        self.assert_one_line_error(r, 1, "no server is usable", "pamfac-check.invalid")
        self.assertRegex(r.stdout, r"dns +FAIL +(cannot resolve pamfac-check\.invalid: |no answer for "
                                   r"pamfac-check\.invalid within connect_timeout)")
        self.assertNotRegex(r.stdout, r"tcp +(ok|FAIL)")  # nothing to connect to

    def test_check_failover_order(self):
        port = closed_port()
        r = self.facctl("check", "--conf", self.conf(server=f"https://127.0.0.1:{port}, {self.sim.url}"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("server 1 of 2: https://127.0.0.1:%d" % port, r.stdout)
        self.assertIn("1 of 2 servers usable", r.stdout)

    def test_check_wrong_api_key(self):
        r = self.facctl("check", "--conf", self.conf(api_key="not-the-key"), secrets=("not-the-key",))
        self.assert_one_line_error(r, 1, "no server is usable", "API key rejected")
        self.assertRegex(r.stdout, r"api +FAIL +API key rejected \(HTTP 401\)")
        self.assertRegex(r.stdout, r"tls +ok")

    def test_check_admin_without_permission(self):
        r = self.facctl("check", "--conf", self.conf(api_user="noperm", api_key="noperm-key"))
        self.assert_one_line_error(r, 1, "admin lacks permission")

    def test_check_insecure_config_mode(self):
        path = self.conf(mode=0o644)
        r = self.facctl("check", "--conf", path)
        self.assert_one_line_error(r, 2, path, "readable by group or others", "chmod 600")
        self.assertEqual(r.stdout, "")
        path = self.conf(mode=0o620)
        self.assert_one_line_error(self.facctl("check", "--conf", path), 2, path, "writable")

    def test_check_config_error(self):
        path = self.conf("no_such_key = 1\n")
        self.assert_one_line_error(self.facctl("check", "--conf", path), 2, f"{path}:8", "unknown key")
        self.assert_one_line_error(self.facctl("check", "--conf", os.path.join(self.dir, "missing.conf")), 2,
                                   "missing.conf does not exist")

    def test_check_relative_conf_path(self):
        self.conf(name="relative.conf")
        result = subprocess.run([FACCTL, "check", "--conf", "relative.conf"], cwd=self.dir, capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_check_expired_certificate(self):
        r = self.facctl("check", "--conf", self.conf(server=self.expired.url))
        self.assert_one_line_error(r, 1, "no server is usable", "certificate")
        self.assertRegex(r.stdout, r"tls +FAIL +certificate verification failed: .*expired")
        self.assertRegex(r.stdout, r"cert +FAIL +subject CN = localhost; .*expired 2020-12-31")
        self.assertRegex(r.stdout, r"api +skip")
        self.assertEqual(self.expired.requests(), [], "credentials went to an unverified server")

    def test_check_missing_ca_file(self):
        missing = os.path.join(self.dir, "no-such-ca.pem")
        path = self.conf()
        with open(path) as f:
            text = f.read().replace(f"ca_file = {self.ca}", f"ca_file = {missing}")
        with open(path, "w") as f:
            f.write(text)
        r = self.facctl("check", "--conf", path)
        self.assert_one_line_error(r, 1, "ca_file", missing, "file does not exist")
        self.assertNotIn("tls", r.stdout + r.stderr)
        self.assertEqual(self.sim.requests(), [])

    def test_check_untrusted_certificate_is_not_called_ok(self):
        path = self.conf()
        with open(path) as f:
            text = f.read().replace(f"ca_file = {self.ca}",
                                    "ca_file = " + os.path.join(self.dir, "certs", "selfsigned.pem"))
        with open(path, "w") as f:
            f.write(text)
        r = self.facctl("check", "--conf", path)
        self.assert_one_line_error(r, 1, "no server is usable", "certificate")
        self.assertRegex(r.stdout, r"tls +FAIL +certificate verification failed")
        self.assertRegex(r.stdout, r"cert +info +subject CN = localhost")
        self.assertNotRegex(r.stdout, r"cert +ok")

    # -- check --service -------------------------------------------------------

    def pam_dir(self, files):
        d = os.path.join(self.dir, "pam.d")
        shutil.rmtree(d, ignore_errors=True)
        os.mkdir(d)
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        return d

    def test_check_service_applies_the_stack_arguments(self):
        conf = self.conf("autopush = yes\n")
        d = self.pam_dir({
            "common-auth": "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n"
                           "auth required pam_permit.so\n",
            "sudo": f"#%PAM-1.0\n@include common-auth\n-auth required /lib/security/pam_fac.so conf={conf} \\\n"
                    f"    second_factor=push  # sudo: push only\n@include common-account\n",
            "common-account": "account required pam_unix.so\n",
        })
        r = self.facctl("check", "--service", "sudo", "--pam-dir", d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"service sudo: {d}/sudo (with {d}/common-auth, {d}/common-account)", r.stdout)
        self.assertIn(f"{d}/sudo:3: -auth required /lib/security/pam_fac.so conf={conf} second_factor=push",
                      r.stdout)
        self.assertIn(f"config {conf}: ok (api_user apiadmin, 1 server, second_factor push)", r.stdout)
        self.assertIn("note: autopush = yes has nothing to do here (second_factor = push); that is no error",
                      r.stdout)
        self.assertIn("PAM_SILENT", r.stdout)
        self.assertRegex(r.stdout, r"api +ok +apiadmin accepted")
        # --conf: the file for lines that name none.
        d = self.pam_dir({"sudo": "auth required pam_fac.so tries=2\n"})
        r = self.facctl("check", "--service", "sudo", "--pam-dir", d, "--conf", conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"config {conf}: ok", r.stdout)
        # The plain check of the same file knows nothing of the stack line.
        self.assertIn("second_factor code_or_push", self.facctl("check", "--conf", conf).stdout)

    def test_check_service_names_a_bad_argument(self):
        conf = self.conf()
        d = self.pam_dir({
            "sshd": "auth substack fac-stack\n",
            "fac-stack": f"auth required pam_fac.so conf={conf} tries=0\n",
        })
        r = self.facctl("check", "--service", "sshd", "--pam-dir", d)
        self.assert_one_line_error(r, 2, f"{d}/fac-stack:1", "module argument 'tries'")
        d = self.pam_dir({"sshd": f"auth include fac\n", "fac": f"auth required pam_fac.so conf={conf} frobnicate\n"})
        self.assert_one_line_error(self.facctl("check", "--service", "sshd", "--pam-dir", d), 2,
                                   f"{d}/fac:1", "frobnicate", "unknown")
        self.assertEqual(self.sim.requests(), [])

    def test_check_service_stack_problems(self):
        d = self.pam_dir({"login": "auth required pam_unix.so\n", "loop": "@include loop2\n",
                          "loop2": "auth include loop\n", "bad": "auth required\n"})
        self.assert_one_line_error(self.facctl("check", "--service", "login", "--pam-dir", d), 1,
                                   "no pam_fac.so line", f"{d}/login")
        self.assert_one_line_error(self.facctl("check", "--service", "loop", "--pam-dir", d), 2,
                                   f"{d}/loop includes itself")
        self.assert_one_line_error(self.facctl("check", "--service", "nosuch", "--pam-dir", d), 2,
                                   f"{d}/nosuch cannot be read")
        self.assert_one_line_error(self.facctl("check", "--service", "bad", "--pam-dir", d), 2,
                                   f"{d}/bad:1", "needs a control and a module")
        self.assert_one_line_error(self.facctl("check", "--service", "../etc", "--pam-dir", d), 2,
                                   "not a PAM service name")
        self.assert_one_line_error(self.facctl("check", "--service", "login", "--conf", "rel.conf"), 2,
                                   "absolute path")
        self.assert_one_line_error(self.facctl("check", "--pam-dir", d), 2, "--pam-dir goes with --service")

    def ftc_conf(self, secret):
        path = os.path.join(self.dir, "ftc.conf")
        if os.path.exists(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"server = {self.ftc.url}\nbackend = ftc\nftc_client_id = ftc-client\n"
                    f"ftc_client_secret = {secret}\nca_file = {self.ca}\nstate_dir = {self.dir}/state\n")
        return path

    def test_check_ftc_credentials(self):
        good = self.facctl("check", "--conf", self.ftc_conf("ftc-s3cr3t"), secrets=("ftc-s3cr3t",))
        self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
        self.assertIn("ftc-client accepted (POST /api/v1/login", good.stdout)
        bad = self.facctl("check", "--conf", self.ftc_conf("wrong-secret"), secrets=("wrong-secret",))
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("rejected ftc_client_id/ftc_client_secret", bad.stdout + bad.stderr)
        # The login's token is not cached by a check.
        self.assertFalse(os.path.exists(os.path.join(self.dir, "state")))

    def test_check_pinned_key(self):
        pin = self.pin_of(os.path.join(self.dir, "certs", "server.pem"))
        r = self.facctl("check", "--conf", self.conf(f"pinned_pubkey = sha256//{pin}\n"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"pin +ok +matches pinned_pubkey")
        other = self.pin_of(os.path.join(self.dir, "certs", "selfsigned.pem"))
        self.sim.control("/_sim/reset", {})
        r = self.facctl("check", "--conf", self.conf(f"pinned_pubkey = sha256//{other}\n"))
        self.assert_one_line_error(r, 1, "pin", "does not match pinned_pubkey")
        self.assertRegex(r.stdout, r"pin +FAIL +does not match")
        self.assertIn(f"the server's key: sha256//{pin}", r.stdout)
        self.assertRegex(r.stdout, r"cert +ok +subject CN = localhost")
        self.assertEqual(self.sim.requests(), [], "credentials went to a server whose pin did not match")

    @staticmethod
    def pin_of(cert):
        pubkey = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                                capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, check=True,
                             capture_output=True).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, check=True,
                                capture_output=True).stdout
        import base64
        return base64.b64encode(digest).decode()

    # -- auth ----------------------------------------------------------------

    def auth_requests(self):
        return [(q["path"], q["json"]) for q in self.sim.requests()]

    def test_auth_code_accepted(self):
        code = totp()
        r = self.facctl("auth", "alice", "--code", code, "--conf", self.conf(), "--rhost", "192.0.2.7",
                        secrets=(code,))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^result=success user=alice rhost=192\.0\.2\.7 method=code "
                                   r"server=127\.0\.0\.1 ms=\d+$")
        self.assertEqual(lines[1], "result: PAM_SUCCESS")
        self.assertRegex(lines[2], rf"^request 1: POST {re.escape(self.sim.url)}/api/v1/auth/ -> HTTP 200 "
                                   r"\(\d+ ms\)$")
        self.assertRegex(lines[3], r"^time: config \d+ ms, authentication \d+ ms, total \d+ ms$")
        self.assertIn("FortiToken code (press Enter for push): ", r.stderr)
        self.assertEqual(self.auth_requests(), [("/api/v1/auth/", {"username": "alice", "token_code": code})])

    def test_auth_code_wrong(self):
        code = wrong_code()
        r = self.facctl("auth", "alice", "--code", code, "--conf", self.conf(), secrets=(code,))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('result=denied user=alice rhost=- method=code', r.stdout)
        self.assertIn('reason="wrong code (1 of 1 tries used)"', r.stdout)
        self.assertIn("result: PAM_AUTH_ERR", r.stdout)
        self.assertIn("Incorrect code.", r.stderr)
        self.assertEqual(len(self.auth_requests()), 1, "a wrong --code was sent more than once")

    def test_auth_push_approved(self):
        r = self.facctl("auth", "alice", "--push", "--conf", self.conf())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"result=success user=alice rhost=- method=push server=127\.0\.0\.1")
        self.assertIn("result: PAM_SUCCESS", r.stdout)
        self.assertIn("/api/v1/pushauth/ -> HTTP 200", r.stdout)
        self.assertIn("approve it within 60 seconds", r.stderr)
        (path, body), = self.auth_requests()
        self.assertEqual(path, "/api/v1/pushauth/")
        self.assertEqual(body["username"], "alice")

    def test_auth_push_with_second_factor_code(self):
        r = self.facctl("auth", "alice", "--push", "--conf", self.conf("second_factor = code\n"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("method=push", r.stdout)

    def test_auth_push_rejected(self):
        r = self.facctl("auth", "grace", "--push", "--conf", self.conf())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("result: PAM_AUTH_ERR", r.stdout)
        self.assertIn("The push was rejected.", r.stderr)

    def test_auth_answers_from_stdin(self):
        code = totp()
        r = self.facctl("auth", "alice", "--conf", self.conf("second_factor = code\n"), stdin=code + "\n",
                        secrets=(code,))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("FortiToken code: ", r.stderr)
        r = self.facctl("auth", "alice", "--password-prompt", "--conf", self.conf(), stdin=f"alice-pw\n{code}\n",
                        secrets=(code,))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("method=password+code", r.stdout)
        self.assertIn("Password: ", r.stderr)
        self.assertEqual(self.auth_requests()[-1],
                         ("/api/v1/auth/", {"username": "alice", "password": "alice-pw", "token_code": code}))
        r = self.facctl("auth", "alice", "--password-prompt", "--code", code, "--conf", self.conf(),
                        stdin="wrong-pw\n", secrets=(code,))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("result: PAM_AUTH_ERR", r.stdout)

    def test_auth_no_answer(self):
        r = self.facctl("auth", "alice", "--conf", self.conf(), stdin="")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("result: PAM_CONV_ERR", r.stdout)
        self.assertEqual(self.sim.requests(), [])

    def test_auth_on_a_terminal_does_not_echo(self):
        import pty
        code = totp()
        master, slave = pty.openpty()
        proc = subprocess.Popen([FACCTL, "auth", "alice", "--conf", self.conf("second_factor = code\n")],
                                stdin=slave, stdout=subprocess.PIPE, stderr=slave, start_new_session=True)
        os.close(slave)
        seen = b""
        try:
            seen += self.read_until(master, b"FortiToken code: ")
            os.write(master, code.encode() + b"\n")
            out, _ = proc.communicate(timeout=30)
            seen += self.read_until(master, None)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn(b"result: PAM_SUCCESS", out)
        self.assertNotIn(code.encode(), seen, "the code was echoed on the terminal")

    @staticmethod
    def read_until(fd, marker, timeout=15):
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2 if marker is None else 1)
            if not ready:
                if marker is None:
                    break
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if marker is not None and marker in data:
                break
        return data

    def test_auth_unavailable(self):
        r = self.facctl("auth", "alice", "--code", "123456", "--conf",
                        self.conf(server=f"https://127.0.0.1:{closed_port()}"))
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("result=unavailable", r.stdout)
        self.assertIn("result: PAM_AUTHINFO_UNAVAIL", r.stdout)
        self.assertIn("-> connection failed", r.stdout)

    def test_auth_unknown_user(self):
        r = self.facctl("auth", "nobody", "--code", "123456", "--conf", self.conf())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("result: PAM_USER_UNKNOWN", r.stdout)

    def test_auth_usage_errors(self):
        conf = self.conf()
        self.assert_one_line_error(self.facctl("auth", "--conf", conf), 2, "missing USER")
        self.assert_one_line_error(self.facctl("auth", "alice", "bob", "--conf", conf), 2, "unexpected argument 'bob'")
        self.assert_one_line_error(self.facctl("auth", "alice", "--code", "12ab56", "--conf", conf), 2,
                                   "--code must be 6 to 8 digits")
        self.assert_one_line_error(self.facctl("auth", "alice", "--code", "123456", "--push", "--conf", conf), 2,
                                   "exclude each other")
        self.assert_one_line_error(self.facctl("auth", "alice", "--code"), 2, "--code needs a value")
        bad = self.conf("second_factor = sometimes\n", name="bad.conf")
        self.assert_one_line_error(self.facctl("auth", "alice", "--code", "123456", "--conf", bad), 2,
                                   f"{bad}:8", "second_factor")
        self.assertEqual(self.sim.requests(), [])

    # -- tokens --------------------------------------------------------------

    def tokens(self, *args, code=0):
        r = self.facctl("tokens", "--conf", self.conf(), *args)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        return r

    def table_serials(self, stdout):
        lines = stdout.splitlines()
        self.assertRegex(lines[-1], r"^\d+ tokens? \(\d+ pages? from https://127\.0\.0\.1:\d+\)$")
        if len(lines) == 1:
            return []
        self.assertRegex(lines[0], r"^SERIAL +TYPE +STATUS$")
        return [line.split()[0] for line in lines[1:-1]]

    def test_tokens_every_page(self):
        r = self.tokens()
        expected = all_tokens()
        self.assertEqual(self.table_serials(r.stdout), [t["serial"] for t in expected])
        self.assertIn(f"{len(expected)} tokens (3 pages from {self.sim.url})", r.stdout)
        self.assertRegex(r.stdout, r"\nMixedCase0001 +FTM +Assigned\n")
        pages = [(q["method"], q["path"], q["query"]) for q in self.sim.requests()]
        self.assertEqual(pages, [("GET", "/api/v1/fortitokens/", "limit=1000"),
                                 ("GET", "/api/v1/fortitokens/", "offset=1000&limit=1000"),
                                 ("GET", "/api/v1/fortitokens/", "offset=2000&limit=1000")])
        # One connection, one TLS handshake, for the whole listing.
        self.assertEqual(len({q["conn"] for q in self.sim.requests()}), 1)

    def test_tokens_json(self):
        r = self.tokens("--json")
        listed = json.loads(r.stdout)
        self.assertIsInstance(listed, list)
        self.assertEqual(len(listed), GENERATED + len(HAND_TOKENS))
        self.assertEqual([{k: t[k] for k in ("serial", "type", "status")} for t in listed], all_tokens())
        self.assertTrue(all(t["resource_uri"].startswith("/api/v1/fortitokens/") for t in listed),
                        "token objects are not passed on whole")

    def test_tokens_filters(self):
        everything = all_tokens()
        cases = [
            (["--type", "ftm"], "type=ftm", lambda t: t["type"] == "ftm"),
            (["--type", "FTM", "--ignore-case"], "type__iexact=FTM", lambda t: t["type"].lower() == "ftm"),
            (["--type", "ftk"], "type=ftk", lambda t: t["type"] == "ftk"),
            (["--status", "assigned"], "status=assigned", lambda t: t["status"] == "assigned"),
            (["--status", "Assigned", "--ignore-case"], "status__iexact=Assigned",
             lambda t: t["status"].lower() == "assigned"),
            (["--serial", "MixedCase0001"], "serial=MixedCase0001", lambda t: t["serial"] == "MixedCase0001"),
            (["--serial", "mixedcase0001"], "serial=mixedcase0001", lambda t: False),
            (["--serial", "mixedcase0001", "--ignore-case"], "serial__iexact=mixedcase0001",
             lambda t: t["serial"] == "MixedCase0001"),
            (["--type", "ftm", "--status", "new"], "type=ftm&status=new",
             lambda t: t["type"] == "ftm" and t["status"] == "new"),
        ]
        for args, query, keep in cases:
            with self.subTest(args=args):
                self.sim.control("/_sim/reset", {})
                r = self.tokens("--json", *args)
                expected = [t["serial"] for t in everything if keep(t)]
                self.assertEqual([t["serial"] for t in json.loads(r.stdout)], expected)
                first = self.sim.requests()[0]
                self.assertEqual(first["query"], "limit=1000&" + query)
                r = self.tokens(*args)
                self.assertEqual(self.table_serials(r.stdout), expected)
        self.assertIn("0 tokens (1 page from", self.tokens("--serial", "mixedcase0001").stdout)

    def test_output_that_cannot_be_written(self):
        """A full disk or a closed pipe behind stdout: a failure with one line
        saying so (or, for a closed pipe, silence), never a listing taken as whole."""
        for args in (["--version"], ["tokens", "--conf", self.conf()], ["check", "--conf", self.conf()]):
            with open("/dev/full", "w") as full:
                r = subprocess.run([FACCTL, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
                                   env=FACCTL_ENV)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("facctl: cannot write the output: No space left on device", r.stderr, args)
        reader, writer = os.pipe()
        os.close(reader)
        r = subprocess.run([FACCTL, "tokens", "--conf", self.conf()], stdout=writer, stderr=subprocess.PIPE,
                           text=True, timeout=60, env=FACCTL_ENV)
        os.close(writer)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "")

    def test_tokens_bad_values(self):
        conf = self.conf()
        self.assert_one_line_error(self.facctl("tokens", "--type", "ftx", "--conf", conf), 2,
                                   "--type must be one of ftk, ftm, not 'ftx'")
        self.assert_one_line_error(self.facctl("tokens", "--type", "FTM", "--conf", conf), 2,
                                   "add --ignore-case")
        self.assert_one_line_error(self.facctl("tokens", "--status", "lost", "--conf", conf), 2,
                                   "--status must be one of new, available, pending, assigned")
        self.assert_one_line_error(self.facctl("tokens", "--serial", "", "--conf", conf), 2, "--serial")
        self.assertEqual(self.sim.requests(), [])

    def test_tokens_refused(self):
        r = self.facctl("tokens", "--conf", self.conf(api_key="not-the-key"), secrets=("not-the-key",))
        self.assert_one_line_error(r, 3, "API key rejected")
        self.assertEqual(r.stdout, "")
        r = self.facctl("tokens", "--conf", self.conf(server=f"https://127.0.0.1:{closed_port()}"))
        self.assert_one_line_error(r, 3, "connection failed")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_facctl.py FACCTL VERSION [unittest arguments]")
    FACCTL, VERSION = os.path.abspath(sys.argv[1]), sys.argv[2]
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]], verbosity=2)
