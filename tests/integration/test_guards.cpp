// Guards of the door that the other suites do not reach: the exception
// barrier and the other PAM entry points, a failed conversation, the
// caller's environment (proxies, SSLKEYLOGFILE), ca_path, autopush ending
// in an outage or a TLS failure, grace_period after a failmode = safe
// outage or in an unsafe state_dir, and a secret in a config error. Each found by a mutant that survived
// (tests/mutants/).
#include <dlfcn.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

// The exception barrier of pam_sm_authenticate is reached by making the
// module's first call into libpam throw: this executable's pam_get_user()
// takes precedence over libpam's for the module (it is exported, see
// CMakeLists.txt) and passes every other call on. Not operator new: valgrind
// replaces that one in the executable too.
namespace {

// ConvAgain: no exception, pam_get_user says the application's conversation
// is waiting for an event (PAM_CONV_AGAIN), as an event-driven application's
// does.
enum class Throw { Nothing, BadAlloc, StdException, NonStd, ConvAgain };
std::atomic<Throw> g_throw{Throw::Nothing};

}  // namespace

extern "C" __attribute__((visibility("default"))) int pam_get_user(pam_handle_t* pamh, const char** user,
                                                                   const char* prompt) {
    switch (g_throw.exchange(Throw::Nothing)) {
    case Throw::Nothing:
        break;
    case Throw::BadAlloc:
        throw std::bad_alloc();
    case Throw::StdException:
        throw std::runtime_error("thrown by test_guards");
    case Throw::NonStd:
        throw 42;
    case Throw::ConvAgain:
        return PAM_CONV_AGAIN;
    }
    using Real = int (*)(pam_handle_t*, const char**, const char*);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "pam_get_user"));
    return real(pamh, user, prompt);
}

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

std::string code_login_config(const std::string& extra) {
    return write_config("second_factor = code\ntries = 1\n" + extra);
}

std::string summary_or_empty() {
    const auto lines = summary_lines();
    return lines.empty() ? std::string() : lines.back();
}

void exception_barrier(void** /*state*/) {
    code_login_config("");
    g_throw = Throw::BadAlloc;
    PamResult r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_BUF_ERR);
    assert_true(contains(summary_line(), "result=error reason=\"out of memory\""));

    reset_environment(nullptr);
    g_throw = Throw::StdException;
    r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "result=error reason=\"internal error: thrown by test_guards\""));

    reset_environment(nullptr);
    g_throw = Throw::NonStd;
    r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "result=error reason=\"internal error\""));
    assert_true(g_throw == Throw::Nothing);  // each was thrown, none left armed

    // Nothing thrown: the failures above came from the throws.
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
}

using EntryPoint = int (*)(pam_handle_t*, int, int, const char**);

void other_entry_points(void** /*state*/) {
    const char* path = std::getenv("PAMFAC_TEST_MODULE");
    assert_non_null(path);
    void* module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(module);
    const auto entry = [module](const char* name) {
        void* symbol = dlsym(module, name);
        assert_non_null(symbol);
        return reinterpret_cast<EntryPoint>(symbol);
    };
    // setcred succeeds (a stack that calls it must not fail because of
    // pam_fac); the rest are not pam_fac's business.
    assert_int_equal(entry("pam_sm_setcred")(nullptr, 0, 0, nullptr), PAM_SUCCESS);
    assert_int_equal(entry("pam_sm_acct_mgmt")(nullptr, 0, 0, nullptr), PAM_IGNORE);
    assert_int_equal(entry("pam_sm_open_session")(nullptr, 0, 0, nullptr), PAM_IGNORE);
    assert_int_equal(entry("pam_sm_close_session")(nullptr, 0, 0, nullptr), PAM_IGNORE);
    assert_int_equal(entry("pam_sm_chauthtok")(nullptr, 0, 0, nullptr), PAM_IGNORE);
    dlclose(module);
}

void failed_conversation_is_conv_err(void** /*state*/) {
    code_login_config("");
    // No answer to give: libpamtest's conversation function fails.
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_CONV_ERR);
    assert_true(contains(summary_line(), "conversation failed"));
    assert_int_equal(sim_requests().Size(), 0);
}

void proxy_variables_are_ignored(void** /*state*/) {
    // A caller (sudo keeps some of these) must not redirect the module's
    // requests, which carry the API key and the code, through its proxy.
    const std::string nowhere = "http://127.0.0.1:" + std::to_string(closed_port());
    const char* names[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    code_login_config("");
    const std::string code = totp(kAliceSecret);
    for (const char* name : names) {
        setenv(name, nowhere.c_str(), 1);
    }
    const int rc = authenticate("fac", "alice", {code}).rc;
    for (const char* name : names) {
        unsetenv(name);
    }
    assert_int_equal(rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

// A fresh process (pamtester, which does not use libcurl itself) is needed:
// libcurl reads SSLKEYLOGFILE once, at its global initialisation, which in
// this process the harness has done already.
void sslkeylogfile_is_not_honoured(void** /*state*/) {
    code_login_config("");
    const std::string keylog = temp_dir() + "/keylog";
    std::remove(keylog.c_str());
    // This process's preloads, minus valgrind's own (the child runs natively).
    std::string preload;
    const char* mine = std::getenv("LD_PRELOAD");
    std::string rest = mine != nullptr ? mine : "";
    while (!rest.empty()) {
        const std::size_t sep = rest.find_first_of(": ");
        const std::string item = rest.substr(0, sep);
        rest = sep == std::string::npos ? "" : rest.substr(sep + 1);
        if (!item.empty() && !contains(item, "vgpreload")) {
            preload += (preload.empty() ? "" : ":") + item;
        }
    }
    const char* services = std::getenv("PAM_WRAPPER_SERVICE_DIR");
    assert_non_null(services);
    const CommandResult r =
        run_clean("printf '%s\\n' " + totp(kAliceSecret) + " | " PAMFAC_PAMTESTER " fac alice authenticate",
                  {"LD_PRELOAD=" + preload, "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR=" + std::string(services),
                   "PAM_WRAPPER_USE_SYSLOG=1", "SSLKEYLOGFILE=" + keylog, "ASAN_OPTIONS=detect_leaks=0"});
    assert_int_equal(r.exit_code, 0);
    assert_true(contains(summary_line(), "result=success"));
    struct stat st {};
    assert_int_equal(lstat(keylog.c_str(), &st), -1);
}

void ca_path_is_used(void** /*state*/) {
    const std::string trusted = temp_dir() + "/capath";
    const std::string empty = temp_dir() + "/capath-empty";
    mkdir(empty.c_str(), 0700);
    assert_int_equal(run_clean("mkdir -p '" + trusted + "' && cp '" + ca_file() + "' '" + trusted +
                               "/' && openssl rehash '" + trusted + "'")
                         .exit_code,
                     0);
    const std::string base = "server = " + sim_url() +
                             "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nsecond_factor = code\ntries = 1\n"
                             "state_dir = " +
                             temp_dir() + "/state\n";
    // No ca_file: the simulator's CA is only in the hashed directory.
    write_file(temp_dir() + "/fac.conf", base + "ca_path = " + trusted + "\n", 0600);
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);

    reset_environment(nullptr);
    write_file(temp_dir() + "/fac.conf", base + "ca_path = " + empty + "\n", 0600);
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "ca_file/ca_path"));
}

void autopush_to_an_unreachable_server(void** /*state*/) {
    // The push thread's outage ends the login when the user presses Enter.
    std::string text = "server = https://127.0.0.1:" + std::to_string(closed_port()) +
                       "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
                       "\nautopush = yes\nstate_dir = " + temp_dir() + "/state\n";
    write_file(temp_dir() + "/fac.conf", text, 0600);
    PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "result=unavailable"));

    // failmode = safe: a server that refuses connections is an outage.
    reset_environment(nullptr);
    write_file(temp_dir() + "/fac.conf", text + "failmode = safe\n", 0600);
    r = authenticate("fac_ignorable", "alice", {""});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "failmode = safe"));
}

void autopush_tls_failure(void** /*state*/) {
    // A certificate that does not verify is never an outage, not even with
    // failmode = safe.
    const std::string text = "server = " + sim_url() +
                             "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + cert_dir() +
                             "/selfsigned.pem\nautopush = yes\nfailmode = safe\nstate_dir = " + temp_dir() + "/state\n";
    write_file(temp_dir() + "/fac.conf", text, 0600);
    const PamResult r = authenticate("fac_ignorable", "alice", {""});
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "failmode = safe does not apply"));
    assert_int_equal(sim_requests().Size(), 0);
}

void safe_outage_opens_no_grace_period(void** /*state*/) {
    const std::string common =
        "api_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
        "\nsecond_factor = code\ntries = 1\ngrace_period = 300\nfailmode = safe\nstate_dir = " + temp_dir() +
        "/state\n";
    write_file(temp_dir() + "/fac.conf", "server = https://127.0.0.1:" + std::to_string(closed_port()) + "\n" + common,
               0600);
    assert_int_equal(authenticate("fac_ignorable", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "failmode = safe lets the login go on"));

    // FAC is back: the next login is checked, not waved through by a grace
    // period that no yes from FAC ever opened.
    reset_environment(nullptr);
    write_file(temp_dir() + "/fac.conf", "server = " + sim_url() + "\n" + common, 0600);
    const PamResult r = authenticate("fac_ignorable", "alice", {"000000"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_false(contains(summary_or_empty(), "grace_period"));
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

extern "C" int failing_conversation(int /*n*/, const pam_message** /*msg*/, pam_response** /*resp*/, void* /*data*/) {
    return PAM_CONV_ERR;
}

extern "C" int answer_the_code(int n, const pam_message** msg, pam_response** resp, void* data) {
    auto* r = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    for (int i = 0; i < n; ++i) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(static_cast<const char*>(data));
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

// An application whose conversation cannot answer yet: pam_fac says
// PAM_INCOMPLETE (as pam_unix does), libpam hands that to the application,
// and the next pam_authenticate resumes at pam_fac and completes the login.
void user_name_not_ready_is_incomplete(void** /*state*/) {
    code_login_config("");
    std::string code = totp(kAliceSecret);
    const pam_conv conv{answer_the_code, code.data()};
    pam_handle_t* pamh = nullptr;
    assert_int_equal(pam_start("fac", "alice", &conv, &pamh), PAM_SUCCESS);
    g_throw = Throw::ConvAgain;
    assert_int_equal(pam_authenticate(pamh, 0), PAM_INCOMPLETE);
    assert_int_equal(sim_requests().Size(), 0);
    const int rc = pam_authenticate(pamh, 0);
    pam_end(pamh, rc);
    check_own_config();
    assert_int_equal(rc, PAM_SUCCESS);
    assert_int_equal(sim_requests().Size(), 1);
}

void no_user_name_from_the_conversation(void** /*state*/) {
    // pam_start() without a user: pam_get_user() asks, and the application
    // cannot answer. pam_fac must not go on with an empty name.
    code_login_config("");
    const pam_conv conv{failing_conversation, nullptr};
    pam_handle_t* pamh = nullptr;
    assert_int_equal(pam_start("fac", nullptr, &conv, &pamh), PAM_SUCCESS);
    const int rc = pam_authenticate(pamh, 0);
    pam_end(pamh, rc);
    check_own_config();
    assert_int_equal(rc, PAM_CONV_ERR);
    assert_int_equal(sim_requests().Size(), 0);
    // One line says why, as for every failure.
    assert_true(contains(summary_line(), "result=aborted"));
    assert_true(contains(summary_line(), "could not ask for the user name"));
}

void grace_not_trusted_from_an_unsafe_state_dir(void** /*state*/) {
    const std::string state = temp_dir() + "/grace-state";
    write_file(temp_dir() + "/fac.conf",
               "server = " + sim_url() + "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
                   "\nsecond_factor = code\ntries = 1\ngrace_period = 300\nstate_dir = " + state + "\n",
               0600);
    assert_int_equal(authenticate("fac_ignorable", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac_ignorable", "alice", {}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "within grace_period"));

    // Others may now write there: the record could be theirs.
    reset_environment(nullptr);
    chmod(state.c_str(), 0777);
    const PamResult r = authenticate("fac_ignorable", "alice", {"000000"});
    chmod(state.c_str(), 0700);
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_false(contains(summary_line(), "grace_period"));
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

void ftc_client_secret_not_in_config_errors(void** /*state*/) {
    const std::string secret = "ftc-Secret-0815";
    write_file(temp_dir() + "/fac.conf",
               "backend = ftc\nftc_client_id = ftc-client\nftc_client_secret = " + secret + "\x01\n", 0600);
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), "ftc_client_secret"));
    for (const std::string& line : syslog_lines()) {
        assert_false(contains(line, "Secret-0815"));
    }
    for (const auto* list : {&r.info, &r.errors}) {
        for (const std::string& message : *list) {
            assert_false(contains(message, "Secret-0815"));
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(exception_barrier, reset_environment),
        cmocka_unit_test_setup(other_entry_points, reset_environment),
        cmocka_unit_test_setup(failed_conversation_is_conv_err, reset_environment),
        cmocka_unit_test_setup(proxy_variables_are_ignored, reset_environment),
        cmocka_unit_test_setup(sslkeylogfile_is_not_honoured, reset_environment),
        cmocka_unit_test_setup(ca_path_is_used, reset_environment),
        cmocka_unit_test_setup(autopush_to_an_unreachable_server, reset_environment),
        cmocka_unit_test_setup(autopush_tls_failure, reset_environment),
        cmocka_unit_test_setup(safe_outage_opens_no_grace_period, reset_environment),
        cmocka_unit_test_setup(no_user_name_from_the_conversation, reset_environment),
        cmocka_unit_test_setup(user_name_not_ready_is_incomplete, reset_environment),
        cmocka_unit_test_setup(grace_not_trusted_from_an_unsafe_state_dir, reset_environment),
        cmocka_unit_test_setup(ftc_client_secret_not_in_config_errors, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
