// Push through the built module: Enter at the code prompt, push-only mode,
// the fields FAC receives, and every answer /pushauth/ can give.
#include <dirent.h>
#include <security/pam_appl.h>

#include <cstdlib>
#include <regex>

#include "harness.h"
// cmocka last: its macros (fail, ...) clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

void set_push(const std::string& user, const std::string& action, double delay = 0.1) {
    sim_post("/_sim/push", "{\"username\": \"" + user + "\", \"action\": \"" + action +
                               "\", \"delay\": " + std::to_string(delay) + "}");
}

const rapidjson::Value& only_push(const rapidjson::Document& log) {
    const auto pushes = requests_to(log, "/api/v1/pushauth/");
    assert_int_equal(pushes.size(), 1);
    return (*pushes[0])["json"];
}

void enter_sends_push_and_approval_logs_in(void** /*state*/) {
    write_config("push_message = {service} on {host} for {user} from {rhost} ({tty})");
    const PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_int_equal(r.info.size(), 1);
    assert_true(contains(r.info[0], "approve it within 60 seconds"));
    const auto log = sim_requests();
    const rapidjson::Value& push = only_push(log);
    assert_string_equal(push["username"].GetString(), "alice");
    assert_string_equal(push["account"].GetString(), "alice");
    assert_true(contains(push["user_agent"].GetString(), "pam_fac/"));
    assert_true(
        std::regex_match(std::string(push["timestamp"].GetString()), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    assert_true(contains(push["log_message"].GetString(), "fac on "));
    assert_true(contains(push["log_message"].GetString(), " for alice from local"));
    assert_false(push.HasMember("user_ip"));  // no PAM_RHOST
    assert_false(push.HasMember("realm"));
    assert_int_equal(requests_to(log, "/api/v1/auth/").size(), 0);
    assert_true(contains(summary_line(), "result=success user=alice rhost=- method=push"));
}

void user_ip_comes_from_an_ip_rhost(void** /*state*/) {
    write_config("second_factor = push");
    setenv("PAM_RHOST", "2001:db8::7", 1);
    assert_int_equal(authenticate("with_rhost", "alice", {}).rc, PAM_SUCCESS);
    auto log = sim_requests();
    assert_string_equal(only_push(log)["user_ip"].GetString(), "2001:db8::7");
    assert_true(contains(only_push(log)["log_message"].GetString(), "from 2001:db8::7"));
    assert_true(contains(summary_line(), "rhost=2001:db8::7"));

    reset_environment(nullptr);
    setenv("PAM_RHOST", "jump.example.com", 1);
    assert_int_equal(authenticate("with_rhost", "alice", {}).rc, PAM_SUCCESS);
    log = sim_requests();
    assert_false(only_push(log).HasMember("user_ip"));
}

void realm_is_sent_with_the_push(void** /*state*/) {
    write_config("second_factor = push\nrealm = corp");
    assert_int_equal(authenticate("fac", "frank", {}).rc, PAM_SUCCESS);
    const auto log = sim_requests();
    assert_string_equal(only_push(log)["realm"].GetString(), "corp");
}

void push_only_needs_no_answer(void** /*state*/) {
    write_config("second_factor = push");
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_int_equal(r.info.size(), 1);
}

void rejected_push_fails(void** /*state*/) {
    write_config("");
    const PamResult r = authenticate("fac", "grace", {""});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_string_equal(r.errors.back().c_str(), "The push was rejected.");
    assert_true(contains(summary_line(), "result=denied user=grace"));
}

void unanswered_push_times_out(void** /*state*/) {
    write_config("second_factor = push\npush_timeout = 1.5");
    set_push("alice", "never");
    const PamResult r = authenticate("fac", "alice", {});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_true(contains(r.info[0], "within 2 seconds"));
    assert_string_equal(r.errors.back().c_str(), "The push was not approved in time.");
    // Bounded by push_timeout (generous margin: this catches hangs, not speed).
    assert_true(r.ms >= 1500);
    assert_true(r.ms < scaled_ms(6000));
    assert_true(contains(summary_line(), "push_timeout"));
}

void push_not_sent_falls_back_to_a_code(void** /*state*/) {
    for (const char* status : {"500", "503"}) {
        reset_environment(nullptr);
        write_config("tries = 1");
        set_push("alice", status);
        const PamResult r = authenticate("fac", "alice", {"", totp("JBSWY3DPEHPK3PXP")});
        assert_int_equal(r.rc, PAM_SUCCESS);
        assert_true(contains(r.errors[0], "Enter a code instead"));
        const auto log = sim_requests();
        assert_int_equal(requests_to(log, "/api/v1/pushauth/").size(), 1);
        assert_int_equal(requests_to(log, "/api/v1/auth/").size(), 1);
    }
}

void push_not_sent_in_push_mode_is_unavailable(void** /*state*/) {
    write_config("second_factor = push\nfailmode = safe");
    set_push("alice", "503");
    assert_int_equal(authenticate("fac", "alice", {}).rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "result=unavailable"));
}

void no_mobile_token_falls_back_to_a_code(void** /*state*/) {
    write_config("");
    const PamResult r = authenticate("fac", "bob", {"", totp("KRSXG5CTMVRXEZLU")});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(r.errors[0], "Push is not set up"));
}

void password_then_push(void** /*state*/) {
    write_config("password = yes");
    assert_int_equal(authenticate("fac", "alice", {"alice-pw", ""}).rc, PAM_SUCCESS);
    auto log = sim_requests();
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    assert_false((*auths[0])["json"].HasMember("token_code"));
    assert_int_equal(requests_to(log, "/api/v1/pushauth/").size(), 1);

    reset_environment(nullptr);
    assert_int_equal(authenticate("fac", "alice", {"wrong-pw", ""}).rc, PAM_AUTH_ERR);
    log = sim_requests();
    assert_int_equal(requests_to(log, "/api/v1/pushauth/").size(), 0);
}

void push_is_never_sent_to_a_second_server(void** /*state*/) {
    write_config("second_factor = push\nserver = " + sim_url() + " https://localhost:" + std::to_string(sim_port()));
    // Override the first "server" line: the helper writes one, so use a fresh file.
    write_file(temp_dir() + "/fac.conf",
               "server = " + sim_url() + " https://localhost:" + std::to_string(sim_port()) +
                   "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
                   "\nsecond_factor = push\nstate_dir = " + temp_dir() + "/state\n",
               0600);
    set_push("alice", "503");
    assert_int_equal(authenticate("fac", "alice", {}).rc, PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/pushauth/").size(), 1);
}

void push_override_argument(void** /*state*/) {
    // fac_override adds second_factor=push tries=1 on the stack line.
    write_config("second_factor = code");
    const PamResult r = authenticate("fac_override", "alice", {});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/pushauth/").size(), 1);
}

std::size_t thread_count() {
    std::size_t n = 0;
    if (DIR* d = opendir("/proc/self/task")) {
        while (const dirent* e = readdir(d)) {
            n += e->d_name[0] != '.';
        }
        closedir(d);
    }
    return n;
}

void autopush_approved_then_enter(void** /*state*/) {
    write_config("autopush = yes");
    set_push("alice", "approve", 0.3);
    const std::size_t threads = thread_count();
    const PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(r.info.empty());                // the prompt itself says the push is out: no second notice
    assert_int_equal(thread_count(), threads);  // nothing left running in the host
    assert_int_equal(requests_to(sim_requests(), "/api/v1/pushauth/").size(), 1);
    assert_true(contains(summary_line(), "method=push"));
}

void autopush_typed_code_wins(void** /*state*/) {
    // The simulator never answers the push: a flow that waited for it would
    // return only after push_timeout, on any machine and in any lane.
    write_config("autopush = yes\npush_timeout = 30");
    set_push("alice", "never");
    const std::size_t threads = thread_count();
    const PamResult r = authenticate("fac", "alice", {totp("JBSWY3DPEHPK3PXP")});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(r.ms < 30000);  // the held push was abandoned, not waited for
    assert_int_equal(thread_count(), threads);
    const auto log = sim_requests();
    // The code may win before the push even leaves: at most one push.
    assert_true(requests_to(log, "/api/v1/pushauth/").size() <= 1);
    assert_int_equal(requests_to(log, "/api/v1/auth/").size(), 1);
    assert_true(contains(summary_line(), "method=code"));
}

void autopush_rejected(void** /*state*/) {
    write_config("autopush = yes");
    set_push("alice", "reject", 0.1);
    const PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_string_equal(r.errors.back().c_str(), "The push was rejected.");
}

void autopush_times_out(void** /*state*/) {
    write_config("autopush = yes\npush_timeout = 1");
    set_push("alice", "never");
    const PamResult r = authenticate("fac", "alice", {""});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_true(r.ms >= 1000);
    assert_true(r.ms < scaled_ms(5000));
    assert_string_equal(r.errors.back().c_str(), "The push was not approved in time.");
}

void autopush_not_sent_falls_back(void** /*state*/) {
    write_config("autopush = yes");
    set_push("alice", "503");
    // Refused before the prompt: the user is told, and asked for a code at once.
    const PamResult r = authenticate("fac", "alice", {totp("JBSWY3DPEHPK3PXP")});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(r.errors.at(0), "Enter a code instead"));
    assert_int_equal(requests_to(sim_requests(), "/api/v1/pushauth/").size(), 1);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(enter_sends_push_and_approval_logs_in, reset_environment),
        cmocka_unit_test_setup(user_ip_comes_from_an_ip_rhost, reset_environment),
        cmocka_unit_test_setup(realm_is_sent_with_the_push, reset_environment),
        cmocka_unit_test_setup(push_only_needs_no_answer, reset_environment),
        cmocka_unit_test_setup(rejected_push_fails, reset_environment),
        cmocka_unit_test_setup(unanswered_push_times_out, reset_environment),
        cmocka_unit_test_setup(push_not_sent_falls_back_to_a_code, reset_environment),
        cmocka_unit_test_setup(push_not_sent_in_push_mode_is_unavailable, reset_environment),
        cmocka_unit_test_setup(no_mobile_token_falls_back_to_a_code, reset_environment),
        cmocka_unit_test_setup(password_then_push, reset_environment),
        cmocka_unit_test_setup(push_is_never_sent_to_a_second_server, reset_environment),
        cmocka_unit_test_setup(push_override_argument, reset_environment),
        cmocka_unit_test_setup(autopush_approved_then_enter, reset_environment),
        cmocka_unit_test_setup(autopush_typed_code_wins, reset_environment),
        cmocka_unit_test_setup(autopush_rejected, reset_environment),
        cmocka_unit_test_setup(autopush_times_out, reset_environment),
        cmocka_unit_test_setup(autopush_not_sent_falls_back, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
