#!/usr/bin/python3
"""fac_sim: a FortiAuthenticator (FAC) REST API simulator for pam_fac's tests.

Python 3 standard library only. It serves, over HTTPS (or plain HTTP with
--plain-http), the part of FAC's API that pam_fac uses, as described in
docs/fac-api.md (API facts), plus a control API under /_sim/ that tests use to
script the behaviour (push answers, faults, delays) and to read back every
request the simulator received. With --mode ftc it serves FortiToken
Cloud's API instead (see FTC MODE below; the code is in ftc_sim.py).

USAGE
  fac_sim.py --users USERS.json --cert CERT.pem --key KEY.pem
             [--mode fac|ftc] [--host 127.0.0.1] [--port 0]
             [--log FILE.jsonl] [--plain-http] [--verbose]

  The server binds HOST:PORT (port 0 = any free port), prints exactly one
  line "PORT <n>" on stdout, and serves until SIGTERM or SIGINT, on which it
  exits with status 0 at once, even while requests (a held push) are open.
  A bad users file or certificate makes it exit with status 2 before the
  PORT line. Make test certificates with make_certs.sh (same directory).

USERS FILE (JSON)
  {"api_users": [{"name": "apiadmin", "key": "KEY", "permission": true}],
   "lockout_after": 5,       failed logins before an account locks (0 = never;
                             default 0)
   "reject_replay": false,   true: a TOTP code is refused once a code of the
                             same or a later time step was accepted
   "users": [{"username": "alice",          the only required field
              "password": "pw",             default: none (passwords fail)
              "totp_secret": "BASE32",      default: derived from the username,
                                            base32(sha1("fac_sim:" + username))
              "digits": 6,                  6..8
              "realm": "corp",              default null
              "local": true,                local users are the ones /auth/ sees
              "disabled": false,
              "token": true,                has a FortiToken (codes are checked)
              "out_of_sync": false,         token needs resynchronising
              "ftm": true,                  FortiToken Mobile (push) assigned
              "password_change": false,     /realmauth/ answers 202, not 200
              "push": {"action": "approve", "delay": 0.2}}],
   "tokens": [{"serial": "FTKMOB44142CCBF3", "type": "ftm",
               "status": "available"}],
   "generate_tokens": 0,     N extra synthetic tokens after "tokens": serials
                             FTKMOB%010X (even i, type ftm) / FTK200%010X (odd
                             i, type ftk); each type takes the statuses new,
                             available, pending, assigned in turn
   "ftc_clients": [{"client_id": "ID", "client_secret": "SECRET"}],
                             FTC mode: the API clients /api/v1/login accepts
   "ftc_serials": ["FTKSN0000000001"],
                             FTC mode: the serials GET /api/v1/auth?sn= knows
   "token_lifetime": 3600}   FTC mode: bearer token lifetime, seconds (>= 1)
  Keys starting with "_" are comments. Unknown keys are an error. Both modes
  read the same file (the FTC keys are ignored in FAC mode).

FAC API (HTTP Basic auth with an api_users name and key; trailing slash
optional; "Content-Type: application/json" required on POST bodies)
  Missing/wrong API credentials: 401, empty body.  permission false: 403
  "Permission denied".  Unknown path: 404.  Wrong method: 405.  Malformed
  body: 400 with a short text.  Auth answers are text/html; charset=utf-8.

  POST /api/v1/auth/       {"username", "password"?, "token_code"?}
      Local users only.  404 "User does not exist";  401 "Account is disabled"
      (disabled, or locked after lockout_after failures);  password checked
      first, exactly;  then the code: 401 "No token configured",
      401 "Token is out of sync", 401 "User authentication failed" (wrong
      password or code; counts towards lockout).  200, empty body, on success
      (resets the failure count).
      token_code "" with a non-empty password = concatenated mode: password
      must be the user's password immediately followed by a valid code.
  POST /api/v1/realmauth/  same, plus required "realm"; the user is matched
      by username and realm (local or not); 202 instead of 200 when the user
      has password_change.
  POST /api/v1/pushauth/   {"username", "realm"?, "user_ip"?, "timestamp"?,
      "account"?, "user_agent"?, "log_message"?}.  404 for an unknown user or
      one without FortiToken Mobile; 400 if the username matches users in
      several realms and no realm is given; 401 "Account is disabled" for a
      disabled or locked user.  Otherwise the push behaviour decides:
        approve / reject   200 / 401 after "delay" seconds
        never              never answers (until the client leaves or the
                           simulator stops or is reset)
        wait               held until /_sim/push/<user>/approve|reject
        404, 500, 503      that status at once
  GET /api/v1/fortitokens/ ?limit= (default 20; 0 or >1000 mean 1000;
      invalid 400) &offset= &serial= &type= &status= (exact) and
      field__exact= / field__iexact=; &format=json.  Answer
      {"meta": {"limit", "next", "offset", "previous", "total_count"},
       "objects": [{"resource_uri", "serial", "status", "type"}]}.

FTC MODE (--mode ftc: FortiToken Cloud, base /api/v1/; trailing slash
optional; JSON answers, errors as {"error": "text"}; POST bodies need
"Content-Type: application/json"; unknown path 404, wrong method 405)
  POST /api/v1/login       {"client_id", "client_secret"} (an ftc_clients
      entry): 201 {"access_token": random, "expires_in": token_lifetime};
      wrong or missing: 401 {"error": "invalid client credentials"}.
  Every other endpoint needs "Authorization: Bearer <token>" of a live
      token; missing, unknown or expired: 401
      {"error": "invalid or expired token"}.
  POST /api/v1/auth        {"username", "token"?, "realm"?, "vdom"?, "sn"?,
      "user_ip"?}.  The user is matched by username (and realm if given;
      400 if several realms match and none is given): 404 {"error": "user
      not found"};  403 {"error": "user disabled"} (disabled or locked).
      With "token" (a code; same secrets, digits, window, replay and
      lockout rules as FAC mode): 200 {"status": "authenticated"}, else 403
      {"error": "invalid token"}.  Without "token": a push; 404 {"error":
      "no mobile token"} if ftm is false, else 200 {"authid": uuid4}, and
      the push behaviour decides its status: approve / reject become
      authenticated / rejected "delay" s later; never stays waiting; wait
      stays waiting until /_sim/push/<user>/approve|reject; 404, 500, 503
      are the POST's own answer.
  GET  /api/v1/auth/<authid>[?vdom=]   200 {"status": "waiting" |
      "authenticated" | "rejected"};  404 {"error": "authid not found"}.
  GET  /api/v1/auth?sn=<serial>[&chunksize=N][&vdom=]   200 [{"authid",
      "status"}] of the pushes answered since the last such query, each
      reported once, oldest answer first, at most chunksize (100..1000,
      default 500; else 400).  No sn: 400 {"error": "No authid is
      specified"};  sn not in ftc_serials: 400 {"error": "SN is invalid"}.
      sn, chunksize and vdom may also come in a JSON body (the docs'
      example sends {"sn": ...}); the query string wins.  A push started
      with "sn" is reported only to that serial's queries.

CONTROL API (no authentication; JSON answers; never logged, delayed or
faulted)
  GET  /_sim/requests    the request log (below), oldest first
  GET  /_sim/state       pending pushes, faults, delay, settings, counters;
                         FTC mode adds "ftc": live bearer tokens, logins,
                         and every push (authid, username, status,
                         created_at, decided_at, reported)
  POST /_sim/reset       clear log, failure counters, replay state, push
                         overrides, faults, delay, runtime users and
                         settings; every held or delayed request is dropped
                         (its connection closed without an answer).  FTC:
                         pushes and batch-query state go too; issued bearer
                         tokens stay valid (see /_sim/ftc/expire_tokens)
  POST /_sim/push        {"username": "alice"|"*", "action": ..., "delay": s}
                         override a user's push behaviour ("*": everyone;
                         setting "*" clears the per-user overrides)
  POST /_sim/push/<username>/approve   (or /reject), optional body
                         {"wait": s}: decide the oldest pending "wait" push
                         of that user, waiting up to s seconds for one to
                         arrive.  200 if one was decided, else 404.  (FTC:
                         the push's status becomes authenticated/rejected.)
  POST /_sim/faults      {"path": "/api/v1/auth/", "status": 503,
                          "body": "text" (or "body_b64"), "content_type": ...,
                          "headers": {"Location": "..."}, "delay": 2.0,
                          "count": 1, "action": "respond"}
                         the next "count" API requests (default: unlimited)
                         whose path starts with "path" get this instead of
                         the normal answer, after "delay" seconds.  Actions:
                         respond (default); close (close the connection
                         without answering); hang (never answer); truncate
                         (announce the whole body, send half, close).
                         Several faults: the first added that matches wins.
  POST /_sim/delay       {"seconds": 0.5}: delay every API request
  POST /_sim/users       one user object: add, or replace the user with the
                         same username and realm (its counters restart)
  POST /_sim/settings    {"lockout_after": n, "reject_replay": bool,
                          "token_lifetime": s (for tokens issued from now),
                          "close_idle": bool}
                         close_idle: after each API answer the connection
                         is closed (close_notify, FIN) although the answer
                         did not say "Connection: close", as a load
                         balancer closes idle keep-alive connections
  POST /_sim/ftc/expire_tokens   FTC mode: every live bearer token expires
                         now (the next call with one gets 401)

REQUEST LOG
  Every API request (not /_sim/) is recorded when it arrives and completed
  when it ends; --log FILE appends each finished entry as one JSON line
  (the file is a full history: reset does not truncate it).  Fields:
    seq (never reused), time (epoch seconds), method, path, query (raw),
    api_user (Basic auth name presented, or null), status (null if none
    was sent), content_type, user_agent, body_b64 (raw body, base64),
    json (parsed body or null), and also: conn (connection number, to see
    keep-alive), outcome (pending, answered, closed, truncated, client_gone,
    reset, stopped), ms (time to the answer), auth (the Authorization
    scheme presented: "basic", "bearer", "other" or null; never its value),
    decided_at (epoch seconds when a push was decided, else null).
    FAC push: decided_at is taken as the 200/401 is written.  FTC push
    POST: the entry also has authid and push_status (the push's status);
    decided_at is the moment its status left "waiting" (for approve/reject,
    exactly created + delay), filled in /_sim/requests once it happened;
    the --log line, written when the POST is answered, has it only if the
    push was decided by then.  /api/v1/login entries never hold the
    client_secret: in json and in body_b64 (the body re-serialised) it is
    "***"; a /login body that is not a JSON object is logged as "***".

INFERRED (not stated by Fortinet; see docs/fac-api.md)
  Concatenated password+code mode rejects the plain password; push 401 has
  an empty body; push 404/500/503 texts; a disabled user's push is 401;
  API 401 has an empty body; limit 0 means the maximum; non-JSON request
  Content-Type is 400; user and realm names compare exactly (case
  sensitive); the username of a push is at most 50 characters (400).
  FTC: every status and error text of /api/v1/auth except 200 and the
  batch query's 400s: a wrong code is 403 {"error": "invalid token"}
  (FTC's docs don't say; pam_fac reads 200 as accepted, 401 as an expired
  bearer token, 403 as rejected, 404 as an unknown user), unknown user
  404, disabled 403, no mobile token 404, push start 200 (not 201);
  the 401 texts and WWW-Authenticate: Bearer; login with missing fields
  is 401, a non-JSON body 400; an unknown authid 404; sn filtering of the
  batch query; "token": "" is a (wrong) code, not a push request.
"""

import argparse
import base64
import binascii
import collections
import dataclasses
import hashlib
import hmac
import http
import http.server
import json
import os
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

TEXT_HTML = "text/html; charset=utf-8"  # what FAC sends, per the seeds
APPLICATION_JSON = "application/json"

# The exact 401/404 texts of /auth/ and /realmauth/ (docs/fac-api.md).
MSG_AUTH_FAILED = "User authentication failed"
MSG_DISABLED = "Account is disabled"
MSG_NO_TOKEN = "No token configured"
MSG_OUT_OF_SYNC = "Token is out of sync"
MSG_NO_USER = "User does not exist"
MSG_PERMISSION = "Permission denied"

# Inferred texts: Fortinet documents only the status codes here.
MSG_NO_FTM = "No FortiToken Mobile assigned"
PUSH_ERROR_TEXTS = {
    404: MSG_NO_USER,
    500: "Push server is refusing to send the push notification",
    503: "Push server is unreachable",
}

MAX_BODY = 1 << 20          # larger request bodies get 413
IDLE_TIMEOUT = 120.0        # an idle keep-alive connection is closed after this
HANDSHAKE_TIMEOUT = 10.0    # a client that never finishes TLS is dropped
MAX_DECIDE_WAIT = 60.0      # bound on /_sim/push/<u>/approve {"wait": s}
PUSH_USERNAME_MAX = 50      # pushauth "max length=50" (seed)

TOTP_STEP = 30
DEFAULT_PUSH_DELAY = 0.2
PUSH_ACTIONS = ("approve", "reject", "never", "wait", "404", "500", "503")
FAULT_ACTIONS = ("respond", "close", "hang", "truncate")
TOKEN_STATUSES = ("new", "available", "pending", "assigned")
TOKENS_DEFAULT_LIMIT = 20
TOKENS_MAX_LIMIT = 1000
TOKENS_PATH = "/api/v1/fortitokens/"
DEFAULT_TOKEN_LIFETIME = 3600   # FTC bearer tokens: "one hour" (docs/fac-api.md)
MAX_TOKEN_LIFETIME = 10 ** 7
MODES = ("fac", "ftc")

# Why a wait ended (besides a push decision "approve"/"reject").
TIMEOUT = "timeout"
CLIENT_GONE = "client_gone"
RESET = "reset"
STOPPED = "stopped"


class ConfigError(Exception):
    """A users file or control API body that does not describe valid data."""


class BadRequest(Exception):
    """A request FAC would answer with 400."""


# --------------------------------------------------------------------------
# TOTP (RFC 6238 / RFC 4226), the same computation as `oathtool --totp -b`.

def decode_base32_secret(secret):
    """Decode a base32 secret like oathtool -b: any case, spaces and padding optional."""
    cleaned = "".join(secret.split()).upper().rstrip("=")
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key, counter, digits):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def totp(secret, when, digits=6):
    """The code for the time step containing `when` (epoch seconds)."""
    return hotp(decode_base32_secret(secret), int(when // TOTP_STEP), digits)


def matching_step(secret, code, digits, now):
    """The time step (current, previous or next) whose code is `code`, else None."""
    key = decode_base32_secret(secret)
    current = int(now // TOTP_STEP)
    given = code.encode("utf-8", "surrogatepass")
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(hotp(key, step, digits).encode(), given):
            return step
    return None


def default_secret(username):
    """A stable secret for users that have a token but no totp_secret in the file."""
    digest = hashlib.sha1(b"fac_sim:" + username.encode("utf-8")).digest()
    return base64.b32encode(digest).decode()


# --------------------------------------------------------------------------
# Users file model. Parsing is strict so that a typo in a test's users file
# fails loudly instead of silently using a default.

def _take(obj, name, kinds, default, where):
    """obj[name] checked against kinds (a type or tuple), or default if absent or null."""
    if obj.get(name) is None:
        return default
    value = obj[name]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ConfigError(f"{where}: {name} must not be a boolean")
    if not isinstance(value, kinds):
        raise ConfigError(f"{where}: {name} has the wrong type ({type(value).__name__})")
    return value


def _check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: must be a JSON object")
    unknown = [k for k in obj if k not in allowed and not k.startswith("_")]
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")


@dataclasses.dataclass(frozen=True)
class PushBehaviour:
    action: str = "approve"
    delay: float = DEFAULT_PUSH_DELAY

    @classmethod
    def from_json(cls, obj, where):
        _check_keys(obj, ("action", "delay"), where)
        action = str(_take(obj, "action", (str, int), "approve", where))
        if action not in PUSH_ACTIONS:
            raise ConfigError(f"{where}: action must be one of {', '.join(PUSH_ACTIONS)}")
        delay = float(_take(obj, "delay", (int, float), DEFAULT_PUSH_DELAY, where))
        if not 0 <= delay <= 3600:
            raise ConfigError(f"{where}: delay must be between 0 and 3600 seconds")
        return cls(action, delay)


@dataclasses.dataclass(frozen=True)
class User:
    username: str
    password: object = None          # str or None (then no password matches)
    totp_secret: str = ""
    digits: int = 6
    realm: object = None             # str or None
    local: bool = True
    disabled: bool = False
    token: bool = True
    out_of_sync: bool = False
    ftm: bool = True
    password_change: bool = False
    push: PushBehaviour = PushBehaviour()

    FIELDS = ("username", "password", "totp_secret", "digits", "realm", "local",
              "disabled", "token", "out_of_sync", "ftm", "password_change", "push")

    @property
    def key(self):
        return (self.username, self.realm)

    @classmethod
    def from_json(cls, obj, where="user"):
        _check_keys(obj, cls.FIELDS, where)
        username = _take(obj, "username", str, None, where)
        if not username:
            raise ConfigError(f"{where}: username is required")
        where = f"{where} {username!r}"
        secret = _take(obj, "totp_secret", str, None, where) or default_secret(username)
        try:
            decode_base32_secret(secret)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"{where}: totp_secret is not base32 ({exc})") from None
        digits = _take(obj, "digits", int, 6, where)
        if not 6 <= digits <= 8:
            raise ConfigError(f"{where}: digits must be 6, 7 or 8")
        flags = {name: _take(obj, name, bool, default, where) for name, default in (
            ("local", True), ("disabled", False), ("token", True), ("out_of_sync", False),
            ("ftm", True), ("password_change", False))}
        return cls(username=username,
                   password=_take(obj, "password", str, None, where),
                   totp_secret=secret, digits=digits,
                   realm=_take(obj, "realm", str, None, where),
                   push=PushBehaviour.from_json(obj.get("push", {}), f"{where} push"),
                   **flags)


@dataclasses.dataclass(frozen=True)
class ApiUser:
    name: str
    key: str
    permission: bool = True


@dataclasses.dataclass(frozen=True)
class Token:
    serial: str
    type: str
    status: str


@dataclasses.dataclass(frozen=True)
class Config:
    api_users: dict                  # name -> ApiUser
    users: tuple                     # of User, file order
    tokens: tuple                    # of Token, file order then generated
    lockout_after: int = 0
    reject_replay: bool = False
    ftc_clients: tuple = ()          # FTC mode: of (client_id, client_secret)
    ftc_serials: tuple = ()          # FTC mode: serials the batch query knows
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME


def synthetic_token(i):
    """The i-th generated token: types alternate, each type cycles through the statuses."""
    status = TOKEN_STATUSES[(i // 2) % len(TOKEN_STATUSES)]
    if i % 2 == 0:
        return Token(f"FTKMOB{i:010X}", "ftm", status)
    return Token(f"FTK200{i:010X}", "ftk", status)


def check_token_lifetime(value, where):
    if not 1 <= value <= MAX_TOKEN_LIFETIME:
        raise ConfigError(f"{where}: token_lifetime must be 1..{MAX_TOKEN_LIFETIME} seconds")
    return value


def parse_ftc_clients(obj):
    clients = []
    for i, item in enumerate(_take(obj, "ftc_clients", list, [], "users file")):
        where = f"ftc_clients[{i}]"
        _check_keys(item, ("client_id", "client_secret"), where)
        client_id = _take(item, "client_id", str, "", where)
        secret = _take(item, "client_secret", str, "", where)
        if not client_id or not secret:
            raise ConfigError(f"{where}: client_id and client_secret are required")
        clients.append((client_id, secret))
    if len({c for c, _ in clients}) != len(clients):
        raise ConfigError("ftc_clients: the same client_id appears twice")
    serials = _take(obj, "ftc_serials", list, [], "users file")
    if not all(isinstance(s, str) and s for s in serials):
        raise ConfigError("ftc_serials: must be non-empty strings")
    return tuple(clients), tuple(serials)


def parse_config(obj):
    _check_keys(obj, ("api_users", "lockout_after", "reject_replay", "users", "tokens",
                      "generate_tokens", "ftc_clients", "ftc_serials", "token_lifetime"),
                "users file")
    api_users = {}
    for i, item in enumerate(_take(obj, "api_users", list, [], "users file")):
        where = f"api_users[{i}]"
        _check_keys(item, ("name", "key", "permission"), where)
        name, key = _take(item, "name", str, "", where), _take(item, "key", str, "", where)
        if not name or not key:
            raise ConfigError(f"{where}: name and key are required")
        api_users[name] = ApiUser(name, key, _take(item, "permission", bool, True, where))
    users = tuple(User.from_json(item, f"users[{i}]")
                  for i, item in enumerate(_take(obj, "users", list, [], "users file")))
    if len({u.key for u in users}) != len(users):
        raise ConfigError("users: the same username and realm appear twice")
    tokens = []
    for i, item in enumerate(_take(obj, "tokens", list, [], "users file")):
        where = f"tokens[{i}]"
        _check_keys(item, ("serial", "type", "status"), where)
        serial = _take(item, "serial", str, "", where)
        if not serial:
            raise ConfigError(f"{where}: serial is required")
        tokens.append(Token(serial, _take(item, "type", str, "ftm", where),
                            _take(item, "status", str, "available", where)))
    generate = _take(obj, "generate_tokens", int, 0, "users file")
    if not 0 <= generate <= 1_000_000:
        raise ConfigError("generate_tokens must be between 0 and 1000000")
    tokens.extend(synthetic_token(i) for i in range(generate))
    lockout = _take(obj, "lockout_after", int, 0, "users file")
    if lockout < 0:
        raise ConfigError("lockout_after must be 0 or more")
    ftc_clients, ftc_serials = parse_ftc_clients(obj)
    lifetime = check_token_lifetime(
        _take(obj, "token_lifetime", int, DEFAULT_TOKEN_LIFETIME, "users file"), "users file")
    return Config(api_users, users, tuple(tokens), lockout,
                  _take(obj, "reject_replay", bool, False, "users file"),
                  ftc_clients, ftc_serials, lifetime)


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse_config(json.load(f))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None


# --------------------------------------------------------------------------
# Interruptible waits. A held request must end when the client goes away,
# when a test decides the push, on reset and on shutdown, without polling:
# select() watches the client socket and a pipe that wake() writes to.

def client_state(sock):
    """After select() found `sock` readable mid-request: 'gone', 'talking' or 'quiet'."""
    saved = sock.gettimeout()
    sock.setblocking(False)
    try:
        if isinstance(sock, ssl.SSLSocket):
            data = sock.recv(1)           # TLS can't peek; a close_notify reads as b""
        else:
            data = sock.recv(1, socket.MSG_PEEK)
    except (ssl.SSLWantReadError, BlockingIOError, InterruptedError):
        return "quiet"                    # a partial TLS record: nothing to decide yet
    except OSError:
        return "gone"
    finally:
        sock.settimeout(saved)
    return "talking" if data else "gone"


class Waiter:
    """One request's wait, ended by a timeout, the client leaving, or wake()."""

    def __init__(self, sock):
        self._sock = sock
        self._read_fd, self._write_fd = os.pipe()
        self._lock = threading.Lock()
        self.reason = None
        self.client_talked = False  # the client sent bytes while held: close afterwards

    def wake(self, reason):
        """End the wait with `reason`; False if it had already ended."""
        with self._lock:
            if self.reason is not None:
                return False
            self.reason = reason
        os.write(self._write_fd, b"x")
        return True

    def wait(self, timeout=None):
        """Wait up to `timeout` seconds (None: no limit); returns why it ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        watched = [self._read_fd] + ([self._sock] if self._sock is not None else [])
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select(watched, [], [], remaining)
            if self._read_fd in readable:
                return self.reason
            if not readable:
                return TIMEOUT if self.wake(TIMEOUT) else self.reason
            state = client_state(self._sock)
            if state == "gone":
                return CLIENT_GONE if self.wake(CLIENT_GONE) else self.reason
            if state == "talking":
                # Can't tell a later close from more data any more: stop watching.
                self.client_talked = True
                watched.remove(self._sock)

    def close(self):
        os.close(self._read_fd)
        os.close(self._write_fd)


# --------------------------------------------------------------------------
# Simulator state: users, counters, overrides, faults, the request log.

def _is_header_text(value):
    """A string that can go into a header line as is (latin-1, no line breaks)."""
    return (isinstance(value, str) and "\r" not in value and "\n" not in value
            and all(ord(c) < 256 for c in value))


@dataclasses.dataclass
class Fault:
    path: str
    status: int = 503
    body: bytes = b""
    content_type: str = TEXT_HTML
    headers: tuple = ()
    delay: float = 0.0
    count: object = None             # int or None (unlimited)
    action: str = "respond"

    @classmethod
    def from_json(cls, obj):
        where = "fault"
        _check_keys(obj, ("path", "status", "body", "body_b64", "content_type", "headers",
                          "delay", "count", "action"), where)
        path = _take(obj, "path", str, "", where)
        if not path.startswith("/"):
            raise ConfigError("fault: path must start with /")
        status = _take(obj, "status", int, 503, where)
        if not 100 <= status <= 599:
            raise ConfigError("fault: status must be 100..599")
        body = _take(obj, "body", str, "", where).encode("utf-8", "surrogatepass")
        if "body_b64" in obj:
            try:
                body = base64.b64decode(_take(obj, "body_b64", str, "", where), validate=True)
            except binascii.Error:
                raise ConfigError("fault: body_b64 is not base64") from None
        headers = _take(obj, "headers", dict, {}, where)
        content_type = _take(obj, "content_type", str, TEXT_HTML, where)
        for text in [content_type, *headers, *headers.values()]:
            if not _is_header_text(text):
                raise ConfigError(f"fault: bad header text {text!r}")
        count = _take(obj, "count", (int, type(None)), None, where)
        if count is not None and count < 1:
            raise ConfigError("fault: count must be 1 or more (or null)")
        action = _take(obj, "action", str, "respond", where)
        if action not in FAULT_ACTIONS:
            raise ConfigError(f"fault: action must be one of {', '.join(FAULT_ACTIONS)}")
        delay = float(_take(obj, "delay", (int, float), 0.0, where))
        if not 0 <= delay <= 3600:
            raise ConfigError("fault: delay must be between 0 and 3600 seconds")
        return cls(path, status, body, content_type, tuple(headers.items()), delay, count,
                   action)

    def describe(self):
        return {"path": self.path, "status": self.status, "action": self.action,
                "delay": self.delay, "count": self.count, "body_length": len(self.body)}


class Simulator:
    """Everything mutable, behind one lock. Handlers call in from many threads."""

    def __init__(self, config, log_path=None):
        self.config = config
        self._lock = threading.RLock()
        self._pending_changed = threading.Condition(self._lock)
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self._seq = 0
        self._connections = 0
        self._tls_failures = 0
        self._stopping = False
        self._waiters = set()
        self._parts = {}                                    # name -> part, see attach()
        self._reset_state()

    def _reset_state(self):
        self._users = {u.key: u for u in self.config.users}  # insertion-ordered
        self._failures = collections.Counter()              # user key -> failed logins
        self._last_step = {}                                 # user key -> accepted TOTP step
        self._push_overrides = {}                            # username -> PushBehaviour
        self._push_wildcard = None
        self._pending = collections.defaultdict(collections.deque)  # username -> Waiters
        self._faults = []
        self._delay = 0.0
        self._log = []
        self._settings = {"lockout_after": self.config.lockout_after,
                          "reject_replay": self.config.reject_replay,
                          "token_lifetime": self.config.token_lifetime,
                          "close_idle": False}

    @property
    def lock(self):
        """The lock guarding all state; attached parts guard theirs with it too."""
        return self._lock

    def attach(self, name, part):
        """Add a personality's own state (ftc_sim.FtcState). Under the lock:
        part.reset() runs on /_sim/reset; part.settle() runs before the log or
        the state is read (to apply changes that fell due); part.state() is
        shown as state()[name]; part.control_routes() maps (method, path) to
        handler(body) -> Reply, for ControlApi."""
        with self._lock:
            self._parts[name] = part

    def control_route(self, method, path):
        """(handler, None), or (None, allowed methods) if only the method is wrong,
        or (None, None) when no attached part serves path."""
        with self._lock:
            routes = {}
            for part in self._parts.values():
                routes.update(part.control_routes())
        if (method, path) in routes:
            return routes[(method, path)], None
        allowed = [m for (m, p) in routes if p == path]
        return None, (allowed or None)

    def setting(self, name):
        with self._lock:
            return self._settings[name]

    # -- lifecycle ---------------------------------------------------------

    def reset(self):
        with self._lock:
            for waiter in list(self._waiters):
                waiter.wake(RESET)
            self._reset_state()
            for part in self._parts.values():
                part.reset()

    def stop(self):
        """Make every held request end now; called once on SIGTERM/SIGINT."""
        with self._lock:
            self._stopping = True
            for waiter in list(self._waiters):
                waiter.wake(STOPPED)
            self._pending_changed.notify_all()  # a /_sim/ decide waiting for a push

    def close(self):
        """Write the entries of requests still open, then close the log file."""
        with self._lock:
            for entry in self._log:
                if entry["outcome"] == "pending":
                    self._finish_locked(entry, None, STOPPED)
            if self._log_file:
                self._log_file.close()
                self._log_file = None

    def new_connection(self):
        with self._lock:
            self._connections += 1
            return self._connections

    def tls_failed(self):
        with self._lock:
            self._tls_failures += 1

    # -- waits ---------------------------------------------------------------

    def open_waiter(self, sock, pending_user=None):
        """A registered Waiter; with pending_user it is a push /_sim/ can decide."""
        waiter = Waiter(sock)
        with self._lock:
            self._waiters.add(waiter)
            if self._stopping:
                waiter.wake(STOPPED)
            if pending_user is not None:
                self.add_pending(pending_user, waiter)
        return waiter

    def add_pending(self, username, item):
        """Queue a push that /_sim/push/<username>/approve|reject decides: any
        object whose wake(decision) returns True if it took the decision (a
        Waiter here, an FTC push in ftc_sim)."""
        with self._lock:
            self._pending[username].append(item)
            self._pending_changed.notify_all()

    def close_waiter(self, waiter):
        with self._lock:
            self._waiters.discard(waiter)
            for queue in self._pending.values():
                if waiter in queue:
                    queue.remove(waiter)
            waiter.close()  # under the lock: nobody can wake() it any more

    def decide_push(self, username, decision, wait=0.0):
        """Decide the oldest pending push of username; waits up to `wait` s for one."""
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_DECIDE_WAIT)
        with self._lock:
            while True:
                queue = self._pending.get(username)
                while queue:
                    if queue.popleft().wake(decision):
                        return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping:
                    return False
                self._pending_changed.wait(remaining)

    # -- users and credentials ------------------------------------------------

    def find_local_user(self, username):
        with self._lock:
            return next((u for u in self._users.values()
                         if u.local and u.username == username), None)

    def find_realm_user(self, username, realm):
        with self._lock:
            return self._users.get((username, realm))

    def find_push_users(self, username):
        with self._lock:
            return [u for u in self._users.values() if u.username == username]

    def put_user(self, user):
        with self._lock:
            replaced = user.key in self._users
            self._users[user.key] = user
            self._failures.pop(user.key, None)
            self._last_step.pop(user.key, None)
            return replaced

    def is_blocked(self, user):
        """Disabled, or locked out by failed logins."""
        with self._lock:
            limit = self._settings["lockout_after"]
            return user.disabled or (limit > 0 and self._failures[user.key] >= limit)

    def verify(self, user, password, token_code):
        """Check credentials as FAC does: None on success, else the 401 text."""
        with self._lock:
            if self.is_blocked(user):
                return MSG_DISABLED
            if token_code == "" and password:
                result = self._check_concatenated(user, password)
            else:
                result = self._check_separately(user, password, token_code)
            if result is None:
                self._failures.pop(user.key, None)
            elif result == MSG_AUTH_FAILED:
                self._failures[user.key] += 1
            return result

    def _check_separately(self, user, password, token_code):
        # "If both token and password are specified, the password will be
        # validated first before the token code" (seed).
        if password is not None and (user.password is None or password != user.password):
            return MSG_AUTH_FAILED
        if token_code is not None:
            return self._check_code(user, token_code)
        return None

    def _check_concatenated(self, user, password):
        # Inferred from docs/fac-api.md ("password and code may also be sent
        # concatenated in `password` with an empty `token_code`"): in this
        # mode the code is required, so the plain password alone fails. The
        # code is the last `digits` characters; no token means nothing to split.
        if not user.token:
            return MSG_NO_TOKEN
        if len(password) < user.digits or user.password is None:
            return MSG_AUTH_FAILED
        prefix, code = password[:-user.digits], password[-user.digits:]
        if prefix != user.password:
            return MSG_AUTH_FAILED
        return self._check_code(user, code)

    def _check_code(self, user, code):
        if not user.token:
            return MSG_NO_TOKEN
        if user.out_of_sync:
            return MSG_OUT_OF_SYNC
        step = matching_step(user.totp_secret, code, user.digits, time.time())
        if step is None:
            return MSG_AUTH_FAILED
        if self._settings["reject_replay"] and step <= self._last_step.get(user.key, -1):
            return MSG_AUTH_FAILED
        self._last_step[user.key] = max(step, self._last_step.get(user.key, -1))
        return None

    # -- push overrides, faults, delay, settings -------------------------------

    def push_behaviour(self, user):
        with self._lock:
            return (self._push_overrides.get(user.username) or self._push_wildcard
                    or user.push)

    def set_push_override(self, username, behaviour):
        with self._lock:
            if username == "*":
                self._push_overrides.clear()
                self._push_wildcard = behaviour
            else:
                self._push_overrides[username] = behaviour

    def add_fault(self, fault):
        with self._lock:
            self._faults.append(fault)

    def take_fault(self, path):
        """The first fault matching path, counting it down; or None."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
            return None

    @property
    def delay(self):
        with self._lock:
            return self._delay

    def set_delay(self, seconds):
        with self._lock:
            self._delay = seconds

    def update_settings(self, changes):
        with self._lock:
            self._settings.update(changes)

    def state(self):
        with self._lock:
            for part in self._parts.values():
                part.settle()
            return {
                "pending_pushes": {u: len(q) for u, q in self._pending.items() if q},
                "faults": [f.describe() for f in self._faults],
                "delay": self._delay,
                "settings": dict(self._settings),
                "push_overrides": {u: dataclasses.asdict(b)
                                   for u, b in self._push_overrides.items()},
                "push_wildcard": (dataclasses.asdict(self._push_wildcard)
                                  if self._push_wildcard else None),
                "failures": {f"{u}@{r}" if r else u: n for (u, r), n in self._failures.items()},
                "connections": self._connections,
                "tls_handshake_failures": self._tls_failures,
                **{name: part.state() for name, part in self._parts.items()},
            }

    # -- request log ---------------------------------------------------------

    def log_request(self, conn, method, path, query, api_user, auth, content_type,
                    user_agent, body):
        """A new log entry; `body` is what may be logged (see FacApi.loggable_body)."""
        entry = {
            "seq": None, "time": time.time(), "method": method, "path": path,
            "query": query, "api_user": api_user, "status": None,
            "content_type": content_type, "user_agent": user_agent,
            "body_b64": base64.b64encode(body).decode("ascii"),
            "json": parse_json_or_none(body), "conn": conn,
            "outcome": "pending", "ms": None, "auth": auth, "decided_at": None,
        }
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._log.append(entry)
        return entry

    def finish_request(self, entry, status, outcome, fields=None):
        """Complete an entry, adding `fields` (a Reply's log fields) to it."""
        with self._lock:
            if entry["outcome"] == "pending":
                for part in self._parts.values():
                    part.settle()  # an FTC push due by now shows as decided
                entry.update(fields or {})
                self._finish_locked(entry, status, outcome)

    def _finish_locked(self, entry, status, outcome):
        entry["status"], entry["outcome"] = status, outcome
        entry["ms"] = round((time.time() - entry["time"]) * 1000, 1)
        if self._log_file:
            self._log_file.write(json.dumps(entry) + "\n")
            self._log_file.flush()

    def requests(self):
        with self._lock:
            for part in self._parts.values():
                part.settle()
            return [dict(entry) for entry in self._log]


def parse_json_or_none(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


# --------------------------------------------------------------------------
# Answers. Handlers return a Reply; the HTTP layer writes it in one go.

@dataclasses.dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = TEXT_HTML
    headers: tuple = ()
    action: str = "respond"          # respond | truncate | drop (close, no answer)
    outcome: str = "answered"        # for the request log
    log: dict = dataclasses.field(default_factory=dict)  # more request log fields


def text_reply(status, text=""):
    return Reply(status, text.encode("utf-8"))


def json_reply(obj, status=200):
    return Reply(status, json.dumps(obj).encode("ascii"), APPLICATION_JSON)


def drop(outcome):
    """Close the connection without answering."""
    return Reply(status=None, action="drop", outcome=outcome)


def auth_scheme(header):
    """What the request log records of an Authorization header: its scheme only."""
    scheme = (header or "").strip().partition(" ")[0].lower()
    if not scheme:
        return None
    return scheme if scheme in ("basic", "bearer") else "other"


def parse_basic_auth(header):
    """(name, key) from an "Authorization: Basic ..." header, or None."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, key = decoded.partition(":")
    return (name, key) if colon else None


def json_object(body):
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value


def string_field(fields, name, required=False):
    value = fields.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name}: This field is required.")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name}: must be a string")
    if required and not value:
        raise BadRequest(f"{name}: This field is required.")
    return value


class ApiRequest:
    """What the FAC API handlers see of one HTTP request."""

    def __init__(self, method, path, query, headers, body, wait, entry=None):
        self.method = method
        self.path = path          # normalised: always ends with "/"
        self.query = query
        self.headers = headers
        self.body = body
        self.wait = wait          # wait(timeout, pending_user=None) -> reason
        self.entry = entry        # its request log entry (Simulator.log_request)


def delay_and_fault(sim, req):
    """The global delay, then the first matching fault: the Reply that ends
    the request here, or None to go on with the normal answer."""
    if sim.delay > 0:
        reason = req.wait(sim.delay)
        if reason != TIMEOUT:
            return drop(reason)
    fault = sim.take_fault(req.path)
    if fault is None:
        return None
    if fault.delay > 0:
        reason = req.wait(fault.delay)
        if reason != TIMEOUT:
            return drop(reason)
    if fault.action == "close":
        return drop("closed")
    if fault.action == "hang":
        return drop(req.wait(None))
    return Reply(fault.status, fault.body, fault.content_type, fault.headers,
                 action=fault.action,
                 outcome="truncated" if fault.action == "truncate" else "answered")


class FacApi:
    """The FortiAuthenticator endpoints (docs/fac-api.md), on top of a Simulator."""

    def __init__(self, sim):
        self.sim = sim
        self.routes = {
            "/api/v1/auth/": ("POST", self.auth),
            "/api/v1/realmauth/": ("POST", self.realmauth),
            "/api/v1/pushauth/": ("POST", self.pushauth),
            TOKENS_PATH: ("GET", self.fortitokens),
        }

    def loggable_body(self, path, body):
        """The request body as the request log may keep it: all of it, here."""
        return body

    def handle(self, req):
        early = delay_and_fault(self.sim, req)
        if early is not None:
            return early
        if req.path not in self.routes:
            return text_reply(404, "Not Found")
        method, handler = self.routes[req.path]
        if req.method != method:
            return Reply(405, headers=(("Allow", method),))
        denied = self._check_api_user(req.headers.get("Authorization"))
        if denied is not None:
            return denied
        if req.method == "POST" and not is_json_content_type(req.headers.get("Content-Type")):
            # Inferred: the seeds always send JSON with this header.
            return text_reply(400, "Unsupported Content-Type: expected application/json")
        try:
            return handler(req)
        except BadRequest as exc:
            return text_reply(400, str(exc))

    def _check_api_user(self, authorization):
        credentials = parse_basic_auth(authorization)
        api_user = self.sim.config.api_users.get(credentials[0]) if credentials else None
        if api_user is None or not hmac.compare_digest(
                api_user.key.encode("utf-8"), credentials[1].encode("utf-8")):
            # Inferred: an empty body, as Django tastypie's HttpUnauthorized.
            return Reply(401, headers=(("WWW-Authenticate", 'Basic realm="fac_sim"'),))
        if not api_user.permission:
            return text_reply(403, MSG_PERMISSION)
        return None

    # -- /auth/ and /realmauth/ -------------------------------------------------

    def _credentials(self, fields):
        username = string_field(fields, "username", required=True)
        password = string_field(fields, "password")
        token_code = string_field(fields, "token_code")
        if password is None and token_code is None:
            raise BadRequest("password or token_code is required")
        return username, password, token_code

    def auth(self, req):
        username, password, token_code = self._credentials(json_object(req.body))
        user = self.sim.find_local_user(username)  # only local users (docs/fac-api.md)
        if user is None:
            return text_reply(404, MSG_NO_USER)
        failure = self.sim.verify(user, password, token_code)
        return text_reply(401, failure) if failure else text_reply(200)

    def realmauth(self, req):
        fields = json_object(req.body)
        username, password, token_code = self._credentials(fields)
        realm = string_field(fields, "realm", required=True)
        user = self.sim.find_realm_user(username, realm)
        if user is None:
            return text_reply(404, MSG_NO_USER)
        failure = self.sim.verify(user, password, token_code)
        if failure:
            return text_reply(401, failure)
        return text_reply(202 if user.password_change else 200)

    # -- /pushauth/ ----------------------------------------------------------

    def _push_user(self, username, realm):
        """The user a push is for, or the Reply saying why there is none."""
        candidates = self.sim.find_push_users(username)
        if realm is not None:
            candidates = [u for u in candidates if u.realm == realm]
        if not candidates:
            return None, text_reply(404, MSG_NO_USER)
        if len(candidates) > 1:
            # Seed: realm is "required if more than one user matches".
            return None, text_reply(400, "realm: required, several users match")
        return candidates[0], None

    def pushauth(self, req):
        fields = json_object(req.body)
        username = string_field(fields, "username", required=True)
        if len(username) > PUSH_USERNAME_MAX:
            raise BadRequest(f"username: at most {PUSH_USERNAME_MAX} characters")
        for name in ("user_ip", "timestamp", "account", "user_agent", "log_message"):
            string_field(fields, name)
        user, error = self._push_user(username, string_field(fields, "realm"))
        if error is not None:
            return error
        if not user.ftm:
            return text_reply(404, MSG_NO_FTM)
        if self.sim.is_blocked(user):
            return text_reply(401, MSG_DISABLED)  # inferred
        return self._run_push(req, user.username, self.sim.push_behaviour(user))

    def _run_push(self, req, username, behaviour):
        action = behaviour.action
        if action in ("404", "500", "503"):
            return text_reply(int(action), PUSH_ERROR_TEXTS[int(action)])
        if action == "never":
            return drop(req.wait(None))
        if action == "wait":
            reason = req.wait(None, pending_user=username)
        else:
            reason = req.wait(behaviour.delay)
            if reason == TIMEOUT:
                reason = action
        if reason in ("approve", "reject"):
            # 200 approved; 401 rejected, inferred: FAC documents no body for it.
            reply = text_reply(200 if reason == "approve" else 401)
            # For latency benchmarks: the answer is written right after this.
            reply.log["decided_at"] = time.time()
            return reply
        return drop(reason)

    # -- /fortitokens/ -------------------------------------------------------

    def fortitokens(self, req):
        params = urllib.parse.parse_qsl(req.query, keep_blank_values=True)
        values = dict(params)  # the last of repeated parameters wins, as in Django
        if values.get("format", "json") != "json":
            raise BadRequest("Only format=json is supported")
        limit = non_negative_int(values, "limit", TOKENS_DEFAULT_LIMIT)
        limit = TOKENS_MAX_LIMIT if limit == 0 else min(limit, TOKENS_MAX_LIMIT)
        offset = non_negative_int(values, "offset", 0)
        filters = token_filters(params)
        matching = [(i, t) for i, t in enumerate(self.sim.config.tokens, start=1)
                    if all(token_matches(t, f) for f in filters)]
        page = matching[offset:offset + limit]
        kept = [(k, v) for k, v in params if k not in ("limit", "offset", "format")]
        if "format" in values:
            kept_tail = [("format", values["format"])]
        else:
            kept_tail = []

        def page_url(new_offset):
            query = kept + [("offset", str(new_offset)), ("limit", str(limit))] + kept_tail
            return f"{TOKENS_PATH}?{urllib.parse.urlencode(query)}"

        meta = {
            "limit": limit,
            "next": page_url(offset + limit) if offset + limit < len(matching) else None,
            "offset": offset,
            "previous": page_url(max(offset - limit, 0)) if offset > 0 else None,
            "total_count": len(matching),
        }
        objects = [{"resource_uri": f"{TOKENS_PATH}{i}/", "serial": t.serial,
                    "status": t.status, "type": t.type} for i, t in page]
        return json_reply({"meta": meta, "objects": objects})


def is_json_content_type(value):
    return (value or "").split(";")[0].strip().lower() == APPLICATION_JSON


def non_negative_int(values, name, default):
    if name not in values:
        return default
    text = values[name].strip()
    if not text.isdigit() or not text.isascii():
        raise BadRequest(f"Invalid {name} '{values[name]}' provided. Please provide a "
                         "positive integer.")
    return int(text)


def token_filters(params):
    """[(field, lookup, value)] from serial/type/status[__exact|__iexact] parameters."""
    filters = []
    for name, value in params:
        field, _, lookup = name.partition("__")
        if field not in ("serial", "type", "status"):
            continue  # other parameters are ignored, as in tastypie
        if lookup not in ("", "exact", "iexact"):
            raise BadRequest(f"Lookup '{lookup}' not allowed on field '{field}'")
        filters.append((field, lookup or "exact", value))
    return filters


def token_matches(token, token_filter):
    field, lookup, value = token_filter
    actual = getattr(token, field)
    if lookup == "iexact":
        return actual.casefold() == value.casefold()
    return actual == value


# --------------------------------------------------------------------------
# Control API (/_sim/...), for tests. JSON in, JSON out.

class ControlApi:
    def __init__(self, sim):
        self.sim = sim

    def handle(self, method, path, body):
        try:
            return self._route(method, path, body)
        except (ConfigError, BadRequest) as exc:
            return json_reply({"error": str(exc)}, 400)

    def _route(self, method, path, body):
        simple = {
            ("GET", "/_sim/requests"): lambda: json_reply(self.sim.requests()),
            ("GET", "/_sim/state"): lambda: json_reply(self.sim.state()),
            ("POST", "/_sim/reset"): self._reset,
            ("POST", "/_sim/push"): lambda: self._push(self._object(body)),
            ("POST", "/_sim/faults"): lambda: self._fault(self._object(body)),
            ("POST", "/_sim/delay"): lambda: self._delay(self._object(body)),
            ("POST", "/_sim/users"): lambda: self._user(self._object(body)),
            ("POST", "/_sim/settings"): lambda: self._settings(self._object(body)),
        }
        if (method, path) in simple:
            return simple[(method, path)]()
        if path.startswith("/_sim/push/") and path.rsplit("/", 1)[-1] in ("approve", "reject"):
            if method != "POST":
                return json_reply({"error": "use POST"}, 405)
            return self._decide(path, self._object(body, allow_empty=True))
        if any(p == path for (_, p) in simple):
            return json_reply({"error": "method not allowed"}, 405)
        handler, allowed = self.sim.control_route(method, path)  # e.g. /_sim/ftc/...
        if handler is not None:
            return handler(body)
        if allowed:
            return json_reply({"error": "method not allowed"}, 405)
        return json_reply({"error": "no such control endpoint"}, 404)

    @staticmethod
    def _object(body, allow_empty=False):
        if allow_empty and not body.strip():
            return {}
        try:
            return json_object(body)
        except BadRequest as exc:
            raise ConfigError(str(exc)) from None

    def _reset(self):
        self.sim.reset()
        return json_reply({"ok": True})

    def _push(self, obj):
        username = _take(obj, "username", str, "", "push")
        if not username:
            raise ConfigError("push: username is required")
        behaviour = {k: v for k, v in obj.items() if k != "username"}
        self.sim.set_push_override(username, PushBehaviour.from_json(behaviour, "push"))
        return json_reply({"ok": True})

    def _decide(self, path, obj):
        _check_keys(obj, ("wait",), "decision")
        rest, decision = path[len("/_sim/push/"):].rsplit("/", 1)
        username = urllib.parse.unquote(rest)
        wait = float(_take(obj, "wait", (int, float), 0.0, "decision"))
        if self.sim.decide_push(username, decision, wait):
            return json_reply({"ok": True})
        return json_reply({"error": f"no pending push for {username!r}"}, 404)

    def _fault(self, obj):
        self.sim.add_fault(Fault.from_json(obj))
        return json_reply({"ok": True})

    def _delay(self, obj):
        _check_keys(obj, ("seconds",), "delay")
        seconds = float(_take(obj, "seconds", (int, float), 0.0, "delay"))
        if not 0 <= seconds <= 3600:
            raise ConfigError("delay: seconds must be between 0 and 3600")
        self.sim.set_delay(seconds)
        return json_reply({"ok": True})

    def _user(self, obj):
        return json_reply({"ok": True, "replaced": self.sim.put_user(User.from_json(obj))})

    def _settings(self, obj):
        _check_keys(obj, ("lockout_after", "reject_replay", "token_lifetime", "close_idle"), "settings")
        changes = {}
        if "lockout_after" in obj:
            changes["lockout_after"] = _take(obj, "lockout_after", int, 0, "settings")
            if changes["lockout_after"] < 0:
                raise ConfigError("settings: lockout_after must be 0 or more")
        if "reject_replay" in obj:
            changes["reject_replay"] = _take(obj, "reject_replay", bool, False, "settings")
        if "token_lifetime" in obj:
            changes["token_lifetime"] = check_token_lifetime(
                _take(obj, "token_lifetime", int, DEFAULT_TOKEN_LIFETIME, "settings"),
                "settings")
        if "close_idle" in obj:
            changes["close_idle"] = _take(obj, "close_idle", bool, False, "settings")
        self.sim.update_settings(changes)
        return json_reply({"ok": True})


# --------------------------------------------------------------------------
# HTTP layer.

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fac_sim"
    sys_version = ""
    # Buffer writes so even the stdlib's own error answers (send_error) leave
    # in one piece; our replies are assembled into one bytes object anyway.
    # Split writes cost 40 ms each on loopback (Nagle + delayed ACK).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT

    def setup(self):
        self.conn_id = self.server.sim.new_connection()
        self.abrupt_close = False
        self.raw_socket = self.request
        context = self.server.ssl_context
        if context is not None:
            # The handshake runs here, in the connection's own thread, so a
            # client that stalls it can't block the accept loop.
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                self.request = context.wrap_socket(self.request, server_side=True)
            except (OSError, ValueError):
                self.server.sim.tls_failed()
                raise
        super().setup()

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        if self.request is not self.raw_socket:
            self._close_tls()

    def _close_tls(self):
        """Send close_notify (unless closing abruptly on purpose) and close."""
        if not self.abrupt_close:
            try:
                self.request.setblocking(False)  # don't wait for the peer's close_notify
                self.request.unwrap()
            except (OSError, ValueError):
                pass
        self.request.close()

    # Quiet by default: no per-request lines, no reverse DNS lookups.
    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(f"fac_sim: {self.client_address[0]} {fmt % args}\n")

    def handle_expect_100(self):
        # The stdlib leaves "100 Continue" in our write buffer; it must go now.
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.wfile.flush()
        return True

    def do_GET(self):
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return
        if path == "/_sim" or path.startswith("/_sim/"):
            self._send(self.server.control.handle(self.command, path, body))
        else:
            self._handle_api(path, query, body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle_api(self, path, query, body):
        sim = self.server.sim
        authorization = self.headers.get("Authorization")
        credentials = parse_basic_auth(authorization)
        normalised = path if path.endswith("/") else path + "/"
        entry = sim.log_request(
            conn=self.conn_id, method=self.command, path=path, query=query,
            api_user=credentials[0] if credentials else None,
            auth=auth_scheme(authorization),
            content_type=self.headers.get("Content-Type"),
            user_agent=self.headers.get("User-Agent"),
            body=self.server.api.loggable_body(normalised, body))
        waiters = []

        def wait(timeout, pending_user=None):
            waiter = sim.open_waiter(self.connection, pending_user)
            waiters.append(waiter)
            try:
                return waiter.wait(timeout)
            finally:
                sim.close_waiter(waiter)

        request = ApiRequest(self.command, normalised, query, self.headers, body, wait, entry)
        reply = self.server.api.handle(request)
        if any(w.client_talked for w in waiters):
            self.close_connection = True
        # Complete the log entry first: a test that reads /_sim/requests right
        # after getting this answer must find it finished.
        sim.finish_request(entry, reply.status, reply.outcome, reply.log)
        self._send(reply)
        if sim.setting("close_idle"):
            self.close_connection = True  # after the answer, which said nothing of it

    def _read_body(self):
        """The request body (bytes), or None after answering an unreadable one."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            self.close_connection = True
            self._send(text_reply(400, "Bad Content-Length"))
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._send(text_reply(413, "Request body too large"))
            return None
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True  # the client went away mid-body
            return None
        return body

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                self._send(text_reply(400, "Bad chunked encoding"))
                return None
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                self._send(text_reply(413, "Request body too large"))
                return None
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)
        while self.rfile.readline(8192).strip():  # trailers
            pass
        return b"".join(chunks)

    def _send(self, reply):
        """Write the whole answer with a single write (see wbufsize)."""
        if reply.action == "drop":
            self.close_connection = True
            self.abrupt_close = True
            return
        try:
            phrase = http.HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = [("Date", self.date_time_string()), ("Server", self.server_version),
                   ("Content-Type", reply.content_type),
                   ("Content-Length", str(len(reply.body)))]
        headers.extend(reply.headers)
        body = b"" if self.command == "HEAD" else reply.body
        if reply.action == "truncate":
            body = body[:len(body) // 2]
            self.close_connection = True
            self.abrupt_close = True
        if self.close_connection:
            headers.append(("Connection", "close"))
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        try:
            self.wfile.write(head.encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class SimServer(http.server.ThreadingHTTPServer):
    # 200 logins may connect at once (benchmarks): the default backlog of 5
    # drops SYNs, which costs each of them a connect timeout.
    request_queue_size = 256
    daemon_threads = True
    block_on_close = False  # else server_close() would join held handler threads

    def __init__(self, address, sim, ssl_context=None, verbose=False, api=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sim = sim
        self.api = api or FacApi(sim)  # FacApi, or ftc_sim.FtcApi with --mode ftc
        self.control = ControlApi(sim)
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would do a reverse DNS lookup (getfqdn).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not self.verbose:
            return
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # TLS handshake failures, resets: expected in tests
            sys.stderr.write(f"fac_sim: connection from {client_address[0]}: {error}\n")
        else:
            super().handle_error(request, client_address)


def make_ssl_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="fac_sim.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter, usage=argparse.SUPPRESS)
    parser.add_argument("--users", required=True, help="users file (JSON, see above)")
    parser.add_argument("--mode", choices=MODES, default="fac",
                        help="fac: FortiAuthenticator's API (default); "
                             "ftc: FortiToken Cloud's (see FTC MODE above)")
    parser.add_argument("--cert", help="server certificate (PEM); required unless --plain-http")
    parser.add_argument("--key", help="server private key (PEM); required unless --plain-http")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free)")
    parser.add_argument("--log", help="append each finished request as a JSON line here")
    parser.add_argument("--plain-http", action="store_true",
                        help="serve plain HTTP, no TLS (to test that http:// is refused)")
    parser.add_argument("--verbose", action="store_true",
                        help="log requests and handler errors to stderr")
    args = parser.parse_args(argv)
    if not args.plain_http and not (args.cert and args.key):
        parser.error("--cert and --key are required unless --plain-http")
    return args


def fail(message):
    """Exit with status 2 (as argparse does for bad usage) before serving."""
    print(f"fac_sim: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(args.users)
        context = None if args.plain_http else make_ssl_context(args.cert, args.key)
    except ConfigError as exc:
        fail(exc)
    except (OSError, ssl.SSLError) as exc:
        fail(f"cannot load certificate/key: {exc}")
    # Block the stop signals before any thread exists, so every thread
    # inherits the mask and only sigwait() below receives them: no signal
    # handler ever runs while some thread holds a lock.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    sim = Simulator(config, args.log)
    api = None
    if args.mode == "ftc":
        import ftc_sim  # same directory; it imports this module as fac_sim
        api = ftc_sim.FtcApi(sim)
    try:
        server = SimServer((args.host, args.port), sim, context, args.verbose, api)
    except OSError as exc:
        fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name="serve", daemon=True).start()
    signal.sigwait(stop_signals)
    sim.stop()
    server.shutdown()
    server.server_close()
    sim.close()
    return 0


if __name__ == "__main__":
    # ftc_sim.py does "import fac_sim": let that find this very module rather
    # than load a second copy (with its own classes) from the same file.
    sys.modules.setdefault("fac_sim", sys.modules[__name__])
    sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
    sys.exit(main())
