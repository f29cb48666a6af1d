// pam_fac stacked with other modules: use_first_pass, try_first_pass and
// forward_pass. pam_set_items stands in for a module that leaves
// PAM_AUTHTOK (as pam_unix does); pam_matrix for one that checks a password
// of its own.
#include <security/pam_appl.h>

#include <cstdlib>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

void write_passdb() {
    write_file(temp_dir() + "/passdb", "alice:alice-pw:matrix_use_first_pass\n", 0600);
}

std::string sent_password(const rapidjson::Document& log) {
    const auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    const rapidjson::Value& body = (*auths[0])["json"];
    return body.HasMember("password") ? body["password"].GetString() : "<none>";
}

void use_first_pass_reuses_the_earlier_password(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    setenv("PAM_AUTHTOK", "alice-pw", 1);
    // Only the code is asked for.
    const PamResult r = authenticate("items_use_first_pass", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_string_equal(sent_password(sim_requests()).c_str(), "alice-pw");
}

void use_first_pass_without_a_password_fails_without_asking(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    const PamResult r = authenticate("fac_use_first_pass", "alice", {"alice-pw", totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(sim_requests().Size(), 0);
    assert_true(contains(summary_line(), "PAM_AUTHTOK"));
}

void try_first_pass_reuses_or_asks(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    setenv("PAM_AUTHTOK", "alice-pw", 1);
    assert_int_equal(authenticate("items_try_first_pass", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_string_equal(sent_password(sim_requests()).c_str(), "alice-pw");

    reset_environment(nullptr);  // no PAM_AUTHTOK now: pam_fac asks
    assert_int_equal(authenticate("items_try_first_pass", "alice", {"alice-pw", totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_string_equal(sent_password(sim_requests()).c_str(), "alice-pw");
}

void second_factor_only_ignores_the_earlier_password(void** /*state*/) {
    write_passdb();
    write_config("second_factor = code");
    assert_int_equal(authenticate("matrix_use_first_pass", "alice", {"alice-pw", totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_string_equal(sent_password(sim_requests()).c_str(), "<none>");
}

void earlier_module_failure_still_fails_the_stack(void** /*state*/) {
    write_passdb();
    write_config("second_factor = code");
    assert_int_equal(authenticate("matrix_use_first_pass", "alice", {"wrong", totp(kAliceSecret)}).rc, PAM_AUTH_ERR);
}

void forward_pass_hands_the_password_on(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    const PamResult r = authenticate("forward_pass", "alice", {"alice-pw", totp(kAliceSecret)}, {}, true);
    assert_int_equal(r.rc, PAM_SUCCESS);
    bool found = false;
    for (const std::string& e : r.env) {
        found = found || e == "PAM_AUTHTOK=alice-pw";
    }
    assert_true(found);
}

void password_stays_without_forward_pass(void** /*state*/) {
    // The next modules see the password pam_fac asked for only when told to.
    write_config("password = yes\nsecond_factor = code");
    const PamResult r = authenticate("without_forward_pass", "alice", {"alice-pw", totp(kAliceSecret)}, {}, true);
    assert_int_equal(r.rc, PAM_SUCCESS);
    for (const std::string& e : r.env) {
        assert_false(contains(e, "alice-pw"));
    }
}

void otp_append_with_use_first_pass(void** /*state*/) {
    // An earlier module (here pam_set_items, from the environment) left the
    // whole password+code answer, as sshd's PasswordAuthentication would.
    write_config("password = yes\notp_append = yes");
    const std::string both = "alice-pw" + totp(kAliceSecret);
    setenv("PAM_AUTHTOK", both.c_str(), 1);
    assert_int_equal(authenticate("items_use_first_pass", "alice", {}).rc, PAM_SUCCESS);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

void otp_append_answer_over_520_bytes_is_not_sent(void** /*state*/) {
    // The password limit (512) plus the code's 8: a 100 KB answer was sent
    // to FAC once.
    write_config("password = yes\notp_append = yes\ntries = 1");
    PamResult r = authenticate("fac", "alice", {std::string(100 * 1024, 'p') + totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/").size(), 0);
    assert_true(contains(summary_line(), "answer longer than 520 bytes"));

    reset_environment(nullptr);
    r = authenticate("fac", "alice", {std::string(513, 'p') + "12345678"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/").size(), 0);

    // At the limit it is sent (and FAC says no).
    reset_environment(nullptr);
    r = authenticate("fac", "alice", {std::string(512, 'p') + "12345678"});
    assert_int_equal(r.rc, PAM_AUTH_ERR);
    assert_int_equal(requests_to(sim_requests(), "/api/v1/auth/").size(), 1);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(use_first_pass_reuses_the_earlier_password, reset_environment),
        cmocka_unit_test_setup(use_first_pass_without_a_password_fails_without_asking, reset_environment),
        cmocka_unit_test_setup(try_first_pass_reuses_or_asks, reset_environment),
        cmocka_unit_test_setup(second_factor_only_ignores_the_earlier_password, reset_environment),
        cmocka_unit_test_setup(earlier_module_failure_still_fails_the_stack, reset_environment),
        cmocka_unit_test_setup(forward_pass_hands_the_password_on, reset_environment),
        cmocka_unit_test_setup(password_stays_without_forward_pass, reset_environment),
        cmocka_unit_test_setup(otp_append_with_use_first_pass, reset_environment),
        cmocka_unit_test_setup(otp_append_answer_over_520_bytes_is_not_sent, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
