// Unit tests of common/auth/push_fields.h: the fields of a /pushauth/ request
// (pam_fac(8), THE CONVERSATION) built from the login.
#include <cstdlib>
#include <ctime>
#include <string>

#include "auth/push_fields.h"
#include "config/config.h"
#include "fakes.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

// --- is_ip_literal ----------------------------------------------------------

void ipv4_literals(void** /*state*/) {
    assert_true(is_ip_literal("203.0.113.5"));
    assert_true(is_ip_literal("127.0.0.1"));
    assert_true(is_ip_literal("0.0.0.0"));
    assert_true(is_ip_literal("255.255.255.255"));
}

void ipv6_literals(void** /*state*/) {
    assert_true(is_ip_literal("::1"));
    assert_true(is_ip_literal("::"));
    assert_true(is_ip_literal("2001:db8::5"));
    assert_true(is_ip_literal("fe80::1:2:3:4"));
    assert_true(is_ip_literal("::ffff:192.0.2.1"));
    assert_true(is_ip_literal("2001:0db8:0000:0000:0000:0000:0000:0001"));
}

void hostnames_are_not_ip_literals(void** /*state*/) {
    assert_false(is_ip_literal("host.example.com"));
    assert_false(is_ip_literal("localhost"));
    assert_false(is_ip_literal("203.0.113.5.example.com"));
    assert_false(is_ip_literal("fac1"));
}

void malformed_addresses_are_not_ip_literals(void** /*state*/) {
    assert_false(is_ip_literal(""));
    assert_false(is_ip_literal("256.1.1.1"));
    assert_false(is_ip_literal("1.2.3"));
    assert_false(is_ip_literal("1.2.3.4 "));
    assert_false(is_ip_literal(" 1.2.3.4"));
    assert_false(is_ip_literal("[::1]"));
    assert_false(is_ip_literal("1.2.3.4:22"));
    assert_false(is_ip_literal("2001:db8:::1"));
}

// --- utc_timestamp ----------------------------------------------------------

void timestamp_epoch(void** /*state*/) {
    assert_string_equal(utc_timestamp(0).c_str(), "1970-01-01T00:00:00Z");
}

void timestamp_known_instants(void** /*state*/) {
    assert_string_equal(utc_timestamp(1700000000).c_str(), "2023-11-14T22:13:20Z");
    assert_string_equal(utc_timestamp(951782400).c_str(), "2000-02-29T00:00:00Z");
    assert_string_equal(utc_timestamp(1798761599).c_str(), "2026-12-31T23:59:59Z");
}

void timestamp_ignores_local_time_zone(void** /*state*/) {
    const char* old = getenv("TZ");
    const std::string saved = old != nullptr ? old : "";
    setenv("TZ", "America/New_York", 1);
    tzset();
    const std::string stamp = utc_timestamp(1700000000);
    if (old != nullptr) {
        setenv("TZ", saved.c_str(), 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
    assert_string_equal(stamp.c_str(), "2023-11-14T22:13:20Z");
}

// --- expand_push_message ----------------------------------------------------

void expand_default_template(void** /*state*/) {
    assert_string_equal(expand_push_message(kDefaultPushMessage, sample_login()).c_str(),
                        "sshd login to web1 as alice from 203.0.113.5");
}

void expand_all_five_placeholders(void** /*state*/) {
    assert_string_equal(expand_push_message("{service}|{user}|{rhost}|{host}|{tty}", sample_login()).c_str(),
                        "sshd|alice|203.0.113.5|web1|ssh");
    assert_string_equal(expand_push_message("{user}{user}", sample_login()).c_str(), "alicealice");
}

void expand_unknown_placeholder_kept(void** /*state*/) {
    assert_string_equal(expand_push_message("{nope} {User} {} {user}", sample_login()).c_str(),
                        "{nope} {User} {} alice");
}

void expand_unbalanced_braces_kept(void** /*state*/) {
    assert_string_equal(expand_push_message("{user", sample_login()).c_str(), "{user");
    assert_string_equal(expand_push_message("user} {{user}", sample_login()).c_str(), "user} {alice");
    assert_string_equal(expand_push_message("", sample_login()).c_str(), "");
}

void expand_empty_rhost_is_local(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost.clear();
    assert_string_equal(expand_push_message("from {rhost}", login).c_str(), "from local");
}

void expand_does_not_reexpand_values(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "{host}";
    assert_string_equal(expand_push_message("{user}@{host}", login).c_str(), "{host}@web1");
}

void expand_removes_control_characters(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "ali\x1b[2Jce";
    login.rhost = "evil\r\nhost";
    login.tty = "pts/0\x07";
    login.service = "s\xC2\x9Bsh";
    const std::string msg = expand_push_message("{service} {user} {rhost} {tty}\n", login);
    assert_string_equal(msg.c_str(), "ssh ali[2Jce evilhost pts/0");
}

void expand_removes_control_characters_of_template(void** /*state*/) {
    assert_string_equal(expand_push_message("\x1b]0;title\x07login {user}\t!", sample_login()).c_str(),
                        "]0;titlelogin alice!");
}

void expand_keeps_utf8(void** /*state*/) {
    LoginContext login = sample_login();
    login.user = "j\xC3\xB6rg";
    assert_string_equal(expand_push_message("\xE2\x86\x92 {user}", login).c_str(), "\xE2\x86\x92 j\xC3\xB6rg");
}

// --- make_push_fields -------------------------------------------------------

void fields_from_login(void** /*state*/) {
    const PushFields f = make_push_fields(sample_login(), "alice", kDefaultPushMessage, "pam_fac/9.9", 0);
    assert_string_equal(f.username.c_str(), "alice");
    assert_string_equal(f.user_ip.c_str(), "203.0.113.5");
    assert_string_equal(f.timestamp.c_str(), "1970-01-01T00:00:00Z");
    assert_string_equal(f.account.c_str(), "alice");
    assert_string_equal(f.user_agent.c_str(), "pam_fac/9.9");
    assert_string_equal(f.log_message.c_str(), "sshd login to web1 as alice from 203.0.113.5");
}

void fields_user_ip_v6(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost = "2001:db8::5";
    assert_string_equal(make_push_fields(login, "alice", "", "ua", 0).user_ip.c_str(), "2001:db8::5");
}

void fields_no_user_ip_for_hostname(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost = "client.example.com";
    const PushFields f = make_push_fields(login, "alice", "{rhost}", "ua", 0);
    assert_true(f.user_ip.empty());
    assert_string_equal(f.log_message.c_str(), "client.example.com");
}

void fields_no_user_ip_when_local(void** /*state*/) {
    LoginContext login = sample_login();
    login.rhost.clear();
    const PushFields f = make_push_fields(login, "alice", "{rhost}", "ua", 0);
    assert_true(f.user_ip.empty());
    assert_string_equal(f.log_message.c_str(), "local");
}

void fields_account_is_local_user(void** /*state*/) {
    // username is what FAC knows; account is the local name before mapping.
    LoginContext login = sample_login();
    login.user = "CORP\\Alice";
    const PushFields f = make_push_fields(login, "alice", "{user}", "ua", 1700000000);
    assert_string_equal(f.username.c_str(), "alice");
    assert_string_equal(f.account.c_str(), "CORP\\Alice");
    assert_string_equal(f.log_message.c_str(), "CORP\\Alice");
    assert_string_equal(f.timestamp.c_str(), "2023-11-14T22:13:20Z");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_literals),
        cmocka_unit_test(ipv6_literals),
        cmocka_unit_test(hostnames_are_not_ip_literals),
        cmocka_unit_test(malformed_addresses_are_not_ip_literals),
        cmocka_unit_test(timestamp_epoch),
        cmocka_unit_test(timestamp_known_instants),
        cmocka_unit_test(timestamp_ignores_local_time_zone),
        cmocka_unit_test(expand_default_template),
        cmocka_unit_test(expand_all_five_placeholders),
        cmocka_unit_test(expand_unknown_placeholder_kept),
        cmocka_unit_test(expand_unbalanced_braces_kept),
        cmocka_unit_test(expand_empty_rhost_is_local),
        cmocka_unit_test(expand_does_not_reexpand_values),
        cmocka_unit_test(expand_removes_control_characters),
        cmocka_unit_test(expand_removes_control_characters_of_template),
        cmocka_unit_test(expand_keeps_utf8),
        cmocka_unit_test(fields_from_login),
        cmocka_unit_test(fields_user_ip_v6),
        cmocka_unit_test(fields_no_user_ip_for_hostname),
        cmocka_unit_test(fields_no_user_ip_when_local),
        cmocka_unit_test(fields_account_is_local_user),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
