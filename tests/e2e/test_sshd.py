#!/usr/bin/python3
"""End-to-end test: a real sshd on loopback authenticates through pam_fac.

usage: /usr/bin/python3 test_sshd.py /abs/path/to/pam_fac.so [unittest args]

Nothing under /etc is touched:
  - sshd runs with libpam_wrapper.so (PAM stack from a service dir in the
    temp dir) and libnss_wrapper.so (passwd/group files in the temp dir that
    define the test user, so no real account is created) preloaded;
  - the FAC simulator (tests/sim/fac_sim.py) serves HTTPS on 127.0.0.1 with
    certificates made by tests/sim/make_certs.sh in the temp dir;
  - the ssh client runs with -F /dev/null and a known-hosts file in the
    temp dir, driven by pexpect.

Every process started here (simulator, sshd, ssh) is stopped and the temp
dir removed, even when a test fails. Needs root (sshd), openssh-server,
openssh-client, oathtool, python3-pexpect, libpam-wrapper, libnss-wrapper.
"""

import base64
import grp
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import pexpect

if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".so"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    MODULE = os.path.abspath(sys.argv.pop(1))
else:
    MODULE = os.environ.get("PAM_FAC_MODULE", "")

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.normpath(os.path.join(HERE, "..", "sim"))
SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
MULTIARCH_LIB = "/usr/lib/x86_64-linux-gnu"

USER = "face2e"          # local (nss_wrapper) account, and the FAC username
USER_UID = 64242
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
API_USER = "apiadmin"
API_KEY = "s3cr3t-api-key"
CODE_PROMPT = "FortiToken code (press Enter for push): "
COMMAND = "echo e2e-ok-$((40+2))"
EXPECTED_OUTPUT = "e2e-ok-42"
SSH_TIMEOUT = 30
INFO_RE = r"approve it within \d+ seconds"


def find_lib(name):
    for d in (MULTIARCH_LIB, "/usr/lib", "/usr/lib64", "/lib/x86_64-linux-gnu"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise unittest.SkipTest(name + " not found (install libpam-wrapper / libnss-wrapper)")


def totp(offset_steps=0):
    """The current TOTP code of SECRET (oathtool), optionally a step away."""
    args = ["oathtool", "--totp", "-b", SECRET]
    if offset_steps:
        args.insert(1, "--now=@%d" % int(time.time() + 30 * offset_steps))
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def clean_env(**extra):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


class SshdEndToEnd(unittest.TestCase):
    """Shared fixture: one simulator and one sshd for all cases."""

    tmp = None
    sim = None
    sim_port = None
    sshd = None
    sshd_port = None
    made_run_sshd = False

    # ---- fixture ---------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to run sshd")
        for tool in (SSHD, SSH):
            if not os.access(tool, os.X_OK):
                raise unittest.SkipTest(tool + " missing")
        if shutil.which("oathtool") is None:
            raise unittest.SkipTest("oathtool missing")
        if not os.path.isfile(MODULE):
            raise AssertionError("module not found: %r" % MODULE)
        cls.pam_wrapper = find_lib("libpam_wrapper.so")
        cls.nss_wrapper = find_lib("libnss_wrapper.so")

        cls.t0 = time.monotonic()
        cls.tmp = tempfile.mkdtemp(prefix="pamfac-e2e-")
        cls.addClassCleanup(cls._remove_tmp)
        # The test user's processes (uid USER_UID) must reach their home.
        os.chmod(cls.tmp, 0o711)

        cls._make_certs()
        cls._write_users()
        cls.addClassCleanup(cls._stop_simulator)
        cls._start_simulator()
        cls._write_module_config()
        cls._write_nss_files()
        cls._write_pam_services()
        cls.addClassCleanup(cls._stop_sshd)
        cls._start_sshd()
        print("\n[e2e] fixture ready in %.2f s (sim port %d, sshd port %d)"
              % (time.monotonic() - cls.t0, cls.sim_port, cls.sshd_port), file=sys.stderr)

    @classmethod
    def _remove_tmp(cls):
        if cls.tmp and os.path.isdir(cls.tmp):
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if cls.made_run_sshd:
            try:
                os.rmdir("/run/sshd")  # only if we made it and it is empty
            except OSError:
                pass

    @classmethod
    def _make_certs(cls):
        cls.certs = os.path.join(cls.tmp, "certs")
        subprocess.run(["bash", os.path.join(SIM_DIR, "make_certs.sh"), cls.certs],
                       check=True, env=clean_env(), timeout=60)
        cls.ca = os.path.join(cls.certs, "ca.pem")

    @classmethod
    def _write_users(cls):
        cls.users_file = os.path.join(cls.tmp, "users.json")
        users = {
            "api_users": [{"name": API_USER, "key": API_KEY, "permission": True}],
            "lockout_after": 0,
            "reject_replay": False,
            "users": [{"username": USER, "password": "unused-pw", "totp_secret": SECRET,
                       "push": {"action": "approve", "delay": 0.5}}],
        }
        with open(cls.users_file, "w") as f:
            json.dump(users, f)

    @classmethod
    def _start_simulator(cls):
        cls.sim_log = os.path.join(cls.tmp, "sim.stderr")
        with open(cls.sim_log, "w") as err:
            # Clean environment: no LD_PRELOAD of the wrappers.
            cls.sim = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(SIM_DIR, "fac_sim.py"),
                 "--users", cls.users_file,
                 "--cert", os.path.join(cls.certs, "server.pem"),
                 "--key", os.path.join(cls.certs, "server.key"),
                 "--host", "127.0.0.1", "--port", "0",
                 "--log", os.path.join(cls.tmp, "sim.jsonl")],
                stdout=subprocess.PIPE, stderr=err, env=clean_env(), start_new_session=True)
        line = b""
        deadline = time.monotonic() + 15
        while b"\n" not in line and time.monotonic() < deadline:
            r, _, _ = select.select([cls.sim.stdout], [], [], 0.2)
            if r:
                chunk = os.read(cls.sim.stdout.fileno(), 128)
                if not chunk:
                    break
                line += chunk
        m = re.match(rb"PORT (\d+)", line)
        if not m:
            raise AssertionError("simulator did not start: %r\n%s" % (line, tail(cls.sim_log)))
        cls.sim_port = int(m.group(1))
        ctx = ssl.create_default_context(cafile=cls.ca)
        cls.http = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                               urllib.request.HTTPSHandler(context=ctx))

    @classmethod
    def _stop_simulator(cls):
        cls._stop_process(cls.sim)
        if cls.sim is not None and cls.sim.stdout is not None:
            cls.sim.stdout.close()
        cls.sim = None

    @staticmethod
    def _stop_process(proc, grace=5.0):
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)

    @classmethod
    def _write_module_config(cls):
        cls.conf = os.path.join(cls.tmp, "fac.conf")
        text = "\n".join([
            "# pam_fac end-to-end test config",
            "server = https://127.0.0.1:%d" % cls.sim_port,
            "api_user = " + API_USER,
            "api_key = " + API_KEY,
            "ca_file = " + cls.ca,
            "second_factor = code_or_push",
            "connect_timeout = 2",
            "timeout = 5",
            "push_timeout = 20",
            "state_dir = " + os.path.join(cls.tmp, "state"),
            "",
        ])
        fd = os.open(cls.conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chown(cls.conf, 0, 0)
        os.chmod(cls.conf, 0o600)

    @classmethod
    def _write_nss_files(cls):
        """passwd/group for nss_wrapper: root, sshd's privsep user, nobody
        (copied from the system's entries, read-only) and the test user."""
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home, 0o755)
        os.chown(cls.home, USER_UID, USER_UID)
        passwd_lines, group_lines, gids = [], [], set()
        for name in ("root", "sshd", "nobody"):
            try:
                p = pwd.getpwnam(name)
            except KeyError:
                continue
            passwd_lines.append("%s:x:%d:%d:%s:%s:%s" % (p.pw_name, p.pw_uid, p.pw_gid, p.pw_gecos,
                                                         p.pw_dir, p.pw_shell))
            gids.add(p.pw_gid)
        passwd_lines.append("%s:x:%d:%d:pam_fac e2e:%s:/bin/sh" % (USER, USER_UID, USER_UID, cls.home))
        for gid in sorted(gids):
            try:
                g = grp.getgrgid(gid)
            except KeyError:
                continue
            group_lines.append("%s:x:%d:" % (g.gr_name, g.gr_gid))
        group_lines.append("%s:x:%d:" % (USER, USER_UID))
        cls.nss_passwd = os.path.join(cls.tmp, "passwd")
        cls.nss_group = os.path.join(cls.tmp, "group")
        with open(cls.nss_passwd, "w") as f:
            f.write("\n".join(passwd_lines) + "\n")
        with open(cls.nss_group, "w") as f:
            f.write("\n".join(group_lines) + "\n")
        os.chmod(cls.nss_passwd, 0o644)
        os.chmod(cls.nss_group, 0o644)

    @classmethod
    def _write_pam_services(cls):
        # pam_wrapper reads this dir when it is loaded: write it before sshd starts.
        cls.pamsvc = os.path.join(cls.tmp, "pamsvc")
        os.mkdir(cls.pamsvc, 0o755)
        with open(os.path.join(cls.pamsvc, "sshd"), "w") as f:
            f.write("auth required %s conf=%s\n" % (MODULE, cls.conf))
            f.write("account required pam_permit.so\n")
            f.write("session required pam_permit.so\n")
            f.write("password required pam_deny.so\n")
        with open(os.path.join(cls.pamsvc, "other"), "w") as f:
            for kind in ("auth", "account", "session", "password"):
                f.write("%s required pam_deny.so\n" % kind)

    @staticmethod
    def _free_port():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    @classmethod
    def _start_sshd(cls):
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
            os.chmod("/run/sshd", 0o755)
            cls.made_run_sshd = True
        hostkey = os.path.join(cls.tmp, "hostkey")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey],
                       check=True, env=clean_env(), timeout=30)
        cls.sshd_log = os.path.join(cls.tmp, "sshd.log")
        last_error = ""
        for _ in range(5):
            port = cls._free_port()
            config = os.path.join(cls.tmp, "sshd_config")
            with open(config, "w") as f:
                f.write("\n".join([
                    "Port %d" % port,
                    "ListenAddress 127.0.0.1",
                    "HostKey " + hostkey,
                    "PidFile " + os.path.join(cls.tmp, "sshd.pid"),
                    "UsePAM yes",
                    "KbdInteractiveAuthentication yes",
                    "PasswordAuthentication no",
                    "PubkeyAuthentication no",
                    "AuthenticationMethods keyboard-interactive",
                    "PermitRootLogin no",
                    "StrictModes no",
                    "UseDNS no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "LoginGraceTime 60",
                    "LogLevel VERBOSE",
                    "",
                ]))
            env = clean_env(
                LD_PRELOAD="%s %s" % (cls.pam_wrapper, cls.nss_wrapper),
                PAM_WRAPPER="1",
                PAM_WRAPPER_SERVICE_DIR=cls.pamsvc,
                NSS_WRAPPER_PASSWD=cls.nss_passwd,
                NSS_WRAPPER_GROUP=cls.nss_group,
            )
            with open(cls.sshd_log, "w") as log:
                cls.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", config], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, env=env, start_new_session=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and cls.sshd.poll() is None:
                if "Server listening on 127.0.0.1 port %d" % port in tail(cls.sshd_log, 200):
                    cls.sshd_port = port
                    return
                time.sleep(0.05)
            last_error = tail(cls.sshd_log)
            cls._stop_process(cls.sshd)
            cls.sshd = None
            if "Address already in use" not in last_error:
                break
        raise AssertionError("sshd did not start:\n" + last_error)

    @classmethod
    def _stop_sshd(cls):
        cls._stop_process(cls.sshd)
        cls.sshd = None
        cls._remove_pam_wrapper_dirs()

    @classmethod
    def _remove_pam_wrapper_dirs(cls):
        """Every process that loads libpam_wrapper.so copies the service
        dir to /tmp/pam.<one char> (a fixed path in pam_wrapper 1.1) and
        sshd's per-connection processes never remove theirs. pam_wrapper
        reclaims dirs of dead processes itself, but tidy up: remove the
        ones holding this run's service file whose process is gone."""
        marker = "conf=%s\n" % cls.conf
        for name in os.listdir("/tmp"):
            d = os.path.join("/tmp", name)
            if not re.fullmatch(r"pam\.[0-9A-Za-z]", name) or os.path.islink(d) or not os.path.isdir(d):
                continue
            try:
                with open(os.path.join(d, "sshd")) as f:
                    if marker not in f.read():
                        continue
                with open(os.path.join(d, "pid")) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 0)
                continue  # still alive: not ours to remove
            except ProcessLookupError:
                shutil.rmtree(d, ignore_errors=True)
            except (OSError, ValueError):
                continue

    # ---- helpers ---------------------------------------------------------

    def setUp(self):
        self.sim_post("/_sim/reset", {})
        self.sshd_log_offset = os.path.getsize(self.sshd_log)
        self.started = time.monotonic()

    def tearDown(self):
        print("[e2e] %s: %.2f s" % (self._testMethodName, time.monotonic() - self.started), file=sys.stderr)

    def sim_url(self, path):
        return "https://127.0.0.1:%d%s" % (self.sim_port, path)

    def sim_post(self, path, body):
        req = urllib.request.Request(self.sim_url(path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with self.http.open(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def sim_requests(self, path_prefix=None):
        with self.http.open(self.sim_url("/_sim/requests"), timeout=10) as resp:
            data = json.loads(resp.read())
        entries = data["requests"] if isinstance(data, dict) else data
        if path_prefix is not None:
            entries = [e for e in entries if e["path"].startswith(path_prefix)]
        return entries

    @staticmethod
    def request_json(entry):
        if entry.get("json") is not None:
            return entry["json"]
        return json.loads(base64.b64decode(entry["body_b64"] or b"") or b"null")

    def diagnostics(self, transcript=""):
        with open(self.sshd_log, errors="replace") as f:
            f.seek(self.sshd_log_offset)
            sshd_part = f.read()[-6000:]
        return ("\n--- ssh transcript ---\n%s\n--- sshd log (this case) ---\n%s\n--- simulator stderr ---\n%s"
                % (transcript, sshd_part, tail(self.sim_log, 20)))

    def spawn_ssh(self):
        args = ["-F", "/dev/null", "-p", str(self.sshd_port),
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=" + os.path.join(self.tmp, "kh"),
                "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "NumberOfPasswordPrompts=1",
                "-o", "ConnectTimeout=10",
                "%s@127.0.0.1" % USER, COMMAND]
        child = pexpect.spawn(SSH, args, env=clean_env(HOME=self.tmp), timeout=SSH_TIMEOUT,
                              encoding="utf-8", codec_errors="replace")
        self.addCleanup(self._kill_child, child)
        return child

    @staticmethod
    def _kill_child(child):
        if child.isalive():
            child.terminate(force=True)
        try:
            child.close(force=True)
        except Exception:
            pass

    def expect_prompt(self, child, transcript):
        """Waits for the code prompt; returns the displayed prompt line, or
        None if ssh ended instead."""
        i = child.expect([re.escape(CODE_PROMPT), pexpect.EOF, pexpect.TIMEOUT])
        transcript.append(child.before + (child.after if i == 0 else ""))
        if i == 2:
            self.fail("timed out waiting for the prompt" + self.diagnostics("".join(transcript)))
        if i == 1:
            return None
        line_start = child.before.rsplit("\n", 1)[-1].lstrip("\r")
        return line_start + CODE_PROMPT

    def finish(self, child, transcript):
        i = child.expect([pexpect.EOF, pexpect.TIMEOUT])
        transcript.append(child.before)
        if i == 1:
            self.fail("ssh did not finish" + self.diagnostics("".join(transcript)))
        child.close()
        return child.exitstatus, "".join(transcript)

    def assert_first_prompt(self, displayed, transcript):
        # OpenSSH's client shows keyboard-interactive prompts as
        # "(user@host) <prompt>"; the module's prompt is the part after it.
        prefix = "(%s@127.0.0.1) " % USER
        self.assertEqual(displayed, prefix + CODE_PROMPT,
                         "unexpected prompt line" + self.diagnostics("".join(transcript)))

    # ---- cases -----------------------------------------------------------

    def test_1_correct_code_logs_in(self):
        transcript = []
        child = self.spawn_ssh()
        displayed = self.expect_prompt(child, transcript)
        self.assertIsNotNone(displayed, "no prompt" + self.diagnostics("".join(transcript)))
        self.assert_first_prompt(displayed, transcript)
        child.sendline(totp())
        status, out = self.finish(child, transcript)
        self.assertIn(EXPECTED_OUTPUT, out, "command did not run" + self.diagnostics(out))
        self.assertEqual(status, 0, self.diagnostics(out))
        self.assertNotIn("Permission denied", out)
        auths = self.sim_requests("/api/v1/auth")
        self.assertEqual(len(auths), 1, auths)
        self.assertEqual(auths[0]["status"], 200)
        self.assertEqual(auths[0]["api_user"], API_USER)
        self.assertEqual(self.request_json(auths[0])["username"], USER)
        self.assertEqual(self.sim_requests("/api/v1/pushauth"), [])

    def test_2_wrong_code_is_refused(self):
        valid = {totp(-1), totp(0), totp(1), totp(2)}
        wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)
        transcript = []
        child = self.spawn_ssh()
        prompts = []
        while True:
            displayed = self.expect_prompt(child, transcript)
            if displayed is None:
                break
            prompts.append(displayed)
            self.assertLessEqual(len(prompts), 3, "more than 3 prompts" + self.diagnostics("".join(transcript)))
            child.sendline(wrong)
        child.close()
        out = "".join(transcript)
        self.assert_first_prompt(prompts[0], transcript)
        self.assertNotEqual(child.exitstatus, 0, self.diagnostics(out))
        self.assertIn("Permission denied", out, self.diagnostics(out))
        self.assertNotIn(EXPECTED_OUTPUT, out)
        auths = self.sim_requests("/api/v1/auth/")
        self.assertEqual(len(auths), len(prompts), auths)
        self.assertEqual(len(prompts), 3, "expected tries = 3 prompts" + self.diagnostics(out))
        for entry in auths:
            body = self.request_json(entry)
            self.assertEqual(body["username"], USER)
            self.assertEqual(body.get("token_code"), wrong)
            self.assertEqual(entry["status"], 401)
            self.assertEqual(entry["api_user"], API_USER)
        self.assertEqual(self.sim_requests("/api/v1/pushauth"), [])
        print("[e2e] wrong code: %d prompts; client output:\n%s" % (len(prompts), indent(out)), file=sys.stderr)

    def _push_login(self, action):
        self.sim_post("/_sim/push", {"username": USER, "action": action, "delay": 0.5})
        transcript = []
        child = self.spawn_ssh()
        displayed = self.expect_prompt(child, transcript)
        self.assertIsNotNone(displayed, "no prompt" + self.diagnostics("".join(transcript)))
        self.assert_first_prompt(displayed, transcript)
        sent = time.time()
        child.sendline("")
        # Note when (if at all) the "approve it within" info reaches the
        # client, then wait for the end. A rejected push must not lead to
        # another prompt; if one comes, it is not answered.
        info_at = None
        while True:
            i = child.expect([INFO_RE, re.escape(CODE_PROMPT), pexpect.EOF, pexpect.TIMEOUT])
            transcript.append(child.before + (child.after if i < 2 else ""))
            if i == 0:
                info_at = time.time()
                continue
            break
        if i == 3:
            self.fail("ssh did not finish" + self.diagnostics("".join(transcript)))
        reprompted = i == 1
        if reprompted:
            child.sendcontrol("c")
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10)
            transcript.append(child.before if isinstance(child.before, str) else "")
        child.close()
        ended = time.time()
        out = "".join(transcript)
        pushes = self.sim_requests("/api/v1/pushauth")
        if info_at is None:
            when = "did NOT reach the ssh client"
        else:
            when = "REACHED the ssh client %.2f s after Enter" % (info_at - sent)
            if pushes and pushes[0].get("ms") is not None:
                answered = pushes[0]["time"] + pushes[0]["ms"] / 1000.0
                when += (", %.2f s %s the simulator answered the push"
                         % (abs(answered - info_at), "BEFORE" if info_at < answered else "after"))
        print("[e2e] push %s: PAM_TEXT_INFO 'approve it within ... seconds' %s; ssh ended %.2f s after "
              "Enter; client output:\n%s" % (action, when, ended - sent, indent(out)), file=sys.stderr)
        return child.exitstatus, out, reprompted

    def check_push_request(self):
        pushes = self.sim_requests("/api/v1/pushauth")
        self.assertEqual(len(pushes), 1, pushes)
        body = self.request_json(pushes[0])
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
        self.assertEqual(self.sim_requests("/api/v1/auth/"), [])
        return pushes[0]

    def test_3_push_approved_logs_in(self):
        status, out, reprompted = self._push_login("approve")
        self.assertFalse(reprompted, "prompted again after an approved push" + self.diagnostics(out))
        self.assertIn(EXPECTED_OUTPUT, out, "command did not run" + self.diagnostics(out))
        self.assertEqual(status, 0, self.diagnostics(out))
        entry = self.check_push_request()
        self.assertEqual(entry["status"], 200)

    def test_4_push_rejected_is_refused(self):
        status, out, reprompted = self._push_login("reject")
        self.assertFalse(reprompted, "prompted again after a rejected push" + self.diagnostics(out))
        self.assertNotEqual(status, 0, self.diagnostics(out))
        self.assertIn("Permission denied", out, self.diagnostics(out))
        self.assertNotIn(EXPECTED_OUTPUT, out)
        entry = self.check_push_request()
        self.assertEqual(entry["status"], 401)


def indent(text):
    return "\n".join("    | " + l for l in text.replace("\r", "").splitlines())


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun == 0 or len(result.skipped) == result.testsRun:
        sys.exit(77)  # everything skipped (not root, or a tool missing): ctest SKIP_RETURN_CODE
    sys.exit(0)
