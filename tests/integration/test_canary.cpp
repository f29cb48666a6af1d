// Canaries: passwords, codes, API keys, client secrets and bearer tokens
// never appear in anything pam_fac logs, shows the user, or writes to
// stdout/stderr, debug on or off (pam_fac(8), LOGGING).
//
// A second simulator (FAC mode) and a third (FTC mode) run with a users
// file written here, so the API key, the FTC client secret and the user's
// password are unique marker values. The main flows run with debug on
// (the fac_debug stack, or debug = yes in the file); every syslog line,
// every PAM_TEXT_INFO / PAM_ERROR_MSG and the process's stdout/stderr are
// collected and searched (case-insensitively) for every marker, and for the
// Basic-auth header value built from the API key.
#include <dirent.h>
#include <fcntl.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../faults/sim_instance.h"
#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

// The markers. Plain letters and digits, so a leak is found whatever
// escaping the log applied.
const std::string kApiKey = "CanaryApiKeyQ7x9k2";
const std::string kPassword = "CanaryPassW3z8v5";
const std::string kFtcSecret = "CanaryFtcSecretR5m1";
const std::string kWrongApiKey = "CanaryBadKeyZ2p4";
const std::string kWrongPassword = "CanaryWrongPwM4t6";
const std::string kWrongFtcSecret = "CanaryBadFtcS6n8";
const std::string kBadCode = "CanaryCodeX1y3";  // not a code: refused before sending
const std::string kWrongCode1 = "97531086";
const std::string kWrongCode2 = "86420975";
const std::string kSecret = "KNAUEU2DLJDVGQKY";  // the canary users' TOTP secret (8 digits)

faults::SimInstance g_fac;
faults::SimInstance g_ftc;
std::vector<std::string> g_codes_used;  // every valid code typed
std::string g_collected;                // everything captured, all flows
int g_flows = 0;
int g_debug_lines = 0;

std::string base64(const std::string& in) {
    static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = -6;
    for (const char c : in) {
        value = (value << 8) + static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 0) {
            out += chars[(value >> bits) & 63];
            bits -= 6;
        }
    }
    if (bits > -6) {
        out += chars[((value << 8) >> (bits + 8)) & 63];
    }
    while (out.size() % 4 != 0) {
        out += '=';
    }
    return out;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string code8(int step_offset = 0) {
    std::string code = totp(kSecret, step_offset, 8);
    assert_int_equal(code.size(), 8);
    g_codes_used.push_back(code);
    return code;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs one authentication with stdout and stderr captured, and collects
// what the module logged and showed.
PamResult run(const std::string& service, const std::string& user, const std::vector<std::string>& answers, int want,
              const char* authtok = nullptr) {
    ++g_flows;
    reset_environment(nullptr);
    if (authtok != nullptr) {
        setenv("PAM_AUTHTOK", authtok, 1);  // left by pam_set_items, as pam_unix would
    }
    const std::string capture = temp_dir() + "/canary-stdio.txt";
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved_out = dup(STDOUT_FILENO);
    const int saved_err = dup(STDERR_FILENO);
    const int fd = open(capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    const PamResult r = authenticate(service, user, answers);
    std::fflush(stdout);
    std::fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);

    std::string seen = read_all(capture);
    for (const std::string& line : syslog_lines()) {
        seen += "\n" + line;
        g_debug_lines += std::atoi(line.c_str()) == 7 ? 1 : 0;
    }
    for (const auto* list : {&r.info, &r.errors}) {
        for (const std::string& m : *list) {
            seen += "\n" + m;
        }
    }
    g_collected += seen;
    if (r.rc != want) {
        std::fprintf(stderr, "flow %s/%s: PAM code %s, expected %s\n%s\n", service.c_str(), user.c_str(),
                     pam_strerror(nullptr, r.rc), pam_strerror(nullptr, want), seen.c_str());
        fail();
    }
    return r;
}

std::string fac_conf(const std::string& extra, const std::string& key_line = "api_key = " + kApiKey) {
    return "server = " + g_fac.url() + "\napi_user = canary-api\n" + key_line + "\nca_file = " + ca_file() +
           "\nconnect_timeout = 2\ntimeout = 5\nstate_dir = " + temp_dir() + "/canary-state\n" + extra + "\n";
}

std::string ftc_conf(const std::string& extra, const std::string& secret_line = "ftc_client_secret = " + kFtcSecret) {
    return "backend = ftc\nserver = " + g_ftc.url() + "\nftc_client_id = canary-client\n" + secret_line +
           "\nca_file = " + ca_file() +
           "\nconnect_timeout = 2\ntimeout = 5\npoll_interval = 0.1\n"
           "push_timeout = 5\nstate_dir = " +
           temp_dir() + "/canary-ftc-state\n" + extra + "\n";
}

void conf(const std::string& text) {
    write_file(temp_dir() + "/fac.conf", text, 0600);
}

// ---------------------------------------------------------------- flows

void fac_flows(void** /*state*/) {
    conf(fac_conf("password = yes\nsecond_factor = code"));
    run("fac_debug", "canary", {kPassword, code8()}, PAM_SUCCESS);

    conf(fac_conf("second_factor = code\ndebug = yes"));
    run("fac", "canary", {code8()}, PAM_SUCCESS);

    conf(fac_conf("second_factor = push"));
    run("fac_debug", "canary", {}, PAM_SUCCESS);

    conf(fac_conf("password = yes\ndebug = yes"));  // code_or_push: Enter sends a push
    run("fac", "canary", {kPassword, ""}, PAM_SUCCESS);

    conf(fac_conf("password = yes\notp_append = yes"));
    run("fac_debug", "canary", {kPassword + code8()}, PAM_SUCCESS);

    conf(fac_conf("password = yes\notp_append = yes\ntries = 2"));
    run("fac_debug", "canary", {kWrongPassword + code8(), kPassword + kWrongCode1}, PAM_AUTH_ERR);

    conf(fac_conf("password = yes\nsecond_factor = code\ntries = 3\ndebug = yes"));
    run("fac", "canary", {kPassword, kWrongCode1, kBadCode, kWrongCode2}, PAM_AUTH_ERR);

    conf(fac_conf("password = yes\nsecond_factor = code\ntries = 1"));
    run("fac_debug", "canary", {kWrongPassword, code8()}, PAM_AUTH_ERR);

    conf(fac_conf("password = yes\nsecond_factor = push"));
    run("fac_debug", "canary-rejecter", {kPassword}, PAM_AUTH_ERR);

    conf(fac_conf("autopush = yes\ndebug = yes"));
    run("fac", "canary", {code8()}, PAM_SUCCESS);

    conf(fac_conf("password = yes\nsecond_factor = code\ntries = 1"));
    run("items_use_first_pass", "canary", {code8()}, PAM_SUCCESS, kPassword.c_str());
    unsetenv("PAM_AUTHTOK");

    conf(fac_conf("password = yes\nsecond_factor = none\ndebug = yes"));
    run("fac", "canary", {kPassword}, PAM_SUCCESS);
}

void fac_failures(void** /*state*/) {
    // The API key rejected: logged as what to fix, never echoed.
    conf(fac_conf("second_factor = code\nfailmode = safe", "api_key = " + kWrongApiKey));
    run("fac_debug", "canary", {code8()}, PAM_AUTHINFO_UNAVAIL);

    // The key from api_key_file.
    const std::string key_file = temp_dir() + "/canary.key";
    write_file(key_file, kApiKey + "\n", 0600);
    conf(fac_conf("second_factor = code", "api_key_file = " + key_file));
    run("fac_debug", "canary", {code8()}, PAM_SUCCESS);

    // A key file too open: the error names the file, not its content.
    write_file(key_file, kApiKey + "\n", 0644);
    conf(fac_conf("second_factor = code", "api_key_file = " + key_file));
    run("fac_debug", "canary", {code8()}, PAM_SERVICE_ERR);

    // Config errors near the secrets: a bad api_key value, a duplicated one,
    // a secret inside a server URL.
    conf(fac_conf("second_factor = code\ndebug = yes", "api_key = " + kApiKey + "\x01"));
    run("fac", "canary", {code8()}, PAM_SERVICE_ERR);
    conf(fac_conf("second_factor = code\ndebug = yes", "api_key = " + kApiKey + "\napi_key = " + kWrongApiKey));
    run("fac", "canary", {code8()}, PAM_SERVICE_ERR);
    conf("server = https://canary-api:" + kApiKey + "@127.0.0.1:" + std::to_string(g_fac.port()) +
         "\napi_user = canary-api\napi_key = " + kApiKey + "\ndebug = yes\n");
    run("fac", "canary", {code8()}, PAM_SERVICE_ERR);
    // An unknown key whose value is the password (a config typo).
    conf(fac_conf("second_factor = code\ndebug = yes\npasword = " + kPassword));
    run("fac", "canary", {code8()}, PAM_SERVICE_ERR);

    // The server down: the error path with debug.
    conf("server = https://127.0.0.1:1\napi_user = canary-api\napi_key = " + kApiKey + "\nca_file = " + ca_file() +
         "\nsecond_factor = code\nstate_dir = " + temp_dir() + "/canary-state\n");
    run("fac_debug", "canary", {code8()}, PAM_AUTHINFO_UNAVAIL);

    // Unknown user.
    conf(fac_conf("password = yes\nsecond_factor = code"));
    run("fac_debug", "nobody", {kPassword, code8()}, PAM_USER_UNKNOWN);
}

void ftc_flows(void** /*state*/) {
    conf(ftc_conf("second_factor = code"));
    run("fac_debug", "canary", {code8()}, PAM_SUCCESS);
    run("fac_debug", "canary", {code8()}, PAM_SUCCESS);  // with the cached bearer token

    conf(ftc_conf("second_factor = code\ntries = 2\ndebug = yes"));
    run("fac", "canary", {kWrongCode1, kBadCode}, PAM_AUTH_ERR);

    conf(ftc_conf("second_factor = push"));
    run("fac_debug", "canary", {}, PAM_SUCCESS);

    conf(ftc_conf("autopush = yes"));
    run("fac_debug", "canary", {""}, PAM_SUCCESS);

    // A rejected client secret (its own state dir: no cached token).
    std::string text = ftc_conf("second_factor = code", "ftc_client_secret = " + kWrongFtcSecret);
    text.replace(text.find("canary-ftc-state"), 16, "canary-ftc-bad");
    conf(text);
    run("fac_debug", "canary", {code8()}, PAM_AUTHINFO_UNAVAIL);

    // The secret from a file.
    const std::string secret_file = temp_dir() + "/canary-ftc.secret";
    write_file(secret_file, kFtcSecret + "\n", 0600);
    conf(ftc_conf("second_factor = code", "ftc_client_secret_file = " + secret_file));
    run("fac_debug", "canary", {code8()}, PAM_SUCCESS);
}

// Last: search everything collected for every marker.
void no_marker_anywhere(void** /*state*/) {
    std::vector<std::string> markers = {kApiKey,
                                        kPassword,
                                        kFtcSecret,
                                        kWrongApiKey,
                                        kWrongPassword,
                                        kWrongFtcSecret,
                                        kBadCode,
                                        kWrongCode1,
                                        kWrongCode2,
                                        base64("canary-api:" + kApiKey),
                                        base64("canary-api:" + kWrongApiKey)};
    markers.insert(markers.end(), g_codes_used.begin(), g_codes_used.end());
    // The FTC bearer tokens the module cached.
    const std::string state = temp_dir() + "/canary-ftc-state";
    if (DIR* d = opendir(state.c_str())) {
        while (const dirent* e = readdir(d)) {
            if (std::string(e->d_name).rfind("ftc-token-", 0) == 0) {
                rapidjson::Document doc;
                const std::string text = read_all(state + "/" + e->d_name);
                doc.Parse(text.c_str());
                if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("access_token") &&
                    doc["access_token"].IsString()) {
                    markers.emplace_back(doc["access_token"].GetString());
                }
            }
        }
        closedir(d);
    }
    // Positive control: the same search finds the password and the API
    // user in the simulator's own request log, where they belong.
    const std::string sim_log = lower(read_all(temp_dir() + "/canary-fac.log"));
    assert_true(sim_log.find(lower(kPassword)) != std::string::npos);
    assert_true(sim_log.find("canary-api") != std::string::npos);

    const std::string haystack = lower(g_collected);
    int leaks = 0;
    for (const std::string& m : markers) {
        if (haystack.find(lower(m)) != std::string::npos) {
            const std::size_t at = haystack.find(lower(m));
            std::fprintf(stderr, "LEAK: marker '%s' found: ...%s...\n", m.c_str(),
                         g_collected.substr(at > 80 ? at - 80 : 0, 160 + m.size()).c_str());
            ++leaks;
        }
    }
    std::printf("canary: %d flows, %zu markers (%zu codes), %zu bytes of output searched, %d debug lines\n", g_flows,
                markers.size(), g_codes_used.size(), g_collected.size(), g_debug_lines);
    assert_true(g_debug_lines > g_flows);  // debug was really on
    assert_true(g_collected.size() > 1000);
    assert_int_equal(leaks, 0);
}

int group_setup(void** state) {
    if (start_environment(state) != 0) {
        stop_environment(state);
        return -1;
    }
    const std::string users = temp_dir() + "/canary-users.json";
    write_file(users,
               "{\"api_users\": [{\"name\": \"canary-api\", \"key\": \"" + kApiKey +
                   "\", \"permission\": true}],\n"
                   " \"users\": [{\"username\": \"canary\", \"password\": \"" +
                   kPassword + "\", \"totp_secret\": \"" + kSecret +
                   "\", \"digits\": 8, \"push\": {\"action\": \"approve\", \"delay\": 0.2}},\n"
                   "           {\"username\": \"canary-rejecter\", \"password\": \"" +
                   kPassword + "\", \"totp_secret\": \"" + kSecret +
                   "\", \"digits\": 8, \"push\": {\"action\": \"reject\", \"delay\": 0.2}}],\n"
                   " \"ftc_clients\": [{\"client_id\": \"canary-client\", \"client_secret\": \"" +
                   kFtcSecret + "\"}],\n \"ftc_serials\": [\"FTKSN0000000009\"]}\n",
               0600);
    if (!g_fac.start(users, cert_dir(), "fac", temp_dir() + "/canary-fac.log") ||
        !g_ftc.start(users, cert_dir(), "ftc", temp_dir() + "/canary-ftc.log")) {
        g_fac.stop();
        g_ftc.stop();
        stop_environment(state);
        return -1;
    }
    return 0;
}

int group_teardown(void** state) {
    g_fac.stop();
    g_ftc.stop();
    return stop_environment(state);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fac_flows),
        cmocka_unit_test(fac_failures),
        cmocka_unit_test(ftc_flows),
        cmocka_unit_test(no_marker_anywhere),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
