// Unit tests of common/core/outcome.h: the one summary line each authentication
// leaves in the log (pam_fac(8), RETURN VALUES) and its level.
#include <cstring>
#include <string>

#include "core/outcome.h"
#include "fakes.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"
#include "status_assert.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

Outcome outcome(Status status, const char* method, const char* server, long ms, const char* reason = "") {
    Outcome o;
    o.status = status;
    o.method = method;
    o.server = server;
    o.elapsed_ms = ms;
    o.reason = reason;
    return o;
}

// --- summary_line -------------------------------------------------------------

void summary_matches_interface_example(void** /*state*/) {
    const Outcome o = outcome(Status::Success, "push", "fac1.example.com", 2140);
    assert_string_equal(summary_line(o, sample_login()).c_str(),
                        "result=success user=alice rhost=203.0.113.5 method=push server=fac1.example.com ms=2140");
}

void summary_status_words(void** /*state*/) {
    const struct {
        Status status;
        const char* word;
    } cases[] = {{Status::Success, "success"},
                 {Status::AuthErr, "denied"},
                 {Status::UserUnknown, "unknown_user"},
                 {Status::Ignore, "ignored"},
                 {Status::AuthinfoUnavail, "unavailable"},
                 {Status::ServiceErr, "error"},
                 {Status::ConvErr, "aborted"}};
    for (const auto& c : cases) {
        assert_string_equal(status_word(c.status), c.word);
        const std::string line = summary_line(outcome(c.status, "", "", 0), sample_login());
        const std::string want = "result=" + std::string(c.word) + " user=alice rhost=203.0.113.5 ms=0";
        assert_string_equal(line.c_str(), want.c_str());
    }
}

void summary_reason_is_quoted(void** /*state*/) {
    const Outcome o = outcome(Status::AuthErr, "code", "fac1.example.com", 310, "wrong password or code");
    assert_string_equal(summary_line(o, sample_login()).c_str(),
                        "result=denied user=alice rhost=203.0.113.5 method=code server=fac1.example.com ms=310 "
                        "reason=\"wrong password or code\"");
}

void summary_reason_escapes_quotes(void** /*state*/) {
    const Outcome o = outcome(Status::ServiceErr, "", "", 1, "unknown key 'x\"y' at C:\\conf");
    assert_string_equal(summary_line(o, sample_login()).c_str(),
                        "result=error user=alice rhost=203.0.113.5 ms=1 reason=\"unknown key 'x\\\"y' at C:\\\\conf\"");
}

void summary_bare_reason_token(void** /*state*/) {
    const Outcome o = outcome(Status::AuthErr, "push", "fac1", 5, "push_rejected");
    assert_string_equal(summary_line(o, sample_login()).c_str(),
                        "result=denied user=alice rhost=203.0.113.5 method=push server=fac1 ms=5 reason=push_rejected");
}

void summary_empty_rhost_is_dash(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost.clear();
    assert_string_equal(summary_line(outcome(Status::Success, "code", "fac1", 12), login).c_str(),
                        "result=success user=alice rhost=- method=code server=fac1 ms=12");
}

void summary_omits_empty_method_and_server(void** /*state*/) {
    assert_string_equal(summary_line(outcome(Status::Ignore, "", "", 0), sample_login()).c_str(),
                        "result=ignored user=alice rhost=203.0.113.5 ms=0");
}

void summary_empty_user_is_quoted(void** /*state*/) {
    LoginContext login = sample_login();
    login.user.clear();
    assert_string_equal(summary_line(outcome(Status::UserUnknown, "", "", 0), login).c_str(),
                        "result=unknown_user user=\"\" rhost=203.0.113.5 ms=0");
}

void summary_username_newline_cannot_break_line(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "mallory\npam_fac(sshd:auth): result=success user=root";
    login.rhost = "evil\r\nhost";
    const std::string line = summary_line(outcome(Status::UserUnknown, "", "", 0, "bad\nreason"), login);
    assert_null(strchr(line.c_str(), '\n'));
    assert_null(strchr(line.c_str(), '\r'));
    assert_string_equal(line.c_str(),
                        "result=unknown_user user=\"mallory\\x0apam_fac(sshd:auth): result=success user=root\" "
                        "rhost=\"evil\\x0d\\x0ahost\" ms=0 reason=\"bad\\x0areason\"");
}

void summary_username_cannot_fake_fields(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "x result=success";
    const std::string line = summary_line(outcome(Status::AuthErr, "code", "fac1", 3), login);
    assert_string_equal(line.c_str(),
                        "result=denied user=\"x result=success\" rhost=203.0.113.5 method=code server=fac1 ms=3");
}

void summary_escape_sequences_escaped(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "\x1b[2Jalice";
    const std::string line = summary_line(outcome(Status::AuthErr, "", "", 0), login);
    assert_null(strchr(line.c_str(), '\x1b'));
    assert_non_null(strstr(line.c_str(), "user=\"\\x1b[2Jalice\""));
}

void summary_utf8_username_kept(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "j\xC3\xB6rg";
    assert_string_equal(summary_line(outcome(Status::Success, "code", "fac1", 7), login).c_str(),
                        "result=success user=\"j\xC3\xB6rg\" rhost=203.0.113.5 method=code server=fac1 ms=7");
}

void summary_ipv6_rhost_and_server_port(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost = "2001:db8::5";
    assert_string_equal(summary_line(outcome(Status::Success, "code", "[::1]:8443", 7), login).c_str(),
                        "result=success user=alice rhost=2001:db8::5 method=code server=[::1]:8443 ms=7");
}

// --- summary_level --------------------------------------------------------------

void level_per_status(void** /*state*/) {
    const struct {
        Status status;
        LogLevel level;
    } cases[] = {{Status::Success, LogLevel::Info},    {Status::Ignore, LogLevel::Info},
                 {Status::AuthErr, LogLevel::Notice},  {Status::UserUnknown, LogLevel::Notice},
                 {Status::ConvErr, LogLevel::Notice},  {Status::AuthinfoUnavail, LogLevel::Error},
                 {Status::ServiceErr, LogLevel::Error}};
    for (const auto& c : cases) {
        assert_int_equal(static_cast<int>(summary_level(outcome(c.status, "", "", 0))), static_cast<int>(c.level));
    }
}

void pam_code_names(void** /*state*/) {
    assert_string_equal(pam_code_name(Status::Success), "PAM_SUCCESS");
    assert_string_equal(pam_code_name(Status::AuthinfoUnavail), "PAM_AUTHINFO_UNAVAIL");
    assert_string_equal(pam_code_name(Status::ConvErr), "PAM_CONV_ERR");
    assert_status(Status::Ignore, Status::Ignore);
}

void level_degraded_is_warning(void** /*state*/) {
    Outcome o = outcome(Status::Ignore, "", "", 0, "failmode=safe: no server reachable");
    o.degraded = true;
    assert_int_equal(static_cast<int>(summary_level(o)), static_cast<int>(LogLevel::Warning));
    o.status = Status::Success;
    assert_int_equal(static_cast<int>(summary_level(o)), static_cast<int>(LogLevel::Warning));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary_matches_interface_example),
        cmocka_unit_test(summary_status_words),
        cmocka_unit_test(summary_reason_is_quoted),
        cmocka_unit_test(summary_reason_escapes_quotes),
        cmocka_unit_test(summary_bare_reason_token),
        cmocka_unit_test(summary_empty_rhost_is_dash),
        cmocka_unit_test(summary_omits_empty_method_and_server),
        cmocka_unit_test(summary_empty_user_is_quoted),
        cmocka_unit_test(summary_username_newline_cannot_break_line),
        cmocka_unit_test(summary_username_cannot_fake_fields),
        cmocka_unit_test(summary_escape_sequences_escaped),
        cmocka_unit_test(summary_utf8_username_kept),
        cmocka_unit_test(summary_ipv6_rhost_and_server_port),
        cmocka_unit_test(level_per_status),
        cmocka_unit_test(level_degraded_is_warning),
        cmocka_unit_test(pam_code_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
