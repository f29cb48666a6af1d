// Unit tests of common/core/text.h: trimming, case folding, control characters,
// UTF-8 validation and the three ways text is made safe (printable for
// errors, display_safe for the user, log_value for log fields).
#include <string>
#include <string_view>
#include <utility>

#include "core/text.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

// Builds a string_view that may hold NUL bytes from a literal.
template <std::size_t N>
std::string_view bytes(const char (&s)[N]) {
    return std::string_view(s, N - 1);
}

// --- trim -----------------------------------------------------------------

void trim_removes_edge_whitespace(void** /*state*/) {
    assert_true(trim("  a b \t") == "a b");
    assert_true(trim("\r\n\f\vx\v\f\n\r") == "x");
    assert_true(trim("no-space") == "no-space");
}

void trim_of_blank_is_empty(void** /*state*/) {
    assert_true(trim("").empty());
    assert_true(trim(" \t\r\n").empty());
}

void trim_keeps_inner_whitespace(void** /*state*/) {
    assert_true(trim(" a \t b ") == "a \t b");
}

// --- ascii_lower ----------------------------------------------------------

void ascii_lower_folds_ascii_only(void** /*state*/) {
    assert_string_equal(ascii_lower("YeS On TRUE").c_str(), "yes on true");
    assert_string_equal(ascii_lower("abc-123_XYZ").c_str(), "abc-123_xyz");
    // Non-ASCII bytes are left alone (no locale-dependent folding).
    assert_string_equal(ascii_lower("\xC3\x89T\xC3\x89").c_str(), "\xC3\x89t\xC3\x89");
    assert_string_equal(ascii_lower("").c_str(), "");
}

// --- has_control_chars ----------------------------------------------------

void has_control_chars_finds_c0_and_del(void** /*state*/) {
    assert_true(has_control_chars("a\nb"));
    assert_true(has_control_chars("tab\there"));
    assert_true(has_control_chars("esc\x1b[31m"));
    assert_true(has_control_chars("del\x7f"));
    assert_true(has_control_chars(bytes("nul\0byte")));
    assert_true(has_control_chars("\x01"));
    assert_true(has_control_chars("\x1f"));
}

void has_control_chars_accepts_plain_text(void** /*state*/) {
    assert_false(has_control_chars(""));
    assert_false(has_control_chars("alice smith ~!@#$%^&*()"));
    assert_false(has_control_chars("\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"));
}

// --- is_valid_utf8 --------------------------------------------------------

void utf8_valid_sequences(void** /*state*/) {
    assert_true(is_valid_utf8(""));
    assert_true(is_valid_utf8("ascii only"));
    assert_true(is_valid_utf8("\xC3\xA9"));          // U+00E9, 2 bytes
    assert_true(is_valid_utf8("\xE2\x82\xAC"));      // U+20AC, 3 bytes
    assert_true(is_valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600 emoji, 4 bytes
    assert_true(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
    assert_true(is_valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
    assert_true(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
    assert_true(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above them
}

void utf8_overlongs_refused(void** /*state*/) {
    assert_false(is_valid_utf8("\xC0\x80"));          // U+0000 in 2 bytes
    assert_false(is_valid_utf8("\xC1\xBF"));          // U+007F in 2 bytes
    assert_false(is_valid_utf8("\xE0\x80\xAF"));      // '/' in 3 bytes
    assert_false(is_valid_utf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
    assert_false(is_valid_utf8("\xF0\x80\x80\xAF"));  // '/' in 4 bytes
    assert_false(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

void utf8_surrogates_refused(void** /*state*/) {
    assert_false(is_valid_utf8("\xED\xA0\x80"));              // U+D800
    assert_false(is_valid_utf8("\xED\xBF\xBF"));              // U+DFFF
    assert_false(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair for an emoji
}

void utf8_above_max_code_point_refused(void** /*state*/) {
    assert_false(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
    assert_false(is_valid_utf8("\xF5\x80\x80\x80"));
    assert_false(is_valid_utf8("\xF7\xBF\xBF\xBF"));
    assert_false(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
    assert_false(is_valid_utf8("\xFC\x84\x80\x80\x80\x80"));
    assert_false(is_valid_utf8("\xFE"));
    assert_false(is_valid_utf8("\xFF"));
}

void utf8_truncated_sequences_refused(void** /*state*/) {
    assert_false(is_valid_utf8("\xC3"));
    assert_false(is_valid_utf8("\xE2\x82"));
    assert_false(is_valid_utf8("\xF0\x9F\x98"));
    assert_false(is_valid_utf8("abc\xF0\x9F"));
    // A lead byte followed by something that is not a continuation byte.
    assert_false(
        is_valid_utf8("\xC3"
                      "A"));
    assert_false(
        is_valid_utf8("\xE2\x82"
                      "A"));
}

void utf8_stray_continuation_refused(void** /*state*/) {
    assert_false(is_valid_utf8("\x80"));
    assert_false(
        is_valid_utf8("a\xBF"
                      "b"));
    assert_false(is_valid_utf8("\xC3\xA9\xA9"));
}

void utf8_latin1_refused(void** /*state*/) {
    assert_false(is_valid_utf8("caf\xE9"));  // ISO-8859-1 "café"
}

// --- printable ------------------------------------------------------------

void printable_keeps_text_and_utf8(void** /*state*/) {
    assert_string_equal(printable("plain text: a=b \"q\" \\").c_str(), "plain text: a=b \"q\" \\");
    assert_string_equal(printable("\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80").c_str(), "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");
    assert_string_equal(printable("").c_str(), "");
}

void printable_escapes_control_bytes(void** /*state*/) {
    assert_string_equal(printable("a\nb").c_str(), "a\\x0ab");
    assert_string_equal(printable("\x1b[31m").c_str(), "\\x1b[31m");
    assert_string_equal(printable("\t\r\x7f").c_str(), "\\x09\\x0d\\x7f");
    assert_string_equal(printable(bytes("a\0b")).c_str(), "a\\x00b");
}

void printable_escapes_invalid_utf8_bytes(void** /*state*/) {
    assert_string_equal(printable("caf\xE9").c_str(), "caf\\xe9");
    assert_string_equal(printable("\xFF\xFE").c_str(), "\\xff\\xfe");
    assert_string_equal(printable("\xC0\x80").c_str(), "\\xc0\\x80");
    assert_string_equal(printable("\xED\xA0\x80").c_str(), "\\xed\\xa0\\x80");
    // A truncated sequence at the end: every byte escaped, nothing lost.
    assert_string_equal(printable("ok\xE2\x82").c_str(), "ok\\xe2\\x82");
}

void printable_output_has_no_control_chars(void** /*state*/) {
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all += static_cast<char>(c);
    }
    const std::string out = printable(all);
    assert_false(has_control_chars(out));
    assert_true(is_valid_utf8(out));
}

// Every bidirectional control and the line and paragraph separators, each
// with its UTF-8 bytes escaped.
const std::pair<const char*, const char*> kFormatControls[] = {
    {"\xD8\x9C", "\\xd8\\x9c"},           // U+061C arabic letter mark
    {"\xE2\x80\x8E", "\\xe2\\x80\\x8e"},  // U+200E left-to-right mark
    {"\xE2\x80\x8F", "\\xe2\\x80\\x8f"},  // U+200F right-to-left mark
    {"\xE2\x80\xAA", "\\xe2\\x80\\xaa"},  // U+202A left-to-right embedding
    {"\xE2\x80\xAB", "\\xe2\\x80\\xab"},  // U+202B
    {"\xE2\x80\xAC", "\\xe2\\x80\\xac"},  // U+202C pop directional formatting
    {"\xE2\x80\xAD", "\\xe2\\x80\\xad"},  // U+202D
    {"\xE2\x80\xAE", "\\xe2\\x80\\xae"},  // U+202E right-to-left override
    {"\xE2\x81\xA6", "\\xe2\\x81\\xa6"},  // U+2066 left-to-right isolate
    {"\xE2\x81\xA7", "\\xe2\\x81\\xa7"},  // U+2067
    {"\xE2\x81\xA8", "\\xe2\\x81\\xa8"},  // U+2068
    {"\xE2\x81\xA9", "\\xe2\\x81\\xa9"},  // U+2069 pop directional isolate
    {"\xE2\x80\xA8", "\\xe2\\x80\\xa8"},  // U+2028 line separator
    {"\xE2\x80\xA9", "\\xe2\\x80\\xa9"},  // U+2029 paragraph separator
};

void printable_escapes_bidi_and_separators(void** /*state*/) {
    for (const auto& [raw, escaped] : kFormatControls) {
        const std::string in = std::string("a") + raw + "b";
        assert_string_equal(printable(in).c_str(), (std::string("a") + escaped + "b").c_str());
    }
    // Their neighbours are ordinary text and stay as they are.
    for (const char* kept : {"\xD8\x9B", "\xE2\x80\x8D", "\xE2\x80\xAF", "\xE2\x81\xA5", "\xE2\x81\xAA"}) {
        assert_string_equal(printable(kept).c_str(), kept);
    }
}

void log_value_escapes_right_to_left_override(void** /*state*/) {
    // "user=mallory" shown reversed would read as another name.
    const std::string v = log_value("\xE2\x80\xAEyrollam");
    assert_string_equal(v.c_str(), "\"\\xe2\\x80\\xaeyrollam\"");
    assert_string_equal(log_value("a\xE2\x80\xA8result=success").c_str(), "\"a\\xe2\\x80\\xa8result=success\"");
}

void display_safe_drops_bidi_and_separators(void** /*state*/) {
    for (const auto& entry : kFormatControls) {
        assert_string_equal(display_safe(std::string("a") + entry.first + "b").c_str(), "ab");
    }
}

// --- display_safe ---------------------------------------------------------

void display_safe_drops_esc_and_c0(void** /*state*/) {
    assert_string_equal(display_safe("\x1b[2Jhello").c_str(), "[2Jhello");
    assert_string_equal(display_safe("line1\nline2\r\t\a\x7f").c_str(), "line1line2");
    assert_string_equal(display_safe(bytes("a\0b")).c_str(), "ab");
}

void display_safe_drops_c1_controls(void** /*state*/) {
    // U+009B is CSI, an escape introducer on its own; U+0085 is NEL.
    assert_string_equal(display_safe("a\xC2\x9B"
                                     "31mb")
                            .c_str(),
                        "a31mb");
    assert_string_equal(display_safe("x\xC2\x80y\xC2\x85z\xC2\x9F").c_str(), "xyz");
}

void display_safe_keeps_utf8(void** /*state*/) {
    assert_string_equal(display_safe("\xC2\xA0nbsp \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").c_str(),
                        "\xC2\xA0nbsp \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    assert_string_equal(display_safe("Approve the push on FortiToken Mobile").c_str(),
                        "Approve the push on FortiToken Mobile");
}

void display_safe_replaces_invalid_bytes(void** /*state*/) {
    assert_string_equal(display_safe("caf\xE9!").c_str(), "caf?!");
    assert_string_equal(display_safe("\xFF\xFE").c_str(), "??");
    assert_string_equal(display_safe("\xC0\x80").c_str(), "??");
    assert_string_equal(display_safe("x\xF0\x9F\x98").c_str(), "x???");
}

void display_safe_output_is_clean(void** /*state*/) {
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all += static_cast<char>(c);
        all += "\xC2";
        all += static_cast<char>(c);
    }
    const std::string out = display_safe(all);
    assert_false(has_control_chars(out));
    assert_true(is_valid_utf8(out));
    assert_true(out.find("\xC2\x9B") == std::string::npos);
    assert_true(out.find('\x1b') == std::string::npos);
}

// --- log_value ------------------------------------------------------------

void log_value_bare_tokens(void** /*state*/) {
    assert_string_equal(log_value("alice").c_str(), "alice");
    assert_string_equal(log_value("203.0.113.5").c_str(), "203.0.113.5");
    assert_string_equal(log_value("fac1.example.com:8443").c_str(), "fac1.example.com:8443");
    assert_string_equal(log_value("alice@corp").c_str(), "alice@corp");
}

void log_value_quotes_empty(void** /*state*/) {
    assert_string_equal(log_value("").c_str(), "\"\"");
}

void log_value_quotes_spaces(void** /*state*/) {
    assert_string_equal(log_value("wrong password or code").c_str(), "\"wrong password or code\"");
    assert_string_equal(log_value("a\tb").c_str(), "\"a\\x09b\"");
}

void log_value_escapes_quotes_and_backslashes(void** /*state*/) {
    assert_string_equal(log_value("say\"hi\"").c_str(), "\"say\\\"hi\\\"\"");
    assert_string_equal(log_value("CORP\\alice").c_str(), "\"CORP\\\\alice\"");
    assert_string_equal(log_value("\\\"").c_str(), "\"\\\\\\\"\"");
}

void log_value_quotes_equals_sign(void** /*state*/) {
    // Otherwise "user=a result=success" could fake a second field.
    assert_string_equal(log_value("a=b").c_str(), "\"a=b\"");
    assert_string_equal(log_value("x result=success").c_str(), "\"x result=success\"");
}

void log_value_never_has_raw_newline(void** /*state*/) {
    const std::string v = log_value("alice\nresult=success user=root");
    assert_string_equal(v.c_str(), "\"alice\\x0aresult=success user=root\"");
    assert_true(v.find('\n') == std::string::npos);
    assert_true(log_value("a\r\nb").find('\r') == std::string::npos);
    assert_false(has_control_chars(log_value("\x1b[2J\x7f")));
}

void log_value_non_ascii(void** /*state*/) {
    // Valid UTF-8 is kept but quoted; invalid bytes are escaped.
    assert_string_equal(log_value("j\xC3\xB6rg").c_str(), "\"j\xC3\xB6rg\"");
    assert_string_equal(log_value("caf\xE9").c_str(), "\"caf\\xe9\"");
}

void log_value_output_is_one_field(void** /*state*/) {
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all += static_cast<char>(c);
    }
    const std::string v = log_value(all);
    assert_false(has_control_chars(v));
    assert_true(v.size() >= 2);
    assert_int_equal(v.front(), '"');
    assert_int_equal(v.back(), '"');
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trim_removes_edge_whitespace),
        cmocka_unit_test(trim_of_blank_is_empty),
        cmocka_unit_test(trim_keeps_inner_whitespace),
        cmocka_unit_test(ascii_lower_folds_ascii_only),
        cmocka_unit_test(has_control_chars_finds_c0_and_del),
        cmocka_unit_test(has_control_chars_accepts_plain_text),
        cmocka_unit_test(utf8_valid_sequences),
        cmocka_unit_test(utf8_overlongs_refused),
        cmocka_unit_test(utf8_surrogates_refused),
        cmocka_unit_test(utf8_above_max_code_point_refused),
        cmocka_unit_test(utf8_truncated_sequences_refused),
        cmocka_unit_test(utf8_stray_continuation_refused),
        cmocka_unit_test(utf8_latin1_refused),
        cmocka_unit_test(printable_keeps_text_and_utf8),
        cmocka_unit_test(printable_escapes_control_bytes),
        cmocka_unit_test(printable_escapes_invalid_utf8_bytes),
        cmocka_unit_test(printable_output_has_no_control_chars),
        cmocka_unit_test(printable_escapes_bidi_and_separators),
        cmocka_unit_test(log_value_escapes_right_to_left_override),
        cmocka_unit_test(display_safe_drops_bidi_and_separators),
        cmocka_unit_test(display_safe_drops_esc_and_c0),
        cmocka_unit_test(display_safe_drops_c1_controls),
        cmocka_unit_test(display_safe_keeps_utf8),
        cmocka_unit_test(display_safe_replaces_invalid_bytes),
        cmocka_unit_test(display_safe_output_is_clean),
        cmocka_unit_test(log_value_bare_tokens),
        cmocka_unit_test(log_value_quotes_empty),
        cmocka_unit_test(log_value_quotes_spaces),
        cmocka_unit_test(log_value_escapes_quotes_and_backslashes),
        cmocka_unit_test(log_value_quotes_equals_sign),
        cmocka_unit_test(log_value_never_has_raw_newline),
        cmocka_unit_test(log_value_non_ascii),
        cmocka_unit_test(log_value_output_is_one_field),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
