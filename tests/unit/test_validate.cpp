// Unit tests of common/core/validate.h: the input checks of pam_fac(8), THE CONVERSATION made
// before anything is sent to FAC.
#include <string>
#include <string_view>

#include "core/validate.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

// --- is_valid_username ----------------------------------------------------

void username_empty_refused(void** /*state*/) {
    assert_false(is_valid_username(""));
}

void username_plain_accepted(void** /*state*/) {
    assert_true(is_valid_username("alice"));
    assert_true(is_valid_username("a"));
    assert_true(is_valid_username("alice@corp.example.com"));
    assert_true(is_valid_username("CORP\\alice"));
    assert_true(is_valid_username("first last"));
}

void username_253_bytes_accepted(void** /*state*/) {
    assert_int_equal(kMaxUsernameBytes, 253);
    assert_true(is_valid_username(std::string(253, 'a')));
    // The limit is in bytes: 126 two-byte characters plus one byte = 253.
    std::string multi;
    for (int i = 0; i < 126; ++i) {
        multi += "\xC3\xA9";
    }
    multi += "x";
    assert_int_equal(multi.size(), 253);
    assert_true(is_valid_username(multi));
}

void username_254_bytes_refused(void** /*state*/) {
    assert_false(is_valid_username(std::string(254, 'a')));
    std::string multi;
    for (int i = 0; i < 127; ++i) {
        multi += "\xC3\xA9";
    }
    assert_int_equal(multi.size(), 254);
    assert_false(is_valid_username(multi));
    assert_false(is_valid_username(std::string(4096, 'a')));
}

void username_control_chars_refused(void** /*state*/) {
    assert_false(is_valid_username("alice\n"));
    assert_false(is_valid_username("ali\rce"));
    assert_false(is_valid_username("ali\tce"));
    assert_false(is_valid_username("\x1b[31malice"));
    assert_false(is_valid_username("alice\x7f"));
    assert_false(is_valid_username(std::string_view("ali\0ce", 6)));
}

void username_c1_controls_refused(void** /*state*/) {
    // U+009B (CSI) and U+0085 (NEL) are control characters (Unicode
    // category Cc), which pam_fac(8), THE CONVERSATION refuses in usernames.
    assert_false(
        is_valid_username("alice\xC2\x9B"
                          "31m"));
    assert_false(is_valid_username("alice\xC2\x85"));
}

void username_invalid_utf8_refused(void** /*state*/) {
    assert_false(is_valid_username("caf\xE9"));
    assert_false(is_valid_username("\xC0\x80"));
    assert_false(is_valid_username("\xED\xA0\x80"));
    assert_false(is_valid_username("alice\xF0\x9F"));
    assert_false(is_valid_username("\xFF"));
}

void username_utf8_accepted(void** /*state*/) {
    assert_true(is_valid_username("j\xC3\xB6rg"));
    assert_true(is_valid_username("\xE5\xB1\xB1\xE7\x94\xB0"));
    assert_true(is_valid_username("emoji\xF0\x9F\x98\x80"));
}

void username_shell_metacharacters_accepted(void** /*state*/) {
    // Nothing is ever passed to a shell: these are just bytes in JSON.
    assert_true(is_valid_username("o'brien"));
    assert_true(is_valid_username("say\"hi\""));
    assert_true(is_valid_username("back\\slash"));
    assert_true(is_valid_username("$(reboot);`id`|&><*?[]{}!#~"));
}

// --- is_valid_code --------------------------------------------------------

void code_6_7_8_digits_accepted(void** /*state*/) {
    assert_true(is_valid_code("123456"));
    assert_true(is_valid_code("000000"));
    assert_true(is_valid_code("1234567"));
    assert_true(is_valid_code("12345678"));
    assert_true(is_valid_code("99999999"));
}

void code_wrong_length_refused(void** /*state*/) {
    assert_false(is_valid_code(""));
    assert_false(is_valid_code("12345"));
    assert_false(is_valid_code("123456789"));
}

void code_non_digits_refused(void** /*state*/) {
    assert_false(is_valid_code("12345a"));
    assert_false(is_valid_code("abcdef"));
    assert_false(is_valid_code("12 3456"));
    assert_false(is_valid_code(" 123456"));
    assert_false(is_valid_code("123456 "));
    assert_false(is_valid_code("123456\n"));
    assert_false(is_valid_code("-12345"));
    assert_false(is_valid_code("+123456"));
    assert_false(is_valid_code("1234.5"));
    assert_false(
        is_valid_code(std::string_view("123\0"
                                       "456",
                                       7)));
}

void code_non_ascii_digits_refused(void** /*state*/) {
    // Arabic-Indic, full-width and Devanagari digits are not ASCII digits.
    assert_false(is_valid_code("\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6"));  // ١٢٣٤٥٦
    assert_false(is_valid_code("\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96"));
    assert_false(
        is_valid_code("12\xE0\xA5\xA9"
                      "456"));
    // Two two-byte digits plus four ASCII ones: 8 bytes, still refused.
    assert_false(
        is_valid_code("\xD9\xA1\xD9\xA2"
                      "3456"));
}

// --- ends_with_code -------------------------------------------------------

void ends_with_code_password_then_code(void** /*state*/) {
    assert_true(ends_with_code("secret123456"));
    assert_true(ends_with_code("secret12345678"));
    assert_true(ends_with_code("p4ss 123456"));
    assert_true(ends_with_code("x123456"));
}

void ends_with_code_needs_six_digits(void** /*state*/) {
    assert_false(ends_with_code("secret12345"));
    assert_false(ends_with_code("secret"));
    assert_false(ends_with_code("secret123456 "));
    assert_false(ends_with_code("123456secret"));
}

void ends_with_code_needs_a_password(void** /*state*/) {
    assert_false(ends_with_code(""));
    assert_false(ends_with_code("123456"));
}

// --- appended_answer_fits --------------------------------------------------

void appended_answer_up_to_520_bytes(void** /*state*/) {
    assert_int_equal(kMaxAppendedAnswerBytes, 520);
    assert_true(appended_answer_fits(std::string(512, 'p') + "12345678"));
    assert_true(appended_answer_fits(std::string(514, 'p') + "123456"));
    assert_true(appended_answer_fits("pw123456"));
}

void appended_answer_over_520_bytes_refused(void** /*state*/) {
    assert_false(appended_answer_fits(std::string(513, 'p') + "12345678"));
    // The size the review sent to FAC.
    assert_false(appended_answer_fits(std::string(100 * 1024, 'p') + "123456"));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(username_empty_refused),
        cmocka_unit_test(username_plain_accepted),
        cmocka_unit_test(username_253_bytes_accepted),
        cmocka_unit_test(username_254_bytes_refused),
        cmocka_unit_test(username_control_chars_refused),
        cmocka_unit_test(username_c1_controls_refused),
        cmocka_unit_test(username_invalid_utf8_refused),
        cmocka_unit_test(username_utf8_accepted),
        cmocka_unit_test(username_shell_metacharacters_accepted),
        cmocka_unit_test(code_6_7_8_digits_accepted),
        cmocka_unit_test(code_wrong_length_refused),
        cmocka_unit_test(code_non_digits_refused),
        cmocka_unit_test(code_non_ascii_digits_refused),
        cmocka_unit_test(ends_with_code_password_then_code),
        cmocka_unit_test(ends_with_code_needs_six_digits),
        cmocka_unit_test(ends_with_code_needs_a_password),
        cmocka_unit_test(appended_answer_up_to_520_bytes),
        cmocka_unit_test(appended_answer_over_520_bytes_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
