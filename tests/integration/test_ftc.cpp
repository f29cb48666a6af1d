// backend = ftc through the built module against the simulator playing
// FortiToken Cloud: login and the cached bearer token, its renewal after
// expiry, codes, push by polling, and autopush.
#include <dirent.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

std::size_t count(const rapidjson::Document& log, const std::string& method, const std::string& path) {
    std::size_t n = 0;
    for (const auto& e : log.GetArray()) {
        n += method == e["method"].GetString() && path == e["path"].GetString();
    }
    return n;
}

// The cached bearer token file(s) in state_dir.
std::vector<std::string> cached_tokens() {
    std::vector<std::string> paths;
    const std::string dir = temp_dir() + "/state";
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d)) {
            if (std::string(e->d_name).rfind("ftc-token-", 0) == 0) {
                paths.push_back(dir + "/" + e->d_name);
            }
        }
        closedir(d);
    }
    return paths;
}

void forget_cached_tokens() {
    for (const std::string& path : cached_tokens()) {
        unlink(path.c_str());
    }
}

void code_accepted_and_token_cached(void** /*state*/) {
    write_config("second_factor = code");
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "result=success user=alice rhost=- method=code"));
    assert_int_equal(cached_tokens().size(), 1);
    struct stat st {};
    assert_int_equal(stat((temp_dir() + "/state").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    // The next login reuses the token: no second /login.
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    const auto log = sim_requests();
    assert_int_equal(count(log, "POST", "/api/v1/login"), 1);
    assert_int_equal(count(log, "POST", "/api/v1/auth"), 2);
}

// A 401 to a code is a wrong code or a token FTC no longer takes: the code
// is never sent twice; the next login fetches a new token.
void expired_token_costs_one_try_never_a_second_send(void** /*state*/) {
    write_config("second_factor = code\ntries = 1");
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    sim_post("/_sim/ftc/expire_tokens", "{}");
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_AUTH_ERR);
    auto log = sim_requests();
    assert_int_equal(count(log, "POST", "/api/v1/login"), 0);
    assert_int_equal(count(log, "POST", "/api/v1/auth"), 1);
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    log = sim_requests();
    assert_int_equal(count(log, "POST", "/api/v1/login"), 1);
    assert_int_equal(count(log, "POST", "/api/v1/auth"), 1);
}

// FortiToken Cloud's documented errors (docs/fac-api.md), each under both
// failmode values: only an outage lets failmode = safe open the door.
void documented_errors_keep_the_door_shut(void** /*state*/) {
    const struct {
        const char* path;
        int status;
        const char* body;
        int rc;  // the same with failmode = safe
    } cases[] = {
        {"/api/v1/auth", 400, R"({\"error\": \"User not found\"})", PAM_USER_UNKNOWN},
        {"/api/v1/auth", 400, R"({\"error\": \"No token or token was not activated\"})", PAM_AUTH_ERR},
        {"/api/v1/auth", 400, R"({\"error\": \"Auth client not found\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/auth", 400, R"({\"error\": \"Realm not assigned\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/auth", 402, R"({\"error\": \"Account was disabled\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/auth", 429, R"({\"error\": \"Trial request limit exceeded\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/auth", 200, R"({\"authid\": \"0b6e7f4a-push-instead\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/login", 400, R"({\"error\": \"client secret format is invalid\"})", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/login", 403, "Forbidden", PAM_AUTHINFO_UNAVAIL},
        {"/api/v1/login", 404, R"({\"error\": \"client does not exist\"})", PAM_AUTHINFO_UNAVAIL},
    };
    for (const bool safe : {false, true}) {
        for (const auto& c : cases) {
            reset_environment(nullptr);
            forget_cached_tokens();
            write_config(std::string("second_factor = code\ntries = 1\nfailmode = ") + (safe ? "safe" : "secure"));
            sim_post("/_sim/faults", std::string("{\"path\": \"") + c.path + "\", \"status\": " +
                                         std::to_string(c.status) + ", \"body\": \"" + c.body + "\"}");
            const PamResult r = authenticate("fac", "alice", {totp(kAliceSecret)});
            if (r.rc != c.rc) {
                fail_msg("%s %d %s [failmode=%s]: PAM code %d, expected %d", c.path, c.status, c.body,
                         safe ? "safe" : "secure", r.rc, c.rc);
            }
            assert_false(contains(summary_line(), "result=ignored"));
        }
    }
    // The control: a true outage (503 to the code check) is what safe covers.
    reset_environment(nullptr);
    write_config("second_factor = code\ntries = 1\nfailmode = safe");
    sim_post("/_sim/faults", R"({"path": "/api/v1/auth", "status": 503})");
    authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_true(contains(summary_line(), "result=ignored"));
}

void wrong_code_and_account_states(void** /*state*/) {
    write_config("second_factor = code\ntries = 2");
    PamResult r = authenticate("fac", "alice", {"000000", "000001"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_string_equal(r.errors[0].c_str(), "Incorrect code.");
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac", "nobody", {"123456"}).rc, PAM_USER_UNKNOWN);
    reset_environment(nullptr);
    r = authenticate("fac", "carol", {totp("MFRGGZDFMZTWQ2LK")});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_true(contains(r.errors[0], "disabled"));
}

void bad_client_secret(void** /*state*/) {
    write_file(temp_dir() + "/fac.conf",
               "server = " + sim_url() +
                   "\nbackend = ftc\nftc_client_id = ftc-client\nftc_client_secret = nope\n"
                   "ca_file = " +
                   ca_file() + "\nstate_dir = " + temp_dir() +
                   "/state-bad\nsecond_factor = code\n"
                   "failmode = safe\n",
               0600);
    const PamResult r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    const std::string line = summary_line();
    assert_true(contains(line, "ftc_client_secret"));
    assert_false(contains(line, "nope"));
}

void push_polls_until_approved(void** /*state*/) {
    write_config("second_factor = push");
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    assert_int_equal(count(log, "POST", "/api/v1/auth"), 1);
    assert_true(requests_to(log, "/api/v1/auth/").size() >= 1);  // the polls
    assert_true(contains(summary_line(), "method=push"));
}

// A push login that needs /login first (no cached token), approved after
// 0.5 s of polls every 0.1 s; returns the simulator's log of it.
rapidjson::Document push_login_with_new_token() {
    write_config("second_factor = push");
    forget_cached_tokens();
    sim_post("/_sim/push", R"({"username": "alice", "action": "approve", "delay": 0.5})");
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_SUCCESS);
    rapidjson::Document log = sim_requests();
    assert_int_equal(count(log, "POST", "/api/v1/login"), 1);
    assert_true(requests_to(log, "/api/v1/auth/").size() >= 2);
    return log;
}

// The login, the push and its polls reuse one connection: one TLS handshake.
void push_keeps_one_connection(void** /*state*/) {
    const auto log = push_login_with_new_token();
    for (const auto& e : log.GetArray()) {
        assert_int_equal(e["conn"].GetInt(), log[0]["conn"].GetInt());
    }
}

// A load balancer in front of FTC may close a kept connection while it is
// idle between two requests, without having said so in the last answer.
// The next request then needs a new connection, and the login goes on.
void push_survives_connections_closed_between_requests(void** /*state*/) {
    sim_post("/_sim/settings", R"({"close_idle": true})");
    const auto log = push_login_with_new_token();
    std::set<int> connections;
    for (const auto& e : log.GetArray()) {
        assert_string_equal(e["outcome"].GetString(), "answered");
        connections.insert(e["conn"].GetInt());
    }
    assert_int_equal(connections.size(), log.Size());
}

void push_rejected_and_timed_out(void** /*state*/) {
    write_config("second_factor = push");
    assert_int_equal(authenticate("fac", "grace", {}).rc, PAM_AUTH_ERR);
    reset_environment(nullptr);
    write_config("second_factor = push\npush_timeout = 1");
    sim_post("/_sim/push", R"({"username": "alice", "action": "never"})");
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_true(r.ms < 5000);
    assert_string_equal(r.errors.back().c_str(), "The push was not approved in time.");
}

void autopush_with_ftc(void** /*state*/) {
    write_config("autopush = yes");
    PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "method=push"));

    // A typed code ends the login; the unanswered push does not hold it
    // until push_timeout (the bound is half of it, so a slow lane passes).
    reset_environment(nullptr);
    write_config("autopush = yes\npush_timeout = 60");
    sim_post("/_sim/push", R"({"username": "alice", "action": "never"})");
    r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(r.ms < 30000);
    assert_true(contains(summary_line(), "method=code"));
}

}  // namespace

int main() {
    use_ftc_simulator();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(code_accepted_and_token_cached, reset_environment),
        cmocka_unit_test_setup(expired_token_costs_one_try_never_a_second_send, reset_environment),
        cmocka_unit_test_setup(documented_errors_keep_the_door_shut, reset_environment),
        cmocka_unit_test_setup(wrong_code_and_account_states, reset_environment),
        cmocka_unit_test_setup(bad_client_secret, reset_environment),
        cmocka_unit_test_setup(push_polls_until_approved, reset_environment),
        cmocka_unit_test_setup(push_keeps_one_connection, reset_environment),
        cmocka_unit_test_setup(push_survives_connections_closed_between_requests, reset_environment),
        cmocka_unit_test_setup(push_rejected_and_timed_out, reset_environment),
        cmocka_unit_test_setup(autopush_with_ftc, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
