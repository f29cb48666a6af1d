// Policy through the built module: trusted_networks, groups, username_map
// and grace_period, seen as PAM results, simulator requests and log lines.
#include <security/pam_appl.h>

#include <cstdlib>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";

std::size_t fac_requests() {
    const auto log = sim_requests();
    return requests_to(log, "/api/v1/").size();
}

void trusted_network_skips_fac(void** /*state*/) {
    write_config("second_factor = code\ntrusted_networks = 192.0.2.0/24, 2001:db8::/32");
    setenv("PAM_RHOST", "192.0.2.10", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 0);
    assert_true(contains(summary_line(), "result=ignored user=alice rhost=192.0.2.10"));

    reset_environment(nullptr);
    setenv("PAM_RHOST", "198.51.100.1", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 1);

    reset_environment(nullptr);
    setenv("PAM_RHOST", "localhost", 1);  // a name is never trusted
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);
}

void groups_select_who_needs_fac(void** /*state*/) {
    // root exists on every test machine, in group root and not in nogroup.
    write_config("second_factor = code\ngroups = nogroup");
    assert_int_equal(authenticate("fac_ignorable", "root", {}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "none of the groups"));
    assert_int_equal(fac_requests(), 0);

    reset_environment(nullptr);
    write_config("second_factor = code\ngroups = root, !nogroup");
    // Selected: FAC is asked, and does not know root.
    assert_int_equal(authenticate("fac_ignorable", "root", {"123456"}).rc, PAM_USER_UNKNOWN);

    reset_environment(nullptr);
    write_config("second_factor = code\ngroups = !root");
    assert_int_equal(authenticate("fac_ignorable", "root", {}).rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "exempt group root"));
}

void username_map_sends_the_fac_name(void** /*state*/) {
    write_config("username_map = strip_domain, lowercase");
    assert_int_equal(authenticate("fac", "Alice@Corp", {""}).rc, PAM_SUCCESS);
    const auto log = sim_requests();
    const auto pushes = requests_to(log, "/api/v1/pushauth/");
    assert_int_equal(pushes.size(), 1);
    assert_string_equal((*pushes[0])["json"]["username"].GetString(), "alice");
    assert_string_equal((*pushes[0])["json"]["account"].GetString(), "Alice@Corp");
    assert_true(contains(summary_line(), "user=Alice@Corp fac_user=alice"));
}

void grace_period_lets_the_next_login_through(void** /*state*/) {
    write_config("second_factor = code\ngrace_period = 60");
    setenv("PAM_RHOST", "203.0.113.5", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 1);

    reset_environment(nullptr);
    setenv("PAM_RHOST", "203.0.113.5", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 0);
    assert_true(contains(summary_line(), "within grace_period"));

    // Another host, or a failed login, gets no grace.
    reset_environment(nullptr);
    setenv("PAM_RHOST", "203.0.113.6", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);
    reset_environment(nullptr);
    setenv("PAM_RHOST", "203.0.113.6", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);
    assert_int_equal(fac_requests(), 3);
}

void grace_period_without_rhost_is_tied_to_ruser_and_tty(void** /*state*/) {
    // su, sudo, the console: no PAM_RHOST. alice's "su root" with a code on
    // pts/1 must not let a login on pts/7, or one by mallory, skip FAC.
    write_config("second_factor = code\ngrace_period = 60");
    setenv("PAM_RUSER", "alice", 1);
    setenv("PAM_TTY", "/dev/pts/1", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 1);

    reset_environment(nullptr);
    setenv("PAM_RUSER", "alice", 1);
    setenv("PAM_TTY", "/dev/pts/7", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);
    assert_int_equal(fac_requests(), 3);

    reset_environment(nullptr);
    setenv("PAM_RUSER", "mallory", 1);
    setenv("PAM_TTY", "/dev/pts/1", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);
    assert_int_equal(fac_requests(), 3);

    // The same ruser on the same tty still gets its grace.
    reset_environment(nullptr);
    setenv("PAM_RUSER", "alice", 1);
    setenv("PAM_TTY", "/dev/pts/1", 1);
    assert_int_equal(authenticate("with_rhost_ignorable", "alice", {}).rc, PAM_SUCCESS);
    assert_int_equal(fac_requests(), 0);
    assert_true(contains(summary_line(), "within grace_period"));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(trusted_network_skips_fac, reset_environment),
        cmocka_unit_test_setup(groups_select_who_needs_fac, reset_environment),
        cmocka_unit_test_setup(username_map_sends_the_fac_name, reset_environment),
        cmocka_unit_test_setup(grace_period_lets_the_next_login_through, reset_environment),
        cmocka_unit_test_setup(grace_period_without_rhost_is_tied_to_ruser_and_tty, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}
