// The built pam_fac.so against the simulator: codes, passwords, the
// concatenated form, tries, and each account state FAC reports.
#include "cmocka_cpp.h"

#include <security/pam_appl.h>

#include "harness.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

void use_stack(const std::string& extra_config) {
    write_config(extra_config);
}

void oathtool_code_accepted(void** /*state*/) {
    use_stack("second_factor = code");
    const PamResult r = authenticate("fac", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    assert_string_equal((*auths[0])["api_user"].GetString(), "apiadmin");
    const std::string line = summary_line();
    assert_true(
        contains(line, "pam_fac(fac:auth): result=success user=alice rhost=- method=code server=127.0.0.1 ms="));
}

void wrong_code_uses_up_tries(void** /*state*/) {
    use_stack("second_factor = code\ntries = 3");
    const PamResult r = authenticate("fac", "alice", {"000000", "000001", "000002", "000003"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 3);
    assert_int_equal(r.errors.size(), 3);
    assert_string_equal(r.errors[0].c_str(), "Incorrect code.");
    const std::string line = summary_line();
    assert_true(contains(line, "result=denied user=alice"));
    assert_true(contains(line, "3 of 3 tries"));
}

void wrong_then_right_code(void** /*state*/) {
    use_stack("");
    const PamResult r = authenticate("fac", "alice", {"000000", totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 2);
}

void one_try_only(void** /*state*/) {
    use_stack("tries = 1");
    const PamResult r = authenticate("fac", "alice", {"000000", totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

void malformed_codes_are_not_sent(void** /*state*/) {
    use_stack("tries = 3");
    const PamResult r = authenticate("fac", "alice", {"12345", "abcdef", totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
    assert_int_equal(r.errors.size(), 2);
}

void eight_digit_code(void** /*state*/) {
    use_stack("second_factor = code");
    const std::string code = totp("GAYTEMZUGU3DOOBZ");
    // oathtool defaults to 6 digits; ask it for 8.
    std::string eight = run_clean("oathtool --totp -b -d 8 GAYTEMZUGU3DOOBZ").out;
    eight.erase(eight.find_last_not_of("\n") + 1);
    assert_int_equal(eight.size(), 8);
    assert_int_equal(authenticate("fac", "eight", {eight}).rc, PAM_SUCCESS);
}

void password_and_code_together(void** /*state*/) {
    use_stack("password = yes\nsecond_factor = code");
    const PamResult r = authenticate("fac", "alice", {"alice-pw", totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    const rapidjson::Value& body = (*auths[0])["json"];
    assert_string_equal(body["password"].GetString(), "alice-pw");
    assert_string_equal(body["token_code"].GetString(), totp(kAliceSecret).c_str());
    assert_true(contains(summary_line(), "method=password+code"));
}

void wrong_password_with_right_code(void** /*state*/) {
    use_stack("password = yes\nsecond_factor = code\ntries = 2");
    const std::string code = totp(kAliceSecret);
    const PamResult r = authenticate("fac", "alice", {"wrong", code, code});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_string_equal(r.errors[0].c_str(), "Incorrect password or code.");
}

void password_only(void** /*state*/) {
    use_stack("password = yes\nsecond_factor = none");
    assert_int_equal(authenticate("fac", "alice", {"alice-pw"}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "method=password"));
    assert_int_equal(authenticate("fac", "alice", {"nope"}).rc, PAM_AUTH_ERR);
}

void otp_append_single_answer(void** /*state*/) {
    use_stack("password = yes\notp_append = yes");
    const PamResult r = authenticate("fac", "alice", {"alice-pw" + totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    const rapidjson::Value& body = (*auths[0])["json"];
    assert_string_equal(body["password"].GetString(), ("alice-pw" + totp(kAliceSecret)).c_str());
    assert_string_equal(body["token_code"].GetString(), "");
    // The password alone is not enough in this mode.
    assert_int_equal(authenticate("fac", "alice", {"alice-pw", "alice-pw", "alice-pw"}).rc, PAM_AUTH_ERR);
}

void password_bytes_reach_fac_exactly(void** /*state*/) {
    use_stack("password = yes\nsecond_factor = code");
    const std::string password = "q\"uo\\te\x01\t\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80 end";
    const PamResult r = authenticate("fac", "quentin", {password, totp("IFBEGRCFIZDUQSKK")});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_string_equal((*auths[0])["json"]["password"].GetString(), password.c_str());
    // The wire form is JSON, escaped by RapidJSON, not concatenated text.
    assert_true(contains(decoded_body(*auths[0]), "\\\"uo\\\\te\\u0001\\t"));
}

void account_states(void** /*state*/) {
    use_stack("second_factor = code");
    const struct {
        const char* user;
        const char* secret;
        const char* message;
        const char* reason;
    } cases[] = {
        {"carol", "MFRGGZDFMZTWQ2LK", "Your account is disabled. Contact your administrator.", "disabled"},
        {"dave", "JBSWY3DPEHPK3PXP", "No FortiToken is assigned to your account. Contact your administrator.",
         "no token"},
        {"erin", "GEZDGNBVGY3TQOJQ", "Your FortiToken is out of sync. Ask your administrator to resynchronise it.",
         "out of sync"},
    };
    for (const auto& c : cases) {
        reset_environment(nullptr);
        const PamResult r = authenticate("fac", c.user, {totp(c.secret), totp(c.secret), totp(c.secret)});
        assert_int_equal(r.rc, PAM_AUTH_ERR);
        assert_int_equal(r.errors.size(), 1);
        assert_string_equal(r.errors[0].c_str(), c.message);
        assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
        assert_true(contains(summary_line(), c.reason));
    }
}

void unknown_user(void** /*state*/) {
    use_stack("");
    PamResult r = authenticate("fac", "nobody", {"123456"});
    assert_int_equal(r.rc, PAM_USER_UNKNOWN);
    assert_true(contains(summary_line(), "result=unknown_user user=nobody"));
    reset_environment(nullptr);
    use_stack("unknown_user = ignore");
    r = authenticate("fac_ignorable", "nobody", {"123456"});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "result=ignored user=nobody"));
}

void invalid_username_never_reaches_fac(void** /*state*/) {
    use_stack("");
    const PamResult r = authenticate("fac", "al\x1b[31mice", {"123456"});
    assert_int_equal(r.rc, PAM_USER_UNKNOWN);
    assert_int_equal(sim_requests().Size(), 0);
    const std::string line = summary_line();
    assert_true(contains(line, "user=\"al\\x1b[31mice\""));
    const PamResult longname = authenticate("fac", std::string(254, 'a'), {"123456"});
    assert_int_equal(longname.rc, PAM_USER_UNKNOWN);
    assert_int_equal(sim_requests().Size(), 0);
}

void realm_user_via_realmauth(void** /*state*/) {
    use_stack("realm = corp\npassword = yes\nsecond_factor = code");
    const PamResult r = authenticate("fac", "frank", {"frank-pw", totp("ONSWG4TFOQYTEMZU")});
    assert_int_equal(r.rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto calls = requests_to(log, "/api/v1/realmauth/");
    assert_int_equal(calls.size(), 1);
    assert_string_equal((*calls[0])["json"]["realm"].GetString(), "corp");
    // frank's password must change: FAC answers 202, the user is told.
    assert_int_equal(r.info.size(), 1);
    assert_true(contains(r.info[0], "change your password"));
    assert_int_equal(requests_to(log, "/api/v1/auth/").size(), 0);
}

void echo_code_prompts_with_echo(void** /*state*/) {
    use_stack("second_factor = code\necho_code = yes");
    const PamResult r = authenticate("fac", "alice", {}, {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
}

void silent_flag_is_not_needed_for_errors(void** /*state*/) {
    // The user sees why they failed; the log says what to fix.
    use_stack("second_factor = code\ntries = 1");
    const PamResult r = authenticate("fac", "alice", {"000000"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(r.errors.size(), 1);
    for (const std::string& line : syslog_lines()) {
        assert_false(contains(line, "000000"));
        assert_false(contains(line, "s3cr3t-api-key"));
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(oathtool_code_accepted, reset_environment),
        cmocka_unit_test_setup(wrong_code_uses_up_tries, reset_environment),
        cmocka_unit_test_setup(wrong_then_right_code, reset_environment),
        cmocka_unit_test_setup(one_try_only, reset_environment),
        cmocka_unit_test_setup(malformed_codes_are_not_sent, reset_environment),
        cmocka_unit_test_setup(eight_digit_code, reset_environment),
        cmocka_unit_test_setup(password_and_code_together, reset_environment),
        cmocka_unit_test_setup(wrong_password_with_right_code, reset_environment),
        cmocka_unit_test_setup(password_only, reset_environment),
        cmocka_unit_test_setup(otp_append_single_answer, reset_environment),
        cmocka_unit_test_setup(password_bytes_reach_fac_exactly, reset_environment),
        cmocka_unit_test_setup(account_states, reset_environment),
        cmocka_unit_test_setup(unknown_user, reset_environment),
        cmocka_unit_test_setup(invalid_username_never_reaches_fac, reset_environment),
        cmocka_unit_test_setup(realm_user_via_realmauth, reset_environment),
        cmocka_unit_test_setup(echo_code_prompts_with_echo, reset_environment),
        cmocka_unit_test_setup(silent_flag_is_not_needed_for_errors, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
