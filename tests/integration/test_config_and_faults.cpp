// Misconfiguration and failure through the built module: every config
// mistake names file and line; unreachable servers, TLS failures, rejected
// API credentials and answers FAC would never give each map as
// pam_fac(8), RETURN VALUES says, and each leaves one syslog line saying what to fix.
#include <netinet/in.h>
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

// A config without the harness's defaults, for tests that vary them.
std::string write_raw_config(const std::string& text) {
    const std::string path = temp_dir() + "/fac.conf";
    write_file(path, text, 0600);
    return path;
}

std::string base_lines(const std::string& servers) {
    return "server = " + servers + "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
           "\nconnect_timeout = 5\ntimeout = 5\nsecond_factor = code\nstate_dir = " + temp_dir() + "/state\n";
}

PamResult code_login() {
    return authenticate("fac", "alice", {totp(kAliceSecret)});
}

void config_error_names_file_and_line(void** /*state*/) {
    const std::string path = write_config("second_factor = code\nservr = https://typo.example\n");
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    const std::string line = summary_line();
    assert_true(contains(line, "result=error"));
    assert_true(contains(line, path + ":10: unknown key 'servr'"));
    assert_int_equal(sim_requests().Size(), 0);
}

void bad_values_and_syntax(void** /*state*/) {
    const char* cases[][2] = {
        {"tries = many", ":10: tries 'many': must be a whole number from 1 to 10"},
        {"failmode = open", ":10: failmode 'open': must be one of: secure, safe"},
        {"just some words", ":10: expected 'key = value'"},
        {"realm = a\nrealm = b", ":11: duplicate key 'realm' (first set on line 10)"},
        {"push_message = \"unterminated", ":10: value of 'push_message' has an unterminated quote"},
        {"groups = no-such-group", ":10: group 'no-such-group' does not exist"},
        {"groups = !", ":10: groups '!': '!' is not a group name"},
        {"push_timeout = 0", ":10: push_timeout '0': must be a number of seconds greater than 0"},
    };
    for (const auto& c : cases) {
        reset_environment(nullptr);
        write_raw_config(base_lines(sim_url()) + "# line 9\n" + c[0] + "\n");
        assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
        const std::string line = summary_line();
        if (!contains(line, c[1])) {
            std::fprintf(stderr, "expected '%s' in: %s\n", c[1], line.c_str());
            fail();
        }
    }
}

// No syslog line holds `secret`.
void check_never_logged(const std::string& secret) {
    for (const std::string& line : syslog_lines()) {
        if (contains(line, secret)) {
            std::fprintf(stderr, "secret logged: %s\n", line.c_str());
            fail();
        }
    }
}

void review_findings_are_config_errors(void** /*state*/) {
    const char* cases[][2] = {
        // Relative paths follow the caller's working directory (sudo: the user's).
        {"ca_path = certs", ":10: ca_path 'certs': needs an absolute path"},
        {"http_proxy = proxy.example:3128", ":10: http_proxy 'proxy.example:3128': must start with http://"},
        {"http_proxy = http://proxy.example", ":10: http_proxy 'http://proxy.example': needs a port"},
        {"http_proxy = http://alice:Pr0xy-Pw@proxy.example",
         ":10: http_proxy 'http://***@proxy.example': needs a port"},
        {"realm = caf\xe9", ":10: realm 'caf\\\\xe9': must be valid UTF-8"},
        {"push_message = {user} \xc3", ":10: push_message '{user} \\\\xc3': must be valid UTF-8"},
    };
    for (const auto& c : cases) {
        reset_environment(nullptr);
        write_raw_config(base_lines(sim_url()) + "# line 9\n" + c[0] + "\n");
        assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
        const std::string line = summary_line();
        if (!contains(line, c[1])) {
            std::fprintf(stderr, "expected '%s' in: %s\n", c[1], line.c_str());
            fail();
        }
        assert_int_equal(sim_requests().Size(), 0);
        check_never_logged("Pr0xy-Pw");
    }
}

void secrets_on_a_stack_line_are_refused(void** /*state*/) {
    write_config("second_factor = code");
    assert_int_equal(authenticate("fac_secret_argument", "alice", {totp(kAliceSecret)}).rc, PAM_SERVICE_ERR);
    const std::string line = summary_line();
    assert_true(contains(line, "module argument 'api_key': secrets are not accepted on a stack line"));
    check_never_logged("Stack-Sekr3t-77");
    assert_int_equal(sim_requests().Size(), 0);

    reset_environment(nullptr);
    assert_int_equal(authenticate("fac_relative_key_file", "alice", {totp(kAliceSecret)}).rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "module argument 'api_key_file': api_key_file needs an absolute path"));
}

void insecure_config_files_are_refused(void** /*state*/) {
    const std::string path = write_config("second_factor = code");
    chmod(path.c_str(), 0644);
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "chmod 600"));

    reset_environment(nullptr);
    chmod(path.c_str(), 0620);
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "writable by group or others"));

    reset_environment(nullptr);
    const std::string real = temp_dir() + "/real.conf";
    chmod(path.c_str(), 0600);
    rename(path.c_str(), real.c_str());
    assert_int_equal(symlink(real.c_str(), path.c_str()), 0);
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "symbolic link"));
    unlink(path.c_str());

    reset_environment(nullptr);
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "does not exist"));
}

void unknown_module_argument(void** /*state*/) {
    write_config("second_factor = code");
    assert_int_equal(authenticate("fac_bad_argument", "alice", {totp(kAliceSecret)}).rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "module argument 'no_such_argument'"));
}

void plain_http_server_is_refused(void** /*state*/) {
    write_raw_config(base_lines("http://127.0.0.1:" + std::to_string(sim_port())));
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "must start with https://"));
}

void api_key_file(void** /*state*/) {
    const std::string key_path = temp_dir() + "/api.key";
    write_file(key_path, "s3cr3t-api-key\n", 0600);
    std::string text = base_lines(sim_url());
    text.replace(text.find("api_key = s3cr3t-api-key"), 24, "api_key_file = " + key_path);
    write_raw_config(text);
    assert_int_equal(code_login().rc, PAM_SUCCESS);

    reset_environment(nullptr);
    chmod(key_path.c_str(), 0644);
    assert_int_equal(code_login().rc, PAM_SERVICE_ERR);
    const std::string line = summary_line();
    assert_true(contains(line, "api_key_file " + key_path + " is readable by group or others"));
}

void rejected_api_key_is_never_failmode_safe(void** /*state*/) {
    std::string text = base_lines(sim_url()) + "failmode = safe\n";
    text.replace(text.find("s3cr3t-api-key"), 14, "wrong-key");
    write_raw_config(text);
    const PamResult r = code_login();
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    const std::string line = summary_line();
    assert_true(contains(line, "result=unavailable"));
    assert_true(contains(line, "check api_user and api_key"));
    assert_false(contains(line, "wrong-key"));
}

void admin_without_permission(void** /*state*/) {
    std::string text = base_lines(sim_url());
    text.replace(text.find("api_user = apiadmin"), 19, "api_user = noperm");
    text.replace(text.find("s3cr3t-api-key"), 14, "noperm-key");
    write_raw_config(text);
    assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "HTTP 403"));
}

void unreachable_server_and_failmode(void** /*state*/) {
    const std::string dead = "https://127.0.0.1:" + std::to_string(closed_port());
    write_raw_config(base_lines(dead));
    PamResult r = code_login();
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(r.errors.at(0), "cannot be reached"));
    assert_true(contains(summary_line(), "connection failed"));

    reset_environment(nullptr);
    write_raw_config(base_lines(dead) + "failmode = safe\n");
    r = authenticate("fac_ignorable", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);  // pam_fac stepped aside; pam_permit decided
    const std::string line = summary_line();
    assert_true(contains(line, "result=ignored"));
    assert_true(contains(line, "failmode = safe"));
    assert_int_equal(std::atoi(line.c_str()), LOG_WARNING);
}

void fails_over_to_the_second_server(void** /*state*/) {
    const std::string dead = "https://127.0.0.1:" + std::to_string(closed_port());
    write_raw_config(base_lines(dead + ", https://localhost:" + std::to_string(sim_port())));
    assert_int_equal(code_login().rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "server=localhost"));
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

void proxy_errors_fail_over_but_fac_errors_do_not(void** /*state*/) {
    write_raw_config(base_lines(sim_url() + " https://localhost:" + std::to_string(sim_port())));
    sim_post("/_sim/faults", R"({"path": "/api/v1/auth/", "status": 503, "count": 1})");
    assert_int_equal(code_login().rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 2);

    reset_environment(nullptr);
    sim_post("/_sim/faults", R"({"path": "/api/v1/auth/", "status": 500, "count": 1})");
    assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
    assert_true(contains(summary_line(), "HTTP 500"));
}

void slow_server_is_bounded_by_timeout(void** /*state*/) {
    std::string text = base_lines(sim_url());
    text.replace(text.find("\ntimeout = 5"), 12, "\ntimeout = 1");
    write_raw_config(text);
    sim_post("/_sim/delay", R"({"seconds": 4})");
    const PamResult r = code_login();
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(r.ms < 3500);  // a generous bound, to catch hangs
    assert_true(contains(summary_line(), "within timeout"));
}

void answers_fac_never_gives(void** /*state*/) {
    const char* faults[] = {
        R"({"path": "/api/v1/auth/", "status": 302, "headers": {"Location": "https://evil.example/"}})",
        R"({"path": "/api/v1/auth/", "status": 200, "action": "truncate", "body": "0123456789"})",
        R"({"path": "/api/v1/auth/", "action": "close"})",
    };
    for (const char* fault : faults) {
        reset_environment(nullptr);
        write_config("second_factor = code\nfailmode = secure");
        sim_post("/_sim/faults", fault);
        assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    }
    // A body over 64 KiB.
    reset_environment(nullptr);
    write_config("second_factor = code");
    sim_post("/_sim/faults",
             "{\"path\": \"/api/v1/auth/\", \"status\": 200, \"body\": \"" + std::string(70000, 'x') + "\"}");
    assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "64 KiB"));
}

void untrusted_certificate(void** /*state*/) {
    std::string text = base_lines(sim_url()) + "failmode = safe\n";
    text.replace(text.find("ca_file = "), 10 + ca_file().size(), "ca_file = " + cert_dir() + "/selfsigned.pem");
    write_raw_config(text);
    assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    const std::string line = summary_line();
    assert_true(contains(line, "TLS certificate verification failed"));
    assert_true(contains(line, "failmode = safe does not apply"));
    assert_int_equal(sim_requests().Size(), 0);
}

void tls_verify_off_works_and_warns(void** /*state*/) {
    std::string text = base_lines(sim_url()) + "tls_verify = no\n";
    text.replace(text.find("ca_file = "), 10 + ca_file().size(), "ca_file = " + cert_dir() + "/selfsigned.pem");
    write_raw_config(text);
    assert_int_equal(code_login().rc, PAM_SUCCESS);
    bool warned = false;
    for (const std::string& line : syslog_lines()) {
        warned = warned || (std::atoi(line.c_str()) == LOG_WARNING && contains(line, "tls_verify = no"));
    }
    assert_true(warned);
}

std::string server_pin() {
    const std::string command = "openssl x509 -in '" + cert_dir() +
                                "/server.pem' -pubkey -noout | openssl pkey -pubin -outform der | "
                                "openssl dgst -sha256 -binary | base64";
    const CommandResult r = run_clean(command);
    assert_int_equal(r.exit_code, 0);
    std::string pin = r.out;
    pin.erase(pin.find_last_not_of("\n") + 1);
    return "sha256//" + pin;
}

void public_key_pinning(void** /*state*/) {
    write_config("second_factor = code\npinned_pubkey = " + server_pin());
    assert_int_equal(code_login().rc, PAM_SUCCESS);

    reset_environment(nullptr);
    write_config("second_factor = code\npinned_pubkey = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_int_equal(code_login().rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "pinned_pubkey"));
}

void debug_logs_detail_but_no_secret(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    const std::string code = totp(kAliceSecret);
    assert_int_equal(authenticate("fac_debug", "alice", {"alice-pw", code}).rc, PAM_SUCCESS);
    const auto lines = syslog_lines();
    assert_true(lines.size() >= 3);
    bool debug_seen = false;
    for (const std::string& line : lines) {
        debug_seen = debug_seen || std::atoi(line.c_str()) == LOG_DEBUG;
        assert_false(contains(line, "alice-pw"));
        assert_false(contains(line, code));
        assert_false(contains(line, "s3cr3t-api-key"));
    }
    assert_true(debug_seen);
}

// A loopback port that completes TCP handshakes (the kernel's backlog) but
// never speaks TLS: a server that is up at the IP level and dead above it.
struct Blackhole {
    int fd = -1;
    int port = 0;
    Blackhole() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        listen(fd, 16);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ~Blackhole() { close(fd); }
};

bool debug_mentions(const std::string& text) {
    for (const std::string& line : syslog_lines()) {
        if (contains(line, text)) {
            return true;
        }
    }
    return false;
}

void dead_primary_costs_only_the_first_login(void** /*state*/) {
    Blackhole dead;
    const std::string dead_url = "https://127.0.0.1:" + std::to_string(dead.port);
    std::string text = base_lines(dead_url + ", https://localhost:" + std::to_string(sim_port()));
    text.replace(text.find("connect_timeout = 5"), 19, "connect_timeout = 1");
    write_raw_config(text);
    const std::string marker = "connection timed out";

    PamResult first = authenticate("fac_debug", "alice", {totp(kAliceSecret)});
    assert_int_equal(first.rc, PAM_SUCCESS);
    assert_true(debug_mentions(marker));
    assert_true(first.ms >= 900);  // it waited for the dead primary once

    reset_environment(nullptr);
    const PamResult second = authenticate("fac_debug", "alice", {totp(kAliceSecret)});
    assert_int_equal(second.rc, PAM_SUCCESS);
    assert_false(debug_mentions(marker));  // the dead primary was not tried first
    assert_true(debug_mentions("trying them last"));
    assert_true(contains(summary_line(), "server=localhost"));
}

void unusable_state_dir_still_authenticates(void** /*state*/) {
    const std::string state = temp_dir() + "/open-state";
    mkdir(state.c_str(), 0777);
    chmod(state.c_str(), 0777);
    write_config("second_factor = code\nstate_dir = " + state);
    // The harness's config already sets state_dir: write a raw one instead.
    std::string text = base_lines(sim_url());
    text.replace(text.find("state_dir = "), std::string::npos, "state_dir = " + state + "\n");
    write_raw_config(text);
    assert_int_equal(code_login().rc, PAM_SUCCESS);
    bool warned = false;
    for (const std::string& line : syslog_lines()) {
        warned = warned || contains(line, "writable by group or others; run chmod 700");
    }
    assert_true(warned);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(config_error_names_file_and_line, reset_environment),
        cmocka_unit_test_setup(bad_values_and_syntax, reset_environment),
        cmocka_unit_test_setup(review_findings_are_config_errors, reset_environment),
        cmocka_unit_test_setup(secrets_on_a_stack_line_are_refused, reset_environment),
        cmocka_unit_test_setup(insecure_config_files_are_refused, reset_environment),
        cmocka_unit_test_setup(unknown_module_argument, reset_environment),
        cmocka_unit_test_setup(plain_http_server_is_refused, reset_environment),
        cmocka_unit_test_setup(api_key_file, reset_environment),
        cmocka_unit_test_setup(rejected_api_key_is_never_failmode_safe, reset_environment),
        cmocka_unit_test_setup(admin_without_permission, reset_environment),
        cmocka_unit_test_setup(unreachable_server_and_failmode, reset_environment),
        cmocka_unit_test_setup(fails_over_to_the_second_server, reset_environment),
        cmocka_unit_test_setup(proxy_errors_fail_over_but_fac_errors_do_not, reset_environment),
        cmocka_unit_test_setup(slow_server_is_bounded_by_timeout, reset_environment),
        cmocka_unit_test_setup(answers_fac_never_gives, reset_environment),
        cmocka_unit_test_setup(untrusted_certificate, reset_environment),
        cmocka_unit_test_setup(tls_verify_off_works_and_warns, reset_environment),
        cmocka_unit_test_setup(public_key_pinning, reset_environment),
        cmocka_unit_test_setup(debug_logs_detail_but_no_secret, reset_environment),
        cmocka_unit_test_setup(dead_primary_costs_only_the_first_login, reset_environment),
        cmocka_unit_test_setup(unusable_state_dir_still_authenticates, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
