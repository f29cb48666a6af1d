"""ftc_sim: the FortiToken Cloud (FTC) personality of fac_sim.py (--mode ftc).

Not a program of its own: `fac_sim.py --mode ftc` serves FtcApi below with
fac_sim's HTTP layer, users file, request log and control API. The endpoints
and every inferred point are listed in `fac_sim.py --help` (FTC MODE,
INFERRED) and in README.md; the facts come from docs/fac-api.md (FTC part) and
FTC's GET /auth documentation (seed 003).

What FTC's documents state: POST /api/v1/login -> 201 {"access_token",
"expires_in"} and 401 for a wrong secret; Bearer tokens on later calls;
POST /api/v1/auth with "token" checks a code (200 valid), without it starts
a push and returns {"authid"}; GET /api/v1/auth/<authid> -> {"status":
waiting|authenticated|rejected}; GET /api/v1/auth?sn= lists the answered
pushes since the last query, chunksize 100..1000 (default 500); 400 "No
authid is specified" and "SN is invalid"; the optional vdom.

Inferred here (the documents are silent; see INFERRED in fac_sim.py): a
wrong code is 403 {"error": "invalid token"} -- pam_fac reads 200 as
accepted, 401 as an expired bearer token, 403 as rejected, 404 as an
unknown user -- and so are the other non-200 answers of POST /api/v1/auth
and their texts, the 401 texts, and the sn filtering of batch queries.
"""

import hmac
import json
import secrets
import time
import urllib.parse
import uuid

import fac_sim
from fac_sim import BadRequest, json_object, json_reply, string_field

LOGIN_PATH = "/api/v1/login/"     # paths as the HTTP layer normalises them
AUTH_PATH = "/api/v1/auth/"

WAITING, AUTHENTICATED, REJECTED = "waiting", "authenticated", "rejected"
OUTCOME = {"approve": AUTHENTICATED, "reject": REJECTED}

CHUNK_MIN, CHUNK_MAX, CHUNK_DEFAULT = 100, 1000, 500   # FTC docs (seed 003)
MASK = "***"                      # what the request log shows of a client_secret

# FTC's documented texts (seed 003).
MSG_NO_AUTHID = "No authid is specified"
MSG_BAD_SN = "SN is invalid"
# Inferred texts: FTC documents neither these answers nor their bodies.
MSG_BAD_CLIENT = "invalid client credentials"
MSG_BAD_BEARER = "invalid or expired token"
MSG_NO_USER = "user not found"
MSG_DISABLED = "user disabled"
MSG_BAD_CODE = "invalid token"
MSG_NO_FTM = "no mobile token"
MSG_NO_AUTH_ID_FOUND = "authid not found"
PUSH_ERRORS = {404: MSG_NO_FTM, 500: "push server refused to send the notification",
               503: "push server unreachable"}


def error_reply(status, text, headers=()):
    reply = json_reply({"error": text}, status)
    reply.headers = tuple(headers)
    return reply


def bearer_token(header):
    """The token of an "Authorization: Bearer <token>" header, or None."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# --------------------------------------------------------------------------
# State: bearer tokens and pushes. Guarded by the simulator's lock (one lock
# for everything, so Simulator.decide_push can decide an FTC push).

class FtcPush:
    """One push started by POST /api/v1/auth without a code."""

    def __init__(self, user, behaviour, sn, vdom, entry):
        self.authid = str(uuid.uuid4())
        self.username, self.realm = user.username, user.realm
        self.sn, self.vdom = sn, vdom
        self.action = behaviour.action
        self.created_at = time.time()
        self.status = WAITING
        self.decided_at = None     # time.time() when status left "waiting"
        self.reported = False      # given to a batch (sn) query already
        self.entry = entry         # the POST's request log entry, kept up to date
        self.due = None            # approve/reject: (monotonic, wall clock) due
        if self.action in OUTCOME:
            self.due = (time.monotonic() + behaviour.delay, self.created_at + behaviour.delay)
        self._note()

    def settle(self, now):
        """Apply an approve/reject that fell due at monotonic time `now`. The
        status changed at the due moment itself, whenever this runs: the lazy
        update is exact, and decided_at is created_at + delay."""
        if self.status == WAITING and self.due is not None and now >= self.due[0]:
            self._decide(OUTCOME[self.action], self.due[1])

    def wake(self, decision):
        """Simulator.decide_push (/_sim/push/<user>/approve|reject) on a wait push."""
        if self.status != WAITING or decision not in OUTCOME:
            return False
        self._decide(OUTCOME[decision], time.time())
        return True

    def _decide(self, status, when):
        self.status, self.decided_at = status, when
        self._note()

    def _note(self):
        if self.entry is not None:
            self.entry.update(authid=self.authid, push_status=self.status,
                              decided_at=self.decided_at)

    def describe(self):
        return {"authid": self.authid, "username": self.username, "realm": self.realm,
                "sn": self.sn, "vdom": self.vdom, "action": self.action,
                "status": self.status, "created_at": self.created_at,
                "decided_at": self.decided_at, "reported": self.reported}


class FtcState:
    """Attached to the Simulator as "ftc" (see Simulator.attach)."""

    def __init__(self, sim):
        self.sim = sim
        self._tokens = {}          # access token -> monotonic expiry; survives reset
        self.reset()

    # -- Simulator.attach interface --------------------------------------------

    def reset(self):
        self._pushes = {}          # authid -> FtcPush, creation order
        self._scheduled = []       # approve/reject pushes still waiting
        self._logins = 0

    def settle(self):
        now = time.monotonic()
        for push in self._scheduled:
            push.settle(now)
        self._scheduled = [p for p in self._scheduled if p.status == WAITING]

    def state(self):
        now = time.monotonic()
        return {"live_tokens": sum(1 for expiry in self._tokens.values() if expiry > now),
                "logins": self._logins,
                "serials": list(self.sim.config.ftc_serials),
                "waiting_pushes": sum(1 for p in self._pushes.values() if p.status == WAITING),
                "pushes": [p.describe() for p in self._pushes.values()]}

    def control_routes(self):
        return {("POST", "/_sim/ftc/expire_tokens"): self._expire_tokens}

    def _expire_tokens(self, _body):
        with self.sim.lock:
            now = time.monotonic()
            live = sum(1 for expiry in self._tokens.values() if expiry > now)
            self._tokens.clear()
        return json_reply({"ok": True, "expired": live})

    # -- tokens ------------------------------------------------------------------

    def issue_token(self):
        """A new bearer token and its lifetime (seconds)."""
        token = secrets.token_urlsafe(32)
        with self.sim.lock:
            lifetime = self.sim.setting("token_lifetime")
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + lifetime
            self._logins += 1
        return token, lifetime

    def token_is_live(self, token):
        with self.sim.lock:
            expiry = self._tokens.get(token)
            return expiry is not None and time.monotonic() < expiry

    # -- pushes --------------------------------------------------------------

    def start_push(self, user, behaviour, sn, vdom, entry):
        with self.sim.lock:
            push = FtcPush(user, behaviour, sn, vdom, entry)
            self._pushes[push.authid] = push
            if push.due is not None:
                self._scheduled.append(push)
            elif push.action == "wait":
                self.sim.add_pending(push.username, push)
            # "never": stays waiting until reset.
            return push.authid

    def push_status(self, authid):
        with self.sim.lock:
            self.settle()
            push = self._pushes.get(authid)
            return push.status if push else None

    def take_answered(self, sn, limit):
        """The oldest `limit` answers not reported yet to a query of serial sn
        (pushes started without "sn" go to any serial), marked reported."""
        with self.sim.lock:
            self.settle()
            answered = [p for p in self._pushes.values()
                        if p.status != WAITING and not p.reported and p.sn in (None, sn)]
            answered.sort(key=lambda p: p.decided_at)  # stable: ties keep creation order
            for push in answered[:limit]:
                push.reported = True
            return [{"authid": p.authid, "status": p.status} for p in answered[:limit]]


# --------------------------------------------------------------------------
# The API.

class FtcApi:
    """FortiToken Cloud's endpoints (docs/fac-api.md, FTC part), on top of a Simulator."""

    def __init__(self, sim):
        self.sim = sim
        self.ftc = FtcState(sim)
        sim.attach("ftc", self.ftc)

    def loggable_body(self, path, body):
        """A /login body with its client_secret masked; others as they are."""
        if path != LOGIN_PATH:
            return body
        fields = fac_sim.parse_json_or_none(body)
        if not isinstance(fields, dict):
            return MASK.encode()  # can't tell where a secret would be: keep nothing
        if "client_secret" in fields:
            fields["client_secret"] = MASK
        return json.dumps(fields).encode()

    def _route(self, path):
        """({method: handler}, bearer required), or None for an unknown path."""
        if path == LOGIN_PATH:
            return {"POST": self.login}, False
        if path == AUTH_PATH:
            return {"POST": self.auth, "GET": self.batch}, True
        rest = path[len(AUTH_PATH):-1] if path.startswith(AUTH_PATH) else ""
        if rest and "/" not in rest:
            authid = urllib.parse.unquote(rest)
            return {"GET": lambda req: self.status(authid)}, True
        return None

    def handle(self, req):
        early = fac_sim.delay_and_fault(self.sim, req)
        if early is not None:
            return early
        route = self._route(req.path)
        if route is None:
            return error_reply(404, "not found")
        handlers, needs_bearer = route
        if req.method not in handlers:
            return error_reply(405, "method not allowed", (("Allow", ", ".join(handlers)),))
        if needs_bearer:
            token = bearer_token(req.headers.get("Authorization"))
            if token is None or not self.ftc.token_is_live(token):
                # Inferred body and header; pam_fac takes 401 as "log in again".
                return error_reply(401, MSG_BAD_BEARER,
                                   (("WWW-Authenticate", 'Bearer realm="fac_sim"'),))
        if req.method == "POST" and not fac_sim.is_json_content_type(
                req.headers.get("Content-Type")):
            return error_reply(400, "Unsupported Content-Type: expected application/json")
        try:
            return handlers[req.method](req)
        except BadRequest as exc:
            return error_reply(400, str(exc))

    # -- POST /api/v1/login ----------------------------------------------------

    def login(self, req):
        fields = json_object(req.body)
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        expected = (dict(self.sim.config.ftc_clients).get(client_id)
                    if isinstance(client_id, str) else None)
        if expected is None or not isinstance(secret, str) or not hmac.compare_digest(
                expected.encode("utf-8", "surrogatepass"),
                secret.encode("utf-8", "surrogatepass")):
            return error_reply(401, MSG_BAD_CLIENT)
        token, lifetime = self.ftc.issue_token()
        return json_reply({"access_token": token, "expires_in": lifetime}, 201)

    # -- POST /api/v1/auth -------------------------------------------------------

    def auth(self, req):
        fields = json_object(req.body)
        username = string_field(fields, "username", required=True)
        code = string_field(fields, "token")
        realm = string_field(fields, "realm")
        vdom, sn = string_field(fields, "vdom"), string_field(fields, "sn")
        string_field(fields, "user_ip")
        candidates = [u for u in self.sim.find_push_users(username)
                      if realm is None or u.realm == realm]
        if not candidates:
            return error_reply(404, MSG_NO_USER)
        if len(candidates) > 1:
            raise BadRequest("realm: required, several users match")  # as FAC's pushauth
        user = candidates[0]
        if self.sim.is_blocked(user):
            return error_reply(403, MSG_DISABLED)
        if code is not None:
            # Same rules as FAC mode (window, digits, replay, lockout); any
            # failure, including no token or out of sync, is "invalid token".
            if self.sim.verify(user, None, code) is None:
                return json_reply({"status": AUTHENTICATED})
            return error_reply(403, MSG_BAD_CODE)  # inferred, see the module docstring
        if not user.ftm:
            return error_reply(404, MSG_NO_FTM)
        behaviour = self.sim.push_behaviour(user)
        if behaviour.action in ("404", "500", "503"):
            return error_reply(int(behaviour.action), PUSH_ERRORS[int(behaviour.action)])
        authid = self.ftc.start_push(user, behaviour, sn, vdom, req.entry)
        return json_reply({"authid": authid})

    # -- GET /api/v1/auth/<authid> and GET /api/v1/auth?sn= ----------------------

    def status(self, authid):
        status = self.ftc.push_status(authid)  # a vdom (or any) query is accepted
        if status is None:
            return error_reply(404, MSG_NO_AUTH_ID_FOUND)
        return json_reply({"status": status})

    def batch(self, req):
        params = dict(urllib.parse.parse_qsl(req.query, keep_blank_values=True))
        # The docs' example sends {"sn": ...} as a GET body: accept that too.
        body = json_object(req.body) if req.body.strip() else {}

        def value(name):
            if name in params:
                return params[name]
            found = body.get(name)
            if found is None:
                return None
            if isinstance(found, bool) or not isinstance(found, (str, int)):
                raise BadRequest(f"{name}: must be a string")
            return str(found)

        sn = value("sn")
        value("vdom")
        if sn is None:
            raise BadRequest(MSG_NO_AUTHID)
        if sn not in self.sim.config.ftc_serials:
            raise BadRequest(MSG_BAD_SN)
        chunk = value("chunksize")
        if chunk is None:
            size = CHUNK_DEFAULT
        elif chunk.isascii() and chunk.isdigit() and CHUNK_MIN <= int(chunk) <= CHUNK_MAX:
            size = int(chunk)
        else:
            raise BadRequest(f"chunksize must be an integer from {CHUNK_MIN} to {CHUNK_MAX}")
        return json_reply(self.ftc.take_answered(sn, size))
