// The fault matrix (pam_fac(8), RETURN VALUES): every way a FAC server can fail,
// through the built module, with failmode = secure and failmode = safe.
// Each case asserts the PAM code, the one syslog summary line (result word
// and reason), what reached the servers, and that pam_authenticate returned
// within a generous bound derived from connect_timeout / timeout (to catch
// hangs, not to measure speed).
//
// Servers: the harness's simulator (faults scripted through /_sim/faults),
// reached as https://127.0.0.1:<port> and as https://localhost:<port> to
// play two servers, and tests/faults/fault_server.py for what the
// simulator cannot do (silent sockets, stalled handshakes, trickling
// bodies, 10 MB answers, other certificates).
//
// Rule under test (pam_fac(8), RETURN VALUES): failmode = safe turns only an
// outage into PAM_IGNORE: every server's name unresolved, connection
// refused, connect or TLS handshake timed out, connection closed before any
// answer, or 500/502/503/504 to a request with no push. A timeout after the
// request went out, a truncated or oversized answer, a 400, a redirect, an
// unknown text, a TLS failure, rejected API credentials, anything after a
// push went out: the door stays shut whatever failmode says.
#include <security/pam_appl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../faults/fault_server.h"
#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

// Under valgrind a TLS handshake alone can take most of a second.
const long kConnectTimeoutMs = on_valgrind() ? 2000 : 1000;
const long kTimeoutMs = on_valgrind() ? 3000 : 2000;
// Slack over the configured bound: process start-up, TLS, a slow machine,
// valgrind. Generous on purpose.
constexpr long kSlackMs = 4000;

faults::FaultServer g_faults;
int g_closed_port = 0;
int g_cases_run = 0;

int group_setup(void** state) {
    if (start_environment(state) != 0) {
        stop_environment(state);
        return -1;
    }
    if (!g_faults.start(cert_dir(), temp_dir() + "/faults.log")) {
        g_faults.stop();
        stop_environment(state);
        return -1;
    }
    g_closed_port = closed_port();
    return 0;
}

int group_teardown(void** state) {
    g_faults.stop();
    std::printf("fault matrix: %d case runs (case x failmode)\n", g_cases_run);
    return stop_environment(state);
}

// Fills in @SIM@ (the simulator as 127.0.0.1), @LOCAL@ (the same simulator
// as localhost: a second server), @CLOSED@ (nothing listening), and
// @F:name@ (a fault_server listener).
std::string expand(std::string text) {
    const auto replace_all = [&text](const std::string& from, const std::string& to) {
        for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
            text.replace(pos, from.size(), to);
        }
    };
    replace_all("@SIM@", sim_url());
    replace_all("@CERTS@", cert_dir());
    replace_all("@LOCAL@", "https://localhost:" + std::to_string(sim_port()));
    replace_all("@CLOSED@", "https://127.0.0.1:" + std::to_string(g_closed_port));
    for (std::size_t pos = text.find("@F:"); pos != std::string::npos; pos = text.find("@F:")) {
        const std::size_t end = text.find('@', pos + 3);
        const std::string name = text.substr(pos + 3, end - pos - 3);
        if (g_faults.port(name) == 0) {
            std::fprintf(stderr, "no fault_server listener '%s'\n", name.c_str());
            fail();
        }
        text.replace(pos, end + 1 - pos, g_faults.url(name));
    }
    return text;
}

enum Group { Network, Http, Body, Tls, Config, Failover, Push };

struct Case {
    Group group;
    const char* name;
    const char* servers;    // template, see expand()
    const char* fault;      // /_sim/faults JSON (template), or nullptr
    const char* extra;      // more config lines
    int rc_secure;          // the module's code with failmode = secure
    int rc_safe;            // ... and with failmode = safe
    const char* reason;     // in the summary line, both modes
    long bound_ms;          // pam_authenticate returns within this + kSlackMs
    const char* path;       // simulator path whose requests are counted
    int requests;           // how many reached the simulator there (-1: not checked)
    const char* untouched;  // a fault_server listener that must see no request ("" none)
    const char* server;     // "server=..." expected in the summary ("" not checked)
    const char* seen = "";  // "<listener> <event>" that must have happened ("" none)
    long min_ms = 0;        // it must have waited at least this long (a real timeout)
};

constexpr const char* kAuth = "/api/v1/auth/";
constexpr const char* kPush = "/api/v1/pushauth/";
constexpr const char* kPushMode = "second_factor = push\npush_timeout = 5\n";
constexpr int kAuthinfo = PAM_AUTHINFO_UNAVAIL;
constexpr int kIgnore = PAM_IGNORE;

const Case kCases[] = {
    // --- the network: nothing or nobody answers ---------------------------------
    {Network, "connection refused", "@CLOSED@", nullptr, "", kAuthinfo, kIgnore, "connection failed", kConnectTimeoutMs,
     kAuth, 0, "", ""},
    {Network, "TCP accepted by the kernel, never by the server", "@F:backlog@", nullptr, "", kAuthinfo, kIgnore,
     "connection timed out", kConnectTimeoutMs, kAuth, 0, "", ""},
    {Network, "accepted, then silent", "@F:silent@", nullptr, "", kAuthinfo, kIgnore, "connection timed out",
     kConnectTimeoutMs, kAuth, 0, "", "", "silent accept", kConnectTimeoutMs - 200},
    {Network, "TLS handshake stalls after the ClientHello", "@F:tls_stall@", nullptr, "", kAuthinfo, kIgnore,
     "connection timed out", kConnectTimeoutMs, kAuth, 0, "", "", "tls_stall hello ", kConnectTimeoutMs - 200},
    {Network, "plain HTTP server behind an https:// URL", "@F:plain_http@", nullptr, "", kAuthinfo, kAuthinfo,
     "TLS handshake failed", kConnectTimeoutMs, kAuth, 0, "", ""},
    {Network, "unresolvable name", "https://fac.invalid", nullptr, "", kAuthinfo, kIgnore, "DNS lookup failed",
     kConnectTimeoutMs, kAuth, 0, "", ""},
    {Network, "request read, never answered", "@SIM@", R"({"path": "/api/v1/auth/", "action": "hang"})", "", kAuthinfo,
     kAuthinfo, "request timed out", kTimeoutMs, kAuth, 1, "", ""},
    {Network, "body trickles one byte a second", "@F:trickle@", nullptr, "", kAuthinfo, kAuthinfo, "request timed out",
     kTimeoutMs, kAuth, -1, "", "", "trickle request POST /api/v1/auth/", kTimeoutMs - 200},
    {Network, "headers trickle one byte a second", "@F:trickle_head@", nullptr, "", kAuthinfo, kAuthinfo,
     "request timed out", kTimeoutMs, kAuth, -1, "", "", "trickle_head request POST /api/v1/auth/", kTimeoutMs - 200},
    {Network, "connection closed without an answer", "@SIM@", R"({"path": "/api/v1/auth/", "action": "close"})", "",
     kAuthinfo, kIgnore, "connection closed before any answer", kTimeoutMs, kAuth, 1, "", ""},
    {Network, "connection closed inside the status line", "@F:midclose_status@", nullptr, "", kAuthinfo, kIgnore,
     "connection closed before any answer", kTimeoutMs, kAuth, -1, "", "", "midclose_status request"},
    {Network, "connection closed after the status line '200 OK', before any header", "@F:midclose_line@", nullptr, "",
     kAuthinfo, kAuthinfo, "answer truncated or unreadable", kTimeoutMs, kAuth, -1, "", "", "midclose_line request"},
    {Network, "connection closed in the middle of a header after '200 OK'", "@F:midclose@", nullptr, "", kAuthinfo,
     kAuthinfo, "answer truncated or unreadable", kTimeoutMs, kAuth, -1, "", "", "midclose request"},
    {Network, "connection closed before the blank line ending the headers", "@F:midclose_length@", nullptr, "",
     kAuthinfo, kAuthinfo, "answer truncated or unreadable", kTimeoutMs, kAuth, -1, "", "", "midclose_length request"},
    {Network, "connection closed in the body (3 of 10 bytes)", "@F:midclose_body@", nullptr, "", kAuthinfo, kAuthinfo,
     "answer truncated or unreadable", kTimeoutMs, kAuth, -1, "", "", "midclose_body request"},

    // --- HTTP status codes on /auth/ ---------------------------------------------
    {Http, "HTTP 500", "@SIM@", R"({"path": "/api/v1/auth/", "status": 500, "body": "Internal Server Error"})", "",
     kAuthinfo, kIgnore, "HTTP 500", kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 502", "@SIM@", R"({"path": "/api/v1/auth/", "status": 502})", "", kAuthinfo, kIgnore, "HTTP 502",
     kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 503", "@SIM@", R"({"path": "/api/v1/auth/", "status": 503})", "", kAuthinfo, kIgnore, "HTTP 503",
     kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 504", "@SIM@", R"({"path": "/api/v1/auth/", "status": 504})", "", kAuthinfo, kIgnore, "HTTP 504",
     kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 400", "@SIM@", R"({"path": "/api/v1/auth/", "status": 400, "body": "Bad request"})", "", kAuthinfo,
     kAuthinfo, "HTTP 400", kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 401, empty body (API key rejected)", "@SIM@", R"({"path": "/api/v1/auth/", "status": 401})", "",
     kAuthinfo, kAuthinfo, "check api_user and api_key", kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 401 from a wrong api_key (the simulator's own answer)", "@SIM@", nullptr, "api_key = not-the-key",
     kAuthinfo, kAuthinfo, "check api_user and api_key", kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 403", "@SIM@", R"({"path": "/api/v1/auth/", "status": 403, "body": "Permission denied"})", "",
     kAuthinfo, kAuthinfo, "HTTP 403", kTimeoutMs, kAuth, 1, "", ""},
    {Http, "HTTP 302 to another host: not followed", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 302, "headers": {"Location": "@F:ok@/api/v1/auth/"}})", "", kAuthinfo,
     kAuthinfo, "redirects are not followed", kTimeoutMs, kAuth, 1, "ok", ""},
    {Http, "HTTP 307 (keeps the POST) to another host: not followed", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 307, "headers": {"Location": "@F:ok@/api/v1/auth/"}})", "", kAuthinfo,
     kAuthinfo, "redirects are not followed", kTimeoutMs, kAuth, 1, "ok", ""},

    // --- bodies FAC never sends --------------------------------------------------
    {Body, "HTTP 401 with JSON garbage", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 401, "content_type": "application/json", "body": "{\"error\": \"User authentication fa"})",
     "", kAuthinfo, kAuthinfo, "check api_user and api_key", kTimeoutMs, kAuth, 1, "", ""},
    {Body, "HTTP 401 with binary junk", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 401, "body_b64": "AP/+gIE7G1sybQ0KdXNlciBhdXRoZW50aWNhdGlvbiBmYWlsZWQ="})",
     "", kAuthinfo, kAuthinfo, "check api_user and api_key", kTimeoutMs, kAuth, 1, "", ""},
    {Body, "HTTP 404 with an unknown text", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 404, "body": "<html>Not Found</html>"})", "", kAuthinfo, kAuthinfo,
     "HTTP 404", kTimeoutMs, kAuth, 1, "", ""},
    {Body, "truncated body (200 announced, half sent)", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 200, "action": "truncate", "body": "0123456789"})", "", kAuthinfo,
     kAuthinfo, "answer truncated or unreadable", kTimeoutMs, kAuth, 1, "", ""},
    {Body, "truncated 401 user message", "@SIM@",
     R"({"path": "/api/v1/auth/", "status": 401, "action": "truncate", "body": "User authentication failed"})", "",
     kAuthinfo, kAuthinfo, "answer truncated or unreadable", kTimeoutMs, kAuth, 1, "", ""},
    {Body, "10 MB body with Content-Length", "@F:huge@", nullptr, "", kAuthinfo, kAuthinfo, "64 KiB", kTimeoutMs, kAuth,
     -1, "", ""},
    {Body, "10 MB body, chunked", "@F:huge_chunked@", nullptr, "", kAuthinfo, kAuthinfo, "64 KiB", kTimeoutMs, kAuth,
     -1, "", ""},
    {Body, "10 MB body on a 401", "@F:huge_401@", nullptr, "", kAuthinfo, kAuthinfo, "64 KiB", kTimeoutMs, kAuth, -1,
     "", ""},
    {Body, "body of 64 KiB + 1 byte", "@SIM@", "@BIG65537@", "", kAuthinfo, kAuthinfo, "64 KiB", kTimeoutMs, kAuth, 1,
     "", ""},
    {Body, "body of exactly 64 KiB (the cap is not below it)", "@SIM@", "@BIG65536@", "", PAM_SUCCESS, PAM_SUCCESS, "",
     kTimeoutMs, kAuth, 1, "", ""},

    // --- certificates and pins ---------------------------------------------------
    {Tls, "untrusted CA (self-signed certificate)", "@F:selfsigned@", nullptr, "", kAuthinfo, kAuthinfo,
     "TLS certificate verification failed", kConnectTimeoutMs, kAuth, 0, "selfsigned", "", "selfsigned accept"},
    {Tls, "wrong host name", "@F:wronghost@", nullptr, "", kAuthinfo, kAuthinfo, "TLS certificate verification failed",
     kConnectTimeoutMs, kAuth, 0, "wronghost", "", "wronghost accept"},
    {Tls, "expired certificate", "@F:expired@", nullptr, "", kAuthinfo, kAuthinfo,
     "TLS certificate verification failed", kConnectTimeoutMs, kAuth, 0, "expired", "", "expired accept"},
    {Tls, "pin mismatch", "@SIM@", nullptr, "pinned_pubkey = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
     kAuthinfo, kAuthinfo, "TLS certificate verification failed", kConnectTimeoutMs, kAuth, 0, "", ""},
    {Tls, "ca_file holds another CA (not the server's)", "@SIM@", nullptr, "ca_file = @CERTS@/selfsigned.pem",
     kAuthinfo, kAuthinfo, "TLS certificate verification failed", kConnectTimeoutMs, kAuth, 0, "", ""},

    // --- configuration -----------------------------------------------------------
    {Config, "plain http:// server URL", "http://127.0.0.1:1", nullptr, "", PAM_SERVICE_ERR, PAM_SERVICE_ERR,
     "must start with https://", 0, kAuth, 0, "", ""},
    {Config, "one http:// URL among https:// ones", "@SIM@, http://127.0.0.1:1", nullptr, "", PAM_SERVICE_ERR,
     PAM_SERVICE_ERR, "must start with https://", 0, kAuth, 0, "", ""},

    // --- two servers ---------------------------------------------------------------
    {Failover, "primary refused, secondary up", "@CLOSED@, @LOCAL@", nullptr, "", PAM_SUCCESS, PAM_SUCCESS, "",
     kConnectTimeoutMs, kAuth, 1, "", "server=localhost"},
    {Failover, "primary silent, secondary up", "@F:silent@, @LOCAL@", nullptr, "", PAM_SUCCESS, PAM_SUCCESS, "",
     kConnectTimeoutMs, kAuth, 1, "", "server=localhost", "silent accept", kConnectTimeoutMs - 200},
    {Failover, "primary unresolvable, secondary up", "https://fac.invalid, @LOCAL@", nullptr, "", PAM_SUCCESS,
     PAM_SUCCESS, "", kConnectTimeoutMs, kAuth, 1, "", "server=localhost"},
    {Failover, "primary up, secondary down: never tried", "@SIM@, @F:silent@", nullptr, "", PAM_SUCCESS, PAM_SUCCESS,
     "", 0, kAuth, 1, "silent", "server=127.0.0.1"},
    {Failover, "both down", "@CLOSED@, @F:backlog@", nullptr, "", kAuthinfo, kIgnore, "no server reachable",
     2 * kConnectTimeoutMs, kAuth, 0, "", ""},
    {Failover, "502 from a proxy: the next server answers", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 502, "count": 1})", "", PAM_SUCCESS, PAM_SUCCESS, "", kTimeoutMs, kAuth, 2,
     "", "server=localhost"},
    {Failover, "503 from a proxy: the next server answers", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 503, "count": 1})", "", PAM_SUCCESS, PAM_SUCCESS, "", kTimeoutMs, kAuth, 2,
     "", "server=localhost"},
    {Failover, "504 from a proxy: the next server answers", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 504, "count": 1})", "", PAM_SUCCESS, PAM_SUCCESS, "", kTimeoutMs, kAuth, 2,
     "", "server=localhost"},
    {Failover, "503 from both", "@SIM@, @LOCAL@", R"({"path": "/api/v1/auth/", "status": 503})", "", kAuthinfo, kIgnore,
     "no server reachable", 2 * kTimeoutMs, kAuth, 2, "", ""},
    {Failover, "500 is FAC's own answer: no failover", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 500, "count": 1})", "", kAuthinfo, kAuthinfo, "HTTP 500", kTimeoutMs, kAuth,
     1, "", ""},
    {Failover, "timeout after the request went out: no failover", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "action": "hang", "count": 1})", "", kAuthinfo, kAuthinfo, "request timed out",
     kTimeoutMs, kAuth, 1, "", ""},
    {Failover, "truncated answer: no failover", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 200, "action": "truncate", "body": "0123456789", "count": 1})", "",
     kAuthinfo, kAuthinfo, "truncated", kTimeoutMs, kAuth, 1, "", ""},
    {Failover, "401 API key rejected: no failover", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/auth/", "status": 401, "count": 1})", "", kAuthinfo, kAuthinfo, "check api_user and api_key",
     kTimeoutMs, kAuth, 1, "", ""},
    {Failover, "bad certificate on the primary, secondary up", "@F:selfsigned@, @LOCAL@", nullptr, "", PAM_SUCCESS,
     PAM_SUCCESS, "", kConnectTimeoutMs, kAuth, 1, "selfsigned", "server=localhost"},
    {Failover, "bad certificate on the primary, secondary down: failmode = safe does not apply",
     "@F:expired@, @CLOSED@", nullptr, "", kAuthinfo, kAuthinfo, "TLS certificate verification failed",
     2 * kConnectTimeoutMs, kAuth, 0, "expired", ""},
    {Failover, "secondary's certificate bad, primary down: failmode = safe does not apply", "@CLOSED@, @F:wronghost@",
     nullptr, "", kAuthinfo, kAuthinfo, "TLS certificate verification failed", 2 * kConnectTimeoutMs, kAuth, 0,
     "wronghost", ""},

    // --- /pushauth/ ----------------------------------------------------------------
    {Push, "push: 503 (FAC cannot reach its push server)", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/pushauth/", "status": 503})", kPushMode, kAuthinfo, kAuthinfo, "HTTP 503", kTimeoutMs, kPush,
     1, "", ""},
    {Push, "push: 500 (push server refused)", "@SIM@, @LOCAL@", R"({"path": "/api/v1/pushauth/", "status": 500})",
     kPushMode, kAuthinfo, kAuthinfo, "HTTP 500", kTimeoutMs, kPush, 1, "", ""},
    {Push, "push: 502 from a proxy fails over, one push sent", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/pushauth/", "status": 502, "count": 1})", kPushMode, PAM_SUCCESS, PAM_SUCCESS, "", kTimeoutMs,
     kPush, 2, "", "server=localhost"},
    {Push, "push: 504 may come after the push went out: no failover", "@SIM@, @LOCAL@",
     R"({"path": "/api/v1/pushauth/", "status": 504, "count": 1})", kPushMode, kAuthinfo, kAuthinfo, "HTTP 504",
     kTimeoutMs, kPush, 1, "", ""},
    {Push, "push: primary refused, secondary sends it", "@CLOSED@, @LOCAL@", nullptr, kPushMode, PAM_SUCCESS,
     PAM_SUCCESS, "", kConnectTimeoutMs, kPush, 1, "", "server=localhost"},
    {Push, "push: 401 is the user's rejection", "@SIM@", R"({"path": "/api/v1/pushauth/", "status": 401})", kPushMode,
     PAM_AUTH_ERR, PAM_AUTH_ERR, "push rejected", kTimeoutMs, kPush, 1, "", ""},
    {Push, "push: 403", "@SIM@", R"({"path": "/api/v1/pushauth/", "status": 403, "body": "Permission denied"})",
     kPushMode, kAuthinfo, kAuthinfo, "HTTP 403", kTimeoutMs, kPush, 1, "", ""},
    {Push, "push: redirect not followed", "@SIM@",
     R"({"path": "/api/v1/pushauth/", "status": 302, "headers": {"Location": "@F:ok@/api/v1/pushauth/"}})", kPushMode,
     kAuthinfo, kAuthinfo, "HTTP 302", kTimeoutMs, kPush, 1, "ok", ""},
    {Push, "push: 10 MB answer", "@F:huge@", nullptr, kPushMode, kAuthinfo, kAuthinfo, "64 KiB", kTimeoutMs, kPush, -1,
     "", ""},
};

const char* word_for(int rc) {
    switch (rc) {
    case PAM_SUCCESS:
        return "result=success";
    case PAM_AUTHINFO_UNAVAIL:
        return "result=unavailable";
    case PAM_IGNORE:
        return "result=ignored";
    case PAM_SERVICE_ERR:
        return "result=error";
    case PAM_AUTH_ERR:
        return "result=denied";
    default:
        return "result=?";
    }
}

std::string config_for(const Case& c, bool safe) {
    std::string text = "# fault matrix\nserver = " + expand(c.servers) +
                       "\napi_user = apiadmin\n"
                       "ca_file = " +
                       ca_file() +
                       "\n"
                       "connect_timeout = " +
                       std::to_string(kConnectTimeoutMs / 1000.0) +
                       "\n"
                       "timeout = " +
                       std::to_string(kTimeoutMs / 1000.0) +
                       "\n"
                       "tries = 1\n"
                       "server_retry_after = 0\n"
                       "state_dir = " +
                       temp_dir() +
                       "/state\n"
                       "failmode = " +
                       (safe ? "safe" : "secure") + "\n";
    const std::string extra = expand(c.extra);
    if (!contains(extra, "api_key")) {
        text += "api_key = s3cr3t-api-key\n";
    }
    if (contains(extra, "ca_file")) {
        text.replace(text.find("ca_file = "), 11 + ca_file().size(), "");
    }
    if (!contains(extra, "second_factor")) {
        text += "second_factor = code\n";
    }
    return text + extra + "\n";
}

// Runs one case in one failmode; returns false (after saying why) if it
// did not go as the table says.
bool run_case(const Case& c, bool safe) {
    reset_environment(nullptr);
    g_faults.clear_events();
    ++g_cases_run;
    const std::string label = std::string(c.name) + (safe ? " [failmode=safe]" : " [failmode=secure]");
    bool ok = true;
    const auto expect = [&](bool condition, const std::string& what) {
        if (!condition) {
            std::fprintf(stderr, "FAILED %s: %s\n", label.c_str(), what.c_str());
            ok = false;
        }
    };

    write_file(temp_dir() + "/fac.conf", config_for(c, safe), 0600);
    if (c.fault != nullptr) {
        std::string fault = c.fault;
        if (fault.rfind("@BIG", 0) == 0) {
            // @BIG<n>@: a 200 whose n-byte body is a JSON object reporting
            // no error, the only body a yes may carry.
            const std::size_t n = std::strtoul(fault.c_str() + 4, nullptr, 10);
            fault = R"({"path": "/api/v1/auth/", "status": 200, "body": "{\"pad\": \")" + std::string(n - 11, 'x') +
                    R"(\"}"})";
        }
        sim_post("/_sim/faults", expand(fault));
    }
    const bool push = contains(c.extra, "second_factor = push");
    const std::vector<std::string> answers =
        push ? std::vector<std::string>{} : std::vector<std::string>{totp(kAliceSecret)};
    const PamResult r = authenticate("fac", "alice", answers);

    // With pam_fac alone on the stack, libpam turns a module's PAM_IGNORE
    // into PAM_PERM_DENIED (PAM_MUST_FAIL_CODE); pam_fac itself never
    // returns PAM_PERM_DENIED. The summary line confirms which it was.
    const int module_rc = r.rc == PAM_PERM_DENIED ? PAM_IGNORE : r.rc;
    const int want = safe ? c.rc_safe : c.rc_secure;
    expect(module_rc == want,
           std::string("PAM code ") + pam_strerror(nullptr, module_rc) + ", expected " + pam_strerror(nullptr, want));

    const auto lines = summary_lines();
    expect(lines.size() == 1, "expected one summary line, found " + std::to_string(lines.size()));
    const std::string line = lines.empty() ? "" : lines.front();
    expect(contains(line, word_for(want)), std::string("summary lacks ") + word_for(want) + ": " + line);
    expect(contains(line, c.reason), std::string("summary lacks '") + c.reason + "': " + line);
    if (safe && want == PAM_IGNORE) {
        expect(contains(line, "failmode = safe lets the login go on"), "safe mode not explained: " + line);
        expect(std::atoi(line.c_str()) == 4 /* LOG_WARNING */, "failmode = safe is not logged as a warning: " + line);
    }
    if (safe && want == PAM_AUTHINFO_UNAVAIL && c.group != Push) {
        expect(contains(line, "failmode = safe does not apply"), "safe mode refusal not explained: " + line);
    }
    if (c.server[0] != '\0') {
        expect(contains(line, c.server), std::string("summary lacks ") + c.server + ": " + line);
    }
    for (const char* secret : {"s3cr3t-api-key", "not-the-key"}) {
        expect(!contains(line, secret), "summary holds the API key");
    }

    const long bound = c.bound_ms + kSlackMs;
    expect(r.ms <= bound, "took " + std::to_string(r.ms) + " ms, bound " + std::to_string(bound) + " ms");

    expect(r.ms >= c.min_ms, "returned after " + std::to_string(r.ms) + " ms, before the " + std::to_string(c.min_ms) +
                                 " ms it had to wait");
    if (c.seen[0] != '\0') {
        const std::string seen = c.seen;
        const std::size_t space = seen.find(' ');
        expect(g_faults.count(seen.substr(0, space), seen.substr(space + 1)) >= 1,
               "listener event '" + seen + "' did not happen");
    }
    if (c.requests >= 0) {
        const auto log = sim_requests();
        const std::size_t n = requests_to(log, c.path).size();
        expect(n == static_cast<std::size_t>(c.requests),
               std::to_string(n) + " requests reached " + c.path + ", expected " + std::to_string(c.requests));
    }
    if (c.untouched[0] != '\0') {
        expect(g_faults.count(c.untouched, "request") == 0,
               std::string("listener '") + c.untouched + "' received a request");
        if (std::string(c.untouched) == "silent" || std::string(c.untouched) == "ok") {
            expect(g_faults.count(c.untouched, "accept") == 0,
                   std::string("listener '") + c.untouched + "' was even connected to");
        }
    }
    if (!ok) {
        std::fprintf(stderr, "  PAM rc %d, %ld ms, info/errors:", r.rc, r.ms);
        for (const auto& m : r.info) {
            std::fprintf(stderr, " [info] %s", m.c_str());
        }
        for (const auto& m : r.errors) {
            std::fprintf(stderr, " [error] %s", m.c_str());
        }
        std::fprintf(stderr, "\n  syslog:\n");
        for (const auto& l : syslog_lines()) {
            std::fprintf(stderr, "    %s\n", l.c_str());
        }
    }
    return ok;
}

void run_group(Group group) {
    const auto start = std::chrono::steady_clock::now();
    int failed = 0;
    int run = 0;
    for (const Case& c : kCases) {
        if (c.group != group) {
            continue;
        }
        for (const bool safe : {false, true}) {
            // Under valgrind (about 0.5 s an authentication) failmode = safe
            // is left out: the module's memory behaviour is the same, and
            // the lane stays near a minute.
            if (safe && on_valgrind()) {
                continue;
            }
            ++run;
            failed += run_case(c, safe) ? 0 : 1;
        }
    }
    const long ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    std::printf("  %d case runs, %d failed, %ld ms\n", run, failed, ms);
    assert_int_equal(failed, 0);
}

void network_faults(void** /*state*/) {
    run_group(Network);
}
void http_status_faults(void** /*state*/) {
    run_group(Http);
}
void body_faults(void** /*state*/) {
    run_group(Body);
}
void tls_faults(void** /*state*/) {
    run_group(Tls);
}
void config_faults(void** /*state*/) {
    run_group(Config);
}
void failover(void** /*state*/) {
    run_group(Failover);
}
void push_faults(void** /*state*/) {
    run_group(Push);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(network_faults), cmocka_unit_test(http_status_faults), cmocka_unit_test(body_faults),
        cmocka_unit_test(tls_faults),     cmocka_unit_test(config_faults),      cmocka_unit_test(failover),
        cmocka_unit_test(push_faults),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
