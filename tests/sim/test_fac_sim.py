#!/usr/bin/python3
"""Self-test of the FAC simulator: /usr/bin/python3 tests/sim/test_fac_sim.py

Starts fac_sim.py as a subprocess with fresh certificates (make_certs.sh) in
a temporary directory and talks to it over HTTPS, verifying the server
against the test CA; a second one runs in FortiToken Cloud mode (--mode ftc).
Standard library only; finishes in a few seconds.
"""

import base64
import copy
import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
import fac_sim  # noqa: E402  (for its TOTP function and constants)

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SIM = os.path.join(HERE, "fac_sim.py")
API = ("apiadmin", "s3cr3t-api-key")
NOPERM = ("noperm", "noperm-api-key")
GENERATED_TOKENS = 1500
with open(os.path.join(HERE, "users.example.json"), encoding="utf-8") as _f:
    EXAMPLE = json.load(_f)
SECRET = {u["username"]: u.get("totp_secret") for u in EXAMPLE["users"]}
FTC_CLIENT = EXAMPLE["ftc_clients"][0]
SERIAL, OTHER_SERIAL = EXAMPLE["ftc_serials"]

# A password that is hard to carry byte for byte: quotes, backslashes,
# control characters, non-ASCII (incl. outside the BMP).
HARD_PASSWORD = ('q"uo\'te \\back\\\\slash \x01\x07\x1b[0m\t\r\n'
                 ' caf\u00e9 \u20ac \U0001F600 \u0000end')

TMP = None        # module temp dir
MAIN_SIM = None   # the SimProcess most tests use
FTC_SIM = None    # the same users file, --mode ftc


# --------------------------------------------------------------------------
# Helpers

def oathtool(secret, digits=6, at=None):
    args = ["oathtool", "--totp", "-b", "-d", str(digits)]
    if at is not None:
        args += ["-N", f"@{int(at)}"]
    return subprocess.run(args + [secret], check=True, capture_output=True,
                          text=True).stdout.strip()


def away_from_step_boundary():
    """Sleep past a TOTP step boundary if one is under 1.5 s away; returns now."""
    now = time.time()
    if now % 30 > 28.5:
        time.sleep(30 - now % 30 + 0.05)
    return time.time()


def wrong_code(secret, digits=6):
    """A well-formed code that is not valid anywhere near now."""
    now = time.time()
    near = {fac_sim.totp(secret, now + d * 30, digits) for d in range(-3, 4)}
    code = int(fac_sim.totp(secret, now, digits))
    while str(code).zfill(digits) in near:
        code = (code + 1) % 10 ** digits
    return str(code).zfill(digits)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


class SimProcess:
    """One fac_sim.py subprocess. stop() always ends it."""

    def __init__(self, users_path, cert="server", host="127.0.0.1", extra=()):
        self.host = host
        self.log_path = os.path.join(TMP, f"log-{cert}-{time.monotonic_ns()}.jsonl")
        args = [PYTHON, SIM, "--users", users_path, "--host", host, "--port", "0",
                "--log", self.log_path, *extra]
        if "--plain-http" not in extra:
            args += ["--cert", os.path.join(TMP, f"{cert}.pem"),
                     "--key", os.path.join(TMP, f"{cert}.key")]
        # FAC_SIM_VERBOSE=1: the simulators log requests and errors to our stderr.
        verbose = os.environ.get("FAC_SIM_VERBOSE") == "1"
        self.proc = subprocess.Popen(args + (["--verbose"] if verbose else []),
                                     stdout=subprocess.PIPE,
                                     stderr=None if verbose else subprocess.PIPE)
        unittest.addModuleCleanup(self.stop)
        self.port = self._read_port()

    def _read_port(self, timeout=5.0):
        deadline, line = time.monotonic() + timeout, b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.proc.stdout], [], [], remaining)[0]:
                raise RuntimeError("fac_sim did not print its port in time")
            chunk = os.read(self.proc.stdout.fileno(), 100)
            if not chunk:
                detail = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError("fac_sim exited before printing its port: " + detail)
            line += chunk
        word, port = line.decode().split()
        assert word == "PORT", line
        return int(port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def tls_context(cafile=None):
    context = ssl.create_default_context(cafile=cafile or os.path.join(TMP, "ca.pem"))
    return context


def connect(sim, timeout=5.0, context=None, host=None):
    host = host or sim.host
    if context is False:
        return http.client.HTTPConnection(host, sim.port, timeout=timeout)
    return http.client.HTTPSConnection(host, sim.port, timeout=timeout,
                                       context=context or tls_context())


def request(sim, method, path, body=None, auth=API, headers=None, timeout=5.0,
            conn=None, content_type="application/json"):
    """One request; body may be bytes, or an object sent as JSON."""
    hdrs = {"User-Agent": "fac-sim-selftest/1"}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        hdrs["Authorization"] = f"Basic {token}"
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    if body is not None and content_type:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    own = conn is None
    conn = conn or connect(sim, timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        if own:
            conn.close()


def post(path, obj, sim=None, **kw):
    return request(sim or MAIN_SIM, "POST", path, obj, **kw)


def control(path, obj=None, method="POST", sim=None):
    return request(sim or MAIN_SIM, method, "/_sim/" + path,
                   obj if obj is not None else (b"" if method == "POST" else None),
                   auth=None)


def logged(sim=None):
    return control("requests", method="GET", sim=sim).json()


def wait_until(predicate, timeout=3.0):
    """Poll predicate() (a test-side helper only) until true or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def write_users(name, changes):
    users = copy.deepcopy(EXAMPLE)
    users.update(changes)
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(users, f)
    return path


def setUpModule():
    global TMP, MAIN_SIM, FTC_SIM
    TMP = tempfile.mkdtemp(prefix="fac_sim_test.")
    unittest.addModuleCleanup(shutil.rmtree, TMP, ignore_errors=True)
    subprocess.run([os.path.join(HERE, "make_certs.sh"), TMP], check=True)
    MAIN_SIM = SimProcess(write_users("users.json", {"generate_tokens": GENERATED_TOKENS}))
    FTC_SIM = SimProcess(os.path.join(TMP, "users.json"), extra=("--mode", "ftc"))


class SimTestCase(unittest.TestCase):
    def setUp(self):
        self.assertEqual(control("reset").status, 200)

    def assertAnswer(self, resp, status, text=""):
        self.assertEqual((resp.status, resp.text), (status, text))
        self.assertEqual(resp.headers["Content-Type"], "text/html; charset=utf-8")

    def auth(self, path="/api/v1/auth/", **fields):
        return post(path, fields)


# --------------------------------------------------------------------------
# TOTP

class TotpTest(SimTestCase):
    def test_matches_oathtool(self):
        rfc_secret = SECRET["bob"]  # RFC 6238's "12345678901234567890"
        self.assertEqual(fac_sim.totp(rfc_secret, 59, 8), "94287082")
        for at in (0, 59, 1111111109, 1234567890, 2000000000, int(time.time())):
            for digits in (6, 7, 8):
                for secret in (SECRET["alice"], rfc_secret, "jbsw y3dp ehpk 3pxp"):
                    self.assertEqual(fac_sim.totp(secret, at, digits),
                                     oathtool(secret, digits, at), (secret, at, digits))

    def test_oathtool_code_accepted_wrong_refused(self):
        away_from_step_boundary()
        self.assertAnswer(self.auth(username="alice", token_code=oathtool(SECRET["alice"])), 200)
        self.assertAnswer(self.auth(username="alice", token_code=wrong_code(SECRET["alice"])),
                          401, "User authentication failed")

    def test_window_is_one_step_each_way(self):
        now = away_from_step_boundary()
        for offset, status in ((-30, 200), (30, 200), (-90, 401), (90, 401)):
            code = oathtool(SECRET["alice"], at=now + offset)
            if status == 401 and code in {fac_sim.totp(SECRET["alice"], now + d * 30)
                                          for d in (-1, 0, 1)}:
                continue  # a chance collision of codes: nothing to test
            self.assertEqual(self.auth(username="alice", token_code=code).status, status, offset)

    def test_eight_digits(self):
        away_from_step_boundary()
        user = {"username": "octo", "totp_secret": SECRET["bob"], "digits": 8}
        self.assertEqual(control("users", user).status, 200)
        self.assertAnswer(self.auth(username="octo", token_code=oathtool(SECRET["bob"], 8)), 200)
        self.assertAnswer(self.auth(username="octo", token_code=oathtool(SECRET["bob"], 6)),
                          401, "User authentication failed")

    def test_replay_rejected_when_enabled(self):
        away_from_step_boundary()
        code = oathtool(SECRET["alice"])
        self.assertEqual(self.auth(username="alice", token_code=code).status, 200)
        self.assertEqual(self.auth(username="alice", token_code=code).status, 200)
        control("settings", {"reject_replay": True})
        self.assertEqual(self.auth(username="alice", token_code=code).status, 401)


# --------------------------------------------------------------------------
# /auth/ and /realmauth/

class AuthTest(SimTestCase):
    def test_answer_table(self):
        away_from_step_boundary()
        cases = [
            (dict(username="alice", password="alice-pw"), 200, ""),
            (dict(username="alice", password="wrong"), 401, "User authentication failed"),
            (dict(username="alice", password="alice-pw", token_code=oathtool(SECRET["alice"])),
             200, ""),
            (dict(username="alice", password="wrong", token_code=oathtool(SECRET["alice"])),
             401, "User authentication failed"),
            (dict(username="alice", password="alice-pw", token_code=wrong_code(SECRET["alice"])),
             401, "User authentication failed"),
            (dict(username="bob", token_code=oathtool(SECRET["bob"])), 200, ""),
            (dict(username="carol", password="carol-pw"), 401, "Account is disabled"),
            (dict(username="dave", password="dave-pw"), 200, ""),
            (dict(username="dave", token_code="123456"), 401, "No token configured"),
            (dict(username="dave", password="wrong", token_code="123456"),
             401, "User authentication failed"),  # the password is checked first
            (dict(username="erin", token_code=oathtool(SECRET["erin"])),
             401, "Token is out of sync"),
            (dict(username="nobody", password="x"), 404, "User does not exist"),
            (dict(username="frank", password="frank-pw"), 404, "User does not exist"),  # not local
        ]
        for fields, status, text in cases:
            with self.subTest(fields=fields):
                self.assertAnswer(self.auth(**fields), status, text)
        # The seeds' bodies are exactly 26 and 19 bytes.
        self.assertEqual(self.auth(username="alice", password="x").headers["Content-Length"], "26")
        self.assertEqual(self.auth(username="zz", password="x").headers["Content-Length"], "19")

    def test_without_trailing_slash(self):
        self.assertAnswer(self.auth("/api/v1/auth", username="alice", password="alice-pw"), 200)

    def test_bad_requests(self):
        bodies = [b"not json", b"[1, 2]", b'"alice"', json.dumps({"password": "x"}).encode(),
                  json.dumps({"username": "alice"}).encode(),
                  json.dumps({"username": 7, "password": "x"}).encode(),
                  json.dumps({"username": "alice", "password": 1}).encode(), b"\xff\xfe"]
        for body in bodies:
            with self.subTest(body=body):
                self.assertEqual(post("/api/v1/auth/", body).status, 400)
        resp = post("/api/v1/auth/", {"username": "alice", "password": "alice-pw"},
                    content_type="application/x-www-form-urlencoded")
        self.assertEqual(resp.status, 400)

    def test_concatenated_mode(self):
        away_from_step_boundary()
        code = oathtool(SECRET["alice"])
        self.assertAnswer(self.auth(username="alice", password="alice-pw" + code, token_code=""),
                          200)
        self.assertAnswer(self.auth(username="alice", password="alice-pw", token_code=""),
                          401, "User authentication failed")
        self.assertAnswer(self.auth(username="alice", password="alice-pw" + wrong_code(
            SECRET["alice"]), token_code=""), 401, "User authentication failed")
        self.assertAnswer(self.auth(username="alice", password="wrong" + code, token_code=""),
                          401, "User authentication failed")
        self.assertAnswer(self.auth(username="dave", password="dave-pw123456", token_code=""),
                          401, "No token configured")
        self.assertAnswer(self.auth(username="erin", password="erin-pw" + oathtool(
            SECRET["erin"]), token_code=""), 401, "Token is out of sync")

    def test_lockout(self):
        for _ in range(4):
            self.auth(username="alice", password="wrong")
        self.assertAnswer(self.auth(username="alice", password="alice-pw"), 200)  # resets count
        for _ in range(5):
            self.assertAnswer(self.auth(username="alice", password="wrong"),
                              401, "User authentication failed")
        self.assertAnswer(self.auth(username="alice", password="alice-pw"),
                          401, "Account is disabled")
        self.assertEqual(post("/api/v1/pushauth/", {"username": "alice"}).status, 401)
        control("reset")
        self.assertAnswer(self.auth(username="alice", password="alice-pw"), 200)

    def test_password_compared_exactly(self):
        self.assertEqual(control("users", {"username": "uni", "password": HARD_PASSWORD,
                                           "token": False}).status, 200)
        self.assertAnswer(self.auth(username="uni", password=HARD_PASSWORD), 200)
        nfd = unicodedata.normalize("NFD", HARD_PASSWORD)
        self.assertNotEqual(nfd, HARD_PASSWORD)
        for variant in (nfd, HARD_PASSWORD[:-1], HARD_PASSWORD + " ", HARD_PASSWORD.upper()):
            self.assertAnswer(self.auth(username="uni", password=variant),
                              401, "User authentication failed")

    def test_realmauth(self):
        away_from_step_boundary()
        realm = "/api/v1/realmauth/"
        frank = dict(username="frank", realm="corp", password="frank-pw")
        self.assertAnswer(self.auth(realm, **frank), 202)
        self.assertAnswer(self.auth(realm, username="frank", realm="corp",
                                    token_code=oathtool(SECRET["frank"])), 202)
        self.assertAnswer(self.auth(realm, username="frank", realm="corp", password="x"),
                          401, "User authentication failed")
        self.assertAnswer(self.auth(realm, username="frank", realm="other", password="frank-pw"),
                          404, "User does not exist")
        self.assertEqual(self.auth(realm, username="frank", password="frank-pw").status, 400)
        control("users", {"username": "frank", "realm": "corp", "password": "frank-pw",
                          "local": False})
        self.assertAnswer(self.auth(realm, **frank), 200)
        self.assertAnswer(self.auth("/api/v1/realmauth", username="frank", realm="corp",
                                    password="frank-pw"), 200)

    def test_runtime_user_replaces(self):
        control("users", {"username": "alice", "password": "alice-pw", "disabled": True})
        self.assertAnswer(self.auth(username="alice", password="alice-pw"),
                          401, "Account is disabled")
        control("reset")
        self.assertAnswer(self.auth(username="alice", password="alice-pw"), 200)


# --------------------------------------------------------------------------
# API credentials, routing, one-write answers

class ApiTest(SimTestCase):
    def test_api_credentials(self):
        body = {"username": "alice", "password": "alice-pw"}
        for auth in (None, ("apiadmin", "wrong"), ("nobody", "s3cr3t-api-key"), ("", "")):
            with self.subTest(auth=auth):
                resp = post("/api/v1/auth/", body, auth=auth)
                self.assertEqual((resp.status, resp.body), (401, b""))
        resp = post("/api/v1/auth/", body, auth=None, headers={"Authorization": "Basic !!!"})
        self.assertEqual((resp.status, resp.body), (401, b""))
        self.assertAnswer(post("/api/v1/auth/", body, auth=NOPERM), 403, "Permission denied")
        resp = request(MAIN_SIM, "GET", "/api/v1/fortitokens/", auth=NOPERM)
        self.assertEqual((resp.status, resp.text), (403, "Permission denied"))

    def test_routing(self):
        self.assertEqual(request(MAIN_SIM, "GET", "/api/v1/nothing/").status, 404)
        self.assertEqual(request(MAIN_SIM, "GET", "/").status, 404)
        self.assertEqual(request(MAIN_SIM, "GET", "/api/v1/auth/").status, 405)
        self.assertEqual(post("/api/v1/fortitokens/", {}).status, 405)
        self.assertEqual(request(MAIN_SIM, "GET", "/_sim/nothing", auth=None).status, 404)

    def test_keep_alive_and_latency(self):
        conn = connect(MAIN_SIM)
        times = []
        try:
            for _ in range(20):
                start = time.monotonic()
                resp = request(MAIN_SIM, "POST", "/api/v1/auth/",
                               {"username": "alice", "password": "wrong"}, conn=conn)
                times.append(time.monotonic() - start)
                self.assertEqual(resp.status, 401)
                self.assertNotIn("close", resp.headers.get("Connection", ""))
        finally:
            conn.close()
        # A delayed-ACK stall costs every request on the connection its 40 ms;
        # a loaded machine slows some requests, not all 20: the fastest shows it.
        self.assertLess(min(times), 0.04, times)
        self.assertEqual(len({e["conn"] for e in logged()}), 1)

    def test_close_idle_closes_after_an_answer_that_promised_keep_alive(self):
        control("settings", {"close_idle": True})
        conn = connect(MAIN_SIM)
        try:
            resp = request(MAIN_SIM, "POST", "/api/v1/auth/", {"username": "alice", "password": "wrong"},
                           conn=conn)
            self.assertEqual(resp.status, 401)
            self.assertNotIn("close", resp.headers.get("Connection", ""))
            with self.assertRaises((http.client.HTTPException, OSError)):
                request(MAIN_SIM, "POST", "/api/v1/auth/", {"username": "alice", "password": "wrong"},
                        conn=conn)
        finally:
            conn.close()
        self.assertEqual([e["outcome"] for e in logged()], ["answered"])

    def test_each_answer_is_one_tls_record(self):
        api_key = base64.b64encode(f"{API[0]}:{API[1]}".encode()).decode()
        assert_one_record_answers(self, MAIN_SIM, f"Basic {api_key}", (
            ("/api/v1/auth/", b'{"username":"alice","password":"x"}'),
            ("/api/v1/fortitokens/?limit=3", b"")))


def assert_one_record_answers(test, sim, authorization, requests):
    """Send (path, body) requests (POST if a body, else GET) on one connection.
    An SSL read returns at most one TLS record: if the whole answer comes back
    from one recv(), headers and body were written together."""
    context = tls_context()
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            for path, body in requests:
                method = "POST" if body else "GET"
                head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Authorization: {authorization}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
                tls.sendall(head.encode() + body)
                time.sleep(0.15)
                data = tls.recv(65536)
                headers, _, payload = data.partition(b"\r\n\r\n")
                length = int([line.split(b":")[1] for line in headers.split(b"\r\n")
                              if line.lower().startswith(b"content-length")][0])
                test.assertGreater(length, 0)
                test.assertEqual(len(payload), length, data)


# --------------------------------------------------------------------------
# /pushauth/

class PushTest(SimTestCase):
    PUSH = "/api/v1/pushauth/"

    def push(self, username, **fields):
        return post(self.PUSH, dict(username=username, **fields))

    def test_approve_and_reject_after_delay(self):
        start = time.monotonic()
        self.assertEqual(self.push("alice").status, 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.19)
        self.assertEqual(self.push("grace").status, 401)

    def test_not_found_and_disabled(self):
        self.assertEqual(self.push("bob").status, 404)      # no FortiToken Mobile
        self.assertEqual(self.push("dave").status, 404)
        self.assertEqual(self.push("nobody").status, 404)
        self.assertEqual(self.push("carol").status, 401)    # disabled
        self.assertEqual(self.push("x" * 51).status, 400)
        self.assertEqual(post(self.PUSH, {"realm": "corp"}).status, 400)

    def test_realm(self):
        self.assertEqual(self.push("frank", realm="corp").status, 200)
        self.assertEqual(self.push("frank", realm="other").status, 404)
        control("users", {"username": "frank", "realm": "lab"})
        self.assertEqual(self.push("frank").status, 400)    # ambiguous without realm
        self.assertEqual(self.push("frank", realm="lab").status, 200)

    def test_overrides_and_error_codes(self):
        # alice's own push answers after 30 s: an override whose "delay": 0
        # were ignored would take that long, however loaded the machine.
        slow = copy.deepcopy(next(u for u in EXAMPLE["users"] if u["username"] == "alice"))
        slow["push"] = {"action": "approve", "delay": 30}
        self.assertEqual(control("users", slow).status, 200)
        for action, status in (("500", 500), ("503", 503), ("404", 404), ("reject", 401),
                               ("approve", 200)):
            control("push", {"username": "alice", "action": action, "delay": 0})
            start = time.monotonic()
            self.assertEqual(self.push("alice").status, status, action)
            self.assertLess(time.monotonic() - start, 20)
        control("push", {"username": "*", "action": "reject", "delay": 0})
        self.assertEqual(self.push("alice").status, 401)
        self.assertEqual(self.push("frank", realm="corp").status, 401)
        self.assertEqual(control("push", {"username": "alice", "action": "maybe"}).status, 400)
        control("reset")
        self.assertEqual(self.push("grace").status, 401)

    def test_wait_decided_by_control(self):
        control("push", {"username": "alice", "action": "wait"})
        for decision, status in (("approve", 200), ("reject", 401)):
            result = {}
            client = threading.Thread(target=lambda: result.update(r=self.push("alice")),
                                      daemon=True)
            client.start()
            self.assertEqual(control(f"push/alice/{decision}", {"wait": 3}).status, 200)
            client.join(5)
            self.assertEqual(result["r"].status, status)
        self.assertEqual(control("push/alice/approve").status, 404)  # nothing pending

    def test_reset_drops_held_push_and_client_leaving_unqueues(self):
        control("push", {"username": "alice", "action": "wait"})
        errors = []

        def held_push():
            try:
                self.push("alice")
            except (http.client.HTTPException, OSError) as exc:
                errors.append(exc)

        client = threading.Thread(target=held_push, daemon=True)
        client.start()
        wait_until(lambda: control("state", method="GET").json()["pending_pushes"])
        control("reset")
        client.join(3)
        self.assertEqual(len(errors), 1)
        control("push", {"username": "alice", "action": "wait"})
        with self.assertRaises(TimeoutError):
            post(self.PUSH, {"username": "alice"}, timeout=0.3)
        wait_until(lambda: not control("state", method="GET").json()["pending_pushes"])
        self.assertEqual(control("push/alice/approve").status, 404)

    def test_never_answers_until_client_leaves(self):
        control("push", {"username": "alice", "action": "never"})
        with self.assertRaises(TimeoutError):
            post(self.PUSH, {"username": "alice"}, timeout=0.4)
        entry = wait_until(lambda: [e for e in logged() if e["outcome"] == "client_gone"])[0]
        self.assertIsNone(entry["status"])

    def test_decided_at_is_logged(self):
        start = time.time()
        self.assertEqual(self.push("alice").status, 200)
        end = time.time()
        entry = logged()[-1]
        self.assertTrue(start + 0.19 <= entry["decided_at"] <= end, (start, entry, end))
        self.assertEqual(entry["auth"], "basic")
        control("push", {"username": "alice", "action": "wait"})
        result = {}
        client = threading.Thread(target=lambda: result.update(r=self.push("alice")),
                                  daemon=True)
        client.start()
        wait_until(lambda: control("state", method="GET").json()["pending_pushes"])
        before = time.time()
        self.assertEqual(control("push/alice/reject").status, 200)
        client.join(5)
        self.assertEqual(result["r"].status, 401)
        self.assertTrue(before <= logged()[-1]["decided_at"] <= time.time())
        self.assertEqual(post("/api/v1/auth/", {"username": "alice", "password": "x"}).status,
                         401)
        self.assertIsNone(logged()[-1]["decided_at"])  # not a push

    def test_fields_are_logged(self):
        fields = {"username": "alice", "realm": None, "user_ip": "203.0.113.5",
                  "timestamp": "2024-01-01T00:00:00Z", "account": "root",
                  "user_agent": "pam_fac/1", "log_message": "sshd login to h as alice"}
        fields.pop("realm")
        self.assertEqual(post(self.PUSH, fields).status, 200)
        self.assertEqual(logged()[-1]["json"], fields)


# --------------------------------------------------------------------------
# /fortitokens/

class TokensTest(SimTestCase):
    TOTAL = 2 + GENERATED_TOKENS

    def tokens(self, query="", status=200):
        resp = request(MAIN_SIM, "GET", "/api/v1/fortitokens/" + query)
        self.assertEqual(resp.status, status, resp.body[:200])
        return resp.json() if status == 200 else resp

    def test_seed_example(self):
        page = self.tokens("?format=json&type=ftm&status=available&limit=1")
        generated = sum(1 for t in map(fac_sim.synthetic_token, range(GENERATED_TOKENS))
                        if (t.type, t.status) == ("ftm", "available"))
        self.assertEqual(page["meta"], {
            "limit": 1, "offset": 0, "previous": None, "total_count": 2 + generated,
            "next": "/api/v1/fortitokens/?type=ftm&status=available&offset=1&limit=1&format=json"})
        self.assertEqual(page["objects"], [{"resource_uri": "/api/v1/fortitokens/1/",
                                            "serial": "FTKMOB44142CCBF3", "status": "available",
                                            "type": "ftm"}])

    def test_pagination_over_all_tokens(self):
        page = self.tokens()
        self.assertEqual((page["meta"]["limit"], len(page["objects"])), (20, 20))
        self.assertEqual(page["meta"]["next"], "/api/v1/fortitokens/?offset=20&limit=20")
        self.assertEqual(self.tokens("?limit=5000")["meta"]["limit"], 1000)
        serials, url, pages = [], "/api/v1/fortitokens/?limit=1000", 0
        while url:
            page = request(MAIN_SIM, "GET", url).json()
            self.assertEqual(page["meta"]["total_count"], self.TOTAL)
            serials += [o["serial"] for o in page["objects"]]
            url, pages = page["meta"]["next"], pages + 1
        self.assertEqual((pages, len(serials), len(set(serials))), (2, self.TOTAL, self.TOTAL))
        last = self.tokens("?limit=1000&offset=1000")
        self.assertEqual(last["meta"]["previous"], "/api/v1/fortitokens/?offset=0&limit=1000")
        self.assertIsNone(last["meta"]["next"])
        self.assertEqual(self.tokens(f"?offset={self.TOTAL + 5}")["objects"], [])

    def test_filters(self):
        ftm = self.tokens("?type=ftm&limit=1")["meta"]["total_count"]
        self.assertEqual(ftm, 2 + GENERATED_TOKENS // 2)
        self.assertEqual(self.tokens("?type__iexact=FTM")["meta"]["total_count"], ftm)
        self.assertEqual(self.tokens("?type__exact=ftm")["meta"]["total_count"], ftm)
        self.assertEqual(self.tokens("?type=FTM")["meta"]["total_count"], 0)
        generated = [fac_sim.synthetic_token(i) for i in range(GENERATED_TOKENS)]
        available = [t for t in generated if t.status == "available"]
        self.assertEqual(len(available), 376)
        self.assertEqual(self.tokens("?status=available")["meta"]["total_count"],
                         2 + len(available))
        self.assertEqual(self.tokens("?type=ftm&status=available")["meta"]["total_count"],
                         2 + len([t for t in available if t.type == "ftm"]))
        self.assertEqual(self.tokens("?status__iexact=ASSIGNED&type=ftk")["meta"]["total_count"],
                         len([t for t in generated if (t.type, t.status) == ("ftk", "assigned")]))
        one = self.tokens("?serial=FTKMOB4471BB94D1")
        self.assertEqual([o["serial"] for o in one["objects"]], ["FTKMOB4471BB94D1"])
        self.assertEqual(self.tokens("?serial__iexact=ftkmob4471bb94d1")["meta"]["total_count"], 1)
        page = self.tokens("?type=ftk&limit=10&offset=20")
        self.assertEqual(page["meta"]["next"], "/api/v1/fortitokens/?type=ftk&offset=30&limit=10")
        self.assertEqual(page["meta"]["previous"],
                         "/api/v1/fortitokens/?type=ftk&offset=10&limit=10")
        self.assertTrue(all(o["type"] == "ftk" for o in page["objects"]))

    def test_invalid_parameters(self):
        for query in ("?limit=abc", "?limit=-1", "?offset=x", "?limit=", "?serial__contains=F",
                      "?format=xml"):
            with self.subTest(query=query):
                self.tokens(query, status=400)


# --------------------------------------------------------------------------
# Request log

class RequestLogTest(SimTestCase):
    def test_body_is_logged_byte_for_byte(self):
        body = json.dumps({"username": "alice", "password": HARD_PASSWORD},
                          ensure_ascii=False).encode("utf-8")
        self.assertIn(b"\\\\", body)
        self.assertEqual(post("/api/v1/auth/?x=1", body).status, 401)
        control("state", method="GET")  # control requests are not logged
        entries = logged()
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertEqual(base64.b64decode(entry["body_b64"]), body)
        self.assertEqual(entry["json"]["password"], HARD_PASSWORD)
        expected = {"method": "POST", "path": "/api/v1/auth/", "query": "x=1",
                    "api_user": "apiadmin", "status": 401, "outcome": "answered",
                    "content_type": "application/json", "user_agent": "fac-sim-selftest/1"}
        self.assertEqual({k: entry[k] for k in expected}, expected)
        self.assertIsInstance(entry["time"], float)
        # The --log file has the same entry.
        with open(MAIN_SIM.log_path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([e for e in lines if e["seq"] == entry["seq"]], [entry])

    def test_sequence_and_non_json(self):
        post("/api/v1/auth/", b"\x00\xffraw")
        request(MAIN_SIM, "GET", "/api/v1/fortitokens/", auth=None)
        first, second = logged()
        self.assertEqual(second["seq"], first["seq"] + 1)
        self.assertEqual(base64.b64decode(first["body_b64"]), b"\x00\xffraw")
        self.assertIsNone(first["json"])
        self.assertEqual((second["api_user"], second["status"], second["body_b64"]),
                         (None, 401, ""))


# --------------------------------------------------------------------------
# Faults and delays

class FaultTest(SimTestCase):
    BODY = {"username": "alice", "password": "alice-pw"}

    def test_status_and_count(self):
        control("faults", {"path": "/api/v1/auth/", "status": 503, "body": "busy", "count": 2})
        for _ in range(2):
            self.assertAnswer(post("/api/v1/auth/", self.BODY), 503, "busy")
        self.assertAnswer(post("/api/v1/auth/", self.BODY), 200)
        self.assertEqual([e["status"] for e in logged()], [503, 503, 200])

    def test_unlimited_until_reset_and_prefix(self):
        control("faults", {"path": "/api/v1/push", "status": 500})
        for _ in range(3):
            self.assertEqual(post("/api/v1/pushauth/", {"username": "alice"}).status, 500)
        self.assertEqual(post("/api/v1/auth/", self.BODY).status, 200)
        control("reset")
        self.assertEqual(post("/api/v1/pushauth/", {"username": "alice"}).status, 200)

    def test_first_match_wins_and_headers(self):
        control("faults", {"path": "/api/v1/", "status": 302, "count": 1,
                           "headers": {"Location": "https://127.0.0.1:1/elsewhere"}})
        control("faults", {"path": "/api/v1/auth/", "status": 500, "count": 1})
        resp = post("/api/v1/auth/", self.BODY)
        self.assertEqual((resp.status, resp.headers["Location"]),
                         (302, "https://127.0.0.1:1/elsewhere"))
        self.assertEqual(post("/api/v1/auth/", self.BODY).status, 500)

    def test_close(self):
        control("faults", {"path": "/api/v1/auth/", "action": "close", "count": 1})
        with self.assertRaises((http.client.HTTPException, OSError)):
            post("/api/v1/auth/", self.BODY)
        self.assertEqual(post("/api/v1/auth/", self.BODY).status, 200)
        self.assertEqual([(e["status"], e["outcome"]) for e in logged()],
                         [(None, "closed"), (200, "answered")])

    def test_truncate(self):
        control("faults", {"path": "/api/v1/auth/", "action": "truncate", "body": "x" * 100,
                           "count": 1})
        with self.assertRaises(http.client.IncompleteRead):
            post("/api/v1/auth/", self.BODY)

    def test_delay_and_hang(self):
        control("faults", {"path": "/api/v1/auth/", "status": 500, "delay": 0.3, "count": 1})
        start = time.monotonic()
        self.assertEqual(post("/api/v1/auth/", self.BODY).status, 500)
        self.assertGreaterEqual(time.monotonic() - start, 0.29)
        control("faults", {"path": "/api/v1/auth/", "action": "hang", "count": 1})
        with self.assertRaises(TimeoutError):
            post("/api/v1/auth/", self.BODY, timeout=0.3)

    def test_global_delay(self):
        # Control calls are not delayed: one that were would take the whole 30 s.
        control("delay", {"seconds": 30})
        start = time.monotonic()
        control("state", method="GET")
        self.assertLess(time.monotonic() - start, 20)
        control("delay", {"seconds": 0.3})
        start = time.monotonic()
        self.assertEqual(post("/api/v1/auth/", self.BODY).status, 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.29)

    def test_bad_control_bodies(self):
        for path, body in (("faults", {"path": "nope"}), ("faults", {"path": "/", "action": "x"}),
                           ("delay", {"seconds": -1}), ("users", {"password": "x"}),
                           ("push", {"action": "approve"}), ("settings", {"lockout": 1}),
                           ("faults", b"{")):
            with self.subTest(path=path, body=body):
                self.assertEqual(control(path, body).status, 400)


# --------------------------------------------------------------------------
# FortiToken Cloud mode (--mode ftc), on FTC_SIM

def ftc(method, path, body=None, token=None, headers=None, **kw):
    """One request to FTC_SIM, with "Authorization: Bearer <token>" if given."""
    hdrs = {"Authorization": f"Bearer {token}"} if token else {}
    hdrs.update(headers or {})
    return request(FTC_SIM, method, path, body, auth=None, headers=hdrs, **kw)


def ftc_control(path, obj=None, method="POST"):
    return control(path, obj, method, sim=FTC_SIM)


def ftc_login(client=FTC_CLIENT):
    resp = ftc("POST", "/api/v1/login", client)
    assert resp.status == 201, (resp.status, resp.body)
    return resp.json()["access_token"]


class FtcTestCase(unittest.TestCase):
    def setUp(self):
        self.assertEqual(ftc_control("reset").status, 200)
        self.token = ftc_login()

    def api(self, method, path, body=None, **kw):
        return ftc(method, path, body, token=self.token, **kw)

    def assertJson(self, resp, status, obj):
        self.assertEqual((resp.status, resp.json()), (status, obj))
        self.assertEqual(resp.headers["Content-Type"], "application/json")

    def code(self, username, code, **fields):
        return self.api("POST", "/api/v1/auth", dict(username=username, token=code, **fields))

    def push(self, username, **fields):
        resp = self.api("POST", "/api/v1/auth", dict(username=username, **fields))
        self.assertEqual(resp.status, 200, resp.body)
        authid = resp.json()["authid"]
        self.assertEqual(uuid.UUID(authid).version, 4)
        return authid

    def status_of(self, authid, query=""):
        resp = self.api("GET", f"/api/v1/auth/{authid}{query}")
        self.assertEqual(resp.status, 200, resp.body)
        return resp.json()["status"]

    def batch(self, query=f"?sn={SERIAL}", status=200, **kw):
        resp = self.api("GET", "/api/v1/auth" + query, **kw)
        self.assertEqual(resp.status, status, resp.body)
        return resp.json()

    def ftc_state(self):
        return ftc_control("state", method="GET").json()["ftc"]


class FtcLoginTest(FtcTestCase):
    BAD_CREDENTIALS = {"error": "invalid client credentials"}
    BAD_BEARER = {"error": "invalid or expired token"}

    def test_login_ok_and_bad(self):
        resp = ftc("POST", "/api/v1/login", FTC_CLIENT)
        self.assertEqual(resp.status, 201)
        self.assertEqual(sorted(resp.json()), ["access_token", "expires_in"])
        self.assertEqual(resp.json()["expires_in"], 3600)
        self.assertGreaterEqual(len(resp.json()["access_token"]), 20)
        self.assertNotEqual(resp.json()["access_token"], self.token)
        client_id, secret = FTC_CLIENT["client_id"], FTC_CLIENT["client_secret"]
        for body in ({"client_id": client_id, "client_secret": "wrong"},
                     {"client_id": "nobody", "client_secret": secret},
                     {"client_id": client_id, "client_secret": secret + "x"},
                     {"client_id": client_id}, {"client_secret": secret}, {},
                     {"client_id": 5, "client_secret": secret},
                     {"client_id": client_id, "client_secret": None}):
            with self.subTest(body=body):
                self.assertJson(ftc("POST", "/api/v1/login", body), 401, self.BAD_CREDENTIALS)
        self.assertEqual(ftc("POST", "/api/v1/login", b"nope").status, 400)
        self.assertEqual(ftc("POST", "/api/v1/login", FTC_CLIENT,
                             content_type="application/x-www-form-urlencoded").status, 400)
        self.assertEqual(ftc("GET", "/api/v1/login").status, 405)
        self.assertEqual(ftc("POST", "/api/v1/login/", FTC_CLIENT).status, 201)
        ftc_control("faults", {"path": "/api/v1/login", "status": 503, "count": 1})
        self.assertEqual(ftc("POST", "/api/v1/login", FTC_CLIENT).status, 503)
        self.assertEqual(ftc("POST", "/api/v1/login", FTC_CLIENT).status, 201)

    def test_bearer_required(self):
        unknown = f"/api/v1/auth/{uuid.uuid4()}"
        code = {"username": "alice", "token": "123456"}
        basic = "Basic " + base64.b64encode(f"{API[0]}:{API[1]}".encode()).decode()
        for authorization in (None, "Bearer", "Bearer ", f"Bearer {self.token}x",
                              f"Token {self.token}", basic, self.token):
            with self.subTest(authorization=authorization):
                headers = {"Authorization": authorization} if authorization else {}
                for method, path, body in (("POST", "/api/v1/auth", code),
                                           ("GET", unknown, None),
                                           ("GET", f"/api/v1/auth?sn={SERIAL}", None)):
                    resp = ftc(method, path, body, headers=headers)
                    self.assertJson(resp, 401, self.BAD_BEARER)
                    self.assertTrue(resp.headers["WWW-Authenticate"].startswith("Bearer"))
        self.assertEqual(ftc("GET", unknown, headers={"Authorization": f"bearer {self.token}"})
                         .status, 404)  # the scheme is case-insensitive: accepted
        self.assertEqual(self.api("GET", unknown).status, 404)

    def test_each_answer_is_one_tls_record(self):
        assert_one_record_answers(self, FTC_SIM, f"Bearer {self.token}", (
            ("/api/v1/auth", b'{"username":"alice"}'),
            (f"/api/v1/auth?sn={SERIAL}", b""),
            ("/api/v1/login", json.dumps(FTC_CLIENT).encode())))

    def test_routing(self):
        for method, path, status in (("GET", "/api/v1/fortitokens/", 404),
                                     ("POST", "/api/v1/pushauth/", 404),
                                     ("GET", "/api/v1/auth/a/b", 404), ("GET", "/", 404),
                                     ("PUT", "/api/v1/auth", 405),
                                     ("DELETE", f"/api/v1/auth/{uuid.uuid4()}", 405)):
            with self.subTest(method=method, path=path):
                self.assertEqual(ftc(method, path).status, status)
        self.assertEqual(control("ftc/expire_tokens").status, 404)  # FAC mode has no FTC
        self.assertEqual(ftc_control("ftc/expire_tokens", method="GET").status, 405)

    def test_expiry_via_control_and_relogin(self):
        probe = f"/api/v1/auth/{uuid.uuid4()}"
        self.assertEqual(self.api("GET", probe).status, 404)
        ftc_control("reset")
        self.assertEqual(self.api("GET", probe).status, 404)  # reset keeps tokens
        self.assertGreaterEqual(self.ftc_state()["live_tokens"], 1)
        resp = ftc_control("ftc/expire_tokens")
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(resp.json()["expired"], 1)
        self.assertJson(self.api("GET", probe), 401, self.BAD_BEARER)
        self.assertEqual(self.ftc_state()["live_tokens"], 0)
        self.token = ftc_login()
        self.assertEqual(self.api("GET", probe).status, 404)
        self.assertEqual(self.ftc_state()["live_tokens"], 1)

    def test_token_lifetime_setting(self):
        self.assertEqual(ftc_control("settings", {"token_lifetime": 1}).status, 200)
        resp = ftc("POST", "/api/v1/login", FTC_CLIENT)
        self.assertEqual(resp.json()["expires_in"], 1)
        short = resp.json()["access_token"]
        probe = f"/api/v1/auth/{uuid.uuid4()}"
        self.assertEqual(ftc("GET", probe, token=short).status, 404)
        time.sleep(1.05)
        self.assertEqual(ftc("GET", probe, token=short).status, 401)
        self.assertEqual(self.api("GET", probe).status, 404)  # issued before: an hour
        for value in (0, -1, "60", 1.5):
            self.assertEqual(ftc_control("settings", {"token_lifetime": value}).status, 400)
        ftc_control("reset")
        self.assertEqual(ftc("POST", "/api/v1/login", FTC_CLIENT).json()["expires_in"], 3600)


class FtcCodeTest(FtcTestCase):
    OK = {"status": "authenticated"}
    WRONG = {"error": "invalid token"}

    def test_codes(self):
        away_from_step_boundary()
        cases = [
            (("alice", oathtool(SECRET["alice"])), {}, 200, self.OK),
            (("alice", wrong_code(SECRET["alice"])), {}, 403, self.WRONG),
            (("alice", ""), {}, 403, self.WRONG),
            (("alice", oathtool(SECRET["alice"])),
             {"vdom": "root", "sn": SERIAL, "user_ip": "203.0.113.5"}, 200, self.OK),
            (("nobody", "123456"), {}, 404, {"error": "user not found"}),
            (("carol", oathtool(SECRET["carol"])), {}, 403, {"error": "user disabled"}),
            (("bob", oathtool(SECRET["bob"])), {}, 200, self.OK),   # no push, codes work
            (("dave", "123456"), {}, 403, self.WRONG),                # no token at all
            (("erin", oathtool(SECRET["erin"])), {}, 403, self.WRONG),  # out of sync
            (("frank", oathtool(SECRET["frank"])), {"realm": "corp"}, 200, self.OK),
            (("frank", oathtool(SECRET["frank"])), {}, 200, self.OK),  # one frank: no realm needed
            (("frank", oathtool(SECRET["frank"])), {"realm": "other"}, 404,
             {"error": "user not found"}),
            (("alice", oathtool(SECRET["alice"])), {"realm": "corp"}, 404,
             {"error": "user not found"}),
        ]
        for (username, code), extra, status, answer in cases:
            with self.subTest(username=username, extra=extra):
                self.assertJson(self.code(username, code, **extra), status, answer)

    def test_lockout_and_bad_requests(self):
        ftc_control("settings", {"lockout_after": 2})
        for _ in range(2):
            self.assertJson(self.code("alice", wrong_code(SECRET["alice"])), 403, self.WRONG)
        self.assertJson(self.code("alice", oathtool(SECRET["alice"])), 403,
                        {"error": "user disabled"})
        for body in ({"token": "123456"}, {"username": 7}, {"username": "alice", "token": 1},
                     {"username": "alice", "vdom": 1}, b"not json", b"[]"):
            with self.subTest(body=body):
                resp = self.api("POST", "/api/v1/auth", body)
                self.assertEqual(resp.status, 400)
                self.assertIn("error", resp.json())
        resp = self.api("POST", "/api/v1/auth", {"username": "alice"},
                        content_type="text/plain")
        self.assertEqual(resp.status, 400)


class FtcPushTest(FtcTestCase):
    def test_approve_then_poll(self):
        ftc_control("push", {"username": "alice", "action": "approve", "delay": 0.5})
        start = time.time()
        authid = self.push("alice")
        self.assertEqual(self.status_of(authid), "waiting")
        wait_until(lambda: self.status_of(authid) != "waiting")
        seen = time.time()
        self.assertEqual(self.status_of(authid), "authenticated")
        push = self.ftc_state()["pushes"][0]
        self.assertEqual((push["authid"], push["status"], push["username"]),
                         (authid, "authenticated", "alice"))
        self.assertAlmostEqual(push["decided_at"], push["created_at"] + 0.5, places=3)
        self.assertTrue(start + 0.5 <= push["decided_at"] <= seen, (start, push, seen))
        entry = [e for e in logged(FTC_SIM) if e["method"] == "POST" and e["json"]
                 and e["json"].get("username") == "alice"][0]
        self.assertEqual((entry["authid"], entry["push_status"], entry["decided_at"]),
                         (authid, "authenticated", push["decided_at"]))
        self.assertEqual(self.status_of(authid), "authenticated")  # and stays so

    def test_reject(self):
        authid = self.push("grace")  # the file: reject after 0.2 s
        wait_until(lambda: self.status_of(authid) != "waiting")
        self.assertEqual(self.status_of(authid), "rejected")
        self.assertIsNotNone(self.ftc_state()["pushes"][0]["decided_at"])

    def test_never_stays_waiting(self):
        ftc_control("push", {"username": "alice", "action": "never"})
        authid = self.push("alice")
        time.sleep(0.3)
        self.assertEqual(self.status_of(authid), "waiting")
        self.assertEqual(ftc_control("push/alice/approve").status, 404)  # not decidable
        state = ftc_control("state", method="GET").json()
        self.assertEqual((state["ftc"]["waiting_pushes"], state["pending_pushes"]), (1, {}))
        self.assertIsNone(state["ftc"]["pushes"][0]["decided_at"])
        ftc_control("reset")  # pushes are forgotten
        self.assertJson(self.api("GET", f"/api/v1/auth/{authid}"), 404,
                        {"error": "authid not found"})

    def test_wait_decided_by_control(self):
        ftc_control("push", {"username": "alice", "action": "wait"})
        authid = self.push("alice")
        self.assertEqual(ftc_control("state", method="GET").json()["pending_pushes"],
                         {"alice": 1})
        time.sleep(0.1)
        self.assertEqual(self.status_of(authid), "waiting")
        before = time.time()
        self.assertEqual(ftc_control("push/alice/approve").status, 200)
        after = time.time()
        self.assertEqual(self.status_of(authid), "authenticated")
        self.assertTrue(before <= self.ftc_state()["pushes"][0]["decided_at"] <= after)
        self.assertEqual(ftc_control("push/alice/approve").status, 404)  # nothing pending
        # A decision that waits for its push to arrive.
        result = {}
        decider = threading.Thread(daemon=True, target=lambda: result.update(
            r=ftc_control("push/alice/reject", {"wait": 3})))
        decider.start()
        second = self.push("alice")
        decider.join(5)
        self.assertEqual(result["r"].status, 200)
        self.assertEqual(self.status_of(second), "rejected")

    def test_push_errors(self):
        self.assertJson(self.api("POST", "/api/v1/auth", {"username": "bob"}), 404,
                        {"error": "no mobile token"})
        self.assertJson(self.api("POST", "/api/v1/auth", {"username": "nobody"}), 404,
                        {"error": "user not found"})
        self.assertJson(self.api("POST", "/api/v1/auth", {"username": "carol"}), 403,
                        {"error": "user disabled"})
        for action in ("500", "503", "404"):
            ftc_control("push", {"username": "alice", "action": action})
            resp = self.api("POST", "/api/v1/auth", {"username": "alice"})
            self.assertEqual(resp.status, int(action))
            self.assertIn("error", resp.json())
        ftc_control("push", {"username": "*", "action": "reject", "delay": 0})
        self.assertEqual(self.status_of(self.push("alice")), "rejected")
        self.assertEqual(self.ftc_state()["pushes"][0]["status"], "rejected")

    def test_vdom_accepted(self):
        authid = self.push("alice", vdom="root", user_ip="203.0.113.5", realm=None)
        wait_until(lambda: self.status_of(authid, "?vdom=root") == "authenticated")
        self.assertEqual(self.batch(f"?sn={SERIAL}&vdom=root"),
                         [{"authid": authid, "status": "authenticated"}])
        self.assertEqual(self.batch(f"?vdom=root&sn={SERIAL}&chunksize=100"), [])
        self.assertEqual(self.ftc_state()["pushes"][0]["vdom"], "root")


class FtcBatchTest(FtcTestCase):
    def test_answered_once(self):
        self.assertEqual(self.batch(), [])
        ftc_control("push", {"username": "alice", "action": "approve", "delay": 0})
        ftc_control("push", {"username": "grace", "action": "reject", "delay": 0})
        ftc_control("push", {"username": "frank", "action": "wait"})
        first, second = self.push("alice"), self.push("grace")
        third = self.push("frank", realm="corp")
        self.assertEqual(self.batch(), [{"authid": first, "status": "authenticated"},
                                        {"authid": second, "status": "rejected"}])
        self.assertEqual(self.batch(), [])
        self.assertEqual(self.status_of(first), "authenticated")  # still readable by authid
        self.assertEqual(ftc_control("push/frank/approve").status, 200)
        self.assertEqual(self.batch(f"?sn={OTHER_SERIAL}"),   # no sn: any serial gets it
                         [{"authid": third, "status": "authenticated"}])
        self.assertEqual(self.batch(), [])
        # A push started with an sn is reported only to that serial.
        fourth = self.push("alice", sn=OTHER_SERIAL)
        self.assertEqual(self.batch(), [])
        self.assertEqual(self.batch(f"?sn={OTHER_SERIAL}"),
                         [{"authid": fourth, "status": "authenticated"}])
        # The docs' example sends the sn in a JSON body.
        fifth = self.push("alice")
        self.assertEqual(self.batch("", body={"sn": SERIAL}),
                         [{"authid": fifth, "status": "authenticated"}])
        self.assertEqual(self.ftc_state()["serials"], [SERIAL, OTHER_SERIAL])

    def test_chunksize(self):
        ftc_control("push", {"username": "alice", "action": "approve", "delay": 0})
        conn = connect(FTC_SIM)
        try:
            authids = [request(FTC_SIM, "POST", "/api/v1/auth", {"username": "alice"}, auth=None,
                               headers={"Authorization": f"Bearer {self.token}"},
                               conn=conn).json()["authid"] for _ in range(101)]
        finally:
            conn.close()
        for query in ("99", "1001", "abc", "", "-100", "1e3", "100.0", "\u0661\u0660\u0660"):
            with self.subTest(chunksize=query):
                resp = self.api("GET", f"/api/v1/auth?sn={SERIAL}&chunksize="
                                + urllib.parse.quote(query))
                self.assertEqual(resp.status, 400)
                self.assertIn("chunksize", resp.json()["error"])
        chunk = self.batch(f"?sn={SERIAL}&chunksize=100")
        self.assertEqual([a["authid"] for a in chunk], authids[:100])
        self.assertEqual(self.batch(f"?sn={SERIAL}&chunksize=1000"),
                         [{"authid": authids[100], "status": "authenticated"}])
        self.assertEqual(self.batch(), [])

    def test_invalid(self):
        no_authid = {"error": "No authid is specified"}
        self.assertJson(self.api("GET", "/api/v1/auth"), 400, no_authid)
        self.assertJson(self.api("GET", "/api/v1/auth/"), 400, no_authid)
        self.assertJson(self.api("GET", "/api/v1/auth?vdom=root"), 400, no_authid)
        for sn in ("NOPE", "", SERIAL.lower()):
            with self.subTest(sn=sn):
                self.assertJson(self.api("GET", f"/api/v1/auth?sn={sn}"), 400,
                                {"error": "SN is invalid"})
        self.assertJson(self.api("GET", "/api/v1/auth", body={"sn": "NOPE"}), 400,
                        {"error": "SN is invalid"})


class FtcLogTest(FtcTestCase):
    def test_masking_and_auth_kind(self):
        secret = FTC_CLIENT["client_secret"]
        ftc("POST", "/api/v1/login", {"client_id": "x", "client_secret": secret + "-typo"})
        ftc("POST", "/api/v1/login", b"client_secret=" + secret.encode())  # not JSON
        self.assertEqual(self.api("GET", f"/api/v1/auth/{uuid.uuid4()}").status, 404)
        basic = "Basic " + base64.b64encode(f"{API[0]}:{API[1]}".encode()).decode()
        ftc("GET", "/api/v1/auth", headers={"Authorization": basic})
        login, typo, not_json, bearer, basic_entry = logged(FTC_SIM)
        for entry in (login, typo):
            self.assertEqual(entry["json"], {"client_id": entry["json"]["client_id"],
                                             "client_secret": "***"})
            self.assertEqual(json.loads(base64.b64decode(entry["body_b64"])), entry["json"])
        self.assertEqual((login["json"]["client_id"], login["status"], login["auth"]),
                         (FTC_CLIENT["client_id"], 201, None))
        self.assertEqual((base64.b64decode(not_json["body_b64"]), not_json["json"]),
                         (b"***", None))
        self.assertEqual((bearer["auth"], bearer["api_user"], bearer["status"]),
                         ("bearer", None, 404))
        self.assertEqual((basic_entry["auth"], basic_entry["api_user"], basic_entry["status"]),
                         ("basic", API[0], 401))
        # Neither the secret nor any token value is in the log, here or on disk.
        raw = ftc_control("requests", method="GET").body.decode()
        with open(FTC_SIM.log_path, encoding="utf-8") as f:
            on_disk = f.read()
        for text in (raw, on_disk):
            self.assertNotIn(secret, text)
            self.assertNotIn(self.token, text)
        self.assertIn(f'"seq": {bearer["seq"]},', on_disk)


# --------------------------------------------------------------------------
# Process behaviour, certificates, plain HTTP (each with its own simulator)

class ProcessTest(unittest.TestCase):
    def test_sigterm_while_push_is_held(self):
        sim = SimProcess(os.path.join(TMP, "users.json"))
        control("push", {"username": "*", "action": "never"}, sim=sim)
        errors = []

        def held_push():
            try:
                post("/api/v1/pushauth/", {"username": "alice"}, sim=sim, timeout=10)
            except (http.client.HTTPException, OSError) as exc:
                errors.append(exc)

        client = threading.Thread(target=held_push, daemon=True)
        client.start()
        wait_until(lambda: logged(sim))
        sim.proc.send_signal(signal.SIGTERM)
        # The held request is never answered: a simulator waiting for it would never stop.
        self.assertEqual(sim.proc.wait(10), 0)
        client.join(3)
        self.assertEqual(len(errors), 1)  # the held request ended without an answer
        with open(sim.log_path, encoding="utf-8") as f:
            entry = json.loads(f.readline())
        self.assertEqual((entry["path"], entry["status"], entry["outcome"]),
                         ("/api/v1/pushauth/", None, "stopped"))

    def test_plain_http_and_sigint(self):
        sim = SimProcess(os.path.join(TMP, "users.json"), extra=("--plain-http",))
        conn = connect(sim, context=False)
        try:
            resp = request(sim, "POST", "/api/v1/auth/",
                           {"username": "alice", "password": "alice-pw"}, conn=conn)
        finally:
            conn.close()
        self.assertEqual(resp.status, 200)
        with self.assertRaises((ssl.SSLError, OSError)):
            request(sim, "GET", "/api/v1/fortitokens/")
        sim.proc.send_signal(signal.SIGINT)
        self.assertEqual(sim.proc.wait(10), 0)

    def test_bad_users_file(self):
        cases = [({"users": [{"username": "x", "colour": "red"}]}, "colour"),
                 ({"ftc_clients": [{"client_id": "c"}]}, "client_secret"),
                 ({"ftc_clients": [{"client_id": "c", "client_secret": "s"}] * 2}, "twice"),
                 ({"ftc_serials": ["ok", ""]}, "ftc_serials"),
                 ({"token_lifetime": 0}, "token_lifetime")]
        for changes, word in cases:
            with self.subTest(changes=changes):
                path = write_users("bad.json", changes)
                result = subprocess.run([PYTHON, SIM, "--users", path, "--plain-http",
                                         "--mode", "ftc"],
                                        capture_output=True, text=True, timeout=10)
                self.assertEqual((result.returncode, result.stdout), (2, ""))
                self.assertIn(word, result.stderr)
        result = subprocess.run([PYTHON, SIM, "--users", path, "--plain-http", "--mode", "x"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual((result.returncode, result.stdout), (2, ""))
        self.assertIn("--mode", result.stderr)

    def test_help(self):
        result = subprocess.run([PYTHON, SIM, "--help"], capture_output=True, text=True,
                                timeout=10)
        self.assertEqual(result.returncode, 0)
        for word in ("USERS FILE", "CONTROL API", "/_sim/faults", "INFERRED", "--plain-http",
                     "--mode", "FTC MODE", "/api/v1/login", "/_sim/ftc/expire_tokens",
                     "ftc_clients", "decided_at"):
            self.assertIn(word, result.stdout)

    def test_ftc_mode_sigterm_while_request_is_held(self):
        sim = SimProcess(os.path.join(TMP, "users.json"), extra=("--mode", "ftc"))
        control("faults", {"path": "/api/v1/login", "action": "hang"}, sim=sim)
        errors = []

        def held_login():
            try:
                request(sim, "POST", "/api/v1/login", FTC_CLIENT, auth=None, timeout=10)
            except (http.client.HTTPException, OSError) as exc:
                errors.append(exc)

        client = threading.Thread(target=held_login, daemon=True)
        client.start()
        wait_until(lambda: logged(sim))
        sim.proc.send_signal(signal.SIGTERM)
        self.assertEqual(sim.proc.wait(10), 0)
        client.join(3)
        self.assertEqual(len(errors), 1)
        with open(sim.log_path, encoding="utf-8") as f:
            entry = json.loads(f.readline())
        self.assertEqual((entry["path"], entry["outcome"], entry["json"]["client_secret"]),
                         ("/api/v1/login", "stopped", "***"))


class CertificateTest(unittest.TestCase):
    def test_server_certificate_names(self):
        ipv6 = SimProcess(os.path.join(TMP, "users.json"), host="::1")
        for sim, host in ((ipv6, "::1"), (MAIN_SIM, "localhost"), (MAIN_SIM, "127.0.0.1")):
            conn = connect(sim, host=host)
            try:
                self.assertEqual(request(sim, "GET", "/api/v1/fortitokens/", conn=conn).status, 200)
            finally:
                conn.close()

    def test_fault_certificates_fail_verification(self):
        expected = {"wronghost": "mismatch", "expired": "expired", "selfsigned": "self-signed"}
        sims = {name: SimProcess(os.path.join(TMP, "users.json"), cert=name)
                for name in expected}
        for name, sim in sims.items():
            with self.subTest(cert=name):
                with self.assertRaises(ssl.SSLCertVerificationError) as caught:
                    request(sim, "GET", "/api/v1/fortitokens/")
                self.assertIn(expected[name], str(caught.exception))
                # An unverified context, only to read the simulator's counters.
                insecure = ssl._create_unverified_context()
                wait_until(lambda: control_via(sim, insecure, "state")
                           ["tls_handshake_failures"] >= 1)
                self.assertEqual(control_via(sim, insecure, "requests"), [])


def control_via(sim, context, name):
    conn = connect(sim, context=context)
    try:
        return request(sim, "GET", "/_sim/" + name, auth=None, conn=conn).json()
    finally:
        conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
